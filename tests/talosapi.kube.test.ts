// The Kubernetes side: drain logic over an in-memory API, and the HTTPS KubeApi against a local
// API-server stand-in with client-certificate auth (127.0.0.1 only).
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { drainNode, kubeApiFromKubeconfig, parseKubeconfig, waitNodeReady } from "../engines";
import { FakeKube } from "./helpers/fakeKube";
import { kubeconfigFor } from "./helpers/fakeKubeHttps";
import { createTestPki, type TestPki } from "./helpers/talosPki";

// Short pauses; a deadline that only bounds a failure (tests of a timeout set a short one for what never happens).
const FAST = { timeoutMs: 10_000, retryDelayMs: 20, pollDelayMs: 10 };

describe("drainNode", () => {
  test("cordons, skips DaemonSet and mirror pods, retries 429s, waits until evicted pods are gone", async () => {
    const kube = new FakeKube(["w-1", "w-2"]);
    kube.addPod("w-1", "web", { blockedEvictions: 2 });
    kube.addPod("w-1", "proxy", { ownerKinds: ["DaemonSet"], namespace: "kube-system" });
    kube.addPod("w-1", "kube-apiserver-w-1", { mirror: true, ownerKinds: ["Node"], namespace: "kube-system" });
    kube.addPod("w-1", "bare", { ownerKinds: [] });
    kube.addPod("w-2", "elsewhere");
    const evicted = await drainNode(kube, "w-1", FAST);
    expect(evicted.sort()).toEqual(["default/bare", "default/web"]);
    expect(kube.log).toEqual(["cordon w-1", "429 default/web", "evict default/bare", "429 default/web", "evict default/web"]);
    expect(kube.pods.map((p) => p.name).sort()).toEqual(["elsewhere", "kube-apiserver-w-1", "proxy"]);
    expect(kube.unschedulable.has("w-1")).toBe(true);
  });

  test("a PodDisruptionBudget that never allows the eviction fails the drain naming the pod", async () => {
    const kube = new FakeKube(["w-1"]);
    kube.addPod("w-1", "db-0", { namespace: "data", blockedEvictions: Infinity });
    await expect(drainNode(kube, "w-1", { ...FAST, timeoutMs: 150 })).rejects.toThrow(
      "drain: eviction of pod data/db-0 still blocked by a PodDisruptionBudget (429) when the drain timed out",
    );
  });

  test("a pod that does not terminate in time is named", async () => {
    const kube = new FakeKube(["w-1"]);
    kube.terminationMs = Infinity;
    kube.addPod("w-1", "slow");
    await expect(drainNode(kube, "w-1", { ...FAST, timeoutMs: 100 })).rejects.toThrow("drain of w-1: pods still terminating at the timeout: default/slow");
  });

  test("waitNodeReady polls until Ready and names the node on timeout", async () => {
    let reads = 0;
    const kube = new FakeKube(["w-1"], () => ++reads > 2);
    await waitNodeReady(kube, "w-1", { timeoutMs: 10_000, pollDelayMs: 10 });
    expect(reads).toBe(3);
    await expect(waitNodeReady(kube, "w-9", { timeoutMs: 50, pollDelayMs: 10 })).rejects.toThrow("Node w-9 not Ready after 50 ms (Node not registered)");
  });
});

describe("kubeApiFromKubeconfig over HTTPS", () => {
  let pki: TestPki;
  let server: https.Server;
  let kubeconfig: string;
  const requests: string[] = [];
  const bodies: unknown[] = [];
  let evictions = 0;
  let podExists = true;

  beforeAll(async () => {
    pki = await createTestPki("ECDSA");
    server = https.createServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        requests.push(`${req.method} ${req.url} ${req.headers["content-type"] ?? ""}`.trim());
        if (chunks.length) bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
        const send = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        const url = new URL(req.url ?? "/", "https://x");
        if (url.pathname === "/api/v1/nodes/w-1" && req.method === "GET") return send(200, { spec: { unschedulable: true }, status: { conditions: [{ type: "Ready", status: "True" }] } });
        if (url.pathname === "/api/v1/nodes/w-1" && req.method === "PATCH") return send(200, {});
        if (url.pathname === "/api/v1/nodes/w-1" && req.method === "DELETE") return send(200, {});
        if (url.pathname === "/api/v1/nodes/gone") return send(404, { message: 'nodes "gone" not found' });
        if (url.pathname === "/api/v1/pods") {
          const first = !url.searchParams.get("continue");
          const item = first
            ? { metadata: { namespace: "default", name: "web", uid: "u1", ownerReferences: [{ kind: "ReplicaSet" }] } }
            : { metadata: { namespace: "kube-system", name: "proxy", uid: "u2", ownerReferences: [{ kind: "DaemonSet" }], annotations: {} } };
          return send(200, { items: [item], metadata: { continue: first ? "next" : "" } });
        }
        if (url.pathname === "/api/v1/namespaces/default/pods/web/eviction") {
          evictions++;
          if (evictions === 1) return send(429, { message: "Cannot evict pod as it would violate the pod's disruption budget." });
          podExists = false;
          return send(201, {});
        }
        if (url.pathname === "/api/v1/namespaces/default/pods/web") return podExists ? send(200, { metadata: { uid: "u1" } }) : send(404, {});
        return send(403, { message: "forbidden" });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    kubeconfig = kubeconfigFor(port, pki, "test");
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("parses the current context with inline credentials", () => {
    const connection = parseKubeconfig(kubeconfig);
    expect(connection.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(connection.key?.toString()).toBe(pki.admin.key);
    expect(() => parseKubeconfig(kubeconfig, "nope")).toThrow('kubeconfig has no context "nope"');
  });

  test("drains with real requests: merge-patch cordon, paged pod list, eviction retried after 429", async () => {
    const kube = kubeApiFromKubeconfig(kubeconfig, { requestTimeoutMs: 2_000 });
    await expect(drainNode(kube, "w-1", FAST)).resolves.toEqual(["default/web"]);
    expect(requests).toEqual([
      "PATCH /api/v1/nodes/w-1 application/merge-patch+json",
      "GET /api/v1/pods?fieldSelector=spec.nodeName%3Dw-1&limit=500",
      "GET /api/v1/pods?fieldSelector=spec.nodeName%3Dw-1&limit=500&continue=next",
      "POST /api/v1/namespaces/default/pods/web/eviction application/json",
      "POST /api/v1/namespaces/default/pods/web/eviction application/json",
      "GET /api/v1/namespaces/default/pods/web",
    ]);
    expect(bodies).toEqual([
      { spec: { unschedulable: true } },
      { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web", namespace: "default" } },
      { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web", namespace: "default" } },
    ]);
  });

  test("node reads, deletes and API errors", async () => {
    const kube = kubeApiFromKubeconfig(kubeconfig);
    await expect(kube.getNode("w-1")).resolves.toEqual({ name: "w-1", unschedulable: true, ready: true });
    await expect(kube.getNode("gone")).resolves.toBeUndefined();
    await expect(kube.deleteNode("w-1")).resolves.toBe(true);
    await expect(kube.deleteNode("gone")).resolves.toBe(false);
    await expect(kube.setUnschedulable("other", false)).rejects.toThrow("PATCH /api/v1/nodes/other: HTTP 403 forbidden");
  });
});
