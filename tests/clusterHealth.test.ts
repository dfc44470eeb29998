import { talosSideNodes } from "../components/healthGate";
import { goDurationMs } from "../config/duration";
import { talosHealthProblems, waitTalosHealthy } from "../engines/clusterHealth";
import type { NodeRef, TalosOperations } from "../engines/operations";
import type { TalosResource } from "../talosapi/cosi";
import { RecordingMocks } from "../testkit/mocks";
import { talosViewOfMocks } from "./helpers/mockTalosView";

const NODES: NodeRef[] = [
  { name: "cp-1", ip: "10.0.0.11", role: "controlplane" },
  { name: "cp-2", ip: "10.0.0.12", role: "controlplane" },
  { name: "cp-3", ip: "10.0.0.13", role: "controlplane" },
  { name: "w-1", ip: "10.0.0.21", role: "worker" },
];
const BEFORE_CNI = { ignoreDiagnostics: ["kubelet-csr"] };
const diagnostic = (id: string, message: string): TalosResource => ({ id, version: "1", spec: { message, details: [] } });

/** A healthy cluster's Talos API with some answers replaced. */
const talosWith = (overrides: Partial<TalosOperations>): TalosOperations => ({ ...talosViewOfMocks(new RecordingMocks(), NODES), ...overrides });

describe("the Talos-side health check before a CNI", () => {
  test("the pending serving-CSR diagnostic doesn't count; any other does, named with its node", async () => {
    const talos = talosWith({
      listResources: async (node) =>
        node.name === "w-1" ? [diagnostic("kubelet-csr", "CSR is not approved"), diagnostic("address-overlap", "host and pod subnets overlap")] : [diagnostic("kubelet-csr", "CSR is not approved")],
    });
    expect(await talosHealthProblems(talos, NODES, BEFORE_CNI)).toEqual(["w-1: diagnostic address-overlap: host and pod subnets overlap"]);
    expect(await talosHealthProblems(talos, NODES, { ignoreDiagnostics: [] })).toHaveLength(5);
  });

  test("a node still booting, kubelet down on a control plane, or an unreachable node is a problem", async () => {
    const talos = talosWith({
      resource: async (node, _kind, id) => ({ id, version: "1", spec: { stage: node.name === "w-1" ? "booting" : "running" } }),
      services: async (node) => {
        if (node.name === "cp-3") throw new Error("connection refused");
        return [{ id: "kubelet", state: node.name === "cp-2" ? "Waiting" : "Running", health: { unknown: false, healthy: true, last_message: "" } }];
      },
    });
    const problems = await talosHealthProblems(talos, NODES, BEFORE_CNI);
    expect(problems).toContain("w-1: boot stage is booting, not running");
    expect(problems).toContain("cp-2: service kubelet is Waiting");
    expect(problems).toContain("cp-3: connection refused");
  });

  test("etcd must have every control plane as a started member", async () => {
    const view = talosWith({});
    const talos = talosWith({ etcdMembers: async (via) => (await view.etcdMembers(via)).slice(0, 2) });
    expect(await talosHealthProblems(talos, NODES, BEFORE_CNI)).toEqual(["etcd: cp-3 is not an etcd member"]);
  });

  test("the wait ends once nothing is left, and a timeout lists what was left", async () => {
    let attempts = 0;
    const booting = talosWith({ resource: async (_n, _k, id) => ({ id, version: "1", spec: { stage: ++attempts > 4 ? "running" : "booting" } }) });
    await waitTalosHealthy(booting, NODES, { ...BEFORE_CNI, timeoutMs: 60_000, pollMs: 1 });
    expect(attempts).toBe(8); // two rounds of four nodes: the first with every node booting
    const single = NODES.slice(0, 1);
    const stuck = { ...talosViewOfMocks(new RecordingMocks(), single), listResources: async () => [diagnostic("address-overlap", "overlap")] };
    await expect(waitTalosHealthy(stuck, single, { ...BEFORE_CNI, timeoutMs: 1, pollMs: 1 })).rejects.toThrow(
      /cluster health check failed after 0.001s: cp-1: diagnostic address-overlap: overlap/,
    );
  });

  test("healthTimeout as milliseconds; anything else names the key", () => {
    expect(goDurationMs("10m")).toBe(600_000);
    expect(goDurationMs("1h30m5s")).toBe(5_405_000);
    expect(() => goDurationMs("10 min")).toThrow(/not a Go duration such as 10m or 1h30m: "10 min"/);
  });
});

describe("the nodes the Talos-side gate checks while a control plane leaves", () => {
  const state = (names: [string, "controlplane" | "worker", string][]) => ({
    bootstrap: "b",
    nodes: Object.fromEntries(names.map(([name, role, ip]) => [name, { role, ip, config: "h" }])),
  });
  const before = state([["cp-1", "controlplane", "10.0.0.1"], ["cp-2", "controlplane", "10.0.0.2"], ["cp-3", "controlplane", "10.0.0.3"], ["cp-4", "controlplane", "10.0.0.4"], ["w-1", "worker", "10.0.0.21"]]);
  const after = state([["cp-1", "controlplane", "10.0.0.1"], ["cp-2", "controlplane", "10.0.0.2"], ["cp-4", "controlplane", "10.0.0.4"], ["w-1", "worker", "10.0.0.21"]]);

  test("the departing control plane is still checked as an etcd member (its delete runs after the gate), but is no endpoint", () => {
    const { nodes, endpoints } = talosSideNodes(before, after);
    expect(nodes.map((n) => n.name)).toEqual(["cp-1", "cp-2", "cp-4", "w-1", "cp-3"]);
    expect(endpoints).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.4"]);
  });

  test("a removed worker is not checked, and day one has nothing departing", () => {
    const noWorker = state([["cp-1", "controlplane", "10.0.0.1"], ["cp-2", "controlplane", "10.0.0.2"], ["cp-3", "controlplane", "10.0.0.3"], ["cp-4", "controlplane", "10.0.0.4"]]);
    expect(talosSideNodes(before, noWorker).nodes.map((n) => n.name)).toEqual(["cp-1", "cp-2", "cp-3", "cp-4"]);
    expect(talosSideNodes(undefined, after).nodes.map((n) => n.name)).toEqual(["cp-1", "cp-2", "cp-4", "w-1"]);
  });
});
