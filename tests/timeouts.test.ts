import type { TalosClient } from "../talosapi/client";
import { TalosProxmoxCluster } from "../components/talosProxmoxCluster";
import { goDurationMs } from "../config/duration";
import { validateConfig } from "../config/validate";
import { DEFAULT_TIMEOUTS, kubeOperations, talosOperations } from "../engines/operations";
import { memberProvider, type MemberState } from "../resources/talosMember";
import { rebootsProvider, type RebootsState } from "../resources/talosReboots";
import { taskModulePath } from "../resources/taskModule";
import { upgradeProvider, type UpgradeState } from "../resources/talosUpgrade";
import { unwrap } from "../testkit/mocks";
import { base, problemsOf } from "./helpers/configCases";
import { FakeKube } from "./helpers/fakeKube";
import { PROXMOX_CONFIG, runProgram, stackConfig } from "./helpers/program";

const runRemoveNode = jest.fn(async () => ({}));
const runUpgrade = jest.fn(async () => ({ versions: {}, upgraded: [], skipped: [] }));
const runKubernetesUpgrade = jest.fn(async () => ({}));
const runRolledReboot = jest.fn(async () => []);
jest.doMock(taskModulePath(), () => ({ runRemoveNode, runUpgrade, runKubernetesUpgrade, runRolledReboot }));
beforeEach(() => jest.clearAllMocks());

const TIMEOUTS = { rebootMs: 20 * 60_000, drainMs: 2 * 60_000 };


describe("rebootTimeout and drainTimeout in the config", () => {
  test("default to the engine's own limits: 15m for a node to come back, 5m for a drain", () => {
    const { talos } = validateConfig(base()).spec;
    expect([talos.rebootTimeout, talos.drainTimeout]).toEqual(["15m", "5m"]);
    expect([goDurationMs(talos.rebootTimeout), goDurationMs(talos.drainTimeout)]).toEqual([DEFAULT_TIMEOUTS.rebootMs, DEFAULT_TIMEOUTS.drainMs]);
  });

  test("Go durations are read as milliseconds", () => {
    expect(goDurationMs("1h30m")).toBe(90 * 60_000);
    expect(goDurationMs("90s")).toBe(90_000);
    expect(goDurationMs("2m30s")).toBe(150_000);
  });

  test("anything but a Go duration above zero is refused, naming the key and the valid form", () => {
    expect(problemsOf({ ...base(), rebootTimeout: "ten minutes", drainTimeout: 300 })).toEqual([
      expect.stringMatching(/^rebootTimeout: must be a Go duration above zero such as 15m or 1h30m, got "ten minutes"/),
      expect.stringMatching(/^drainTimeout: must be a Go duration above zero such as 5m or 90s/),
    ]);
    expect(problemsOf({ ...base(), drainTimeout: "0m" })).toEqual([expect.stringMatching(/^drainTimeout: must be a Go duration above zero such as 5m or 90s, got "0m"/)]);
  });
});

describe("they reach the dynamic resources' inputs", () => {
  const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
  // The credentials resource runs no task on the nodes: it has no timeouts.
  const timeoutsOf = (registrations: { name: string; inputs: unknown }[]) =>
    Object.fromEntries(registrations.filter((r) => !r.name.endsWith("-credentials")).map((r) => [r.name, (unwrap(r.inputs) as { timeouts?: unknown }).timeouts]));

  test("of the stack program: upgrade, reboots and every membership", async () => {
    const run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG, "talos-proxmox:rebootTimeout": "20m", "talos-proxmox:drainTimeout": "2m" });
    const timeouts = timeoutsOf(run.mocks.ofType(DYNAMIC));
    expect(Object.keys(timeouts).sort()).toEqual(["cluster-member-talos-demo-01", "cluster-member-talos-demo-02", "cluster-member-talos-demo-03", "cluster-reboots", "cluster-upgrade"]);
    for (const value of Object.values(timeouts)) expect(value).toEqual(TIMEOUTS);
  });

  test("of the component, from its Args", async () => {
    const nodes = [1, 2, 3].map((i) => ({ name: `cp-${i}`, ip: `10.0.20.1${i}`, role: "controlplane" as const }));
    const run = await runProgram({}, { program: () => (new TalosProxmoxCluster("lab", { clusterName: "lab", nodes, rebootTimeout: "20m", drainTimeout: "2m" }), {}) });
    const timeouts = timeoutsOf(run.mocks.ofType(DYNAMIC));
    expect(Object.keys(timeouts)).toHaveLength(5);
    for (const value of Object.values(timeouts)) expect(value).toEqual(TIMEOUTS);
  });
});

describe("the providers hand them to every task", () => {
  const clientConfiguration = { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" };
  const cp = { name: "cp-1", ip: "10.0.0.11", role: "controlplane" as const };

  test("a removal", async () => {
    const member: MemberState = { vm: "pve/101", node: cp, controlPlanes: [cp], clientConfiguration, timeouts: TIMEOUTS };
    await memberProvider.delete!("id", member);
    expect(runRemoveNode).toHaveBeenCalledWith(expect.objectContaining({ node: "cp-1", timeouts: TIMEOUTS }));
  });

  test("a Talos and a Kubernetes upgrade", async () => {
    const upgrade = (image: string, kubernetesVersion: string): UpgradeState => ({
      nodes: [cp], image, targetVersion: "v1.13.9", workerBatchSize: 1, plan: [], clientConfiguration, timeouts: TIMEOUTS,
      kubernetesVersion, kubernetesImages: { "cp-1": { kubelet: "k" } },
    });
    await upgradeProvider.update!("id", upgrade("x/y:a", "1.35.0"), upgrade("x/y:b", "1.36.0"));
    expect(runUpgrade).toHaveBeenCalledWith(expect.objectContaining({ timeouts: TIMEOUTS }));
    expect(runKubernetesUpgrade).toHaveBeenCalledWith(expect.objectContaining({ timeouts: TIMEOUTS }));
  });

  test("rolled reboots", async () => {
    // A staged config: a Talos reboot (a hardware change would need the Proxmox connection as well).
    const boot = (staged: string) => ({ "cp-1": { vm: "pve/101", hardware: {}, staged } });
    const reboots = (staged: string): RebootsState => ({ nodes: [cp], workerBatchSize: 1, wanted: boot(staged), booted: boot(""), clientConfiguration, timeouts: TIMEOUTS });
    await rebootsProvider.update!("id", reboots(""), reboots("c0ffee"));
    expect(runRolledReboot).toHaveBeenCalledWith(expect.objectContaining({ only: ["cp-1"], timeouts: TIMEOUTS }));
  });

  test("a state written before they existed runs with the engine's defaults", async () => {
    await memberProvider.delete!("id", { vm: "pve/101", node: cp, controlPlanes: [cp], clientConfiguration } as MemberState);
    expect(runRemoveNode).toHaveBeenCalledWith(expect.objectContaining({ timeouts: undefined }));
  });

  test("a changed timeout is a change of the upgrade and reboots resources, so their state holds it", async () => {
    const reboots = (rebootMs: number): RebootsState => ({ nodes: [cp], workerBatchSize: 1, wanted: {}, clientConfiguration, timeouts: { ...TIMEOUTS, rebootMs } });
    expect((await rebootsProvider.diff!("id", reboots(1), reboots(2))).changes).toBe(true);
    const upgrade = (rebootMs: number) => ({ nodes: [cp], image: "i", targetVersion: "v", workerBatchSize: 1, plan: [], clientConfiguration, timeouts: { ...TIMEOUTS, rebootMs } });
    expect((await upgradeProvider.diff!("id", upgrade(1), upgrade(2))).changes).toBe(true);
  });
});

/** Under jest's fake clock (Date.now and timers): no wall-clock waits. */
describe("the engine waits as long as they say", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const node = { name: "cp-1", ip: "10.0.0.11", role: "controlplane" as const };

  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  /** Whether the promise settled, and its error message if it failed. */
  function track<T>(promise: Promise<T>): { error?: string; settled: boolean } {
    const state: { error?: string; settled: boolean } = { settled: false };
    promise.then(
      () => (state.settled = true),
      (error: Error) => Object.assign(state, { settled: true, error: error.message }),
    );
    return state;
  }

  test("a node coming back from a reboot: rebootMs", async () => {
    // A node whose boot id never changes: it never comes back.
    const client = { host: "10.0.0.12", collect: async () => [{ bytes: Buffer.from("boot-1") }] } as unknown as TalosClient;
    const talos = talosOperations(() => client, { rebootMs: TIMEOUTS.rebootMs, pollInitialMs: 1_000, pollMaxMs: 10_000 });
    const wait = talos.waitRebooted(node, "boot-1");
    const state = track(wait);
    await advance(DEFAULT_TIMEOUTS.rebootMs + 60_000);
    expect(state).toEqual({ settled: false });
    await advance(TIMEOUTS.rebootMs - DEFAULT_TIMEOUTS.rebootMs);
    expect(state).toEqual({ settled: true, error: expect.stringMatching(/not back after 1200000 ms/) });
  });

  test("a drain: drainMs", async () => {
    const kube = new FakeKube(["cp-1"]);
    // A PodDisruptionBudget that never allows the eviction.
    kube.pods = [{ namespace: "app", name: "web-0", uid: "u1", node: "cp-1", mirror: false, ownerKinds: ["StatefulSet"], blockedEvictions: Infinity }];
    const drain = kubeOperations(kube, { drainMs: TIMEOUTS.drainMs, drainRetryMs: 5_000, pollInitialMs: 1_000 }).drain("cp-1");
    const state = track(drain);
    await advance(TIMEOUTS.drainMs - 10_000);
    expect(state).toEqual({ settled: false });
    await advance(15_000);
    expect(state).toEqual({ settled: true, error: expect.stringMatching(/web-0 still blocked by a PodDisruptionBudget/) });
  });

  test("a longer drain than the default is waited for", async () => {
    const kube = new FakeKube(["cp-1"]);
    kube.pods = [{ namespace: "app", name: "web-0", uid: "u1", node: "cp-1", mirror: false, ownerKinds: ["StatefulSet"], blockedEvictions: Infinity }];
    const drain = kubeOperations(kube, { drainMs: 8 * 60_000, drainRetryMs: 5_000, pollInitialMs: 1_000 }).drain("cp-1");
    const state = track(drain);
    await advance(DEFAULT_TIMEOUTS.drainMs + 60_000);
    expect(state).toEqual({ settled: false });
    await advance(3 * 60_000);
    expect(state.settled).toBe(true);
  });
});
