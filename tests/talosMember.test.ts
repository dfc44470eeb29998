import * as departures from "../engines/departures";
import { memberProvider, type MemberState } from "../resources/talosMember";
import { taskModulePath } from "../resources/taskModule";
import { controlPlaneRemovalProblem, upgradeProvider, type UpgradeState } from "../resources/talosUpgrade";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig } from "./helpers/program";

const runRemoveNode = jest.fn(async (input: { node: string }) => ({ node: input.node, reachable: true }));
// The check's pure refusals are the real ones (engines/departures.ts); the removal is a recorder.
jest.doMock(taskModulePath(), () => ({ ...departures, runRemoveNode }));
beforeEach(() => jest.clearAllMocks());

const cp = (n: number) => ({ name: `cp-${n}`, ip: `10.0.0.1${n}`, role: "controlplane" as const });
const w = (n: number) => ({ name: `w-${n}`, ip: `10.0.0.2${n}`, role: "worker" as const });
const member = (node: MemberState["node"], extra: Partial<MemberState> = {}): MemberState => ({
  vm: `pve/10${node.name.slice(-1)}`,
  node,
  controlPlanes: [cp(1), cp(2), cp(3)],
  clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" },
  ...extra,
});

describe("a node's membership", () => {
  test("create and update reach no node", async () => {
    await memberProvider.create!(member(w(1)));
    await memberProvider.update!("id", member(w(1)), member(w(1), { controlPlanes: [cp(1)] }));
    expect(runRemoveNode).not.toHaveBeenCalled();
  });

  test("a new VM (or one being replaced, whose ID is not known yet) replaces it, deleted first", async () => {
    expect(await memberProvider.diff!("id", member(w(1)), member(w(1), { vm: "pve2/101" }))).toMatchObject({ replaces: ["vm"], deleteBeforeReplace: true });
    expect(await memberProvider.diff!("id", member(w(1)), member(w(1), { vm: undefined as unknown as string }))).toMatchObject({ replaces: ["vm"] });
    expect(await memberProvider.diff!("id", member(w(1)), member(w(1), { controlPlanes: [cp(1)] }))).toMatchObject({ changes: true, replaces: [] });
  });

  test("delete takes the node out through the control planes, with the cluster's credentials", async () => {
    await memberProvider.delete!("id", member(w(1)));
    expect(runRemoveNode).toHaveBeenCalledWith({
      node: "w-1",
      nodes: [cp(1), cp(2), cp(3), w(1)],
      endpoints: ["10.0.0.11", "10.0.0.12", "10.0.0.13"],
      clientConfiguration: expect.objectContaining({ clientKey: "KEY" }),
    });
    await memberProvider.delete!("id", member(cp(2)));
    expect(runRemoveNode.mock.calls[1][0]).toMatchObject({ node: "cp-2", nodes: [cp(1), cp(3), cp(2)] });
  });

  test("a failed removal fails the delete, so the VM is not deleted after it", async () => {
    runRemoveNode.mockRejectedValueOnce(new Error("remove control plane on cp-2: expected every etcd member started and healthy"));
    await expect(memberProvider.delete!("id", member(cp(2)))).rejects.toThrow(/cp-2/);
  });
});

describe("quorum refusals before anything changes (the upgrade resource's check, which preview runs)", () => {
  const nodes = (...list: UpgradeState["nodes"]) => ({ nodes: list });
  test("two control planes in one update are refused, naming them", async () => {
    expect(controlPlaneRemovalProblem(nodes(cp(1), cp(2), cp(3), w(1)), nodes(cp(1), w(1)))).toMatch(/removing 2 control planes \(cp-2, cp-3\) in one update is refused/);
    const checked = await upgradeProvider.check!(nodes(cp(1), cp(2), cp(3)), { ...nodes(cp(1)) } as UpgradeState);
    expect(checked.failures).toEqual([{ property: "nodes", reason: expect.stringMatching(/Remove one control plane per pulumi up/) }]);
  });
  test("a node that changes role under the same name is refused, naming it and the way through (its membership would be kept, not replaced)", async () => {
    const asWorker = { ...cp(3), role: "worker" as const };
    expect(departures.roleChangeProblem(nodes(cp(1), cp(2), cp(3), w(1)), nodes(cp(1), cp(2), asWorker, w(1)))).toBe(
      "changing the role of cp-3 (controlplane → worker) is refused: the program takes a node out of the cluster only when it is removed, so its etcd membership " +
        "would not follow the new role. Remove the node in one pulumi up (it leaves the cluster gracefully), then add it back with its new role in the next",
    );
    expect(departures.roleChangeProblem(nodes(cp(1), w(1)), nodes(cp(1), { ...w(1), role: "controlplane" }))).toMatch(/^changing the role of w-1 \(worker → controlplane\) is refused/);
    const checked = await upgradeProvider.check!(nodes(cp(1), cp(2), cp(3)), { ...nodes(cp(1), cp(2), asWorker) } as UpgradeState);
    expect(checked.failures).toEqual([{ property: "nodes", reason: expect.stringMatching(/^changing the role of cp-3/) }]);
    // The membership itself would only be updated: nothing takes the node out of etcd.
    expect(await memberProvider.diff!("id", member(cp(3)), member(asWorker))).toMatchObject({ replaces: [] });
  });
  test("the same roles, a node added or removed, or a first deployment pass: no role change", () => {
    expect(departures.roleChangeProblem(nodes(cp(1), w(1)), nodes(cp(1), w(1), w(2)))).toBeUndefined();
    expect(departures.roleChangeProblem(nodes(cp(1), w(1)), nodes(cp(1)))).toBeUndefined();
    expect(departures.roleChangeProblem({}, nodes(cp(1)))).toBeUndefined();
  });
  test("one control plane, any number of workers, or a first deployment pass", () => {
    expect(controlPlaneRemovalProblem(nodes(cp(1), cp(2), cp(3), w(1), w(2)), nodes(cp(1), cp(2)))).toBeUndefined();
    expect(controlPlaneRemovalProblem({}, nodes(cp(1)))).toBeUndefined();
  });
  test("a state from before VMs were recorded sees removals only: the first update after upgrading the package records them", () => {
    const vms = { "cp-1": { host: "pve2" }, "cp-2": { host: "pve2" }, "cp-3": { host: "pve2" } };
    expect(controlPlaneRemovalProblem(nodes(cp(1), cp(2), cp(3)), { ...nodes(cp(1), cp(2), cp(3)), vms })).toBeUndefined();
    const recorded = { "cp-1": { host: "pve" }, "cp-2": { host: "pve" }, "cp-3": { host: "pve" } };
    expect(controlPlaneRemovalProblem({ ...nodes(cp(1), cp(2), cp(3)), vms: recorded }, { ...nodes(cp(1), cp(2), cp(3)), vms })).toMatch(/^replacing 3 control planes/);
  });
});

describe("memberships in the program", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
  });
  const request = (name: string) => run.requests.get(`pulumi-nodejs:dynamic:Resource::${name}`)!;
  const urnOf = (type: string, name: string) => run.requests.get(`${type}::${name}`)!.urn;

  test("one per node, after its config apply, taking its VM's ID, and skipped by a destroy of the cluster", () => {
    for (const n of ["talos-demo-01", "talos-demo-02", "talos-demo-03"]) {
      const r = request(`cluster-member-${n}`);
      expect(r.dependencies).toContain(urnOf("talos:machine/configurationApply:ConfigurationApply", `cluster-apply-${n}`));
      expect(r.propertyDependencies.vm).toEqual([urnOf("proxmoxve:index/vmLegacy:VmLegacy", `cluster-${n}`)]);
      expect(r.deleteBeforeReplace).toBe(true);
      expect(r.deletedWith).toBe(urnOf("talos:machine/secrets:Secrets", "cluster-secrets"));
    }
  });
});
