import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { memberProvider } from "../resources/talosMember";
import { rebootsProvider } from "../resources/talosReboots";
import { taskModulePath } from "../resources/taskModule";
import { upgradeProvider } from "../resources/talosUpgrade";
import { createConsumerProject } from "./helpers/consumer";
import { ROOT } from "./helpers/program";

/**
 * A dynamic provider runs in Pulumi's provider host from the text serialized into the state, not
 * from this program: serialize ours the way `pulumi.dynamic.Resource` does, check what they
 * capture, and run them in a plain Node process outside the repository.
 */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

test("they capture only small pure functions and the lookup of the compiled tasks, which they require at run time", async () => {
  for (const text of [await serialized(upgradeProvider), await serialized(memberProvider), await serialized(rebootsProvider)]) {
    // The text of the test's own transpilation (SWC's helpers make it a few hundred characters
    // longer than tsc's in dist/); a provider that captured a module would be far larger.
    expect(text.length).toBeLessThan(13_000);
    const requires = text.match(/\brequire(?:\.resolve)?\((?:[^()]|\([^()]*\))*\)/g) ?? [];
    expect(new Set(requires.map((r) => r.replace(/\s+/g, " ").replace(/\[ /g, "[").replace(/ \]/g, "]")))).toEqual(
      new Set(['require("node:path")', 'require("node:fs")', 'require.resolve("talos-proxmox/dist/engines/tasks.js", { paths: [projectDir] })', "require(taskModulePath())"]),
    );
  }
});

test("they run from their serialized text in a fresh Node process: no node is reached by create or check", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-provider-"));
  try {
    fs.writeFileSync(path.join(dir, "upgrade.js"), await serialized(upgradeProvider));
    fs.writeFileSync(path.join(dir, "member.js"), await serialized(memberProvider));
    const script = `
      const upgrade = require(${JSON.stringify(path.join(dir, "upgrade.js"))}).handler();
      const member = require(${JSON.stringify(path.join(dir, "member.js"))}).handler();
      const base = { nodes: [{ name: "cp-1", ip: "192.0.2.1", role: "controlplane" }], image: "x/y:v1.13.9",
        targetVersion: "v1.13.9", workerBatchSize: 1, cni: "flannel", plan: [], clientConfiguration: { caCertificate: "", clientCertificate: "", clientKey: "" } };
      (async () => {
        const created = await upgrade.create(base);
        const checked = await upgrade.check(base, { ...base, cni: "cilium" });
        const skip = await upgrade.check({ ...base, kubernetesVersion: "1.34.1" }, { ...base, kubernetesVersion: "1.36.3" });
        const diff = await member.diff("id", { vm: "pve/1", node: base.nodes[0] }, { vm: "pve2/1", node: base.nodes[0] });
        const failed = await upgrade.update("id", base, { ...base, image: "x/y:v1.13.10", targetVersion: "v1.13.10" }).catch((e) => e.message);
        console.log(JSON.stringify({ versions: created.outs.versions, failures: checked.failures.map((f) => f.property), skip: skip.failures.map((f) => f.reason), replaces: diff.replaces, failed }));
      })();`;
    // The provider host runs in the project's directory (see below).
    const out = execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({
      versions: { "cp-1": "v1.13.9" },
      failures: ["cni"],
      skip: [expect.stringMatching(/^kubernetesVersion: 1.34.1 → 1.36.3 is refused: a Kubernetes upgrade goes one minor version at a time/)],
      replaces: ["vm"],
      // The update loaded the compiled tasks and got as far as the (empty) credentials.
      failed: expect.stringMatching(/caCertificate is empty/),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the task module they load from this repository is the compiled one in dist/", () => {
  expect(taskModulePath(ROOT)).toBe(path.join(ROOT, "dist", "engines", "tasks.js"));
  expect(taskModulePath(path.join(ROOT, "components"))).toBe(path.join(ROOT, "dist", "engines", "tasks.js"));
});

/**
 * The provider host takes `read` and `delete` from the provider serialized in the state, not from
 * the program (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts:273,336), and starts
 * with the project's directory as its working directory (sdk/go/common/resource/plugin/plugin.go:599
 * `cmd.Dir = pwd`, pwd from pkg/engine/project.go getPwdMain). So a state written from one checkout
 * must work from another: serialize the providers in a copy of the project, remove the copy, and run
 * them from the real project and from a consumer project.
 */
describe("a state written from a project that has since moved", () => {
  let copy: string;
  let texts: Record<"upgrade" | "member" | "reboots", string>;
  let consumer: string;

  beforeAll(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-moved-"));
    fs.cpSync(path.join(ROOT, "dist"), path.join(copy, "dist"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "package.json"), path.join(copy, "package.json"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"), "dir");
    // Serialized by the copy's compiled package in a plain Node process, the way `pulumi up` there would.
    const script = `
      const pulumi = require("@pulumi/pulumi");
      const providers = {
        upgrade: require("./dist/resources/talosUpgrade.js").upgradeProvider,
        member: require("./dist/resources/talosMember.js").memberProvider,
        reboots: require("./dist/resources/talosReboots.js").rebootsProvider,
      };
      (async () => {
        const texts = {};
        for (const [name, provider] of Object.entries(providers)) {
          texts[name] = (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
        }
        console.log(JSON.stringify(texts));
      })();`;
    texts = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: copy, encoding: "utf8" })) as typeof texts;
    fs.rmSync(copy, { recursive: true, force: true });
    consumer = createConsumerProject();
  });

  afterAll(() => fs.rmSync(consumer, { recursive: true, force: true }));

  /** Runs delete, read and a reboot from the serialized texts with `cwd` as the project directory; reports errors and the task module loaded. */
  function runFromState(cwd: string): { removal: string; refresh: string; reboot: string; loaded: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-state-"));
    try {
      for (const [name, text] of Object.entries(texts)) fs.writeFileSync(path.join(dir, `${name}.js`), text);
      const script = `
        const load = (name) => require(${JSON.stringify(dir)} + "/" + name + ".js").handler();
        const [upgrade, member, reboots] = ["upgrade", "member", "reboots"].map(load);
        const clientConfiguration = { caCertificate: "", clientCertificate: "", clientKey: "" };
        const cp = { name: "cp-1", ip: "192.0.2.1", role: "controlplane" };
        // A staged config: a Talos reboot, which needs no Proxmox connection.
        const boot = (staged) => ({ "cp-1": { vm: "pve/1", hardware: {}, staged } });
        const message = (p) => p.then(() => "no error", (e) => e.message);
        (async () => {
          const removal = await message(member.delete("id", { vm: "pve/1", node: cp, controlPlanes: [cp], clientConfiguration }));
          const refresh = await message(upgrade.read("id", { nodes: [cp], clientConfiguration }));
          const reboots0 = { nodes: [cp], workerBatchSize: 1, clientConfiguration };
          const reboot = await message(reboots.update("id", { ...reboots0, wanted: boot(""), booted: boot("") }, { ...reboots0, wanted: boot("c0ffee") }));
          const loaded = Object.keys(require.cache).filter((f) => f.endsWith("/engines/tasks.js"));
          console.log(JSON.stringify({ removal, refresh, reboot, loaded }));
        })();`;
      return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8" })) as ReturnType<typeof runFromState>;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  // Each got as far as the tasks' check of the (empty) credentials: the task module loaded.
  const reachedTheTasks = { removal: expect.stringMatching(/caCertificate is empty/), refresh: expect.stringMatching(/caCertificate is empty/), reboot: expect.stringMatching(/caCertificate is empty/) };

  test("the serialized providers hold no path of the project they were written from", () => {
    for (const text of Object.values(texts)) {
      expect(text).not.toContain(copy);
      expect(text).not.toContain(fs.realpathSync(os.tmpdir()));
      expect(text).not.toContain(ROOT);
    }
  });

  test("delete, read and update run from this repository: they load its compiled tasks", () => {
    expect(runFromState(ROOT)).toEqual({ ...reachedTheTasks, loaded: [path.join(ROOT, "dist", "engines", "tasks.js")] });
  });

  test("delete, read and update run from a project that installed the package: they load the installed tasks", () => {
    expect(runFromState(consumer)).toEqual({ ...reachedTheTasks, loaded: [path.join(fs.realpathSync(consumer), "node_modules", "talos-proxmox", "dist", "engines", "tasks.js")] });
  });

  test("from a directory without the package, they fail naming the package and the directory", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-empty-"));
    try {
      const run = runFromState(empty);
      expect(run.removal).toMatch(/^the compiled tasks of talos-proxmox were not found from .*: run pulumi in the project's directory, .*npm install talos-proxmox/);
      expect(run.removal).toContain(empty);
      expect(run.loaded).toEqual([]);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

/**
 * A same step keeps the old outputs, provider text included (pulumi/pulumi v3.248.0
 * pkg/resource/deploy/step.go:155-156), and delete and read run that text. So a new provider text
 * (a state written before this release, which held an absolute path, or a package upgrade) must
 * count as a change: the update then stores the new text.
 */
test("a new provider text is a change, so the state takes the provider that runs now", async () => {
  const clientConfiguration = { caCertificate: "", clientCertificate: "", clientKey: "" };
  const cp = { name: "cp-1", ip: "192.0.2.1", role: "controlplane" as const };
  const states = {
    upgrade: [upgradeProvider, { nodes: [cp], image: "x/y:v1.13.9", targetVersion: "v1.13.9", workerBatchSize: 1, plan: [], clientConfiguration }],
    member: [memberProvider, { vm: "pve/1", node: cp, controlPlanes: [cp], clientConfiguration }],
    reboots: [rebootsProvider, { nodes: [cp], workerBatchSize: 1, wanted: {}, clientConfiguration }],
  } as const;
  for (const [provider, state] of Object.values(states)) {
    const diff = await provider.diff!("id", { ...state, __provider: "old text" }, { ...state, __provider: "new text" });
    expect(diff.changes).toBe(true);
    expect(diff.replaces ?? []).toEqual([]);
    expect((await provider.diff!("id", { ...state, __provider: "same" }, { ...state, __provider: "same" })).changes).toBe(false);
  }
});

test("a state of the previous release, whose providers hold the path dist/talosapi/tasks.js, still reaches the tasks there", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const old = require(path.join(ROOT, "dist", "talosapi", "tasks.js")) as object;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  expect(old).toBe(require(path.join(ROOT, "dist", "engines", "tasks.js")));
});

