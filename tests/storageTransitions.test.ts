import * as tasks from "../engines/tasks";
import { nodesToReboot, type BootState } from "../resources/talosReboots";
import { needsRollout, type UpgradeState } from "../resources/talosUpgrade";
import { unwrap } from "../testkit/mocks";
import { LAB_NODES } from "./helpers/configCases";
import { PROXMOX_CONFIG, ProgramRun, toPulumiConfig } from "./helpers/program";
import { Step, planDestroy, transition } from "./helpers/transition";

/** storage.proxmoxCsi after day one: enabling it, changing the class, removing it, destroying the cluster. */

// The module as the VMs' hook loads it, with its check replaceable (compiled ES module exports
// are read-only bindings: a spy needs a plain object).
jest.mock("../engines/tasks", () => ({ __esModule: true, ...jest.requireActual("../engines/tasks") }));

const BASE = { clusterName: "lab", vip: "10.0.20.10", vmIdBase: 2000, nodes: LAB_NODES };
const CSI = { datastore: "local-lvm" };
const WITH_CSI = { ...BASE, storage: { proxmoxCsi: CSI } };

function stack(values: Record<string, unknown>): Record<string, string> {
  const config = toPulumiConfig(values);
  return { ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`talos-proxmox:${k}`, v])), ...PROXMOX_CONFIG };
}

const CSI_RESOURCES = ["cluster-csi-role", "cluster-csi-user", "cluster-csi-acl", "cluster-csi-token", "cluster-csi-namespace", "cluster-csi-config", "cluster-csi-release", "cluster-csi-class", "cluster-csi-volumes"];
const APPLIES = LAB_NODES.map((n) => `cluster-apply-${n.name}`);
const names = (steps: Step[], op: Step["op"]) => steps.filter((s) => s.op === op).map((s) => s.name).sort();
const dynamicInputs = <T>(run: ProgramRun, name: string) => unwrap(run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === name)!.inputs) as T;

describe("storage.proxmoxCsi on a running cluster (transitions)", () => {
  test("enabling it creates the plugin and labels every node in place: no VM changes, no upgrade, no reboot", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack(WITH_CSI));
    expect(names(steps, "create")).toEqual([...CSI_RESOURCES].sort());
    expect(names(steps, "update")).toEqual([...APPLIES, "cluster-health"].sort());
    expect(steps.filter((s) => s.op === "replace" || s.op === "delete")).toEqual([]);
    for (const apply of steps.filter((s) => s.name.startsWith("cluster-apply-"))) expect(apply.changed).toEqual(["machineConfigurationInput"]);
    expect(needsRollout(dynamicInputs<UpgradeState>(a, "cluster-upgrade"), dynamicInputs<UpgradeState>(b, "cluster-upgrade"))).toBe(false);
    const wanted = (run: ProgramRun) => dynamicInputs<{ wanted: Record<string, BootState> }>(run, "cluster-reboots").wanted;
    expect(nodesToReboot(wanted(a), wanted(b))).toEqual([]);
  });

  test.each([
    ["fsType", { fsType: "xfs" }],
    ["datastore", { datastore: "ceph-vm" }],
    ["reclaimPolicy", { reclaimPolicy: "Delete" }],
  ])("changing %s replaces the StorageClass alone, deleting the old one first (Kubernetes allows no update of it)", async (_key, change) => {
    const { steps } = await transition(stack(WITH_CSI), stack({ ...BASE, storage: { proxmoxCsi: { ...CSI, ...change } } }));
    // A delete-before-replace chain: the old class goes, then the new one comes; the volumes made from it keep their own parameters.
    expect(steps.map((s) => [s.op, s.name, s.deleteFirst])).toEqual([["delete", "cluster-csi-class", true], ["create", "cluster-csi-class", true]]);
  });

  test("the default flag is an annotation: updated in place", async () => {
    const { steps } = await transition(stack(WITH_CSI), stack({ ...BASE, storage: { proxmoxCsi: { ...CSI, default: false } } }));
    expect(steps).toEqual([expect.objectContaining({ op: "update", name: "cluster-csi-class", changed: ["metadata.annotations"] })]);
  });

  test("removing it deletes the guard first, which refuses while volumes exist, then the plugin and its Proxmox identity; nodes lose the labels in place", async () => {
    const { steps } = await transition(stack(WITH_CSI), stack(BASE));
    const deletes = steps.filter((s) => s.op === "delete");
    expect(deletes.map((s) => s.name).sort()).toEqual([...CSI_RESOURCES].sort());
    expect(deletes.find((s) => s.name === "cluster-csi-volumes")!.skipped).toBeFalsy();
    const at = (name: string) => steps.findIndex((s) => s.name === name);
    for (const name of ["cluster-csi-release", "cluster-csi-class", "cluster-csi-config", "cluster-csi-token", "cluster-csi-role"]) expect(at("cluster-csi-volumes")).toBeLessThan(at(name));
    expect(names(steps, "update")).toEqual([...APPLIES, "cluster-health"].sort());
  });

  test("destroying the whole cluster skips the guard (it goes with the machine secrets)", async () => {
    const { b } = await transition(stack(BASE), stack(WITH_CSI));
    expect(planDestroy(b).find((s) => s.name === "cluster-csi-volumes")).toMatchObject({ op: "delete", skipped: true });
  });
});

describe("a VM's disks change while the plugin may have volumes attached to it (transitions)", () => {
  const VM = "proxmoxve:index/vmLegacy:VmLegacy::cluster-worker-1";
  const resized = (change: Record<string, unknown>) => ({ ...WITH_CSI, nodes: LAB_NODES.map((n) => (n.name === "worker-1" ? { ...n, ...change } : n)) });
  const check = jest.spyOn(tasks, "runDiskChangeCheck");
  beforeEach(() => check.mockReset().mockResolvedValue(undefined));

  test("growing a node's disk: its VM's update first checks the volumes attached to that node, through the control planes", async () => {
    const { b, steps } = await transition(stack(WITH_CSI), stack(resized({ diskSize: 40 })), { runHooks: true });
    expect(steps.filter((s) => s.name === "cluster-worker-1")).toEqual([expect.objectContaining({ op: "update", changed: ["disks[0].size"] })]);
    expect(b.mocks.hookRuns.filter((h) => h.resource === VM)).toEqual([expect.objectContaining({ hook: "cluster-csi-attached-volumes", kind: "beforeUpdate" })]);
    const controlPlanes = LAB_NODES.filter((n) => n.role === "controlplane");
    expect(check).toHaveBeenCalledTimes(1);
    expect(check).toHaveBeenCalledWith(expect.objectContaining({
      node: "worker-1",
      driver: "csi.proxmox.sinextra.dev",
      nodes: controlPlanes,
      endpoints: controlPlanes.map((n) => n.ip),
      clientConfiguration: expect.objectContaining({ caCertificate: expect.any(String), clientKey: expect.any(String) }),
    }));
  });

  test("a refusal fails that VM's update before the provider runs it", async () => {
    check.mockRejectedValueOnce(new Error("changing the disks of worker-1's VM is refused while 1 volume(s)"));
    const { b } = await transition(stack(WITH_CSI), stack(resized({ extraDisks: [{ size: 100 }] })), { runHooks: true });
    expect(b.mocks.hookRuns.find((h) => h.resource === VM)?.error).toMatch(/^changing the disks of worker-1's VM is refused/);
  });

  test("a change of cores updates the VM without checking volumes", async () => {
    const { b } = await transition(stack(WITH_CSI), stack(resized({ cores: 8 })), { runHooks: true });
    expect(b.mocks.hookRuns.filter((h) => h.resource === VM)).toHaveLength(1);
    expect(check).not.toHaveBeenCalled();
  });

  test("without the plugin no VM binds the hook", async () => {
    const { a, b } = await transition(stack(BASE), stack(WITH_CSI));
    const hooks = (run: ProgramRun) => [...run.requests.values()].filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy").map((r) => r.hooks);
    expect(hooks(a)).toEqual(LAB_NODES.map(() => ({})));
    expect(hooks(b)).toEqual(LAB_NODES.map(() => ({ beforeUpdate: ["cluster-csi-attached-volumes"] })));
  });

  test("with the plugin each VM waits for the credentials its hook connects with: a hook never waits on a step the engine has not started", async () => {
    // The engine runs steps on a fixed pool of workers (pulumi/pulumi v3.248.0
    // pkg/resource/deploy/step_executor.go:731,749-767): hooks waiting on a later step could fill it.
    const { a, b } = await transition(stack(BASE), stack(WITH_CSI));
    const credentials = (run: ProgramRun) => [...run.requests.values()].find((r) => r.name === "cluster-credentials")!.urn;
    const vmDependencies = (run: ProgramRun) => [...run.requests.values()].filter((r) => r.type === "proxmoxve:index/vmLegacy:VmLegacy").map((r) => r.dependencies.includes(credentials(run)));
    expect(vmDependencies(a)).toEqual(LAB_NODES.map(() => false));
    expect(vmDependencies(b)).toEqual(LAB_NODES.map(() => true));
  });
});
