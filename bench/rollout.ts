import { upgradeCluster, type KubeOperations, type NodeRef, type TalosOperations } from "../engines";

/**
 * Child process for `npm run bench`: one rolling upgrade of argv[2] nodes (3 control planes, the
 * rest workers, batches of argv[3]) over in-memory Talos and Kubernetes operations that only wait
 * their simulated latency. Prints the measured wall time and the floor as JSON.
 */

/** Simulated latency per operation (ms), roughly proportional to real ones. */
const OP_MS = {
  version: 5,
  etcd: 5,
  services: 5,
  bootId: 5,
  pull: 60,
  upgrade: 120,
  drain: 40,
  reboot: 5,
  waitRebooted: 200,
  waitReady: 40,
  uncordon: 5,
};

const unused = async (): Promise<never> => {
  throw new Error("not part of a Talos rollout");
};

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function fakeCluster(nodes: NodeRef[], from: string) {
  const versions = new Map(nodes.map((n) => [n.name, from]));
  const pending = new Map<string, string>();
  const members = nodes.filter((n) => n.role === "controlplane").map((n, i) => ({ id: String(i + 1), hostname: n.name, peer_urls: [`https://${n.ip}:2380`], client_urls: [], is_learner: false }));
  const talos: TalosOperations = {
    version: async (n) => (await wait(OP_MS.version), versions.get(n.name)!),
    bootId: async () => (await wait(OP_MS.bootId), "boot"),
    pullImage: async () => void (await wait(OP_MS.pull)),
    upgrade: async (n, image) => (await wait(OP_MS.upgrade), pending.set(n.name, image.split(":").pop()!), "lifecycle"),
    reboot: async () => void (await wait(OP_MS.reboot)),
    waitRebooted: async (n) => (await wait(OP_MS.waitRebooted), void versions.set(n.name, pending.get(n.name) ?? versions.get(n.name)!)),
    etcdMembers: async () => (await wait(OP_MS.etcd), members),
    etcdStatus: async () => (await wait(OP_MS.etcd), { protocol_version: "", db_size: "0", db_size_in_use: "0", leader: "1", raft_index: "1", raft_term: "1", raft_applied_index: "1", errors: [], is_learner: false, member_id: "1", storage_version: "" }),
    services: async () => (await wait(OP_MS.services), [{ id: "etcd", state: "Running", health: { unknown: false, healthy: true, last_message: "" } }]),
    etcdLeave: async () => undefined,
    etcdRemoveMember: async () => undefined,
    etcdForfeitLeadership: async () => undefined,
    reset: async () => undefined,
    reachable: async () => true,
    // A Talos rollout reads and writes no machine config or resource.
    machineConfig: unused,
    etcdSnapshot: unused, // the bench runs without backups
    applyConfig: unused,
    resource: unused,
    listResources: unused,
  };
  const kube: KubeOperations = {
    drain: async () => void (await wait(OP_MS.drain)),
    uncordon: async () => void (await wait(OP_MS.uncordon)),
    isCordoned: async () => false,
    countObjects: unused,
    waitReady: async () => void (await wait(OP_MS.waitReady)),
    deleteNode: async () => undefined,
    waitStaticPod: unused,
    waitKubelet: unused,
    syncManifests: unused,
  };
  return { talos, kube };
}

/**
 * The floor: the initial version read, each step's one node chain (control planes one per step,
 * worker batches in parallel), the final read. A control plane's chain adds its etcd gate before
 * and the etcd check after (member list, then services and status, which run together).
 */
function rolloutFloor(controlPlanes: number, workers: number, batch: number): number {
  const etcdCheck = OP_MS.etcd + Math.max(OP_MS.services + OP_MS.etcd);
  const node = OP_MS.version + OP_MS.bootId + OP_MS.pull + OP_MS.upgrade + OP_MS.drain + OP_MS.reboot + OP_MS.waitRebooted + OP_MS.version + OP_MS.waitReady + OP_MS.uncordon;
  const steps = controlPlanes * (node + 2 * etcdCheck) + Math.ceil(workers / batch) * node;
  return OP_MS.version + steps + OP_MS.version;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const batch = Number(process.argv[3] ?? 1);
  const nodes: NodeRef[] = Array.from({ length: count }, (_, i) => ({ name: `node-${i + 1}`, ip: `10.0.0.${i + 1}`, role: i < 3 ? "controlplane" : "worker" }));
  const deps = fakeCluster(nodes, "v1.13.9");
  const started = performance.now();
  await upgradeCluster(
    // not-a-pin: a simulated upgrade target, nothing is pulled
    { nodes, endpoints: [], clientConfiguration: { caCertificate: "", clientCertificate: "", clientKey: "" }, image: "factory.talos.dev/metal-installer/x:v1.13.10", targetVersion: "v1.13.10", workerBatchSize: batch, reinstall: false, timeouts: { pollInitialMs: 1, pollMaxMs: 5 } },
    deps,
  );
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, floorMs: rolloutFloor(Math.min(3, count), Math.max(0, count - 3), batch) }));
}

void main();
