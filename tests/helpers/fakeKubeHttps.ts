/**
 * Serves a FakeKube over HTTPS with client-certificate auth, answering the core/v1 and policy/v1
 * calls talosapi's HTTP client makes, so code that starts from a kubeconfig runs end to end.
 */
import * as https from "node:https";
import type { AddressInfo } from "node:net";
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
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as { spec?: { unschedulable?: boolean } }) : {};
      route(kube, req.method ?? "GET", new URL(req.url ?? "/", "https://x"), body).then(
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

async function route(kube: FakeKube, method: string, url: URL, body: { spec?: { unschedulable?: boolean } }): Promise<[number, unknown]> {
  const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(url.pathname);
  if (node) {
    const name = decodeURIComponent(node[1]);
    const found = await kube.getNode(name);
    if (!found && method !== "DELETE") return [404, { message: `nodes "${name}" not found` }];
    if (method === "GET") return [200, { spec: { unschedulable: found!.unschedulable }, status: { conditions: [{ type: "Ready", status: found!.ready ? "True" : "False" }] } }];
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
