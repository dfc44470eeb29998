// The tasks the upgrade and membership resources run, end to end: real mutual-TLS client to the
// fake apid, the kubeconfig fetched from a control plane, the drain over HTTPS against an
// in-memory Kubernetes.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { taskModulePath } from "../resources/taskModule";
import { readPendingChanges, readVersions, runKubernetesUpgrade, runRemoveNode, runRolledReboot, runDiskChangeCheck, runUpgrade, runVolumesCheck, type UpgradeTaskInput } from "../engines/tasks";
import { FAST_TIMEOUTS, fakeControlPlane, fakeWorker, milestones, startFakeCluster, type FakeCluster } from "./helpers/fakeCluster";
import { serveFakeKube, type FakeKubeServer } from "./helpers/fakeKubeHttps";
import { clientConfiguration, createTestPki, type TestPki } from "./helpers/talosPki";
import { startFakeProxmox } from "./helpers/fakeProxmox";

const TARGET = "v1.13.10";
const IMAGE = `factory.talos.dev/metal-installer/abc123:${TARGET}`;

let pki: TestPki;
/** Kubernetes certificates are ECDSA (as Talos issues them); the Talos API's are Ed25519. */
let kubePki: TestPki;
let cluster: FakeCluster | undefined;
let kube: FakeKubeServer | undefined;
beforeAll(async () => {
  pki = await createTestPki();
  kubePki = await createTestPki("ECDSA");
});
afterEach(async () => {
  await kube?.close();
  await cluster?.stop();
  cluster = kube = undefined;
});

async function start(specs: Parameters<typeof startFakeCluster>[1], clusterPki: TestPki = pki): Promise<FakeCluster> {
  cluster = await startFakeCluster(clusterPki, specs);
  kube = await serveFakeKube(cluster.kube, kubePki);
  cluster.talos.kubeconfig = kube.kubeconfig;
  return cluster;
}

const input = (c: FakeCluster, extra: Partial<UpgradeTaskInput> = {}): UpgradeTaskInput => ({
  nodes: c.nodes,
  endpoints: [c.talos.address],
  clientConfiguration: clientConfiguration(pki),
  image: IMAGE,
  targetVersion: TARGET,
  workerBatchSize: 1,
  reinstall: false,
  timeouts: FAST_TIMEOUTS,
  ...extra,
});

test("the compiled task module the resource loads exists and exports the same tasks", () => {
  expect(fs.existsSync(taskModulePath())).toBe(true);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  expect(Object.keys(require(taskModulePath()) as object).sort()).toEqual(["compatibilityFailures", "connectCluster", "connectTalosOperations", "controlPlaneRemovalProblem", "credentialsChanged", "endpointRemovalProblem", "readPendingChanges", "readVersions", "removalWithReplacementProblem", "removalWithUpgradeProblem", "renewCredentials", "roleChangeProblem", "runDiskChangeCheck", "runKubernetesUpgrade", "runRemoveNode", "runRolledReboot", "runUpgrade", "runVolumesCheck", "upgradeCluster", "usableClientConfiguration"]);
});

test("connects with the client configuration, fetches the kubeconfig, drains over HTTPS and upgrades in order", async () => {
  const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3), fakeWorker(1)]);
  c.kube.addPod("w-1", "web-1");
  const result = await runUpgrade(input(c));
  expect(result.versions).toEqual({ "cp-1": TARGET, "cp-2": TARGET, "cp-3": TARGET, "w-1": TARGET });
  expect(result.upgraded).toEqual(["cp-1", "cp-2", "cp-3", "w-1"]);
  const upgrades = milestones(c.timeline).filter((s) => s.startsWith("LifecycleService/Upgrade"));
  expect(upgrades).toEqual(["LifecycleService/Upgrade cp-1", "LifecycleService/Upgrade cp-2", "LifecycleService/Upgrade cp-3", "LifecycleService/Upgrade w-1"]);
  expect(milestones(c.timeline)).toContain("kube evict default/web-1");
  expect(c.timeline.filter((s) => s.startsWith("MachineService/Kubeconfig"))).toHaveLength(1);
});

test("a node that comes back on the old version stops the rollout; the next run skips the nodes done", async () => {
  const c = await start([fakeControlPlane(1), fakeControlPlane(2, { onUpgradeBoot: "rollback" }), fakeControlPlane(3), fakeWorker(1)]);
  await expect(runUpgrade(input(c))).rejects.toThrow(`version after reboot on cp-2: expected ${TARGET}, saw v1.13.9`);
  c.talos.node("cp-2").onUpgradeBoot = "clean";
  const second = await runUpgrade(input(c));
  expect(second).toMatchObject({ skipped: ["cp-1"], upgraded: ["cp-2", "cp-3", "w-1"] });
});

test("a new image at the same version is installed on every node (reinstall)", async () => {
  const c = await start([fakeControlPlane(1), fakeWorker(1)]);
  const same = `factory.talos.dev/metal-installer/def456:v1.13.9`;
  const result = await runUpgrade(input(c, { image: same, targetVersion: "v1.13.9", reinstall: true }));
  expect(result.upgraded).toEqual(["cp-1", "w-1"]);
  expect(c.talos.nodes.every((n) => n.pulled.has(same))).toBe(true);
});

test("refresh reads each node's version; a node that doesn't answer reads as unreachable", async () => {
  const c = await start([fakeControlPlane(1), fakeWorker(1), fakeWorker(2, { version: "v1.12.11" })]);
  c.talos.node("w-1").up = false;
  expect(await readVersions({ ...input(c), timeouts: undefined })).toEqual({ "cp-1": "v1.13.9", "w-1": "unreachable", "w-2": "v1.12.11" });
});

describe("removing a node (the membership's delete)", () => {
  const access = (c: FakeCluster) => ({ nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(pki), timeouts: FAST_TIMEOUTS });

  test("a worker: drained, reset, then its Kubernetes Node deleted", async () => {
    const c = await start([fakeControlPlane(1), fakeWorker(1), fakeWorker(2)]);
    c.kube.addPod("w-1", "web-1");
    const result = await runRemoveNode({ ...access(c), node: "w-1" });
    expect(result).toMatchObject({ node: "w-1", reachable: true });
    expect(milestones(c.timeline)).toEqual(["kube cordon w-1", "kube evict default/web-1", "MachineService/Reset w-1", "kube delete w-1"]);
  });

  test("a control plane: leaves etcd before its reset; the others stay members", async () => {
    const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3)]);
    await runRemoveNode({ ...access(c), node: "cp-3" });
    const steps = milestones(c.timeline);
    expect(steps.indexOf("MachineService/EtcdLeaveCluster cp-3")).toBeLessThan(steps.indexOf("MachineService/Reset cp-3"));
    expect(c.talos.members.map((m) => m.hostname).sort()).toEqual(["cp-1", "cp-2"]);
  });

  test("a dead control plane: its member is removed through another one, no drain or reset", async () => {
    const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3, { down: true })]);
    const result = await runRemoveNode({ ...access(c), node: "cp-3" });
    expect(result).toMatchObject({ reachable: false, removedMemberId: expect.any(String) });
    expect(milestones(c.timeline).filter((s) => / cp-3$/.test(s) && !s.startsWith("kube delete"))).toEqual([]);
  });

  /**
   * The engine runs replacement chains in parallel (pulumi/pulumi v3.248.0 step_executor.go:55-58)
   * and one provider process serves every delete (sdk/nodejs/cmd/dynamic-provider/index.ts:59-72):
   * two memberships' deletes reach the task module at the same moment. Each test below has a PKI,
   * so a cluster, of its own: the module remembers etcd's size per cluster for the process.
   */
  test("two control-plane removals at the same moment: one after the other, and the second is refused naming quorum", async () => {
    const own = await createTestPki();
    const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3), fakeWorker(1)], own);
    const both = { nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(own), timeouts: FAST_TIMEOUTS };
    const [first, second] = await Promise.allSettled([runRemoveNode({ ...both, node: "cp-2" }), runRemoveNode({ ...both, node: "cp-3" })]);
    expect(first).toMatchObject({ status: "fulfilled", value: { node: "cp-2", reachable: true } });
    expect(second).toMatchObject({ status: "rejected", reason: { message: expect.stringMatching(/^remove control plane on cp-3: expected at least 2 etcd members left \(the quorum of the 3 this update started with\)/) } });
    // etcd kept its quorum: cp-3 never left, and nothing of it ran while cp-2 was leaving.
    expect(c.talos.members.map((m) => m.hostname).sort()).toEqual(["cp-1", "cp-3"]);
    expect(milestones(c.timeline).filter((s) => s.endsWith(" cp-3"))).toEqual([]);
  });

  test("a rolled reboot and a removal of the same cluster never overlap: the second starts when the first is done", async () => {
    const own = await createTestPki();
    const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3), fakeWorker(1), fakeWorker(2)], own);
    const access = { nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(own), timeouts: FAST_TIMEOUTS };
    await Promise.all([runRolledReboot({ ...access, only: ["w-1"], workerBatchSize: 1 }), runRemoveNode({ ...access, node: "w-2" })]);
    expect(milestones(c.timeline)).toEqual([
      "kube cordon w-1",
      "MachineService/Reboot w-1",
      "kube uncordon w-1",
      "kube cordon w-2",
      "MachineService/Reset w-2",
      "kube delete w-2",
    ]);
  });

  test("with backups: a snapshot from another control plane is written before the node leaves", async () => {
    const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3)]);
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tasks-backups-")), "backups", "dev");
    await runRemoveNode({ ...access(c), node: "cp-3", backups: { dir, stack: "dev", keep: 10, required: true } });
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-1"]);
    expect(c.timeline.indexOf("MachineService/EtcdSnapshot cp-1")).toBeLessThan(c.timeline.indexOf("MachineService/EtcdLeaveCluster cp-3"));
    expect(fs.readdirSync(dir)).toEqual([expect.stringMatching(/^dev-\d{8}T\d{6}Z-remove-cp-3\.db$/)]);
  });

  test("refused while etcd is not healthy: nothing is changed", async () => {
    const c = await start([fakeControlPlane(1), fakeControlPlane(2, { etcdUnhealthy: true }), fakeControlPlane(3)]);
    await expect(runRemoveNode({ ...access(c), node: "cp-3" })).rejects.toThrow(/remove control plane on cp-3: expected every etcd member started and healthy/);
    expect(milestones(c.timeline)).toEqual([]);
  });
});

test("rolled reboots: only the nodes asked for, control planes first, each drained, back with a new boot, uncordoned", async () => {
  const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3), fakeWorker(1), fakeWorker(2)]);
  const access = { nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(pki), timeouts: FAST_TIMEOUTS };
  const rebooted = await runRolledReboot({ ...access, only: ["w-2", "cp-2"], workerBatchSize: 1 });
  expect(rebooted).toEqual(["cp-2", "w-2"]);
  expect(milestones(c.timeline)).toEqual([
    "kube cordon cp-2",
    "MachineService/Reboot cp-2",
    "kube uncordon cp-2",
    "kube cordon w-2",
    "MachineService/Reboot w-2",
    "kube uncordon w-2",
  ]);
});

test("the Kubernetes upgrade reads configs over COSI, waits on pods and Nodes over HTTPS, and server-side applies the manifests", async () => {
  const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeWorker(1)]);
  const to = "1.36.4";
  const controlPlaneImages = {
    apiServer: `registry.k8s.io/kube-apiserver:v${to}`,
    controllerManager: `registry.k8s.io/kube-controller-manager:v${to}`,
    scheduler: `registry.k8s.io/kube-scheduler:v${to}`,
    proxy: `registry.k8s.io/kube-proxy:v${to}`,
  };
  const images = Object.fromEntries(c.nodes.map((n) => [n.name, { kubelet: `ghcr.io/siderolabs/kubelet:v${to}`, ...(n.role === "controlplane" ? controlPlaneImages : {}) }]));
  const result = await runKubernetesUpgrade({ nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(pki), targetVersion: to, images, workerBatchSize: 1, timeouts: FAST_TIMEOUTS });

  expect(result.changed).toEqual([
    "kube-apiserver cp-1", "kube-apiserver cp-2", "kube-controller-manager cp-1", "kube-controller-manager cp-2",
    "kube-scheduler cp-1", "kube-scheduler cp-2", "kube-proxy cp-1", "kube-proxy cp-2", "kubelet cp-1", "kubelet cp-2", "kubelet w-1",
  ]);
  expect([...c.kube.kubeletVersions.values()]).toEqual([`v${to}`, `v${to}`, `v${to}`]);
  expect(c.kube.objects.get("/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy")?.writer).toBe("apply(talos)");
  expect(c.timeline.filter((s) => s.startsWith("State/Get cp-1")).length).toBeGreaterThan(0);
});

test("rolled reboots with hardware changes: those nodes through the Proxmox API (applied, nothing pending), the others through Talos", async () => {
  const c = await start([fakeControlPlane(1), fakeControlPlane(2), fakeControlPlane(3), fakeWorker(1), fakeWorker(2)]);
  const token = "pulumi@pve!reboots=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  const vms = { "w-2": { host: "pve2", vmId: 205 }, "cp-1": { host: "pve1", vmId: 101 } };
  const pve = await startFakeProxmox({ apiToken: token, vms: Object.values(vms).map((vm) => ({ ...vm, config: { cores: 4 } })) });
  try {
    pve.timeline = c.timeline;
    pve.onStart = (vm) => c.talos.reboot(c.talos.node(vm.vmId === 205 ? "w-2" : "cp-1"));
    pve.setConfig(205, { cores: 8 });
    const connection = { endpoint: pve.endpoint, apiToken: token, insecure: true };
    expect(await readPendingChanges(connection, vms)).toEqual({ "w-2": ["cores"], "cp-1": [] });
    const access = { nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(pki), timeouts: FAST_TIMEOUTS };
    const rebooted = await runRolledReboot({ ...access, only: ["w-2", "cp-2"], workerBatchSize: 1, proxmox: { connection, throughProxmox: { "w-2": vms["w-2"] } } });
    expect(rebooted).toEqual(["cp-2", "w-2"]);
    expect(c.timeline.filter((e) => /^(proxmox |MachineService\/Reboot |kube (cordon|uncordon) )/.test(e))).toEqual([
      ...["kube cordon cp-2", "MachineService/Reboot cp-2", "kube uncordon cp-2"],
      ...["kube cordon w-2", "proxmox reboot 205", "proxmox start 205 applied cores", "kube uncordon w-2"],
    ]);
    expect(await readPendingChanges(connection, vms)).toEqual({ "w-2": [], "cp-1": [] });
  } finally {
    await pve.stop();
  }
});

describe("the CSI driver's removal check", () => {
  const DRIVER = "csi.proxmox.sinextra.dev";
  const check = (c: FakeCluster) => runVolumesCheck({ key: "storage.proxmoxCsi", driver: DRIVER, nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(pki), timeouts: FAST_TIMEOUTS });

  test("reads the PersistentVolumes over HTTPS with the kubeconfig from a control plane, and refuses while the driver's exist", async () => {
    const c = await start([fakeControlPlane(1), fakeWorker(1)]);
    c.kube.collections.set("/api/v1/persistentvolumes", [{ metadata: { name: "pvc-1" }, spec: { csi: { driver: DRIVER }, claimRef: { namespace: "apps", name: "data" } }, status: { phase: "Bound" } }]);
    await expect(check(c)).rejects.toThrow(/^removing storage\.proxmoxCsi is refused: 1 PersistentVolume\(s\) of csi\.proxmox\.sinextra\.dev still exist: pvc-1 \(claim apps\/data, Bound\)/);
  });

  test("passes once only other drivers' volumes remain", async () => {
    const c = await start([fakeControlPlane(1), fakeWorker(1)]);
    c.kube.collections.set("/api/v1/persistentvolumes", [{ metadata: { name: "nfs-1" }, spec: { csi: { driver: "nfs.csi.k8s.io" } } }]);
    await expect(check(c)).resolves.toBeUndefined();
  });
});

describe("the check before a VM's disks change", () => {
  const DRIVER = "csi.proxmox.sinextra.dev";
  const check = (c: FakeCluster, node: string) => runDiskChangeCheck({ node, driver: DRIVER, nodes: c.nodes, endpoints: [c.talos.address], clientConfiguration: clientConfiguration(pki), timeouts: FAST_TIMEOUTS });
  const attachment = (pv: string, node: string) => ({ metadata: { name: `csi-${pv}` }, spec: { attacher: DRIVER, nodeName: node, source: { persistentVolumeName: pv } } });

  test("reads the VolumeAttachments over HTTPS and refuses while the driver has volumes on the node", async () => {
    const c = await start([fakeControlPlane(1), fakeWorker(1)]);
    c.kube.collections.set("/apis/storage.k8s.io/v1/volumeattachments", [attachment("pvc-1", "w-1")]);
    await expect(check(c, "w-1")).rejects.toThrow(/^changing the disks of w-1's VM is refused while 1 volume\(s\) of csi\.proxmox\.sinextra\.dev are attached to it \(pvc-1\)/);
  });

  test("passes for a node without the driver's volumes", async () => {
    const c = await start([fakeControlPlane(1), fakeWorker(1)]);
    c.kube.collections.set("/apis/storage.k8s.io/v1/volumeattachments", [attachment("pvc-1", "w-1")]);
    await expect(check(c, "cp-1")).resolves.toBeUndefined();
  });
});

test("the CSI driver's removal check says so when the cluster cannot be read", async () => {
  const c = await start([fakeControlPlane(1)]);
  const endpoints = [c.talos.address];
  await cluster!.stop();
  cluster = undefined;
  await expect(
    runVolumesCheck({ key: "storage.proxmoxCsi", driver: "csi.proxmox.sinextra.dev", nodes: c.nodes, endpoints, clientConfiguration: clientConfiguration(pki), timeouts: FAST_TIMEOUTS }),
  ).rejects.toThrow(/^removing storage\.proxmoxCsi needs the cluster's PersistentVolumes, which could not be read \(.+\)\. Run pulumi up again once the control planes answer/);
});
