/**
 * Serves a FakeKube over HTTPS with client-certificate auth, answering the core/v1 and policy/v1
 * calls talosapi's HTTP client makes (and, for the manifest sync, discovery and object writes), so
 * code that starts from a kubeconfig runs end to end. A server-side apply must come with its content
 * type and field manager, as the real API server requires.
 */
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import type { KubeObject } from "../../engines/kube";
import type { FakeKube } from "./fakeKube";
import type { TestPki } from "./talosPki";

export interface FakeKubeServer {
  kubeconfig: string;
  close(): Promise<void>;
}

export async function serveFakeKube(kube: FakeKube, pki: TestPki): Promise<FakeKubeServer> {
  const server = https.createServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, body: unknown = {}) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Body) : {};
      route(kube, req.method ?? "GET", new URL(req.url ?? "/", "https://x"), body, req.headers["content-type"] ?? "").then(
        ([status, reply]) => send(status, reply),
        (error: Error) => send(500, { message: error.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const kubeconfig = kubeconfigFor((server.address() as AddressInfo).port, pki, "fake");
  return { kubeconfig, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A kubeconfig for a local API server on `port`, as the PKI's admin (context `admin@<cluster>`). */
export function kubeconfigFor(port: number, pki: TestPki, cluster: string): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    `current-context: admin@${cluster}`,
    "clusters:",
    `  - name: ${cluster}\n    cluster:\n      server: https://127.0.0.1:${port}\n      certificate-authority-data: ${b64(pki.ca.cert)}`,
    "contexts:",
    `  - name: admin@${cluster}\n    context:\n      cluster: ${cluster}\n      user: admin@${cluster}`,
    "users:",
    `  - name: admin@${cluster}\n    user:\n      client-certificate-data: ${b64(pki.admin.cert)}\n      client-key-data: ${b64(pki.admin.key)}`,
    "",
  ].join("\n");
}

type Body = KubeObject & { spec?: { unschedulable?: boolean } };

async function route(kube: FakeKube, method: string, url: URL, body: Body, contentType: string): Promise<[number, unknown]> {
  const served = await objectRoute(kube, method, url, body, contentType);
  if (served) return served;
  const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
  if (node) {
    const name = decodeURIComponent(node[1]);
    const found = await kube.getNode(name);
    if (!found && method !== "DELETE") return [404, { message: `nodes "${name}" not found` }];
    if (method === "GET") {
      return [200, { spec: { unschedulable: found!.unschedulable }, status: { conditions: [{ type: "Ready", status: found!.ready ? "True" : "False" }], nodeInfo: { kubeletVersion: found!.kubeletVersion } } }];
    }
    if (method === "PATCH") return [200, void (await kube.setUnschedulable(name, body.spec?.unschedulable === true))];
    if (method === "DELETE") return (await kube.deleteNode(name)) ? [200, {}] : [404, {}];
  }
  if (url.pathname === "/api/v1/pods") {
    const nodeName = (url.searchParams.get("fieldSelector") ?? "").replace("spec.nodeName=", "");
    const pods = await kube.listPodsOnNode(nodeName);
    return [200, { items: pods.map((p) => ({ metadata: { namespace: p.namespace, name: p.name, uid: p.uid, ownerReferences: p.ownerKinds.map((kind) => ({ kind })) } })) }];
  }
  const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(\/eviction)?$/.exec(url.pathname);
  if (pod) {
    const [namespace, name] = [decodeURIComponent(pod[1]), decodeURIComponent(pod[2])];
    if (pod[3]) {
      const result = await kube.evictPod(namespace, name);
      return result === "blocked" ? [429, { message: "Cannot evict pod as it would violate the pod's disruption budget." }] : result === "gone" ? [404, {}] : [201, {}];
    }
    const uid = await kube.getPodUid(namespace, name);
    return uid === undefined ? [404, {}] : [200, { metadata: { uid } }];
  }
  return [403, { message: "forbidden" }];
}

/** Static pods by label, discovery, and object reads and writes under /api and /apis. */
async function objectRoute(kube: FakeKube, method: string, url: URL, body: Body, contentType: string): Promise<[number, unknown] | undefined> {
  const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
  if (pods && method === "GET") {
    const items = await kube.listPods(decodeURIComponent(pods[1]), url.searchParams.get("labelSelector") ?? "");
    return [200, { items: items.map((p) => ({ metadata: { name: p.name, annotations: p.annotations }, status: { hostIP: p.hostIP, conditions: [{ type: "Ready", status: p.ready ? "True" : "False" }] } })) }];
  }
  const discovery = /^\/api\/(v1)$|^\/apis\/([^/]+\/[^/]+)$/.exec(url.pathname);
  if (discovery && method === "GET") {
    const types = await kube.discover(discovery[1] ?? discovery[2]);
    return types.length === 0 ? [404, { message: "the server could not find the requested resource" }] : [200, { resources: types.map((t) => ({ ...t, verbs: ["get"] })) }];
  }
  if (!/^\/apis?\//.test(url.pathname) || /\/(nodes|pods)(\/|$)/.test(url.pathname)) return undefined;
  const path = url.pathname;
  if (method === "GET") {
    const object = await kube.getObject(path);
    return object ? [200, object] : [404, { message: "not found" }];
  }
  if (method === "PATCH") {
    if (contentType !== "application/apply-patch+yaml") return [415, { message: `PATCH content type ${contentType} is not server-side apply` }];
    const manager = url.searchParams.get("fieldManager");
    if (!manager || url.searchParams.get("force") !== "true") return [400, { message: "fieldManager and force are required here" }];
    return [200, void (await kube.applyObject(path, body, manager))];
  }
  if (method === "POST") return [201, void (await kube.createObject(path, body))];
  if (method === "PUT") return [200, void (await kube.replaceObject(path, body))];
  return undefined;
}
