import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { unwrap } from "../testkit/mocks";
import { memberProvider } from "../resources/talosMember";
import { rebootsProvider } from "../resources/talosReboots";
import { taskModulePath } from "../resources/taskModule";
import { upgradeProvider } from "../resources/talosUpgrade";
import { createConsumerProject } from "./helpers/consumer";
import type { ProgramChildReport } from "./helpers/programChild";
import { PROXMOX_CONFIG, ROOT, runProgram, stackConfig } from "./helpers/program";

/**
 * A dynamic provider runs in Pulumi's provider host from the `__provider` text of the resource's
 * inputs and state, not from this program. Take the texts the program registers and run them the
 * way the host does: `requireFromString(text).handler()` with the `require-from-string` the host
 * requires, in a fresh Node process whose working directory is the project's (pulumi/pulumi
 * v3.248.0 sdk/nodejs/cmd/dynamic-provider/index.ts:35,73; sdk/go/common/resource/plugin/plugin.go:599).
 */
type Kind = "upgrade" | "member" | "reboots" | "credentials";
const KINDS: Kind[] = ["upgrade", "member", "reboots", "credentials"];
const DYNAMIC = "pulumi-nodejs:dynamic:Resource";
/** The resources of each kind by name suffix (`<cluster>-member-<node>` for every node). */
const NAMES: Record<Kind, RegExp> = { upgrade: /-upgrade$/, member: /-member-/, reboots: /-reboots$/, credentials: /-credentials$/ };
const MODULES: Record<Kind, [string, string]> = {
  upgrade: ["dist/resources/talosUpgrade.js", "upgradeProvider"],
  member: ["dist/resources/talosMember.js", "memberProvider"],
  reboots: ["dist/resources/talosReboots.js", "rebootsProvider"],
  credentials: ["dist/resources/talosCredentials.js", "credentialsResourceProvider"],
};
const HOST_SCRIPT = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");

/** Each kind's text from a program's registrations; every resource of a kind must register the same. */
function textsByKind(registered: Record<string, string>): Record<Kind, string> {
  return Object.fromEntries(
    KINDS.map((kind) => {
      const texts = new Set(Object.entries(registered).filter(([name]) => NAMES[kind].test(name)).map(([, text]) => text));
      expect([kind, texts.size]).toEqual([kind, 1]);
      return [kind, [...texts][0]];
    }),
  ) as Record<Kind, string>;
}

/** Runs `body` in a fresh Node process in `cwd`, with `load(name)` turning `texts[name]` into a provider as the host does; returns its JSON output. */
function inProviderHost<T>(cwd: string, texts: Record<string, string>, body: string): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-host-"));
  try {
    fs.writeFileSync(path.join(dir, "texts.json"), JSON.stringify(texts));
    const script = `
      const requireFromString = require(require.resolve("require-from-string", { paths: [${JSON.stringify(path.dirname(HOST_SCRIPT))}] }));
      const texts = JSON.parse(require("node:fs").readFileSync(${JSON.stringify(path.join(dir, "texts.json"))}, "utf8"));
      const load = (name) => requireFromString(texts[name]).handler();
      const message = (p) => p.then(() => "no error", (e) => e.message);
      const loaded = (suffix) => Object.keys(require.cache).filter((f) => f.endsWith(suffix));
      (async () => { console.log(JSON.stringify(await (async () => { ${body} })())); })();`;
    return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8" })) as T;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

let texts: Record<Kind, string>;
let consumer: string;

beforeAll(async () => {
  const run = await runProgram({ ...stackConfig("dev"), ...PROXMOX_CONFIG });
  texts = textsByKind(Object.fromEntries(run.mocks.ofType(DYNAMIC).map((r) => [r.name, unwrap(r.inputs.__provider) as string])));
  consumer = createConsumerProject();
}, 30_000);

afterAll(() => fs.rmSync(consumer, { recursive: true, force: true }));

describe("the provider texts the program registers", () => {
  test("name the compiled module and export of their provider, and hold no path and no provider code", () => {
    for (const kind of KINDS) {
      const [file, exportName] = MODULES[kind];
      expect(texts[kind]).toContain(`var FILE = ${JSON.stringify(file)};`);
      expect(texts[kind]).toContain(`var EXPORT = ${JSON.stringify(exportName)};`);
      for (const dir of [ROOT, os.tmpdir(), fs.realpathSync(os.tmpdir()), os.homedir()]) expect(texts[kind]).not.toContain(dir);
      // A path would be "/x/..." after a quote, a space or a parenthesis.
      expect(texts[kind].match(/(^|[\s"'(])\/[\w.-]+\//gm)).toBeNull();
      expect(texts[kind]).not.toMatch(/loadTasks|clientConfiguration/);
      expect(texts[kind].length).toBeLessThan(2_000);
    }
  });

  test("run by the provider host's loading in this repository, they are the compiled providers of its dist/", () => {
    const out = inProviderHost<{ methods: Record<string, string[]>; loaded: string[] }>(
      ROOT,
      texts,
      `const methods = Object.fromEntries(Object.keys(texts).map((k) => [k, Object.keys(load(k)).sort()]));
       return { methods, loaded: loaded(".js").filter((f) => f.includes("/dist/resources/talos")) };`,
    );
    expect(out.methods).toEqual({
      upgrade: ["check", "create", "delete", "diff", "read", "update"],
      member: ["create", "delete", "diff", "update"],
      reboots: ["create", "delete", "diff", "read", "update"],
      credentials: ["create", "delete", "diff", "update"],
    });
    expect(out.loaded.sort()).toEqual(KINDS.map((kind) => path.join(ROOT, MODULES[kind][0])).sort());
  });
});

/**
 * The same texts from other program runs: the stack program in a fresh process compiled as
 * `pulumi up` compiles it (Pulumi's ts-node, transpile-only; jest uses SWC), and a JavaScript
 * program of a project that installed the package (tsc's output in dist/). Those runs also show
 * whether anything started Pulumi's closure serializer: `pulumi.dynamic.Resource` does, per
 * process (sdk/nodejs/dynamic/index.ts:257-273); its V8 inspector part, closure/v8.js and
 * v8Hooks.js, loads only then (runtime/closure/createClosure.ts:494, v8.ts:28).
 */
describe("other program runs", () => {
  const reports: Record<string, ProgramChildReport> = {};
  const child = (cwd: string, program?: string) =>
    JSON.parse(execFileSync(process.execPath, [path.join(ROOT, "bench", "run.js"), path.join(__dirname, "helpers", "programChild.ts"), ...(program ? [program] : [])], { cwd, encoding: "utf8" })) as ProgramChildReport;

  beforeAll(() => {
    reports["dev stack"] = child(ROOT);
    fs.writeFileSync(
      path.join(consumer, "lab.js"),
      `const { TalosProxmoxCluster } = require("talos-proxmox");
       new TalosProxmoxCluster("lab", { clusterName: "lab", vip: "10.0.20.10", nodes: [1, 2, 3].map((i) => ({ name: "cp-" + i, ip: "10.0.20.1" + i, role: "controlplane" })) });`,
    );
    reports["installed package"] = child(consumer, path.join(consumer, "lab.js"));
  }, 60_000);

  test("register the same texts", () => {
    for (const [what, report] of Object.entries(reports)) expect([what, textsByKind(report.providerTexts)]).toEqual([what, texts]);
  });

  test("never start Pulumi's closure serializer", () => {
    for (const [what, report] of Object.entries(reports)) {
      expect([what, Object.keys(report.providerTexts).length]).toEqual([what, 6]);
      expect([what, report.serializerCalls]).toEqual([what, []]);
      // Its entry modules load with the SDK; the inspector part only when it serializes.
      expect([what, report.closureModules.filter((m) => m.startsWith("v8"))]).toEqual([what, []]);
    }
  });
});

/** Delete, read and an update that reboots, from `texts` with `cwd` as the project directory: their errors and the task modules loaded. */
function runFromState(cwd: string, from: Record<string, string> = texts): { removal: string; refresh: string; reboot: string; loaded: string[] } {
  return inProviderHost(
    cwd,
    from,
    `const [upgrade, member, reboots] = ["upgrade", "member", "reboots"].map(load);
     const clientConfiguration = { caCertificate: "", clientCertificate: "", clientKey: "" };
     const cp = { name: "cp-1", ip: "192.0.2.1", role: "controlplane" };
     // A staged config: a Talos reboot, which needs no Proxmox connection.
     const boot = (staged) => ({ "cp-1": { vm: "pve/1", hardware: {}, staged } });
     const removal = await message(member.delete("id", { vm: "pve/1", node: cp, controlPlanes: [cp], clientConfiguration }));
     const refresh = await message(upgrade.read("id", { nodes: [cp], clientConfiguration }));
     const reboots0 = { nodes: [cp], workerBatchSize: 1, clientConfiguration };
     const reboot = await message(reboots.update("id", { ...reboots0, wanted: boot(""), booted: boot("") }, { ...reboots0, wanted: boot("c0ffee") }));
     return { removal, refresh, reboot, loaded: loaded("/engines/tasks.js") };`,
  );
}

// Each got as far as the tasks' check of the (empty) credentials: the task module loaded.
const reachedTheTasks = { removal: expect.stringMatching(/caCertificate is empty/), refresh: expect.stringMatching(/caCertificate is empty/), reboot: expect.stringMatching(/caCertificate is empty/) };
const installedTasks = () => path.join(fs.realpathSync(consumer), "node_modules", "talos-proxmox", "dist", "engines", "tasks.js");

describe("run from the state, the way the provider host runs read and delete", () => {
  test("create and check reach no node; an update loads the compiled tasks", () => {
    const out = inProviderHost(
      ROOT,
      texts,
      `const upgrade = load("upgrade");
       const member = load("member");
       const base = { nodes: [{ name: "cp-1", ip: "192.0.2.1", role: "controlplane" }], image: "x/y:v1.13.9",
         targetVersion: "v1.13.9", workerBatchSize: 1, cni: "flannel", plan: [], clientConfiguration: { caCertificate: "", clientCertificate: "", clientKey: "" } };
       const created = await upgrade.create(base);
       const checked = await upgrade.check(base, { ...base, cni: "cilium" });
       const skip = await upgrade.check({ ...base, kubernetesVersion: "1.34.1" }, { ...base, kubernetesVersion: "1.36.3" });
       const diff = await member.diff("id", { vm: "pve/1", node: base.nodes[0] }, { vm: "pve2/1", node: base.nodes[0] });
       const failed = await message(upgrade.update("id", base, { ...base, image: "x/y:v1.13.10", targetVersion: "v1.13.10" }));
       return { versions: created.outs.versions, failures: checked.failures.map((f) => f.property), skip: skip.failures.map((f) => f.reason), replaces: diff.replaces, failed };`,
    );
    expect(out).toEqual({
      versions: { "cp-1": "v1.13.9" },
      failures: ["cni"],
      skip: [expect.stringMatching(/^kubernetesVersion: 1.34.1 → 1.36.3 is refused: a Kubernetes upgrade goes one minor version at a time/)],
      replaces: ["vm"],
      // The update loaded the compiled tasks and got as far as the (empty) credentials.
      failed: expect.stringMatching(/caCertificate is empty/),
    });
  });

  test("from this repository: delete, read and update load its compiled tasks", () => {
    expect(runFromState(ROOT)).toEqual({ ...reachedTheTasks, loaded: [path.join(ROOT, "dist", "engines", "tasks.js")] });
  });

  test("from a project that installed the package: they load the installed tasks", () => {
    expect(runFromState(consumer)).toEqual({ ...reachedTheTasks, loaded: [installedTasks()] });
  });

  test("from a directory without the package, they fail naming the provider's module, the package and the directory", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "talos-proxmox-empty-"));
    try {
      const out = inProviderHost<string>(empty, texts, `return await message((async () => load("member"))());`);
      expect(out).toMatch(/^the compiled provider dist\/resources\/talosMember.js of talos-proxmox was not found from .*: run pulumi in the project's directory, .*npm install talos-proxmox/);
      expect(out).toContain(empty);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a text naming an export the package lacks fails naming the module and the export", () => {
    const renamed = { member: texts.member.replace('var EXPORT = "memberProvider";', 'var EXPORT = "renamedProvider";') };
    const out = inProviderHost<string>(ROOT, renamed, `return await message((async () => load("member"))());`);
    expect(out).toBe(`${path.join(ROOT, "dist", "resources", "talosMember.js")} has no export renamedProvider: install the talos-proxmox version that wrote this stack, or a later one`);
  });

  test("the task module they load from this repository is the compiled one in dist/", () => {
    expect(taskModulePath(ROOT)).toBe(path.join(ROOT, "dist", "engines", "tasks.js"));
    expect(taskModulePath(path.join(ROOT, "components"))).toBe(path.join(ROOT, "dist", "engines", "tasks.js"));
  });
});

/**
 * States written before the constant texts hold the closure-serialized providers (the fixture):
 * read and delete run those until an update stores the new text. They find the tasks themselves,
 * from the project directory, so dist/engines/tasks.js keeps what they call.
 */
describe("a state holding the closure-serialized providers of the previous release", () => {
  const old = (JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "closure-provider-texts.json"), "utf8")) as { texts: Record<Kind, string> }).texts;

  test("runs from this repository", () => {
    expect(runFromState(ROOT, old)).toEqual({ ...reachedTheTasks, loaded: [path.join(ROOT, "dist", "engines", "tasks.js")] });
  });

  test("runs from a project that installed the package", () => {
    expect(runFromState(consumer, old)).toEqual({ ...reachedTheTasks, loaded: [installedTasks()] });
  });
});

/**
 * A same step keeps the old outputs, provider text included (pulumi/pulumi v3.248.0
 * pkg/resource/deploy/step.go:155-156), and delete and read run that text. So a new provider text
 * (a state holding a closure-serialized provider, or one of release 0.1 with an absolute path)
 * counts as a change: the update then stores the new text. The credentials' provider has no read
 * and a delete that does nothing, so its diff leaves the old text in place.
 */
test("a new provider text is a change, so the state takes the provider text of this release", async () => {
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

test("a state of release 0.1, whose providers hold the path dist/talosapi/tasks.js, still reaches the tasks there", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const old = require(path.join(ROOT, "dist", "talosapi", "tasks.js")) as object;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  expect(old).toBe(require(path.join(ROOT, "dist", "engines", "tasks.js")));
});
