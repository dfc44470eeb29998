import * as YAML from "yaml";
import { HealthGateState, healthCheckPlan } from "../components/healthGate";
import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, toPulumiConfig } from "./helpers/program";

/** 3 control planes and 7 workers spread over 3 Proxmox hosts. */
describe("several Proxmox hosts and workers", () => {
  const hosts = ["pve1", "pve2", "pve3"];
  const nodes = Array.from({ length: 10 }, (_, i) => ({
    name: i < 3 ? `cp-${i + 1}` : `worker-${i - 2}`,
    ip: `10.0.20.${11 + i}`,
    role: i < 3 ? "controlplane" : "worker",
    // The last worker uses the default host.
    ...(i < 9 ? { host: hosts[i % 3] } : {}),
  }));
  let run: ProgramRun;
  beforeAll(async () => {
    const config = toPulumiConfig({ clusterName: "lab", vip: "10.0.20.10", proxmoxNode: "pve2", nodes });
    run = await runProgram({
      ...Object.fromEntries(Object.entries(config).map(([k, v]) => [`talos-proxmox:${k}`, v])),
      ...PROXMOX_CONFIG,
    });
  });

  test("each VM lands on its host; the default host fills in", () => {
    const placed = run.mocks
      .ofType("proxmoxve:index/vmLegacy:VmLegacy")
      .map((r) => [r.name, (unwrap(r.inputs) as { nodeName: string }).nodeName])
      .sort();
    expect(placed).toEqual(nodes.map((n) => [`cluster-${n.name}`, n.host ?? "pve2"]).sort());
  });

  test("the ISO is downloaded once per host used, and each VM mounts its host's copy", () => {
    const downloads = run.mocks.ofType("proxmoxve:download/file:File").map((r) => unwrap(r.inputs) as Record<string, string>);
    expect(downloads.map((d) => d.nodeName).sort()).toEqual(hosts);
    const fileName = downloads[0].fileName;
    for (const r of run.mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy")) {
      expect((unwrap(r.inputs) as { cdrom: unknown }).cdrom).toEqual({ fileId: `local:iso/${fileName}`, interface: "ide2" });
    }
  });

  test("workers get worker configs without the VIP; control planes get the VIP", () => {
    const calls = run.mocks.callsOf("talos:machine/getConfiguration:getConfiguration");
    expect(calls).toHaveLength(10);
    const roles = calls.map((c) => {
      const patches = unwrap(c.inputs.configPatches) as string[];
      return [c.inputs.machineType, patches.some((p) => YAML.parse(p).kind === "Layer2VIPConfig")];
    });
    expect(roles.filter(([t]) => t === "controlplane")).toEqual(Array(3).fill(["controlplane", true]));
    expect(roles.filter(([t]) => t === "worker")).toEqual(Array(7).fill(["worker", false]));
  });

  test("one bootstrap; the health gate checks all workers; talosconfig targets all nodes", () => {
    expect(run.mocks.ofType("talos:machine/bootstrap:Bootstrap")).toHaveLength(1);
    const [gate] = run.mocks.ofType("pulumi:index:Stash").filter((r) => r.name === "cluster-health");
    const plan = healthCheckPlan(undefined, unwrap(gate.inputs.input) as HealthGateState, false);
    expect(plan).toMatchObject({
      run: true,
      controlPlaneNodes: ["10.0.20.11", "10.0.20.12", "10.0.20.13"],
      workerNodes: nodes.slice(3).map((n) => n.ip),
    });
    const [talosconfig] = run.mocks.callsOf("talos:client/getConfiguration:getConfiguration");
    expect((unwrap(talosconfig.inputs) as { nodes: string[] }).nodes).toHaveLength(10);
  });
});
