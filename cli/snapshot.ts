#!/usr/bin/env node
/**
 * `npx talos-proxmox-snapshot <stack> [--talosconfig <file>] [--node <ip>]` (the package's bin;
 * `npm run snapshot -- <stack>` here): takes an etcd snapshot now, through the Talos API, from the
 * first control plane whose etcd is healthy, and writes it where the stack's `backups` block says
 * (default `backups/<stack>/` in the project directory, kept to `backups.keep`), in the format
 * `talosctl bootstrap --recover-from` reads. The talosconfig comes from the stack's outputs
 * (`pulumi stack output --show-secrets talosconfig`) when the Pulumi CLI is on PATH, else from
 * `--talosconfig <file>`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { settingsSchema } from "../config/schema";
import { firstHealthyEtcd, type SavedSnapshot } from "../engines/backups";
import { routeAvoidingNode, talosOperations, type NodeRef, type TalosOperations } from "../engines/operations";
import { snapshotFiles } from "../engines/snapshotFiles";
import { connectTalos } from "../talosapi/client";
import { parseTalosconfig } from "../talosapi/credentials";
import { messageOf as errorText } from "../talosapi/errors";
import { findProject, stackConfig } from "./plan";

/** A refusal with one line to print and no stack. */
class SnapshotError extends Error {}

/** Runs the Pulumi CLI; undefined when it is not installed. */
export type PulumiRunner = (args: string[], cwd: string) => { status: number | null; stdout: string; stderr: string } | undefined;

const runPulumi: PulumiRunner = (args, cwd) => {
  const run = spawnSync("pulumi", args, { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  return { status: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "" };
};

export interface SnapshotOptions {
  cwd: string;
  stack?: string;
  talosconfig?: string;
  node?: string;
  pulumi?: PulumiRunner;
  now?: () => Date;
}

/** `<stack> [--talosconfig <file>] [--node <ip>]`. */
export function parseArgs(argv: string[], cwd: string): SnapshotOptions {
  const options: SnapshotOptions = { cwd };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--talosconfig" || flag === "--node") {
      const value = argv[++i];
      if (!value) throw new SnapshotError(`${flag} needs a value`);
      options[flag === "--node" ? "node" : "talosconfig"] = value;
    } else if (flag.startsWith("-")) {
      throw new SnapshotError(`unknown option ${flag}; usage: talos-proxmox-snapshot <stack> [--talosconfig <file>] [--node <ip>]`);
    } else if (options.stack === undefined) options.stack = flag;
    else throw new SnapshotError(`one stack only, got ${options.stack} and ${flag}`);
  }
  return options;
}

/** The talosconfig text: the file given, else the stack's output through the Pulumi CLI. */
function readTalosconfig(options: SnapshotOptions, stack: string, dir: string): string {
  if (options.talosconfig) {
    if (!fs.existsSync(options.talosconfig)) throw new SnapshotError(`--talosconfig ${options.talosconfig}: no such file`);
    return fs.readFileSync(options.talosconfig, "utf8");
  }
  const run = (options.pulumi ?? runPulumi)(["stack", "output", "--show-secrets", "talosconfig", "--stack", stack], dir);
  if (!run) {
    throw new SnapshotError("the Pulumi CLI is not on PATH, so the stack's talosconfig can't be read: pass --talosconfig <file> (a talosconfig with an os:admin, os:operator or os:etcd:backup certificate)");
  }
  if (run.status !== 0) {
    const reason = run.stderr.trim().split("\n").pop() || `exit code ${run.status}`;
    throw new SnapshotError(`pulumi stack output talosconfig --stack ${stack} failed: ${reason} (or pass --talosconfig <file>)`);
  }
  return run.stdout;
}

/** The stack's `backups` block (from its config file), defaults applied. */
function backupsOf(dir: string, stack: string): { dir: string; keep: number } {
  const project = findProject(dir);
  const values = stackConfig(project, stack).values;
  const raw = values["talos-proxmox:backups"] ?? values[`${project.name}:backups`];
  const parsed = settingsSchema.shape.backups.safeParse(raw === undefined ? undefined : JSON.parse(raw));
  if (!parsed.success) throw new SnapshotError(`backups in Pulumi.${stack}.yaml: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return { dir: path.resolve(project.dir, parsed.data.dir ?? `backups/${stack}`), keep: parsed.data.keep };
}

/** The first candidate whose etcd service is Running and healthy. */
async function healthySource(talos: TalosOperations, candidates: string[]): Promise<NodeRef> {
  const { source, problems } = await firstHealthyEtcd(talos, candidates.map((ip) => ({ name: ip, ip, role: "controlplane" as const })));
  if (source) return source;
  throw new SnapshotError(`no control plane with a healthy etcd to take the snapshot from (${problems.join("; ")})`);
}

/** Takes the snapshot; see the module comment. */
export async function snapshotNow(options: SnapshotOptions): Promise<SavedSnapshot & { from: string }> {
  const project = findProject(options.cwd);
  const stack = options.stack;
  if (!stack) throw new SnapshotError("usage: talos-proxmox-snapshot <stack> [--talosconfig <file>] [--node <ip>]");
  const backups = backupsOf(project.dir, stack);
  let context;
  try {
    context = parseTalosconfig(readTalosconfig(options, stack, project.dir));
  } catch (error) {
    throw error instanceof SnapshotError ? error : new SnapshotError(errorText(error));
  }
  if (context.endpoints.length === 0) throw new SnapshotError("the talosconfig lists no endpoints");
  const clients = context.endpoints.map((endpoint) => connectTalos({ endpoint, tls: context.tls }));
  try {
    const talos = talosOperations(routeAvoidingNode(clients));
    const candidates = options.node ? [options.node] : context.nodes.length > 0 ? context.nodes : clients.map((c) => c.host);
    const from = await healthySource(talos, candidates);
    const store = snapshotFiles({ dir: backups.dir, stack, keep: backups.keep, now: options.now });
    const saved = await store.save("manual", (write) => talos.etcdSnapshot(from, write));
    return { ...saved, from: from.ip };
  } finally {
    clients.forEach((c) => c.close());
  }
}

if (require.main === module) {
  (async () => snapshotNow(parseArgs(process.argv.slice(2), process.cwd())))().then(
    (saved) => {
      process.stdout.write(`etcd snapshot from ${saved.from} written to ${saved.path} (${saved.bytes} bytes); restore with talosctl bootstrap --recover-from=${saved.path}\n`);
    },
    (err: unknown) => {
      // One line, no stack: ours and the Talos API's messages name what went wrong.
      process.stderr.write(`talos-proxmox-snapshot: ${errorText(err)}\n`);
      process.exitCode = 1;
    },
  );
}
