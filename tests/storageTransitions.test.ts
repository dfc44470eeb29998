import { nodesToReboot, type BootState } from "../resources/talosReboots";
import { needsRollout, type UpgradeState } from "../resources/talosUpgrade";
import { unwrap } from "../testkit/mocks";
import { LAB_NODES } from "./helpers/configCases";
import { PROXMOX_CONFIG, ProgramRun, toPulumiConfig } from "./helpers/program";
import { Step, planDestroy, transition } from "./helpers/transition";

/** storage.proxmoxCsi after day one: enabling it, changing the class, removing it, destroying the cluster. */

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
