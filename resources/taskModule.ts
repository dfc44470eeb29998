import type * as fs from "node:fs";
import type * as path from "node:path";

/**
 * Where the compiled Talos API tasks (`engines/tasks.js`) are for the project in `projectDir`: the
 * installed package `talos-proxmox`, or `dist/` of this repository when the project is the
 * repository itself. Throws, naming the fix, when there are none.
 *
 * The dynamic providers call this when they run: the provider host runs `read` and `delete` from
 * the provider text stored in the state (pulumi/pulumi v3.248.0
 * sdk/nodejs/cmd/dynamic-provider/index.ts:273,336), possibly from another checkout, machine or
 * package version, and it runs in the project's directory (sdk/go/common/resource/plugin/plugin.go:599,
 * pwd from pkg/engine/project.go getPwdMain), where the host itself finds `@pulumi/pulumi` the same way
 * (sdk/nodejs/dist/pulumi-resource-pulumi-nodejs:2). So the state holds no path; the provider
 * text finds the provider's own module by the same search (dynamicResource.ts providerText).
 * States of earlier releases hold a closure-serialized copy of this function, which is why it
 * requires its modules itself: that copy loads `dist/engines/tasks.js`, which keeps its exports.
 */
export function taskModulePath(projectDir: string = process.cwd()): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodePath = require("node:path") as typeof path;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require("node:fs") as typeof fs;
  try {
    return require.resolve("talos-proxmox/dist/engines/tasks.js", { paths: [projectDir] });
  } catch {
    // Not installed: the project may be this repository (a package cannot resolve its own name without `exports`).
  }
  for (let dir = nodePath.resolve(projectDir); ; dir = nodePath.dirname(dir)) {
    const manifest = nodePath.join(dir, "package.json");
    const built = nodePath.join(dir, "dist", "engines", "tasks.js");
    if (nodeFs.existsSync(manifest) && (JSON.parse(nodeFs.readFileSync(manifest, "utf8")) as { name?: string }).name === "talos-proxmox" && nodeFs.existsSync(built)) return built;
    if (nodePath.dirname(dir) === dir) break;
  }
  throw new Error(
    `the compiled tasks of talos-proxmox were not found from ${projectDir}: run pulumi in the project's directory, ` +
      `with the package installed (npm install talos-proxmox) or, in its own repository, built (npm run build; npm ci runs it)`,
  );
}

/** The compiled tasks, loaded from the project the provider runs in (see {@link taskModulePath}). */
export function loadTasks(): typeof import("../engines/tasks") {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(taskModulePath()) as typeof import("../engines/tasks");
}

/** Project directories whose compiled tasks were found: one search per process, not one per resource. */
const builtTasksFound = new Set<string>();

/**
 * Throws, naming the fix, when the program's project has no compiled tasks, or, in this
 * repository, compiled ones older than their sources (checked when a resource is declared).
 */
export function requireBuiltTasks(what: string): void {
  const projectDir = process.cwd();
  if (builtTasksFound.has(projectDir)) return;
  try {
    const stale = staleBuild(taskModulePath(projectDir));
    if (stale) throw new Error(stale);
    builtTasksFound.add(projectDir);
  } catch (error) {
    // Printed as the CLI prints a pulumi.RunError, without a stack trace: the SDK recognises one
    // by this member (pulumi/pulumi v3.248.0 sdk/nodejs/errors.ts RunError.isInstance, utils.ts).
    throw Object.assign(new Error(`${what}: ${(error as Error).message}`), { __pulumiRunError: true });
  }
}

/** The folders whose compiled code the providers and tasks run: everything they import. */
const PROVIDER_SOURCES = ["resources", "engines", "talosapi", "proxmoxapi", "config", "sdk"];

/**
 * In this repository the provider host runs the providers from dist/ while `pulumi up` runs the
 * program from the sources, so an edit without `npm run build` would run old code in the
 * providers. Names the first source newer than its compiled file; undefined for an installed
 * package (no sources beside dist/) or an up-to-date build.
 */
export function staleBuild(tasksPath: string): string | undefined {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodePath = require("node:path") as typeof path;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require("node:fs") as typeof fs;
  const root = nodePath.dirname(nodePath.dirname(nodePath.dirname(tasksPath)));
  if (!nodeFs.existsSync(nodePath.join(root, "engines", "tasks.ts"))) return undefined;
  const firstNewer = (dir: string): string | undefined => {
    for (const entry of nodeFs.readdirSync(nodePath.join(root, dir), { withFileTypes: true })) {
      const source = nodePath.join(dir, entry.name);
      if (entry.isDirectory()) {
        const found = firstNewer(source);
        if (found) return found;
      } else if (/(?<!\.d)\.ts$/.test(entry.name) && isNewer(nodeFs, nodePath.join(root, source), nodePath.join(root, "dist", source.replace(/\.ts$/, ".js")))) {
        return source;
      }
    }
    return undefined;
  };
  for (const dir of PROVIDER_SOURCES.filter((d) => nodeFs.existsSync(nodePath.join(root, d)))) {
    const source = firstNewer(dir);
    if (source) return `${source} changed after it was built: the dynamic resources' providers run the compiled code in dist/, so run npm run build first`;
  }
  return undefined;
}

function isNewer(nodeFs: typeof fs, source: string, compiled: string): boolean {
  return !nodeFs.existsSync(compiled) || nodeFs.statSync(source).mtimeMs > nodeFs.statSync(compiled).mtimeMs;
}

/**
 * Where the provider host keeps a dynamic provider's text in its inputs and outputs
 * (pulumi/pulumi v3.248.0 sdk/nodejs/dynamic/index.ts:305; ours: dynamicResource.ts). A diff that
 * ignores it keeps the old text in the state (a same step keeps the old outputs:
 * pkg/resource/deploy/step.go:155-156), and delete and read would run that old text.
 */
export const PROVIDER_KEY = "__provider";

/** A provider's state as the host hands it over: with its provider text. */
export type WithProvider<T> = T & { [PROVIDER_KEY]?: string };
