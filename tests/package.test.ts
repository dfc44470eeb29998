import * as fs from "node:fs";
import * as path from "node:path";
import { RecordingMocks, settle, unwrap } from "../testkit/mocks";
import { createConsumerProject, packedFiles, programAt, typeCheck } from "./helpers/consumer";
import { ROOT, runProgram } from "./helpers/program";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const APPLY = "talos:machine/configurationApply:ConfigurationApply";
const BOOTSTRAP = "talos:machine/bootstrap:Bootstrap";

/** A plain JavaScript program, as a user writes it in a project of their own. */
const labProgram = (nodes: { name: string; ip: string; role: string }[]) => `
const proxmoxve = require("@muhlba91/pulumi-proxmoxve");
const { TalosProxmoxCluster } = require("talos-proxmox");

const pve = new proxmoxve.Provider("pve", { endpoint: "https://pve.example.test:8006/" });
const lab = new TalosProxmoxCluster("lab", {
  clusterName: "lab",
  vip: "10.0.20.10",
  nodes: ${JSON.stringify(nodes)},
}, { providers: { proxmoxve: pve } });

exports.kubeconfig = lab.kubeconfig;
exports.talosconfig = lab.talosconfig;
exports.nodes = lab.nodes;
`;

const THREE = [1, 2, 3].map((i) => ({ name: `cp-${i}`, ip: `10.0.20.1${i}`, role: "controlplane" }));

let project: string;
beforeAll(() => {
  project = createConsumerProject();
  fs.writeFileSync(path.join(project, "lab.js"), labProgram(THREE));
  fs.writeFileSync(path.join(project, "lab-same-ip.js"), labProgram([...THREE.slice(0, 2), { ...THREE[2], ip: THREE[0].ip }]));
}, 30000);
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

describe("the package", () => {
  test("ships compiled JavaScript with declarations, the static patches and the Talos plugin declaration, and no sources or tests", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const files = packedFiles();
    expect(files).toEqual(expect.arrayContaining([manifest.main, manifest.types, "dist/patches/cni-flannel.yaml", "dist/sdk/talos/package.json"]));
    expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("tests/") || f.startsWith("testkit/"))).toEqual([]);
    // Installing it from a tarball or a git URL must not need this repository's folders.
    expect(Object.values(manifest.dependencies as Record<string, string>).filter((v) => v.startsWith("file:"))).toEqual([]);
  });

  test("ships the license its manifest names", () => {
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).license).toBe("Apache-2.0");
    expect(fs.readFileSync(path.join(ROOT, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS\s*$/);
    expect(packedFiles()).toContain("LICENSE");
  });

  test("a JavaScript program outside this repository gets three VMs on its Proxmox provider, three config applies, one bootstrap and a secret kubeconfig", async () => {
    const run = await runProgram({}, { program: programAt(path.join(project, "lab.js")) });
    const vms = run.mocks.ofType(VM);
    expect(vms.map((r) => r.name)).toEqual(["lab-cp-1", "lab-cp-2", "lab-cp-3"]);
    expect(vms.every((r) => r.provider?.includes("::pve::"))).toBe(true);
    expect(run.mocks.ofType(APPLY).map((r) => (unwrap(r.inputs) as { node: string }).node)).toEqual(["10.0.20.11", "10.0.20.12", "10.0.20.13"]);
    expect(run.mocks.ofType(BOOTSTRAP)).toHaveLength(1);
    expect(await run.pulumi.isSecret(run.outputs.kubeconfig)).toBe(true);
    expect(await run.pulumi.isSecret(run.outputs.talosconfig)).toBe(true);
    // No `proxmox` Arg: the reboots get no connection, so a later hardware change is refused at preview.
    expect(run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === "lab-reboots")!.inputs.proxmoxConnection).toBeUndefined();
    // The package registered its component with its own token.
    expect([...run.requests.values()].some((r) => r.type === "talos-proxmox:index:TalosProxmoxCluster")).toBe(true);
  });

  test("bad Args (two nodes with one IP) stop that program before anything is registered, naming the arg path", async () => {
    const mocks = new RecordingMocks();
    await expect(runProgram({}, { mocks, program: programAt(path.join(project, "lab-same-ip.js")) })).rejects.toThrow(
      /TalosProxmoxCluster "lab" arguments[\s\S]*nodes\[2\]\.ip/,
    );
    await settle();
    // Only the program's own Proxmox provider, created before the component.
    expect(mocks.registrations.map((r) => r.type)).toEqual(["pulumi:providers:proxmoxve"]);
  });

  test("type-checks in a TypeScript program with the published declarations", () => {
    const dir = path.join(project, "ts");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, "index.ts"),
      `import * as k8s from "@pulumi/kubernetes";
import { TalosProxmoxCluster, TalosProxmoxClusterArgs } from "talos-proxmox";
const args: TalosProxmoxClusterArgs = { clusterName: "lab", nodes: [{ name: "cp-1", ip: "10.0.20.11", role: "controlplane" }] };
const lab = new TalosProxmoxCluster("lab", args);
new k8s.core.v1.Namespace("apps", {}, { provider: lab.provider });
export const kubeconfig: import("@pulumi/pulumi").Output<string> = lab.kubeconfig;
// @ts-expect-error a role the component does not know
new TalosProxmoxCluster("bad", { clusterName: "x", nodes: [{ name: "n", ip: "10.0.0.1", role: "master" }] });
`,
    );
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, module: "commonjs", target: "ES2022", types: ["node"], skipLibCheck: true }, files: ["index.ts"] }),
    );
    expect(typeCheck(dir)).toBe("");
  });
});
