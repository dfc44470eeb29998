import { upgradeKubernetes, type KubeOperations, type KubernetesImages, type NodeRef, type TalosOperations } from "../engines";

/**
 * Child process for `npm run bench`: one rolling Kubernetes upgrade of argv[2] nodes (3 control
 * planes, the rest workers, kubelet batches of argv[3]) over in-memory operations that only wait
 * their simulated latency, with configs that render at once. Prints measured wall time and floor.
 */

/** Simulated latency per operation (ms), roughly proportional to real ones (a static pod restart dominates). */
const OP_MS = { version: 5, etcd: 5, services: 5, get: 5, config: 5, apply: 10, pull: 60, staticPod: 200, kubelet: 150, list: 5, sync: 100 };

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PROXY_DAEMONSET = { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "kube-proxy" }, spec: { template: { spec: { containers: [{ image: "new" }] } } } };
const CONFIG = (image: string) => `version: v1alpha1\nmachine:\n  kubelet:\n    image: ${image}\n`;

function fakeCluster(nodes: NodeRef[]): { talos: TalosOperations; kube: KubeOperations } {
  const members = nodes.filter((n) => n.role === "controlplane").map((n, i) => ({ id: String(i + 1), hostname: n.name, peer_urls: [`https://${n.ip}:2380`], client_urls: [], is_learner: false }));
  // An apply renders at once: the next read sees a new version with the new image, later reads the
  // next component's resource, still on the old one.
  const versions = new Map(nodes.map((n) => [n.name, 1]));
  const rendered = new Set<string>();
  const read = (n: NodeRef) => {
    const image = rendered.delete(n.name) ? "new" : "old";
    return { id: "x", version: String(versions.get(n.name)), spec: { image } };
  };
  const healthy = { unknown: false, healthy: true, last_message: "" };
  const unused = async (): Promise<never> => {
    throw new Error("not part of a Kubernetes upgrade");
  };
  const talos: TalosOperations = {
    version: async () => (await wait(OP_MS.version), "v1.13.9"),
    etcdMembers: async () => (await wait(OP_MS.etcd), members),
    etcdStatus: async () => (await wait(OP_MS.etcd), { protocol_version: "", db_size: "0", db_size_in_use: "0", leader: "1", raft_index: "1", raft_term: "1", raft_applied_index: "1", errors: [], is_learner: false, member_id: "1", storage_version: "" }),
    services: async () => (await wait(OP_MS.services), [{ id: "etcd", state: "Running", health: healthy }, { id: "kubelet", state: "Running", health: healthy }]),
    pullImage: async () => void (await wait(OP_MS.pull)),
    machineConfig: async () => (await wait(OP_MS.config), CONFIG("old")),
    applyConfig: async (n) => void (await wait(OP_MS.apply), versions.set(n.name, versions.get(n.name)! + 1), rendered.add(n.name)),
    resource: async (n) => (await wait(OP_MS.get), read(n)),
    listResources: async () => (await wait(OP_MS.list), [{ id: "10-kube-proxy", version: "2", spec: [PROXY_DAEMONSET] }]),
    bootId: unused,
    upgrade: unused,
    reboot: unused,
    waitRebooted: unused,
    etcdLeave: unused,
    etcdRemoveMember: unused,
    etcdForfeitLeadership: unused,
    reset: unused,
    reachable: unused,
    etcdSnapshot: unused, // the bench runs without backups
  };
  const kube: KubeOperations = {
    waitStaticPod: async () => void (await wait(OP_MS.staticPod)),
    waitKubelet: async () => void (await wait(OP_MS.kubelet)),
    syncManifests: async () => (await wait(OP_MS.sync), []),
    drain: unused,
    uncordon: unused,
    isCordoned: unused,
    countObjects: async () => 0,
    waitReady: unused,
    deleteNode: unused,
  };
  return { talos, kube };
}

/**
 * The floor: version reads and pulls (every node together; a control plane pulls four images in a
 * row), each control-plane component node by node (etcd check, resource read, config read,
 * apply, resource read, pod wait), kube-proxy per control plane (config read, apply), each kubelet
 * step (service check, config read, apply, Node wait), and the manifests (list, sync).
 */
function kubernetesFloor(controlPlanes: number, workers: number, batch: number): number {
  // Member list, then per control plane (together) its service list and etcd status in a row.
  const etcdCheck = OP_MS.etcd + OP_MS.services + OP_MS.etcd;
  const staticPod = etcdCheck + OP_MS.get + OP_MS.config + OP_MS.apply + OP_MS.get + OP_MS.staticPod;
  const kubelet = OP_MS.services + OP_MS.config + OP_MS.apply + OP_MS.kubelet;
  const kubeletSteps = controlPlanes + Math.ceil(workers / batch);
  return OP_MS.version + 4 * OP_MS.pull + 3 * controlPlanes * staticPod + controlPlanes * (OP_MS.config + OP_MS.apply) + kubeletSteps * kubelet + OP_MS.list + OP_MS.sync;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const batch = Number(process.argv[3] ?? 1);
  const nodes: NodeRef[] = Array.from({ length: count }, (_, i) => ({ name: `node-${i + 1}`, ip: `10.0.0.${i + 1}`, role: i < 3 ? "controlplane" : "worker" }));
  const images: Record<string, KubernetesImages> = Object.fromEntries(
    nodes.map((n) => [n.name, n.role === "controlplane" ? { kubelet: "new", apiServer: "new", controllerManager: "new", scheduler: "new", proxy: "new" } : { kubelet: "new" }]),
  );
  const started = performance.now();
  await upgradeKubernetes({ nodes, targetVersion: "1.36.4", images, workerBatchSize: batch, timeouts: { pollInitialMs: 1, pollMaxMs: 5 } }, fakeCluster(nodes));
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, floorMs: kubernetesFloor(Math.min(3, count), Math.max(0, count - 3), batch) }));
}

void main();
