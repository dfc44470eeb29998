import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { formatPlan, planNodes } from "../components/plan";
import { validateConfig } from "../components/validate";
import { base, node } from "./helpers/configCases";
import { ROOT } from "./helpers/program";

describe("npm run plan: the nodes before anything exists", () => {
  test("each node's name, role, host, VM ID, MAC, IP and a short config hash, sorted by name", () => {
    const { spec } = validateConfig({ ...base(), nodes: [node(2, { vmId: 1012 }), node(1, { vmId: 1011, mac: "02:00:00:00:00:11" })] });
    const rows = planNodes(spec);
    expect(rows.map(({ configHash: _h, ...r }) => r)).toEqual([
      { name: "talos-demo-01", role: "controlplane", host: "pve", vmId: 1011, mac: "02:00:00:00:00:11", ip: "10.0.10.11" },
      { name: "talos-demo-02", role: "controlplane", host: "pve", vmId: 1012, mac: spec.nodes[1].mac, ip: "10.0.10.12" },
    ]);
    expect(rows[0].configHash).toMatch(/^[0-9a-f]{12}$/);
    expect(rows[0].configHash).not.toBe(rows[1].configHash);
  });

  test("the config hash follows what changes the node's machine config", () => {
    const hashOf = (raw: Record<string, unknown>) => planNodes(validateConfig(raw).spec)[0].configHash;
    expect(hashOf(base())).toBe(hashOf(base()));
    expect(hashOf({ ...base(), kubernetesVersion: "1.35.0" })).not.toBe(hashOf(base()));
    expect(hashOf({ ...base(), memory: 4096 })).toBe(hashOf(base()));
  });

  test("the script prints the dev stack's table with no Proxmox and no Pulumi CLI", () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, "bench", "run.js"), path.join(ROOT, "scripts", "plan.ts"), "dev"], {
      encoding: "utf8",
    });
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^name\s+role\s+host\s+vmId\s+mac\s+ip\s+config$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ["talos-demo-01", "controlplane", "pve", "1011"],
      ["talos-demo-02", "controlplane", "pve", "1012"],
      ["talos-demo-03", "controlplane", "pve", "1013"],
    ]);
    expect(formatPlan([])).toBe("name  role  host  vmId  mac  ip  config");
  });
});
