/**
 * Day one with each CNI must pass its health gate: nothing the gate waits for may depend on pods
 * that can't run before the CNI. The mock engine runs the gate's hook when the gate registers; the
 * fake Talos behind it (testkit/mocks.ts talosDiagnostics) raises `kubelet-csr` while serving
 * CSRs are pending, as Talos does, so Talos's own health check fails until a CNI runs.
 */
import * as tasks from "../engines/tasks";
import { HookRun, RecordingMocks, mocksRunningHooks, talosDiagnostics } from "../testkit/mocks";
import { talosViewOfMocks } from "./helpers/mockTalosView";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig, toPulumiConfig } from "./helpers/program";
import { transition } from "./helpers/transition";

// The module as the health gate sees it, with its connection replaceable (compiled ES module
// exports are read-only bindings: a spy needs a plain object).
jest.mock("../engines/tasks", () => ({ __esModule: true, ...jest.requireActual("../engines/tasks") }));

const HEALTH = "talos:cluster/getHealth:getHealth";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const GATE = "pulumi:index:Stash::cluster-health";

/** The dev stack with more settings, as Pulumi hands config to the program. */
const devStack = (settings: Record<string, unknown> = {}): Record<string, string> => {
  const extra = toPulumiConfig(settings);
  return { ...stackConfig("dev"), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`talos-proxmox:${k}`, v])), ...PROXMOX_CONFIG };
};

/** Diagnostics the gate's own check saw when it connected, per run of the hook, by mock engine. */
const seenByGate = new Map<RecordingMocks, string[][]>();
const seenIn = (run: ProgramRun) => seenByGate.get(run.mocks) ?? [];

beforeAll(() => {
  jest.spyOn(tasks, "connectTalosOperations").mockImplementation((access) => {
    const mocks = mocksRunningHooks();
    seenByGate.set(mocks, [...(seenByGate.get(mocks) ?? []), talosDiagnostics(mocks).map((d) => d.id)]);
    return { talos: talosViewOfMocks(mocks, access.nodes), close: () => undefined };
  });
});

const dayOne = (settings: Record<string, unknown>) => runProgram(devStack(settings), { mocks: new RecordingMocks(), runHooks: true });
const gateRuns = (run: ProgramRun): HookRun[] => run.mocks.hookRuns.filter((h) => h.resource === GATE);
const outcome = (runs: HookRun[]) => runs.map((h) => [h.kind, h.error ?? "passed"]);

describe("the fake Talos behind the mock engine follows Talos's diagnostics", () => {
  test("getHealth fails while serving certificates rotate and no CNI runs, and passes once Cilium completed", async () => {
    const run = await runProgram(devStack({ cni: "cilium" }), { mocks: new RecordingMocks() });
    const health = { controlPlaneNodes: ["10.0.10.11"], workerNodes: [], skipKubernetesChecks: true };
    // The whole run is complete here: Cilium runs, the approver can, no diagnostic.
    expect(talosDiagnostics(run.mocks)).toEqual([]);
    await expect(run.mocks.call({ token: HEALTH, inputs: health, provider: "" })).resolves.toMatchObject({ id: "healthy" });
    // The same cluster before its CNI: the Cilium release not registered.
    const before = new RecordingMocks();
    before.calls.push(...run.mocks.calls.filter((c) => c.token !== HEALTH));
    expect(talosDiagnostics(before).map((d) => d.id)).toEqual(["kubelet-csr"]);
    await expect(before.call({ token: HEALTH, inputs: health, provider: "" })).rejects.toThrow(
      /active diagnostics: 10\.0\.10\.11: kubelet server certificate rotation is enabled, but CSR is not approved/,
    );
  });
});

describe("cni: cilium on day one", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await dayOne({ cni: "cilium" });
  });
  const completed = (type: string, name: string) => run.mocks.registrations.find((r) => r.type === type && r.name === name)!;

  test("the health gate passes: its own Talos-side check, while kubelet-csr is still raised", () => {
    expect(outcome(gateRuns(run))).toEqual([["beforeCreate", "passed"]]);
    expect(seenIn(run)).toEqual([["kubelet-csr"]]);
    expect(run.mocks.callsOf(HEALTH)).toEqual([]);
  });

  test("Cilium is installed after the gate passed, and the cluster's workloads after Cilium", () => {
    const gateUrn = run.requests.get(GATE)!.urn;
    const releaseUrn = run.requests.get(`${RELEASE}::cluster-cilium`)!.urn;
    expect(run.requests.get("pulumi:providers:kubernetes::cluster-k8s-cni")!.propertyDependencies.kubeconfig).toContain(gateUrn);
    expect(run.requests.get("pulumi:providers:kubernetes::cluster-k8s")!.propertyDependencies.kubeconfig).toContain(releaseUrn);
    const [gate] = gateRuns(run);
    const release = completed(RELEASE, "cluster-cilium");
    expect(release.arrived).toBeGreaterThan(gate.finished!);
    const workload = run.mocks.ofType("kubernetes:apps/v1:Deployment")[0];
    expect(workload.arrived).toBeGreaterThan(release.completed!);
    // Once Cilium runs, the approver can: Talos's diagnostics clear.
    expect(talosDiagnostics(run.mocks)).toEqual([]);
  });
});

describe("cni: none on day one", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await dayOne({ cni: "none", workloadEnabled: false });
  });

  test("the health gate passes without a CNI, and the kubeconfig output is there for the user to install one", () => {
    expect(outcome(gateRuns(run))).toEqual([["beforeCreate", "passed"]]);
    expect(run.mocks.ofType(RELEASE)).toEqual([]);
    expect(run.values.kubeconfig).toContain("kind: Config");
    // What waits for the gate: the cluster's Kubernetes provider, through the kubeconfig.
    const gateUrn = run.requests.get(GATE)!.urn;
    expect(run.requests.get("pulumi:providers:kubernetes::cluster-k8s")!.propertyDependencies.kubeconfig).toContain(gateUrn);
    // Still raised after `pulumi up`: the serving CSRs wait for the user's CNI.
    expect(talosDiagnostics(run.mocks).map((d) => d.id)).toEqual(["kubelet-csr"]);
    expect(seenIn(run)).toEqual([["kubelet-csr"]]);
  });
});

describe("cni: flannel keeps Talos's own check", () => {
  test("the gate calls talos:cluster/getHealth with the Kubernetes checks, and it passes", async () => {
    const run = await dayOne({});
    expect(outcome(gateRuns(run))).toEqual([["beforeCreate", "passed"]]);
    expect(run.mocks.callsOf(HEALTH).map((c) => c.inputs.skipKubernetesChecks)).toEqual([false]);
    expect(seenIn(run)).toEqual([]);
  });
});

describe("cni: cilium after day one", () => {
  test("an unchanged stack: no step, no hook", async () => {
    const { b, steps } = await transition(devStack({ cni: "cilium" }), devStack({ cni: "cilium" }), { runHooks: true });
    expect(steps).toEqual([]);
    expect(b.mocks.hookRuns).toEqual([]);
  });

  test("a new worker: the gate updates and passes its check again; the Cilium release stays as it is", async () => {
    const nodes = JSON.parse(devStack()["talos-proxmox:nodes"]) as object[];
    const added = [...nodes, { name: "talos-demo-09", ip: "10.0.10.19", role: "worker", vmId: 1019 }];
    const { b, steps } = await transition(devStack({ cni: "cilium" }), devStack({ cni: "cilium", nodes: added }), { runHooks: true });
    expect(steps.filter((s) => s.name === "cluster-health").map((s) => s.op)).toEqual(["update"]);
    expect(steps.filter((s) => s.type === RELEASE || s.type === "pulumi:providers:kubernetes")).toEqual([]);
    expect(outcome(gateRuns(b))).toEqual([["beforeUpdate", "passed"]]);
    // Cilium runs from day one: nothing is pending any more.
    expect(seenIn(b)).toEqual([[]]);
  });
});
