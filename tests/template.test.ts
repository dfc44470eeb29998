import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { isSecretWrapper, unwrap } from "../testkit/mocks";
import { createConsumerProject, programAt, typeCheck } from "./helpers/consumer";
import { ROOT, runProgram } from "./helpers/program";
import { cliConfigErrors } from "./helpers/pulumiCli";

const TEMPLATE = path.join(ROOT, "templates", "talos-proxmox-cluster");
const read = (file: string) => fs.readFileSync(path.join(TEMPLATE, file), "utf8");

interface Prompt {
  description?: string;
  default?: string;
  secret?: boolean;
}
const project = YAML.parse(read("Pulumi.yaml")) as {
  name: string;
  config?: Record<string, unknown>;
  template: { description: string; config: Record<string, Prompt> } & Record<string, unknown>;
};
const prompts = project.template.config;

/** What `pulumi new` writes into the new stack's file: each prompt's answer, secrets encrypted. */
function stackFromPrompts(answers: Record<string, string>, projectName: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(prompts).map(([key, prompt]) => {
      const fullKey = key.includes(":") ? key : `${projectName}:${key}`;
      const value = answers[key] ?? prompt.default ?? "";
      return [fullKey, prompt.secret ? { secure: "v1:ZW5jcnlwdGVk" } : value];
    }),
  );
}

const ANSWERS = { "proxmoxve:endpoint": "https://pve.example.test:8006/", "proxmoxve:apiToken": "root@pam!t=uuid" };

describe("the pulumi new template", () => {
  test("its template section has only the fields the CLI knows, a prompt per setting, and the API token as a secret", () => {
    // pulumi/pulumi sdk/go/common/workspace/project.json, `template` and its config values.
    const known = ["displayName", "description", "quickstart", "important", "metadata", "config"];
    expect(Object.keys(project.template).filter((k) => !known.includes(k))).toEqual([]);
    for (const prompt of Object.values(prompts)) {
      expect(Object.keys(prompt).filter((k) => !["description", "default", "secret"].includes(k))).toEqual([]);
      expect(prompt.description).toBeTruthy();
    }
    expect(prompts["proxmoxve:apiToken"]).toMatchObject({ secret: true });
    expect(prompts["proxmoxve:apiToken"].default).toBeUndefined();
    // Every prompt of the program's own namespace is read by the program (`settings` is no prompt).
    const program = read("index.ts");
    for (const key of Object.keys(prompts).filter((k) => !k.includes(":"))) expect(program).toContain(`"${key}"`);
  });

  test("a stack made from its prompts passes the CLI's config checks (no declared key is left required)", () => {
    const stack = { config: stackFromPrompts(ANSWERS, "lab") };
    expect(cliConfigErrors({ ...project, name: "lab" }, stack, "dev")).toEqual([]);
  });

  test("pins the same versions of the shared dependencies as this repository", () => {
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const template = JSON.parse(read("package.json"));
    const pins = { ...root.dependencies, ...root.devDependencies };
    for (const [name, version] of Object.entries({ ...template.dependencies, ...template.devDependencies })) {
      if (name !== "talos-proxmox") expect([name, version]).toEqual([name, pins[name]]);
    }
  });

  describe("its program, in a project of its own with the package installed", () => {
    let dir: string;
    beforeAll(() => {
      const consumer = createConsumerProject();
      dir = path.join(consumer, "lab");
      fs.mkdirSync(dir);
      // pulumi new substitutes the project name and description in every file.
      for (const file of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts"]) {
        fs.writeFileSync(path.join(dir, file), read(file).replaceAll("${PROJECT}", "lab").replaceAll("${DESCRIPTION}", "A lab"));
      }
    }, 30000);
    afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

    /** `npx talos-proxmox-plan <stack>` in the project: the bin npm links, run with the project as working directory. */
    const planIn = (stack: string[], files: Record<string, unknown>) => {
      for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), YAML.stringify(content));
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, "..", "node_modules", "talos-proxmox", "package.json"), "utf8"));
      const bin = path.join(dir, "..", "node_modules", "talos-proxmox", manifest.bin["talos-proxmox-plan"]);
      return spawnSync(process.execPath, [bin, ...stack], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    };

    test("npx talos-proxmox-plan prints its nodes from its own config keys, with no Proxmox and no CLI", () => {
      const run = planIn(["lab"], { "Pulumi.lab.yaml": { config: stackFromPrompts({ ...ANSWERS, workerIps: "10.0.10.21" }, "lab") } });
      expect(run.status).toBe(0);
      const [header, ...rows] = run.stdout.trim().split("\n");
      expect(header).toMatch(/^name\s+role\s+host\s+vmId\s+mac\s+ip\s+config$/);
      expect(rows.map((r) => [r.split(/\s+/)[0], r.split(/\s+/)[1], r.split(/\s+/)[5]])).toEqual([
        ["cp-1", "controlplane", "10.0.10.11"],
        ["cp-2", "controlplane", "10.0.10.12"],
        ["cp-3", "controlplane", "10.0.10.13"],
        ["worker-1", "worker", "10.0.10.21"],
      ]);
      expect(rows.every((r) => /\s[0-9A-F]{2}(:[0-9A-F]{2}){5}\s/.test(r))).toBe(true);
    });

    test("talos-proxmox-plan: a stack that does not exist, or a config the program refuses, is one message without a stack trace", () => {
      const missing = planIn(["nosuch"], {});
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/^talos-proxmox-plan: no stack "nosuch" in .*\(no Pulumi\.nosuch\.yaml\); stacks here: .*lab/);
      const bad = planIn(["bad"], { "Pulumi.bad.yaml": { config: { ...stackFromPrompts(ANSWERS, "lab"), "lab:controlPlaneIps": "10.0.10.11,10.0.10.11,10.0.10.13" } } });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/^talos-proxmox-plan: Invalid TalosProxmoxCluster "cluster" arguments, 1 problem\(s\):\n {2}- nodes\[1\]\.ip: /m);
      expect(bad.stderr).not.toMatch(/^\s+at /m);
    });

    test("type-checks against the published declarations", () => {
      expect(typeCheck(dir)).toBe("");
    });

    test("with the prompts' defaults: three control planes behind the VIP, one bootstrap, a namespace on the cluster's provider, secret kubeconfig", async () => {
      const values = stackFromPrompts(ANSWERS, "lab");
      const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : ANSWERS["proxmoxve:apiToken"]]));
      const run = await runProgram(config, { project: "lab", program: programAt(path.join(dir, "index.ts")) });
      const applies = run.mocks.ofType("talos:machine/configurationApply:ConfigurationApply");
      expect(applies.map((r) => (unwrap(r.inputs) as { node: string }).node)).toEqual(["10.0.10.11", "10.0.10.12", "10.0.10.13"]);
      expect(run.mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy").map((r) => (unwrap(r.inputs) as { nodeName: string }).nodeName)).toEqual(["pve", "pve", "pve"]);
      expect(run.mocks.ofType("talos:machine/bootstrap:Bootstrap")).toHaveLength(1);
      const namespace = run.mocks.ofType("kubernetes:core/v1:Namespace");
      expect(namespace).toHaveLength(1);
      expect(namespace[0].provider).toContain("::cluster-k8s::");
      expect(run.values.endpoint).toBe("https://10.0.10.10:6443");
      expect(await run.pulumi.isSecret(run.outputs.kubeconfig)).toBe(true);
      // Hardware reboots get the default provider's connection, as a secret.
      const reboots = run.mocks.ofType("pulumi-nodejs:dynamic:Resource").find((r) => r.name === "cluster-reboots")!;
      expect(isSecretWrapper(reboots.inputs.proxmoxConnection)).toBe(true);
    });

    test("`settings` passes every other component setting through, checked like the component's Args", async () => {
      const values = stackFromPrompts({ ...ANSWERS, workerIps: "10.0.10.21" }, "lab");
      const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "string" ? v : ANSWERS["proxmoxve:apiToken"]]));
      const settings = { network: { nameservers: ["10.0.10.1"] }, worker: { extraDisks: [{ size: 50 }], patches: ["machine:\n  nodeLabels:\n    tier: storage\n"] } };
      // A module runs once per load: each further run of the program gets a copy of it.
      const copy = (name: string) => {
        fs.copyFileSync(path.join(dir, "index.ts"), path.join(dir, name));
        return programAt(path.join(dir, name));
      };
      const run = await runProgram({ ...config, "lab:settings": JSON.stringify(settings) }, { project: "lab", program: copy("with-settings.ts") });
      const worker = run.mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy").find((r) => r.name === "cluster-worker-1")!;
      expect((unwrap(worker.inputs) as { disks: unknown[] }).disks).toHaveLength(2);
      const patches = run.mocks.callsOf("talos:machine/getConfiguration:getConfiguration").map((c) => (unwrap(c.inputs) as { configPatches: string[] }).configPatches.join("\n"));
      expect(patches.every((p) => p.includes("ResolverConfig"))).toBe(true);
      expect(patches.filter((p) => p.includes("tier: storage"))).toHaveLength(1);

      const bad = { worker: { patches: ["machine:\n  kubelet:\n    extraMount: []\n"] } };
      await expect(
        runProgram({ ...config, "lab:settings": JSON.stringify(bad) }, { project: "lab", program: copy("with-bad-settings.ts") }),
      ).rejects.toThrow(/worker\.patches\[0\]: document 0, machine\.kubelet\.extraMount: unknown key/);
    });
  });
});
