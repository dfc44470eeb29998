// Hardware changes (cores, memory, PCI) wait as pending config until Proxmox starts a new QEMU
// process; rolled reboots take such nodes through the Proxmox API reboot, inside the same gates as a
// Talos reboot. The fake Proxmox (tests/helpers/fakeProxmox.ts) restarts the fake Talos node when
// it starts a VM, so the engine's boot-id wait sees the new boot.
import { proxmoxOperations, rolledReboot, type RolloutEvent, type VmRef } from "../engines";
import { FAST_TIMEOUTS, fakeControlPlane as cp, fakeWorker as worker, useFakeClusters, type FakeCluster } from "./helpers/fakeCluster";
import { startFakeProxmox, type FakeProxmox } from "./helpers/fakeProxmox";

const TOKEN = "pulumi@pve!reboots=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const start = useFakeClusters();
let pve: FakeProxmox | undefined;
afterEach(async () => {
  await pve?.stop();
  pve = undefined;
});

/** VM 101.. per node, control planes on host `pve1`, workers on `pve2`; each VM start reboots its Talos node. */
async function withProxmox(c: FakeCluster): Promise<{ pve: FakeProxmox; vms: Record<string, VmRef> }> {
  const vms = Object.fromEntries(c.nodes.map((n, i) => [n.name, { host: n.role === "controlplane" ? "pve1" : "pve2", vmId: 101 + i }]));
  pve = await startFakeProxmox({ apiToken: TOKEN, vms: Object.values(vms).map((vm) => ({ ...vm, config: { cores: 4, memory: 8192 } })) });
  pve.timeline = c.timeline;
  pve.onStart = (vm) => c.talos.reboot(c.talos.node(Object.keys(vms).find((name) => vms[name].vmId === vm.vmId)!));
  return { pve, vms };
}

const proxmoxDeps = (fake: FakeProxmox) => proxmoxOperations({ endpoint: fake.endpoint, apiToken: TOKEN, insecure: true }, FAST_TIMEOUTS);
/** Reboots, VM starts and Kubernetes cordons/uncordons, in order. */
const steps = (timeline: string[]) => timeline.filter((e) => /^(proxmox |kube (cordon|uncordon) |MachineService\/Reboot )/.test(e));
const pick = (vms: Record<string, VmRef>, ...names: string[]) => Object.fromEntries(names.map((n) => [n, vms[n]]));

test("hardware changes apply only through the Proxmox reboot, one node at a time, control planes gated", async () => {
  const c = await start([cp(1), cp(2), cp(3), worker(1), worker(2)]);
  const { pve, vms } = await withProxmox(c);
  pve.setConfig(101, { cores: 8 });
  pve.setConfig(104, { memory: 16384 });
  pve.setConfig(105, { hostpci0: "mapping=gpu,pcie=1" });
  const bootIds = c.talos.nodes.map((n) => n.bootId);
  const events: RolloutEvent[] = [];

  const rebooted = await rolledReboot(
    { nodes: c.nodes, only: ["w-2", "cp-1", "w-1"], throughProxmox: pick(vms, "cp-1", "w-1", "w-2"), timeouts: FAST_TIMEOUTS },
    { ...c.deps, proxmox: proxmoxDeps(pve), onEvent: (e) => events.push(e) },
  );

  expect(rebooted).toEqual(["cp-1", "w-1", "w-2"]);
  expect(steps(c.timeline)).toEqual([
    ...["kube cordon cp-1", "proxmox reboot 101", "proxmox start 101 applied cores", "kube uncordon cp-1"],
    ...["kube cordon w-1", "proxmox reboot 104", "proxmox start 104 applied memory", "kube uncordon w-1"],
    ...["kube cordon w-2", "proxmox reboot 105", "proxmox start 105 applied hostpci0", "kube uncordon w-2"],
  ]);
  expect(pve.vms.map((vm) => Object.keys(vm.pending))).toEqual([[], [], [], [], []]);
  expect([pve.vm(101).config.cores, pve.vm(104).config.memory, pve.vm(105).config.hostpci0]).toEqual([8, 16384, "mapping=gpu,pcie=1"]);
  expect(c.talos.callsTo("MachineService/Reboot")).toEqual([]);
  expect(c.talos.nodes.map((n, i) => n.bootId !== bootIds[i])).toEqual([true, false, false, true, true]);
  expect(events.filter((e) => e.step === "etcd healthy").map((e) => e.node)).toEqual(["cp-1"]);
  expect(c.kube.unschedulable.size).toBe(0);
});

test("a Talos reboot keeps the same QEMU process: the hardware change stays pending", async () => {
  const c = await start([cp(1), worker(1)]);
  const { pve } = await withProxmox(c);
  pve.setConfig(102, { memory: 16384 });
  await rolledReboot({ nodes: c.nodes, only: ["w-1"], timeouts: FAST_TIMEOUTS }, c.deps);
  expect(c.talos.callsTo("MachineService/Reboot")).toEqual(["w-1"]);
  expect(pve.vm(102).pending).toEqual({ memory: 16384 });
  expect(pve.calls).toEqual([]);
});

test("staged-config-only nodes still reboot through Talos next to hardware nodes through Proxmox", async () => {
  const c = await start([cp(1), worker(1), worker(2)]);
  const { pve, vms } = await withProxmox(c);
  pve.setConfig(102, { cores: 6 });
  await rolledReboot({ nodes: c.nodes, only: ["w-1", "w-2"], throughProxmox: pick(vms, "w-1"), timeouts: FAST_TIMEOUTS }, { ...c.deps, proxmox: proxmoxDeps(pve) });
  expect(steps(c.timeline)).toEqual([
    ...["kube cordon w-1", "proxmox reboot 102", "proxmox start 102 applied cores", "kube uncordon w-1"],
    ...["kube cordon w-2", "MachineService/Reboot w-2", "kube uncordon w-2"],
  ]);
});

test("without a Proxmox client a hardware reboot is refused before any node is touched", async () => {
  const c = await start([cp(1), worker(1)]);
  const { pve, vms } = await withProxmox(c);
  await expect(rolledReboot({ nodes: c.nodes, only: ["w-1"], throughProxmox: pick(vms, "w-1"), timeouts: FAST_TIMEOUTS }, c.deps)).rejects.toThrow(
    "w-1: hardware changes need a reboot through the Proxmox API, but no Proxmox connection was given",
  );
  expect(steps(c.timeline)).toEqual([]);
  expect(pve.calls).toEqual([]);
});

test("an unhealthy etcd refuses the control plane's Proxmox reboot before the VM is touched", async () => {
  const c = await start([cp(1), cp(2, { etcdUnhealthy: true }), cp(3)]);
  const { pve, vms } = await withProxmox(c);
  pve.setConfig(101, { cores: 8 });
  const error = await rolledReboot({ nodes: c.nodes, only: ["cp-1"], throughProxmox: pick(vms, "cp-1"), timeouts: FAST_TIMEOUTS }, { ...c.deps, proxmox: proxmoxDeps(pve) }).catch((e: unknown) => e);
  expect(error).toMatchObject({ node: "cp-1", step: "etcd gate" });
  expect(pve.calls.filter((call) => call.startsWith("POST"))).toEqual([]);
  expect(pve.vm(101).pending).toEqual({ cores: 8 });
});

test("a change Proxmox could not apply at the start stops the rollout naming the node and the key", async () => {
  const c = await start([cp(1), worker(1), worker(2)]);
  const { pve, vms } = await withProxmox(c);
  pve.setConfig(102, { hostpci0: "mapping=gone" });
  pve.failsToApply.add("hostpci0");
  const error = await rolledReboot({ nodes: c.nodes, only: ["w-1", "w-2"], throughProxmox: pick(vms, "w-1", "w-2"), timeouts: FAST_TIMEOUTS }, { ...c.deps, proxmox: proxmoxDeps(pve) }).catch(
    (e: unknown) => e,
  );
  expect((error as Error).message).toBe("Proxmox reboot on w-1: expected VM pve2/102 running with no pending changes, saw still pending after the start: hostpci0; w-1 uncordoned again, as talosctl upgrade does after a failure");
  expect(steps(c.timeline).filter((e) => e.endsWith("103") || e.endsWith("w-2"))).toEqual([]);
});
