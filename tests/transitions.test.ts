import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { HealthGateState, healthCheckPlan, healthGateHook } from "../components/healthGate";
import { controlPlaneRemovalProblem, needsKubernetesUpgrade, needsRollout, upgradeProvider, type UpgradeState } from "../resources/talosUpgrade";
import { nodesToReboot, rebootReasons, type BootState } from "../resources/talosReboots";
import { RecordingMocks, unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, toPulumiConfig } from "./helpers/program";
import { Step, parallelChains, planDestroy, planUpdate, transition } from "./helpers/transition";
import { LAB_NODES } from "./helpers/configCases";

/** Every change a user makes after day one, as config A then config B: what a real update does. */

const NODES = LAB_NODES;
const BASE = { clusterName: "lab", vip: "10.0.20.10", vmIdBase: 2000, nodes: NODES };
/** The lab with a fourth control plane: removing one leaves three. */
const FOUR_CP = [...NODES.slice(0, 3), { name: "cp-4", ip: "10.0.20.14", role: "controlplane" }, ...NODES.slice(3)];

function stack(values: Record<string, unknown>): Record<string, string> {
  const config = toPulumiConfig(Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)));
  return { ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`talos-proxmox:${k}`, v])), ...PROXMOX_CONFIG };
}

const T = {
  vm: "proxmoxve:index/vmLegacy:VmLegacy",
  iso: "proxmoxve:download/file:File",
  apply: "talos:machine/configurationApply:ConfigurationApply",
  bootstrap: "talos:machine/bootstrap:Bootstrap",
  secrets: "talos:machine/secrets:Secrets",
  schematic: "talos:imageFactory/schematic:Schematic",
  stash: "pulumi:index:Stash",
  dynamic: "pulumi-nodejs:dynamic:Resource",
};
const touches = (steps: Step[], node: string) => steps.filter((s) => s.name.endsWith(`-${node}`));
const ops = (steps: Step[]) => steps.map((s) => `${s.op} ${s.name}`);
/** What the reboot resource records as wanted per node in a run. */
const wantedOf = (run: ProgramRun) =>
  unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-reboots")!.inputs.wanted) as Record<string, BootState>;
/** The nodes the reboot resource's update reboots, going from run A's state to run B's program. */
const rebootsBetween = (a: ProgramRun, b: ProgramRun) => nodesToReboot(wantedOf(a), wantedOf(b));
const gateState = (run: ProgramRun) =>
  unwrap(run.mocks.ofType(T.stash).find((r) => r.name === "cluster-health")!.inputs.input) as HealthGateState;

describe("changes after day one (transitions)", () => {
  test("row 1: removing a worker from the middle deletes it and changes no other node", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, nodes: NODES.filter((n) => n.name !== "worker-1") }));
    expect(steps.filter((s) => s.op === "delete").map((s) => s.name).sort()).toEqual(
      ["cluster-apply-worker-1", "cluster-member-worker-1", "cluster-worker-1"].sort(),
    );
    for (const n of NODES.filter((x) => x.name !== "worker-1")) expect([n.name, touches(steps, n.name)]).toEqual([n.name, []]);
    // The health gate, the upgrade and the reboot resources record the new node list (none reaches a node for that).
    expect(ops(steps).filter((s) => !s.includes("worker-1")).sort()).toEqual(["update cluster-health", "update cluster-reboots", "update cluster-upgrade"]);
    expect(rebootsBetween(a, b)).toEqual([]);
    expect(healthCheckPlan(gateState(a), gateState(b), false).run).toBe(false);
  });

  test("row 1: an explicit vmId still wins, and derived ones never depend on list position", async () => {
    // Four control planes, so that removing the first leaves three (two are refused by the config).
    const four = [...NODES.slice(0, 3), { name: "cp-4", ip: "10.0.20.14", role: "controlplane" }, ...NODES.slice(3)];
    const withId = four.map((n) => (n.name === "worker-2" ? { ...n, vmId: 4242 } : n));
    const { b, steps } = await transition(stack({ ...BASE, nodes: withId }), stack({ ...BASE, nodes: withId.slice(1) }));
    expect(b.mocks.ofType(T.vm).find((r) => r.name === "cluster-worker-2")!.inputs.vmId).toBe(4242);
    expect(steps.filter((s) => s.type === T.vm).map((s) => `${s.op} ${s.name}`)).toEqual(["delete cluster-cp-1"]);
  });

  test("adding a worker creates its VM, config apply and boot record, and checks health again", async () => {
    const added = [...NODES, { name: "worker-3", ip: "10.0.20.23", role: "worker" }];
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, nodes: added }));
    const order = ops(steps);
    expect([...order].sort()).toEqual([
      "create cluster-apply-worker-3",
      "create cluster-member-worker-3",
      "create cluster-worker-3",
      "update cluster-health",
      "update cluster-reboots",
      "update cluster-upgrade",
    ]);
    // A new VM boots with what it has: nothing to reboot.
    expect(rebootsBetween(a, b)).toEqual([]);
    expect(order.indexOf("create cluster-worker-3")).toBeLessThan(order.indexOf("create cluster-apply-worker-3"));
    expect(order.indexOf("create cluster-apply-worker-3")).toBeLessThan(order.indexOf("update cluster-health"));
    expect(healthCheckPlan(gateState(a), gateState(b), false)).toMatchObject({ run: true, skipKubernetesChecks: false });
  });

  test("bumping talosVersion keeps secrets and schematic, downloads the new ISO and reapplies every config", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, talosVersion: "v1.13.10" }));
    expect(steps.filter((s) => s.type === T.secrets || s.type === T.schematic || s.type === T.bootstrap)).toEqual([]);
    expect(steps.filter((s) => s.type === T.iso).map((s) => s.op)).toEqual(["replace", "delete"]);
    expect(steps.filter((s) => s.type === T.apply).map((s) => s.op)).toEqual(Array(5).fill("update"));
    expect(steps.filter((s) => s.type === T.vm).map((s) => [s.op, s.changed])).toEqual(Array(5).fill(["update", ["cdrom.fileId"]]));
    expect(b.values.installerImage).toBe(String(a.values.installerImage).replace("v1.13.9", "v1.13.10"));
    // The rolling upgrade: an update of the upgrade resource, which every config apply waits for.
    const upgrade = steps.find((s) => s.name === "cluster-upgrade")!;
    expect(upgrade).toMatchObject({ op: "update" });
    expect([...(upgrade.changed ?? [])].sort()).toEqual(["image", "plan[0]", "plan[1]", "plan[2]", "plan[3]", "plan[4]", "targetVersion"]);
    const upgradeUrn = b.requests.get(`${T.dynamic}::cluster-upgrade`)!.urn;
    for (const apply of b.mocks.ofType(T.apply)) expect(b.requests.get(`${T.apply}::${apply.name}`)!.dependencies).toContain(upgradeUrn);
    const plan = unwrap(b.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs.plan) as string[];
    expect(plan.map((line) => line.split(" →")[0])).toEqual(["1. cp-1", "2. cp-2", "3. cp-3", "4. worker-1", "5. worker-2"]);
  });

  test("bumping kubernetesVersion rolls Kubernetes in the upgrade resource before every config apply; no VM or image changes", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, kubernetesVersion: "1.36.4" }));
    expect(steps.filter((s) => s.type === T.vm || s.type === T.iso || s.type === T.schematic || s.type === T.secrets || s.type === T.bootstrap)).toEqual([]);
    expect(steps.filter((s) => s.type === T.apply).map((s) => s.op)).toEqual(Array(5).fill("update"));
    const upgrade = steps.find((s) => s.name === "cluster-upgrade")!;
    expect(upgrade.op).toBe("update");
    const changed = [...(upgrade.changed ?? [])];
    expect(changed).toContain("kubernetesVersion");
    expect(changed).toContain("kubernetesImages.cp-1.apiServer");
    expect(changed).toContain("kubernetesImages.worker-2.kubelet");
    expect(changed.filter((c) => c.startsWith("plan") || c === "image" || c === "targetVersion")).toEqual([]);
    const upgradeUrn = b.requests.get(`${T.dynamic}::cluster-upgrade`)!.urn;
    for (const apply of b.mocks.ofType(T.apply)) expect(b.requests.get(`${T.apply}::${apply.name}`)!.dependencies).toContain(upgradeUrn);
    const inputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
    expect(needsKubernetesUpgrade(inputs(a), inputs(b))).toBe(true);
    expect(needsRollout(inputs(a), inputs(b))).toBe(false);
    expect(inputs(b).kubernetesPlan!.at(-1)).toBe("10. bootstrap manifests (kube-proxy, CoreDNS, CNI) synced");
    expect((await upgradeProvider.check!(inputs(a), inputs(b))).failures).toEqual([]);
    // The new images apply without a reboot: nothing is staged, nothing is rebooted.
    expect(rebootsBetween(a, b)).toEqual([]);
  });

  test("skipping a Kubernetes minor version is refused by the upgrade resource's check (preview shows it)", async () => {
    const { a, b } = await transition(stack({ ...BASE, kubernetesVersion: "1.34.2" }), stack({ ...BASE, kubernetesVersion: "1.36.3" }));
    const inputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
    const { failures } = await upgradeProvider.check!(inputs(a), inputs(b));
    expect(failures).toEqual([{ property: "kubernetesVersion", reason: expect.stringMatching(/^kubernetesVersion: 1.34.2 → 1.36.3 is refused/) }]);
  });

  test("row 2: reordering nodes changes nothing at all", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, nodes: [...NODES].reverse() }));
    expect(steps).toEqual([]);
    expect(b.values).toEqual(a.values);
  });

  test("row 3: a VM moved to another host is deleted before its successor, which gets its config again", async () => {
    const moved = NODES.map((n) => (n.name === "cp-2" ? { ...n, host: "pve2" } : n));
    const { steps } = await transition(stack(BASE), stack({ ...BASE, nodes: moved }));
    const cp2 = ops(touches(steps, "cp-2"));
    // The old node leaves first (its membership takes its input from the VM, so the engine deletes
    // it before the VM); `replace` creates the successors; old applies go at the end of the update.
    expect(cp2).toEqual([
      "delete cluster-member-cp-2",
      "delete cluster-cp-2",
      "create cluster-cp-2",
      "replace cluster-apply-cp-2",
      "create cluster-member-cp-2",
      "delete cluster-apply-cp-2",
    ]);
    // The same MAC and VM ID on the new VM.
    expect(steps.find((s) => s.name === "cluster-cp-2")!.changed).toEqual(["nodeName"]);
    // A rejoin, never a second bootstrap; health is checked again once the new node has its config.
    expect(steps.filter((s) => s.type === T.bootstrap)).toEqual([]);
    expect(steps.find((s) => s.name === "cluster-health")).toMatchObject({ op: "replace" });
    // The new host gets the ISO first.
    expect(ops(steps)).toContain("create cluster-iso-pve2");
    expect(ops(steps).indexOf("create cluster-iso-pve2")).toBeLessThan(ops(steps).indexOf("create cluster-cp-2"));
  });

  test("row 3: replacing the bootstrap node (first control plane by name) never bootstraps again", async () => {
    const moved = NODES.map((n) => (n.name === "cp-1" ? { ...n, host: "pve3" } : n));
    const { steps } = await transition(stack(BASE), stack({ ...BASE, nodes: moved }));
    expect(ops(touches(steps, "cp-1"))).toContain("replace cluster-apply-cp-1");
    expect(steps.filter((s) => s.type === T.bootstrap)).toEqual([]);
  });

  test("row 4: renaming the cluster keeps its machine secrets (their identity has no clusterName)", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, clusterName: "lab2" }));
    expect(steps.filter((s) => s.type === T.secrets)).toEqual([]);
    expect(steps.filter((s) => s.op === "replace" || s.op === "delete").map((s) => s.type)).toEqual([T.iso, T.iso]);
    expect(steps.filter((s) => s.type === T.apply).map((s) => s.op)).toEqual(Array(5).fill("update"));
    // Derived MACs follow the name: the README says to pin them before a rename.
    expect((b.values.nodes as { mac: string }[])[0].mac).not.toBe((a.values.nodes as { mac: string }[])[0].mac);
  });

  test("row 5: new extensions make a new schematic (replaced, new ID) and reach every machine config", async () => {
    const { a, b, steps } = await transition(
      stack(BASE),
      stack({ ...BASE, extensions: ["siderolabs/qemu-guest-agent", "siderolabs/iscsi-tools"] }),
    );
    expect(steps.find((s) => s.type === T.schematic)).toMatchObject({ op: "replace", changed: ["schematic"] });
    expect(b.values.schematicId).not.toBe(a.values.schematicId);
    expect(b.values.installerImage).toContain(String(b.values.schematicId));
    // Running nodes get the new image by a rolling reinstall (same version, new image).
    expect(steps.find((s) => s.name === "cluster-upgrade")).toMatchObject({ op: "update", changed: expect.arrayContaining(["image"]) });
    expect(steps.filter((s) => s.type === T.apply).map((s) => s.op)).toEqual(Array(5).fill("update"));
    // The VMs only swap the cdrom (no reboot, no replacement).
    expect(steps.filter((s) => s.type === T.vm).map((s) => [s.op, s.changed])).toEqual(Array(5).fill(["update", ["cdrom.fileId"]]));
  });

  test("row 6: a second run with nothing changed changes nothing; the disk-speed perpetual diff is ignored", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack(BASE));
    expect(steps).toEqual([]);
    // Same inputs for every resource, compared by name (registration order follows when outputs resolve).
    const inputsOf = (run: typeof a) => Object.fromEntries(run.mocks.registrations.map((r) => [`${r.type}::${r.name}`, unwrap(r.inputs)]));
    expect(inputsOf(b)).toEqual(inputsOf(a));
    for (const vm of b.mocks.ofType(T.vm)) expect(b.requests.get(`${T.vm}::${vm.name}`)!.ignoreChanges).toEqual(["disks[*].speed"]);
  });

  test("row 7: nothing reaches the nodes on preview or on an unchanged up; a removal never checks a stale list", async () => {
    const { b, steps } = await transition(stack(BASE), stack(BASE));
    expect(steps).toEqual([]);
    expect(b.mocks.callsOf("talos:cluster/getHealth:getHealth")).toEqual([]);
    const gate = b.requests.get(`${T.stash}::cluster-health`)!;
    expect(gate.hooks).toEqual({ beforeCreate: ["cluster-health-check"], beforeUpdate: ["cluster-health-check"] });
    const state = gateState(b);
    expect(healthCheckPlan(state, state, false).run).toBe(false);
    const { cp: _cp, ...fewer } = { ...state.nodes, cp: undefined };
    const removed = { ...state, nodes: Object.fromEntries(Object.entries(fewer).filter(([n]) => n !== "worker-1")) } as HealthGateState;
    expect(healthCheckPlan(state, removed, false)).toMatchObject({ run: false, skipKubernetesChecks: true });
    const added = { ...state, nodes: { ...state.nodes, "worker-9": { role: "worker" as const, ip: "10.0.20.29", config: "x" } } };
    expect(healthCheckPlan(state, added, false)).toMatchObject({ run: true, skipKubernetesChecks: false });
  });

  test("row 8: a size change updates VMs in place without the provider's reboot, then reboots them one by one", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, memory: 16384 }));
    expect(steps.filter((s) => s.type === T.vm).map((s) => [s.op, s.changed])).toEqual(Array(5).fill(["update", ["memory.dedicated"]]));
    for (const vm of b.mocks.ofType(T.vm)) expect(unwrap(vm.inputs)).toMatchObject({ rebootAfterUpdate: false });
    // The reboot resource's update, after every VM update and config apply, reboots them in rollout order.
    expect(steps.find((s) => s.name === "cluster-reboots")).toMatchObject({ op: "update" });
    expect(rebootsBetween(a, b)).toEqual(NODES.map((n) => n.name));
    // A size change is hardware: every one of them goes through the Proxmox API reboot, to its VM.
    expect(rebootReasons(wantedOf(a), wantedOf(b))).toEqual({ hardware: NODES.map((n) => n.name), staged: [] });
    const rebootInputs = unwrap(b.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-reboots")!.inputs) as { vms: Record<string, { host: string }>; proxmoxConnection?: object };
    expect(Object.keys(rebootInputs.vms)).toEqual(NODES.map((n) => n.name));
    expect(rebootInputs.proxmoxConnection).toBeDefined();
    const reboots = b.requests.get(`${T.dynamic}::cluster-reboots`)!;
    for (const vm of b.mocks.ofType(T.vm)) expect(reboots.dependencies).toContain(b.requests.get(`${T.vm}::${vm.name}`)!.urn);
    // The health check comes after the reboots.
    expect(b.requests.get(`${T.stash}::cluster-health`)!.dependencies).toContain(reboots.urn);
  });

  test("row 9: configs are applied in a mode that stages a change needing a reboot, and staged nodes are listed", async () => {
    class StagingMocks extends RecordingMocks {
      async newResource(args: Parameters<RecordingMocks["newResource"]>[0]) {
        const result = await super.newResource(args);
        if (args.type === T.apply && args.name === "cluster-apply-worker-1") result.state.resolvedApplyMode = "staged";
        return result;
      }
    }
    const { a } = await transition(stack(BASE), stack(BASE));
    const run = await runProgram(stack(BASE), { mocks: new StagingMocks() });
    for (const apply of run.mocks.ofType(T.apply)) expect(unwrap(apply.inputs)).toMatchObject({ applyMode: "staged_if_needing_reboot" });
    // A staged config is rebooted into effect, once: its hash is recorded as booted.
    expect(rebootsBetween(a, run)).toEqual(["worker-1"]);
    expect(nodesToReboot(wantedOf(run), wantedOf(run))).toEqual([]);
  });

  test("row 10: without kubernetesVersion the program's pinned version is used, whatever the provider's default", async () => {
    const run = await runProgram(stack(BASE));
    const versions = run.mocks.callsOf("talos:machine/getConfiguration:getConfiguration").map((c) => c.inputs.kubernetesVersion);
    expect(new Set(versions)).toEqual(new Set(["1.36.3"]));
  });

  test("row 11: several hosts on shared ISO storage download the ISO once; switching to it drops the extra copies", async () => {
    const spread = NODES.map((n, i) => ({ ...n, host: ["pve", "pve2", "pve3"][i % 3] }));
    const { b, steps } = await transition(stack({ ...BASE, nodes: spread }), stack({ ...BASE, nodes: spread, isoDatastoreShared: true }));
    const [download] = b.mocks.ofType(T.iso);
    expect(b.mocks.ofType(T.iso)).toHaveLength(1);
    expect(unwrap(download.inputs)).toMatchObject({ nodeName: "pve" });
    const ids = b.mocks.ofType(T.vm).map((vm) => (unwrap(vm.inputs) as { cdrom: { fileId: string } }).cdrom.fileId);
    expect(new Set(ids).size).toBe(1);
    expect(ops(steps)).toEqual(["delete cluster-iso-pve3", "delete cluster-iso-pve2"]);
  });

  test("a patch added to one node changes only that node's config apply (and the health gate that records it)", async () => {
    const patched = NODES.map((n) => (n.name === "worker-1" ? { ...n, patches: ["machine:\n  kubelet:\n    extraArgs:\n      max-pods: '250'\n"] } : n));
    const { steps } = await transition(stack(BASE), stack({ ...BASE, nodes: patched }));
    expect(ops(steps)).toEqual(["update cluster-apply-worker-1", "update cluster-health"]);
    expect(steps[0].changed).toEqual(["machineConfigurationInput"]);
  });

  test("a role default touches only that role's nodes: worker memory updates the workers' VMs in place, then reboots them", async () => {
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, worker: { memory: 16384 } }));
    expect(ops(steps).sort()).toEqual(["update cluster-reboots", "update cluster-worker-1", "update cluster-worker-2"]);
    expect(rebootsBetween(a, b)).toEqual(["worker-1", "worker-2"]);
  });

  test("a role patch touches only that role's config applies", async () => {
    const { steps } = await transition(stack(BASE), stack({ ...BASE, controlPlane: { patches: ["machine:\n  sysctls:\n    vm.max_map_count: '262144'\n"] } }));
    expect(ops(steps).sort()).toEqual(["update cluster-apply-cp-1", "update cluster-apply-cp-2", "update cluster-apply-cp-3", "update cluster-health"]);
  });

  test("adding an extra disk updates the VM in place (hot-plugged), never replaces it, and needs no reboot", async () => {
    const withDisk = NODES.map((n) => (n.name === "worker-2" ? { ...n, extraDisks: [{ size: 200 }] } : n));
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, nodes: withDisk }));
    expect(steps.map((s) => [s.op, s.name, s.changed])).toEqual([["update", "cluster-worker-2", ["disks[1]"]]]);
    expect(rebootsBetween(a, b)).toEqual([]);
  });

  test("a passthrough device updates the VM in place, then the node is rebooted into it", async () => {
    const withGpu = NODES.map((n) => (n.name === "worker-1" ? { ...n, pci: [{ mapping: "gpu" }] } : n));
    const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, nodes: withGpu }));
    expect(steps.map((s) => [s.op, s.name]).sort()).toEqual([["update", "cluster-reboots"], ["update", "cluster-worker-1"]]);
    expect(steps.find((s) => s.name === "cluster-worker-1")!.changed).toEqual(["hostpcis"]);
    expect(rebootsBetween(a, b)).toEqual(["worker-1"]);
  });

  test("DNS and NTP servers reach every node's config apply; no VM changes", async () => {
    const { steps } = await transition(stack(BASE), stack({ ...BASE, network: { nameservers: ["10.0.20.1"], timeServers: ["pool.ntp.org"] } }));
    expect(steps.filter((s) => s.type !== T.apply && s.type !== T.stash)).toEqual([]);
    expect(steps.filter((s) => s.type === T.apply)).toHaveLength(NODES.length);
  });

  test("upgrading a stack deployed with release 0.1 adopts every resource by alias: nothing is replaced", async () => {
    const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "v0.1-urns.json"), "utf8")) as {
      config: unknown[];
      urns: string[];
    };
    const run = await runProgram({ ...stack({ clusterName: "demo-cluster", vip: "10.0.10.10", nodes: fixture.config }) });
    const adopted = new Set([...run.requests.values()].flatMap((r) => r.aliases.map((a) => a.urn)));
    const customs = fixture.urns.filter((u) => !/::talos-proxmox:[a-z]+:[A-Za-z]+::/.test(u) && !u.includes("pulumi:providers:proxmoxve"));
    // Only the Talos provider's Kubeconfig goes: the kubeconfig is now built around a reissuable client
    // certificate (resources/talosCredentials.ts), and that resource's delete only drops it from the
    // state (terraform-provider-talos v0.9.0 talos_cluster_kubeconfig_resource.go:290-291).
    expect(customs.filter((u) => !adopted.has(u))).toEqual([expect.stringMatching(/\$talos:cluster\/kubeconfig:Kubeconfig::demo-cluster-kubeconfig$/)]);
    expect(customs.length).toBeGreaterThan(12);
  });

  test("removing a worker: its membership goes first (drain, reset, Node deleted), then its config apply, then its VM", async () => {
    const { steps } = await transition(stack(BASE), stack({ ...BASE, nodes: NODES.filter((n) => n.name !== "worker-2") }));
    const deletes = steps.filter((s) => s.op === "delete").map((s) => s.name);
    expect(deletes.indexOf("cluster-member-worker-2")).toBeLessThan(deletes.indexOf("cluster-apply-worker-2"));
    expect(deletes.indexOf("cluster-apply-worker-2")).toBeLessThan(deletes.indexOf("cluster-worker-2"));
    // The other nodes' memberships list only control planes: a worker's removal leaves them alone.
    expect(steps.filter((s) => s.name.startsWith("cluster-member-") && s.name !== "cluster-member-worker-2")).toEqual([]);
  });

  test("removing two control planes at once is refused by the upgrade resource's check (preview shows it)", async () => {
    const { a, b } = await transition(stack(BASE), stack({ ...BASE, nodes: NODES.filter((n) => n.name !== "cp-2" && n.name !== "cp-3") }));
    const inputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as Pick<UpgradeState, "nodes">;
    expect(controlPlaneRemovalProblem(inputs(a), inputs(b))).toMatch(/removing 2 control planes \(cp-2, cp-3\)/);
  });

  test("a control plane made a worker under the same name keeps its membership, so the upgrade resource's check refuses it (preview shows it)", async () => {
    const asWorker = NODES.map((n) => (n.name === "cp-3" ? { ...n, role: "worker" } : n));
    const { a, b, steps } = await transition(stack({ ...BASE, nodes: FOUR_CP }), stack({ ...BASE, nodes: [...asWorker.slice(0, 3), FOUR_CP[3], ...asWorker.slice(3)] }));
    // Without the refusal: the membership would only be updated, and nothing takes cp-3 out of etcd.
    expect(touches(steps, "cp-3").filter((s) => s.name === "cluster-member-cp-3").map((s) => s.op)).toEqual(["update"]);
    const upgradeInputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
    const failures = (await upgradeProvider.check!(upgradeInputs(a), upgradeInputs(b))).failures ?? [];
    expect(failures).toEqual([{ property: "nodes", reason: expect.stringMatching(/^changing the role of cp-3 \(controlplane → worker\) is refused/) }]);
  });

  describe("never two control planes out at once", () => {
    const upgradeInputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
    const refusals = async (a: ProgramRun, b: ProgramRun) => (await upgradeProvider.check!(upgradeInputs(a), upgradeInputs(b))).failures ?? [];
    /** The first step of each control plane's replacement chain: what the engine starts at the same moment. */
    const chainHeads = (steps: Step[]) =>
      [...parallelChains(steps).entries()].filter(([root]) => /-cp-\d$/.test(root)).map(([, chain]) => `${chain[0].op} ${chain[0].name}`);

    test("a new proxmoxNode replaces every control plane in parallel chains, each opened by its node leaving; preview refuses it", async () => {
      const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, proxmoxNode: "pve2" }));
      // Three independent chains: the engine deletes the three memberships (three etcd leaves) together.
      expect(chainHeads(steps).sort()).toEqual(["delete cluster-member-cp-1", "delete cluster-member-cp-2", "delete cluster-member-cp-3"]);
      expect(await refusals(a, b)).toEqual([
        {
          property: "nodes",
          reason: expect.stringMatching(/^replacing 3 control planes \(cp-1 replaced: host pve → pve2; cp-2 replaced: host pve → pve2; cp-3 replaced: host pve → pve2\) in one update is refused: .*proxmoxNode.*one per pulumi up/),
        },
      ]);
    });

    test("a new vmIdBase replaces every VM: refused, naming vmIdBase", async () => {
      const { a, b, steps } = await transition(stack(BASE), stack({ ...BASE, vmIdBase: 3000 }));
      expect(chainHeads(steps)).toHaveLength(3);
      const [refusal] = await refusals(a, b);
      expect(refusal.reason).toMatch(/^replacing 3 control planes \(cp-1 replaced: vmId 2\d{3} → 3\d{3};/);
      expect(refusal.reason).toMatch(/vmIdBase/);
    });

    test("removing one control plane while replacing another is refused", async () => {
      // Four control planes, so that three remain (two are refused by the config itself).
      const nodes = FOUR_CP.filter((n) => n.name !== "cp-3").map((n) => (n.name === "cp-2" ? { ...n, host: "pve2" } : n));
      const { a, b } = await transition(stack({ ...BASE, nodes: FOUR_CP }), stack({ ...BASE, nodes }));
      expect((await refusals(a, b)).map((f) => f.reason)).toContainEqual(
        expect.stringMatching(/^removing and replacing 2 control planes \(cp-3 removed; cp-2 replaced: host pve → pve2\)/),
      );
    });

    test("the way out: pinning the others' host and moving one control plane per up is accepted", async () => {
      const pinned = NODES.map((n) => ({ ...n, host: "pve" }));
      const oneMoved = pinned.map((n) => (n.name === "cp-1" ? { ...n, host: "pve2" } : n));
      const { a, b, steps } = await transition(stack({ ...BASE, nodes: pinned }), stack({ ...BASE, proxmoxNode: "pve2", nodes: oneMoved }));
      expect(chainHeads(steps)).toEqual(["delete cluster-member-cp-1"]);
      expect(await refusals(a, b)).toEqual([]);
    });
  });

  describe("removing a control plane while something else changes", () => {
    // Four control planes, so that three remain after a removal (two are refused by the config itself).
    const FOUR = { ...BASE, nodes: FOUR_CP };
    const noVip = { ...FOUR, vip: undefined };
    const patched = (nodes: typeof NODES) =>
      nodes.map((n) => (n.name === "worker-1" ? { ...n, patches: ["machine:\n  sysctls:\n    vm.max_map_count: '262144'\n"] } : n));

    test("the health gate passes while the departing control plane is still an etcd member (its delete comes last)", async () => {
      const { a, b, steps } = await transition(stack(FOUR), stack({ ...FOUR, nodes: patched(FOUR_CP.filter((n) => n.name !== "cp-3")) }));
      // Deletes of removed resources run after every registration (pulumi/pulumi v3.248.0
      // deployment_executor.go:484-499): the gate's update comes before cp-3 leaves etcd.
      expect(ops(steps).indexOf("update cluster-health")).toBeLessThan(ops(steps).indexOf("delete cluster-member-cp-3"));
      // The fake cluster's etcd, as at the gate: all four control planes are still members (the staying ones are given first, the departing one after).
      b.mocks.etcdMembers = ["10.0.20.11", "10.0.20.12", "10.0.20.13", "10.0.20.14"];
      const hook = healthGateHook("test-health", { clientConfiguration: pulumi.output({ caCertificate: "ca", clientCertificate: "crt", clientKey: "k" }), timeout: "10m", cniAfterGate: false });
      await hook.callback({ urn: "u", id: "i", name: "cluster-health", type: T.stash, oldInputs: { input: gateState(a) }, newInputs: { input: gateState(b) } });
      expect(unwrap(b.mocks.callsOf("talos:cluster/getHealth:getHealth")[0].inputs)).toMatchObject({
        controlPlaneNodes: ["10.0.20.11", "10.0.20.12", "10.0.20.14", "10.0.20.13"],
        endpoints: ["10.0.20.11", "10.0.20.12", "10.0.20.14"],
        skipKubernetesChecks: true,
      });
    });

    test("while any VM is replaced, the health gate is replaced too and would not know the departing member: refused", async () => {
      const nodes = FOUR_CP.filter((n) => n.name !== "cp-3").map((n) => (n.name === "worker-1" ? { ...n, host: "pve2" } : n));
      const { a, b, steps } = await transition(stack(FOUR), stack({ ...FOUR, nodes }));
      // A replacement's create hook gets no old inputs (pulumi/pulumi v3.248.0 step.go:293-307).
      expect(steps.find((s) => s.name === "cluster-health")).toMatchObject({ op: "replace" });
      const { failures } = await upgradeProvider.check!(
        unwrap(a.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState,
        unwrap(b.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState,
      );
      expect(failures).toEqual([{ property: "nodes", reason: expect.stringMatching(/^removing control plane cp-3 while replacing the VM of worker-1 in one update is refused/) }]);
    });

    test("with a Talos or Kubernetes upgrade in the same update: refused (the upgrade would run first, with the leaving node still in etcd)", async () => {
      const inputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
      const without = FOUR_CP.filter((n) => n.name !== "cp-3");
      for (const change of [{ talosVersion: "v1.13.10" }, { kubernetesVersion: "1.36.4" }]) {
        const { a, b } = await transition(stack(FOUR), stack({ ...FOUR, ...change, nodes: without }));
        const { failures } = await upgradeProvider.check!(inputs(a), inputs(b));
        expect(failures).toEqual([{ property: "nodes", reason: expect.stringMatching(/^removing control plane cp-3 in the same update as a (Talos|Kubernetes) upgrade is refused: .*Remove the node in one pulumi up and upgrade in the next$/) }]);
      }
      // The removal alone is accepted (the next test shows it too); the upgrade then follows in the next up.
    });

    test("without a vip, removing the first control plane (the endpoint) is refused with the way out: set vip first", async () => {
      const { a, b } = await transition(stack(noVip), stack({ ...noVip, nodes: FOUR_CP.filter((n) => n.name !== "cp-1") }));
      expect(String(a.values.endpoint)).toBe("https://10.0.20.11:6443");
      const { failures } = await upgradeProvider.check!(
        unwrap(a.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState,
        unwrap(b.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState,
      );
      expect(failures).toEqual([{ property: "nodes", reason: expect.stringMatching(/^removing cp-1 is refused: the cluster has no vip.*Set vip .* then remove cp-1 in the next/) }]);
    });

    test("without a vip, removing another control plane is accepted; with a vip, the first one too", async () => {
      const check = async (from: Record<string, unknown>, to: Record<string, unknown>) => {
        const { a, b } = await transition(stack(from), stack(to));
        const inputs = (run: ProgramRun) => unwrap(run.mocks.ofType(T.dynamic).find((r) => r.name === "cluster-upgrade")!.inputs) as UpgradeState;
        return (await upgradeProvider.check!(inputs(a), inputs(b))).failures;
      };
      expect(await check(noVip, { ...noVip, nodes: FOUR_CP.filter((n) => n.name !== "cp-3") })).toEqual([]);
      expect(await check(FOUR, { ...FOUR, nodes: FOUR_CP.filter((n) => n.name !== "cp-1") })).toEqual([]);
    });
  });

  test("pulumi destroy takes the fast path: every membership delete is skipped (deletedWith the machine secrets)", async () => {
    const { a } = await transition(stack(BASE), stack(BASE));
    const steps = planDestroy(a);
    const members = steps.filter((s) => s.name.startsWith("cluster-member-"));
    expect(members.map((s) => s.skipped)).toEqual(Array(NODES.length).fill(true));
    expect(steps.filter((s) => s.type === T.vm).every((s) => !s.skipped)).toBe(true);
  });

  test("the planner itself: an unchanged pair of runs plans nothing, a removed resource is deleted", async () => {
    const a = await runProgram(stack(BASE));
    expect(planUpdate(a, a)).toEqual([]);
  });
});
