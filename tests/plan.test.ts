import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { formatPlan, planNodes } from "../config/nodePlan";
import { validateConfig } from "../config/validate";
import { STATIC, base, node } from "./helpers/configCases";
import { ROOT } from "./helpers/program";

describe("npm run plan: the nodes before anything exists", () => {
  test("each node's name, role, host, VM ID, MAC, IP and a short config hash, sorted by name", () => {
    const { spec } = validateConfig({ ...base(), nodes: [node(2, { vmId: 1012 }), node(1, { vmId: 1011, mac: "02:00:00:00:00:11" }), node(3, { vmId: 1013 })] });
    const rows = planNodes(spec);
    expect(rows.map(({ configHash: _h, ...r }) => r)).toEqual([
      { name: "talos-demo-01", role: "controlplane", host: "pve", vmId: 1011, mac: "02:00:00:00:00:11", ip: "10.0.10.11" },
      { name: "talos-demo-02", role: "controlplane", host: "pve", vmId: 1012, mac: spec.nodes[1].mac, ip: "10.0.10.12" },
      { name: "talos-demo-03", role: "controlplane", host: "pve", vmId: 1013, mac: spec.nodes[2].mac, ip: "10.0.10.13" },
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

  test("the bin prints the dev stack's table with no Proxmox and no Pulumi CLI (this project's own program, its config keys)", () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, "dist", "cli", "plan.js"), "dev"], { cwd: ROOT, encoding: "utf8" });
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

describe("npm run plan with static addressing", () => {
  test("each node's address in CIDR form and the gateway, next to the IP", () => {
    const { spec } = validateConfig({ ...base(), network: { ...STATIC, cidr: "10.0.10.0/26" } });
    const rows = planNodes(spec);
    expect(rows.map((r) => [r.name, r.address, r.gateway])).toEqual([
      ["talos-demo-01", "10.0.10.11/26", "10.0.10.1"],
      ["talos-demo-02", "10.0.10.12/26", "10.0.10.1"],
      ["talos-demo-03", "10.0.10.13/26", "10.0.10.1"],
    ]);
    const lines = formatPlan(rows).split("\n");
    expect(lines[0]).toMatch(/^name\s+role\s+host\s+vmId\s+mac\s+ip\s+address\s+gateway\s+config$/);
    expect(lines[1].split(/\s+/).slice(5, 8)).toEqual(["10.0.10.11", "10.0.10.11/26", "10.0.10.1"]);
  });

  test("the config hash follows the addressing (a static node's config differs from its DHCP one)", () => {
    const hashOf = (raw: Record<string, unknown>) => planNodes(validateConfig(raw).spec)[0].configHash;
    expect(hashOf({ ...base(), network: STATIC })).not.toBe(hashOf(base()));
    expect(hashOf({ ...base(), network: STATIC })).not.toBe(hashOf({ ...base(), network: { ...STATIC, gateway: "10.0.10.254" } }));
  });

  test("the bin prints the static example stack's addresses", () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, "dist", "cli", "plan.js"), "static"], { cwd: ROOT, encoding: "utf8" });
    const [header, ...rows] = out.trim().split("\n");
    expect(header).toMatch(/\saddress\s+gateway\s/);
    expect(rows.map((l) => l.split(/\s+/)[6])).toEqual(["10.0.40.11/24", "10.0.40.12/24", "10.0.40.13/24", "10.0.40.21/24", "10.0.40.22/24"]);
  });
});
