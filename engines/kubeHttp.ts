/**
 * {@link KubeApi} over node:https from a kubeconfig (client certificate or bearer token). Only the
 * handful of core/v1 and policy/v1 calls the drain needs; errors carry method, path and the API's
 * status message, never credentials.
 */
import * as https from "node:https";
import { parse as parseYaml } from "yaml";
import type { EvictionResult, KubeApi, KubeNodeInfo, KubeObject, KubePodInfo, KubePodStatus, KubeResourceType } from "./kube";

/** Connection settings taken from a kubeconfig. */
export interface KubeConnection {
  /** API server URL, e.g. `https://10.0.10.10:6443`. */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

/** kubeconfig lists are `[{name, <field>: {...}}]`. */
function named<T>(list: unknown, name: string, field: string, kind: string): T {
  const entries = Array.isArray(list) ? (list as Record<string, unknown>[]) : [];
  const entry = entries.find((e) => e?.name === name);
  const value = entry?.[field] as T | undefined;
  if (!value) throw new Error(`kubeconfig has no ${kind} "${name}"`);
  return value;
}

function fromBase64(value: unknown): Buffer | undefined {
  return typeof value === "string" && value !== "" ? Buffer.from(value, "base64") : undefined;
}

/** Reads the current context of a kubeconfig with inline (`*-data`) credentials. */
export function parseKubeconfig(yamlText: string, contextName?: string): KubeConnection {
  let doc: Record<string, unknown>;
  try {
    doc = parseYaml(yamlText) as Record<string, unknown>;
  } catch {
    throw new Error("kubeconfig is not valid YAML");
  }
  const name = contextName ?? (doc?.["current-context"] as string | undefined);
  if (!name) throw new Error("kubeconfig names no current-context");
  const context = named<{ cluster: string; user: string }>(doc.contexts, name, "context", "context");
  const cluster = named<Record<string, unknown>>(doc.clusters, context.cluster, "cluster", "cluster");
  const user = named<Record<string, unknown>>(doc.users, context.user, "user", "user");
  if (typeof cluster.server !== "string") throw new Error(`kubeconfig cluster "${context.cluster}" has no server`);
  return {
    server: cluster.server,
    ca: fromBase64(cluster["certificate-authority-data"]),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    cert: fromBase64(user["client-certificate-data"]),
    key: fromBase64(user["client-key-data"]),
    token: typeof user.token === "string" ? user.token : undefined,
  };
}

interface Reply {
  status: number;
  body: unknown;
}

interface RawPod {
  metadata?: { name?: string; namespace?: string; uid?: string; annotations?: Record<string, string>; ownerReferences?: { kind?: string }[] };
  status?: { hostIP?: string; conditions?: { type: string; status: string }[] };
}

interface RawNode {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[]; nodeInfo?: { kubeletVersion?: string } };
}

const conditionTrue = (conditions: { type: string; status: string }[] | undefined, type: string) => conditions?.some((c) => c.type === type && c.status === "True") ?? false;

/** One API request: the reply when its status is one of `ok`, else an error naming the request and the server's message. */
type Call = (method: string, path: string, ok: number[], body?: unknown, contentType?: string) => Promise<Reply>;

/** Requests over HTTPS with the connection's credentials, each bounded by `timeoutMs`. */
function httpsCall(connection: KubeConnection, timeoutMs: number): Call {
  const base = new URL(connection.server);
  const agent = new https.Agent({ ca: connection.ca, cert: connection.cert, key: connection.key, rejectUnauthorized: !connection.insecureSkipTlsVerify });
  const request = (method: string, path: string, body?: unknown, contentType = "application/json"): Promise<Reply> => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { Accept: "application/json" };
    if (payload) Object.assign(headers, { "Content-Type": contentType, "Content-Length": payload.length });
    if (connection.token) headers.Authorization = `Bearer ${connection.token}`;
    return new Promise((resolve, reject) => {
      const target = { protocol: base.protocol, hostname: base.hostname.replace(/^\[|\]$/g, ""), port: base.port || 443, path: base.pathname.replace(/\/$/, "") + path };
      const req = https.request({ ...target, method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString("utf8")) }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on("error", (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
      req.end(payload);
    });
  };
  return async (method, path, ok, body, contentType) => {
    const reply = await request(method, path, body, contentType);
    if (ok.includes(reply.status)) return reply;
    const message = (reply.body as { message?: string } | undefined)?.message ?? "";
    throw new Error(`${method} ${path}: HTTP ${reply.status}${message ? ` ${message}` : ""}`);
  };
}

/** JSON when it parses, else the text as it came. */
function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;
const podPath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

function nodeCalls(call: Call): Pick<KubeApi, "getNode" | "setUnschedulable" | "deleteNode"> {
  return {
    async getNode(name): Promise<KubeNodeInfo | undefined> {
      const reply = await call("GET", nodePath(name), [200, 404]);
      if (reply.status === 404) return undefined;
      const node = reply.body as RawNode;
      return { name, unschedulable: node.spec?.unschedulable === true, ready: conditionTrue(node.status?.conditions, "Ready"), kubeletVersion: node.status?.nodeInfo?.kubeletVersion };
    },
    async setUnschedulable(name, unschedulable) {
      await call("PATCH", nodePath(name), [200], { spec: { unschedulable } }, "application/merge-patch+json");
    },
    async deleteNode(name) {
      const reply = await call("DELETE", nodePath(name), [200, 202, 404]);
      return reply.status !== 404;
    },
  };
}

/** A pod as the drain sees it. */
function podInfo(item: RawPod): KubePodInfo {
  const meta = item.metadata ?? {};
  return {
    namespace: meta.namespace ?? "default",
    name: meta.name ?? "",
    uid: meta.uid ?? "",
    ownerKinds: (meta.ownerReferences ?? []).map((o) => o.kind ?? ""),
    mirror: meta.annotations?.["kubernetes.io/config.mirror"] !== undefined,
  };
}

function podCalls(call: Call): Pick<KubeApi, "listPodsOnNode" | "getPodUid" | "evictPod" | "listPods"> {
  return {
    async listPodsOnNode(nodeName): Promise<KubePodInfo[]> {
      const pods: KubePodInfo[] = [];
      let continueToken = "";
      do {
        const query = new URLSearchParams({ fieldSelector: `spec.nodeName=${nodeName}`, limit: "500" });
        if (continueToken) query.set("continue", continueToken);
        const list = (await call("GET", `/api/v1/pods?${query}`, [200])).body as { items?: RawPod[]; metadata?: { continue?: string } };
        pods.push(...(list.items ?? []).map(podInfo));
        continueToken = list.metadata?.continue ?? "";
      } while (continueToken);
      return pods;
    },
    async getPodUid(namespace, name) {
      const reply = await call("GET", podPath(namespace, name), [200, 404]);
      return reply.status === 404 ? undefined : (reply.body as RawPod).metadata?.uid;
    },
    async evictPod(namespace, name): Promise<EvictionResult> {
      const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } };
      const reply = await call("POST", `${podPath(namespace, name)}/eviction`, [200, 201, 404, 429], eviction);
      return reply.status === 429 ? "blocked" : reply.status === 404 ? "gone" : "evicted";
    },
    async listPods(namespace, labelSelector): Promise<KubePodStatus[]> {
      const query = new URLSearchParams({ labelSelector });
      const reply = await call("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?${query}`, [200]);
      return ((reply.body as { items?: RawPod[] }).items ?? []).map((pod) => ({
        name: pod.metadata?.name ?? "",
        hostIP: pod.status?.hostIP ?? "",
        annotations: pod.metadata?.annotations ?? {},
        ready: conditionTrue(pod.status?.conditions, "Ready"),
      }));
    },
  };
}

function objectCalls(call: Call): Pick<KubeApi, "discover" | "getObject" | "applyObject" | "createObject" | "replaceObject"> {
  return {
    async discover(apiVersion): Promise<KubeResourceType[]> {
      const reply = await call("GET", apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`, [200, 404]);
      if (reply.status === 404) return [];
      const resources = (reply.body as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? [];
      // Subresources (`pods/eviction`) share their parent's kind.
      return resources.filter((r) => !r.name.includes("/")).map((r) => ({ kind: r.kind, name: r.name, namespaced: r.namespaced }));
    },
    async getObject(path) {
      const reply = await call("GET", path, [200, 404]);
      return reply.status === 404 ? undefined : (reply.body as KubeObject);
    },
    async applyObject(path, object, fieldManager) {
      // JSON is YAML: the apply-patch content type takes it as it is.
      const query = new URLSearchParams({ fieldManager, force: "true" });
      await call("PATCH", `${path}?${query}`, [200, 201], object, "application/apply-patch+yaml");
    },
    async createObject(collectionPath, object) {
      await call("POST", collectionPath, [200, 201], object);
    },
    async replaceObject(path, object) {
      await call("PUT", path, [200, 201], object);
    },
  };
}

/** A KubeApi talking HTTPS to the API server; each request is bounded by `requestTimeoutMs` (default 15 s). */
export function kubeApiFromConnection(connection: KubeConnection, options: { requestTimeoutMs?: number } = {}): KubeApi {
  const call = httpsCall(connection, options.requestTimeoutMs ?? 15_000);
  return { ...nodeCalls(call), ...podCalls(call), ...objectCalls(call) };
}

/** A KubeApi from kubeconfig YAML (its current context unless `contextName` is given). */
export function kubeApiFromKubeconfig(yamlText: string, options: { contextName?: string; requestTimeoutMs?: number } = {}): KubeApi {
  return kubeApiFromConnection(parseKubeconfig(yamlText, options.contextName), options);
}
