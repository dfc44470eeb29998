#!/usr/bin/env node
/**
 * `npx talos-proxmox-plan <stack>` (the package's bin; `npm run plan -- <stack>` here): runs the
 * Pulumi project in the current directory with that stack's config, as the CLI would but under the
 * SDK's mock monitor (no Proxmox, no Pulumi CLI, nothing created), and prints each
 * TalosProxmoxCluster's nodes: name, role, host, VM ID, MAC, IP (and static addresses), so the DHCP
 * reservations can be made before the first `pulumi up`. Works whatever the program's own config
 * keys are: every component records its validated spec as it is constructed (config/nodePlan.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { formatPlan, planNodes, recordedPlans } from "../config/nodePlan";

/** A refusal with one line to print and no stack. */
class PlanError extends Error {}

interface Project {
  dir: string;
  name: string;
  /** The program's entry file or folder, as Pulumi.yaml's `main` says (default: the project folder). */
  main: string;
  /** Project-level config values (`config:` in Pulumi.yaml with a value or a `default`). */
  config: Record<string, unknown>;
}

/** A project's Pulumi.yaml, from `cwd` or the nearest folder above it. */
export function findProject(cwd: string): Project {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "Pulumi.yaml");
    if (fs.existsSync(file)) {
      const doc = (YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { name?: string; main?: string; config?: Record<string, unknown> };
      const config = Object.fromEntries(
        Object.entries(doc.config ?? {}).flatMap(([key, v]) => {
          const value = v !== null && typeof v === "object" && "default" in v ? (v as { default: unknown }).default : v;
          return value !== null && typeof value === "object" && !Array.isArray(value) && "type" in value ? [] : [[key, value]];
        }),
      );
      return { dir, name: String(doc.name ?? path.basename(dir)), main: doc.main ?? ".", config };
    }
    if (path.dirname(dir) === dir) throw new PlanError(`no Pulumi.yaml in ${path.resolve(cwd)} or above: run it in the folder of a Pulumi project that uses talos-proxmox`);
  }
}

/** The stacks a project has files for. */
export function stacksOf(dir: string): string[] {
  return fs.readdirSync(dir).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []).sort();
}

/**
 * A stack's config as the CLI hands it to the program: namespaced keys, text values (structures as
 * JSON). Encrypted values can't be read here: they become stand-ins of the right shape, secret.
 */
export function stackConfig(project: Project, stack: string): { values: Record<string, string>; secretKeys: string[] } {
  const file = path.join(project.dir, `Pulumi.${stack}.yaml`);
  if (!/^[\w.-]+$/.test(stack) || !fs.existsSync(file)) {
    const known = stacksOf(project.dir);
    throw new PlanError(`no stack "${stack}" in ${project.dir} (no Pulumi.${stack}.yaml); stacks here: ${known.length > 0 ? known.join(", ") : "none"}`);
  }
  const own = ((YAML.parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> }).config ?? {};
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries({ ...project.config, ...own })) {
    const full = key.includes(":") ? key : `${project.name}:${key}`;
    if (value !== null && typeof value === "object" && "secure" in value) {
      values[full] = full === "proxmoxve:apiToken" ? "plan@pve!plan=00000000-0000-0000-0000-000000000000" : "********";
      secretKeys.push(full);
    } else {
      values[full] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { values, secretKeys };
}

type Sdk = typeof import("@pulumi/pulumi");

/** The project's own @pulumi/pulumi (the one its program registers with), its mocks set, config given. */
function mockedSdk(project: Project, stack: string, config: ReturnType<typeof stackConfig>): Sdk {
  const from = { paths: [project.dir] };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require(require.resolve("@pulumi/pulumi", from)) as Sdk;
  pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: `${a.name}-plan`, state: a.inputs }), call: (a) => a.inputs },
    project.name,
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config.values, config.secretKeys);
  // The provider would read these itself; a plan reaches no Proxmox, so stand-ins are enough.
  process.env.PROXMOX_VE_ENDPOINT ??= "https://proxmox.plan.invalid:8006/";
  process.env.PROXMOX_VE_API_TOKEN ??= "plan@pve!plan=00000000-0000-0000-0000-000000000000";
  return pulumi;
}

/** TypeScript programs load as the language host loads them: its ts-node, transpile only. */
function registerTypeScript(project: Project): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tsutils = require(require.resolve("@pulumi/pulumi/tsutils", { paths: [project.dir] })) as {
    typeScriptRequireStrings(): { tsnodeRequire: string; typescriptRequire: string };
  };
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  const tsconfig = path.join(project.dir, "tsconfig.json");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(tsnodeRequire) as { register(o: object): void }).register({
    compiler: typescriptRequire,
    transpileOnly: true,
    project: tsconfig,
    skipProject: !fs.existsSync(tsconfig),
    compilerOptions: {},
  });
}

/** Runs the program far enough for every component to be constructed (an exported function is awaited). */
async function runProgram(project: Project): Promise<void> {
  registerTypeScript(project);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(path.resolve(project.dir, project.main)) as unknown;
  const entry = loaded !== null && typeof loaded === "object" && "default" in loaded ? (loaded as { default: unknown }).default : loaded;
  if (typeof entry === "function") await (entry as () => unknown)();
}

/** The plan of every cluster the program declared, one table each. */
export async function plan(cwd: string, stack: string | undefined): Promise<string> {
  const project = findProject(cwd);
  if (stack === undefined) throw new PlanError(`usage: talos-proxmox-plan <stack>; stacks here: ${stacksOf(project.dir).join(", ") || "none"}`);
  mockedSdk(project, stack, stackConfig(project, stack));
  process.chdir(project.dir);
  await runProgram(project);
  const plans = recordedPlans();
  if (plans.length === 0) throw new PlanError(`the program of ${project.dir} declared no TalosProxmoxCluster with stack ${stack}`);
  return plans.map(({ component, spec }) => (plans.length > 1 ? `# ${component}\n` : "") + formatPlan(planNodes(spec))).join("\n\n");
}

/** A refusal's text as the CLI would print it: the message alone for ours, the program's RunErrors and config errors. */
function messageOf(err: unknown): string {
  const e = err as { message?: string; __pulumiRunError?: boolean };
  if (err instanceof PlanError || e?.__pulumiRunError) return String(e.message);
  return `the program failed before it declared its clusters: ${e?.message ?? String(err)}`;
}

/** Ends the process once `text` is written. The program's resources are still in flight under the mocks and
 * never need to finish: the SDK's exit hook that reports unfinished work as leaks is not ours to run. */
function finish(stream: NodeJS.WriteStream, text: string, code: number): void {
  stream.write(`${text}\n`, () => {
    process.removeAllListeners("exit");
    process.exit(code);
  });
}

if (require.main === module) {
  process.on("unhandledRejection", () => undefined);
  plan(process.cwd(), process.argv[2]).then(
    (text) => finish(process.stdout, text, 0),
    (err: unknown) => finish(process.stderr, `talos-proxmox-plan: ${messageOf(err)}`, 1),
  );
}
