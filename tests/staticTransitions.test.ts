import { addressingChangeProblem, upgradeProvider, type UpgradeState } from "../resources/talosUpgrade";
import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, toPulumiConfig } from "./helpers/program";
import { REPLACED_ON_CHANGE, Step, addedLeaves, covers, transition } from "./helpers/transition";
import { LAB_NODES } from "./helpers/configCases";

/** Static addressing after day one: what a real `pulumi up` would do, and what the program refuses. */

const NODES = LAB_NODES;
const NETWORK = { addressing: "static", cidr: "10.0.20.0/24", gateway: "10.0.20.1", nameservers: ["10.0.20.1"] };
const DHCP = { clusterName: "lab", vip: "10.0.20.10", vmIdBase: 2000, nodes: NODES };
const STATIC = { ...DHCP, network: NETWORK };

function stack(values: Record<string, unknown>): Record<string, string> {
  const config = toPulumiConfig(values);
  return { ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`talos-proxmox:${k}`, v])), ...PROXMOX_CONFIG };
}
const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const ops = (steps: Step[]) => steps.map((s) => `${s.op} ${s.name}`);
const upgradeInputs = (run: ProgramRun) =>
  unwrap(run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
/** The upgrade resource's check, as the engine runs it on preview and up with the old and new inputs. */
const refusal = async (a: ProgramRun, b: ProgramRun) => (await upgradeProvider.check!(upgradeInputs(a), upgradeInputs(b))).failures ?? [];
const moved = (name: string, ip: string) => NODES.map((n) => (n.name === name ? { ...n, ip } : n));

describe("static addressing after day one (transitions)", () => {
  test("a second run of a static stack changes nothing (the cloud-init drive has no perpetual diff in our inputs)", async () => {
    const { steps } = await transition(stack(STATIC), stack(STATIC));
    expect(steps).toEqual([]);
  });

  test("a DHCP stack's upgrade resource carries no addressing, so its inputs are what they were", async () => {
    const { a } = await transition(stack(DHCP), stack(DHCP));
    expect("addressing" in upgradeInputs(a)).toBe(false);
  });

  test("moving a static node to a new address is refused before anything changes; the VM would only have been updated in place", async () => {
    const { a, b, steps } = await transition(stack(STATIC), stack({ ...STATIC, nodes: moved("worker-1", "10.0.20.31") }));
    expect(await refusal(a, b)).toEqual([
      { property: "addressing", reason: expect.stringMatching(/^changing the static address of worker-1 in place is refused: the node would hold its old and new address together/) },
    ]);
    // What the refusal prevents: the drive regenerated without a reboot (never a new VM, never
    // another VM), while the config apply would look for the node at an address it lacks.
    expect(steps.filter((s) => s.type === VM)).toEqual([{ op: "update", type: VM, name: "cluster-worker-1", changed: ["initialization.ipConfigs[0].ipv4.address"] }]);
    expect(steps.find((s) => s.name === "cluster-apply-worker-1")).toMatchObject({ op: "update", changed: expect.arrayContaining(["node"]) });
  });

  test("a control plane too: one refusal naming it, nothing replaced", async () => {
    const { a, b, steps } = await transition(stack(STATIC), stack({ ...STATIC, nodes: moved("cp-2", "10.0.20.42") }));
    expect((await refusal(a, b)).map((f) => f.reason)).toEqual([expect.stringContaining("of cp-2 in place is refused")]);
    expect(steps.filter((s) => s.op === "replace" || s.op === "delete")).toEqual([]);
  });

  test("the supported move: remove the node in one up, add it back with its new address in the next", async () => {
    const without = NODES.filter((n) => n.name !== "worker-2");
    const removal = await transition(stack(STATIC), stack({ ...STATIC, nodes: without }));
    expect(await refusal(removal.a, removal.b)).toEqual([]);
    expect(ops(removal.steps).filter((s) => s.startsWith("delete")).sort()).toEqual(
      ["delete cluster-apply-worker-2", "delete cluster-member-worker-2", "delete cluster-worker-2"],
    );
    const readd = await transition(stack({ ...STATIC, nodes: without }), stack({ ...STATIC, nodes: [...without, { name: "worker-2", ip: "10.0.20.32", role: "worker" }] }));
    expect(await refusal(readd.a, readd.b)).toEqual([]);
    expect(ops(readd.steps)).toContain("create cluster-worker-2");
    const vm = unwrap(readd.b.mocks.ofType(VM).find((r) => r.name === "cluster-worker-2")!.inputs) as { initialization: unknown };
    expect(vm.initialization).toMatchObject({ ipConfigs: [{ ipv4: { address: "10.0.20.32/24", gateway: "10.0.20.1" } }] });
    const apply = readd.b.mocks.ofType("talos:machine/configurationApply:ConfigurationApply").find((r) => r.name === "cluster-apply-worker-2")!;
    expect(unwrap(apply.inputs.node)).toBe("10.0.20.32");
  });

  test("switching a running DHCP cluster to static is refused: every node reinstalled, every VM stopped for its drive", async () => {
    const { a, b, steps } = await transition(stack(DHCP), stack(STATIC));
    expect((await refusal(a, b)).map((f) => f.reason)).toEqual([expect.stringMatching(/^switching network\.addressing from dhcp to static on a running cluster is refused/)]);
    // What the refusal prevents: a rolling reinstall to the nocloud installer, and every VM
    // updated at once with a new cloud-init drive, which the provider can only add to a stopped
    // VM (bpg vm.go vmUpdate). Never a replacement: the drive's `type` is left unset.
    expect(steps.find((s) => s.name === "cluster-upgrade")).toMatchObject({ op: "update", changed: expect.arrayContaining(["image", "addressing"]) });
    const vmSteps = steps.filter((s) => s.type === VM);
    expect(vmSteps.map((s) => s.op)).toEqual(Array(NODES.length).fill("update"));
    expect(vmSteps[0].changed).toEqual(expect.arrayContaining(["initialization", "cdrom.fileId"]));
  });

  test("switching back from static to DHCP is refused the same way", async () => {
    const { a, b } = await transition(stack(STATIC), stack(DHCP));
    expect((await refusal(a, b)).map((f) => f.reason)).toEqual([expect.stringMatching(/^switching network\.addressing from static to dhcp/)]);
  });

  test("a new gateway or network for a running static cluster is refused", async () => {
    const gateway = await transition(stack(STATIC), stack({ ...STATIC, network: { ...NETWORK, gateway: "10.0.20.254" } }));
    expect((await refusal(gateway.a, gateway.b)).map((f) => f.reason)).toEqual([expect.stringMatching(/^changing network\.gateway \(10\.0\.20\.1 → 10\.0\.20\.254\)/)]);
    const cidr = await transition(stack(STATIC), stack({ ...STATIC, network: { ...NETWORK, cidr: "10.0.20.0/23" } }));
    expect((await refusal(cidr.a, cidr.b)).map((f) => f.reason)).toEqual([expect.stringMatching(/^changing network\.cidr/)]);
  });

  test("new DNS servers: each VM's drive and each config updated in place, nothing replaced, no VM rebooted by the provider", async () => {
    const { a, b, steps } = await transition(stack(STATIC), stack({ ...STATIC, network: { ...NETWORK, nameservers: ["10.0.20.2", "1.1.1.1"] } }));
    expect(await refusal(a, b)).toEqual([]);
    const vmSteps = steps.filter((s) => s.type === VM);
    expect(vmSteps.map((s) => s.op)).toEqual(Array(NODES.length).fill("update"));
    expect(vmSteps[0].changed).toEqual(["initialization.dns.servers[0]", "initialization.dns.servers[1]"]);
    for (const vm of b.mocks.ofType(VM)) expect(unwrap(vm.inputs)).toMatchObject({ rebootAfterUpdate: false });
    expect(steps.filter((s) => s.op === "replace" || s.op === "delete")).toEqual([]);
    expect(steps.filter((s) => s.type.startsWith("talos:machine/configurationApply")).map((s) => s.op)).toEqual(Array(NODES.length).fill("update"));
  });

  test("a DHCP node's new address stays allowed (its reservation moves), as before", async () => {
    const { a, b } = await transition(stack(DHCP), stack({ ...DHCP, nodes: moved("worker-1", "10.0.20.31") }));
    expect(await refusal(a, b)).toEqual([]);
  });

  test("creating a cluster is never refused, whatever its addressing", () => {
    expect(addressingChangeProblem({}, { nodes: [], addressing: { cidr: "10.0.20.0/24", gateway: "10.0.20.1" } })).toBeUndefined();
  });

  test("the planner sees a block that appears whole: a ForceNew attribute inside it would mean a replacement", () => {
    const leaves = addedLeaves(["initialization"], {}, { initialization: { type: "nocloud", ipConfigs: [{ ipv4: { address: "10.0.20.11/24" } }] } });
    expect(leaves).toEqual(["initialization.type", "initialization.ipConfigs[0].ipv4.address"]);
    expect(leaves.some((p) => REPLACED_ON_CHANGE[VM].some((f) => covers(f, p)))).toBe(true);
    expect(addedLeaves(["disks[1]"], { disks: [{}] }, { disks: [{}, { size: 10 }] })).toEqual(["disks[1].size"]);
  });
});
