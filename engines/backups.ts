/**
 * An etcd snapshot before each risky step (the first control plane of a Talos or Kubernetes
 * upgrade, a control plane's removal, rolled reboots of control planes), taken from a healthy
 * control plane other than the one about to change, into a {@link SnapshotStore}. A failed
 * snapshot stops the operation before it touches a node, unless the backup is not required.
 */
import { RolloutError, detailOf, messageOf } from "../talosapi/errors";
import { serviceProblem } from "../talosapi/machine";
import type { NodeRef, TalosOperations } from "./operations";
import type { RolloutPlan } from "./rolloutPlan";

/** A snapshot written in full. */
export interface SavedSnapshot {
  path: string;
  bytes: number;
}

/** Where snapshots go: `fill` streams the snapshot's bytes into `write`, in order. */
export interface SnapshotStore {
  save(reason: string, fill: (write: (chunk: Uint8Array) => void) => Promise<void>): Promise<SavedSnapshot>;
}

/** The backup a day-two operation takes first. */
export interface EtcdBackup {
  store: SnapshotStore;
  /** `backups.required`: when false, a failed snapshot is a warning and the operation goes on. */
  required: boolean;
  /** Tells the user where a snapshot went, or that none was taken (besides the progress events). */
  notify?: (message: string) => void;
}

/** What the snapshot step needs from the engine's dependencies. */
export interface BackupDeps {
  talos: TalosOperations;
  backup?: EtcdBackup;
  onEvent?: (event: { node: string; step: string; detail?: string }) => void;
}

/**
 * The control plane to snapshot from: the first other than `affected` whose etcd service is
 * Running and healthy; `affected` itself only when it is the only control plane (it is still
 * untouched when the snapshot is taken).
 */
export async function snapshotSource(talos: TalosOperations, controlPlanes: NodeRef[], affected: NodeRef): Promise<NodeRef> {
  const others = controlPlanes.filter((n) => n.name !== affected.name);
  if (others.length === 0) return affected;
  const { source, problems } = await firstHealthyEtcd(talos, others);
  if (source) return source;
  throw new Error(`no healthy control plane other than ${affected.name} to take it from (${problems.join("; ")})`);
}

/** The first of `candidates` whose etcd service is Running and healthy, or why none is (one entry each). */
export async function firstHealthyEtcd(talos: TalosOperations, candidates: NodeRef[]): Promise<{ source?: NodeRef; problems: string[] }> {
  const problems: string[] = [];
  for (const candidate of candidates) {
    try {
      const problem = serviceProblem(await talos.services(candidate), "etcd");
      if (!problem) return { source: candidate, problems };
      problems.push(`${candidate.name}: ${problem}`);
    } catch (error) {
      problems.push(`${candidate.name}: ${messageOf(error)}`);
    }
  }
  return { problems };
}

/**
 * Takes the snapshot named after `reason` before `affected` changes (nothing when the operation
 * has no backup configured). @throws RolloutError when it fails and the backup is required.
 */
export async function snapshotBefore(deps: BackupDeps, controlPlanes: NodeRef[], affected: NodeRef, reason: string): Promise<SavedSnapshot | undefined> {
  const backup = deps.backup;
  if (!backup) return undefined;
  const emit = (step: string, detail?: string) => deps.onEvent?.({ node: affected.name, step, detail });
  try {
    const from = await snapshotSource(deps.talos, controlPlanes, affected);
    const saved = await backup.store.save(reason, (write) => deps.talos.etcdSnapshot(from, write));
    emit("etcd snapshot saved", `${saved.path} (${saved.bytes} bytes, from ${from.name})`);
    backup.notify?.(`etcd snapshot before ${reason} written to ${saved.path} (from ${from.name})`);
    return saved;
  } catch (error) {
    const why = detailOf(error);
    if (backup.required) {
      throw new RolloutError(
        affected.name,
        "etcd snapshot before the change",
        "a complete snapshot written to backups.dir",
        `${why}. Nothing was changed; fix the cause, or set backups.required: false to go on without a snapshot`,
      );
    }
    emit("warning: no etcd snapshot", `${why} (backups.required is false: going on without one)`);
    backup.notify?.(`warning: no etcd snapshot before ${reason}: ${why} (backups.required is false: going on without one)`);
    return undefined;
  }
}

/**
 * Before a rollout plan touches its first control plane: the snapshot `<what>-<node>` (nothing
 * when the plan changes no control plane). Control planes come first in a plan, so this runs
 * before any node is touched.
 */
export async function snapshotBeforePlan(deps: BackupDeps, nodes: NodeRef[], plan: RolloutPlan, what: string): Promise<SavedSnapshot | undefined> {
  const first = plan.steps.find((step) => step.role === "controlplane")?.nodes[0];
  const affected = first && nodes.find((n) => n.name === first.name);
  if (!affected) return undefined;
  return snapshotBefore(deps, nodes.filter((n) => n.role === "controlplane"), affected, `${what}-${affected.name}`);
}
