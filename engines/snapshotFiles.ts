/**
 * The {@link SnapshotStore} on the local file system: `<dir>/<stack>-<UTC time>-<reason>.db`,
 * written to a hidden `.part` file (mode 0600, in a directory created 0700: a snapshot holds every
 * Kubernetes secret), checked against etcd's integrity hash, fsynced and renamed; then only the
 * newest `keep` snapshots of the stack stay. The clock is injected so tests are deterministic.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SnapshotIntegrity } from "../talosapi/snapshot";
import type { EtcdBackup, SavedSnapshot, SnapshotStore } from "./backups";

export interface SnapshotFilesOptions {
  /** Directory of the snapshots (relative paths resolve against the working directory). */
  dir: string;
  stack: string;
  /** How many of the stack's snapshots to keep (newest first). */
  keep: number;
  now?: () => Date;
}

/** `20261202T143000Z`: UTC, sorts as it reads. Pure. */
export function utcStamp(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[.-]+/, "");

/** `dev-20261202T143000Z-upgrade-cp-1.db`. Pure. */
export function snapshotFileName(stack: string, at: Date, reason: string): string {
  return `${safe(stack)}-${utcStamp(at)}-${safe(reason)}.db`;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Of the file names in a directory, the stack's snapshots beyond the newest `keep`. Pure. */
export function snapshotsToPrune(names: string[], stack: string, keep: number): string[] {
  const pattern = new RegExp(`^${escape(safe(stack))}-\\d{8}T\\d{6}Z-.*\\.db$`);
  const ours = names.filter((n) => pattern.test(n)).sort();
  return ours.slice(0, Math.max(0, ours.length - keep));
}

function freeName(dir: string, name: string): string {
  let candidate = name;
  for (let n = 2; fs.existsSync(path.join(dir, candidate)); n++) candidate = name.replace(/\.db$/, `-${n}.db`);
  return candidate;
}

function writeAll(fd: number, chunk: Uint8Array): void {
  for (let offset = 0; offset < chunk.length; ) offset += fs.writeSync(fd, chunk, offset);
}

/** Creates `dir` (mode 0700) unless it exists; an existing directory keeps its mode. */
function ensureDir(dir: string): void {
  if (fs.existsSync(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/** The store; see the module comment. */
export function snapshotFiles(options: SnapshotFilesOptions): SnapshotStore {
  const now = options.now ?? (() => new Date());
  return {
    async save(reason, fill): Promise<SavedSnapshot> {
      const dir = path.resolve(options.dir);
      ensureDir(dir);
      const name = freeName(dir, snapshotFileName(options.stack, now(), reason));
      const temp = path.join(dir, `.${name}.part`);
      const integrity = new SnapshotIntegrity();
      const fd = fs.openSync(temp, "wx", 0o600);
      let open = true;
      try {
        fs.fchmodSync(fd, 0o600);
        await fill((chunk) => {
          writeAll(fd, chunk);
          integrity.update(chunk);
        });
        const problem = integrity.problem();
        if (problem) throw new Error(problem);
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        open = false;
        const final = path.join(dir, name);
        fs.renameSync(temp, final);
        for (const old of snapshotsToPrune(fs.readdirSync(dir), options.stack, options.keep)) fs.rmSync(path.join(dir, old), { force: true });
        return { path: final, bytes: integrity.bytes };
      } catch (error) {
        if (open) fs.closeSync(fd);
        fs.rmSync(temp, { force: true });
        throw error;
      }
    },
  };
}

/** `backups` of the stack config, as the resources pass it to the tasks. */
export interface BackupSettings {
  /** Relative to the working directory, which is the program's directory for the provider host. */
  dir: string;
  stack: string;
  keep: number;
  required: boolean;
}

/**
 * The backup the engines take first, as files under `settings.dir`; none without settings. Its
 * messages go to stderr, which the engine shows for a dynamic provider's host (pulumi/pulumi
 * v3.248.0 sdk/go/common/resource/plugin/plugin.go:349-358, `Infoerrf`).
 */
export function etcdBackup(
  settings: BackupSettings | undefined,
  now?: () => Date,
  notify: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
): EtcdBackup | undefined {
  if (!settings) return undefined;
  return { required: settings.required, notify, store: snapshotFiles({ dir: settings.dir, stack: settings.stack, keep: settings.keep, now }) };
}
