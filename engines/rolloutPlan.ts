/** The order of a rollout, as pure data for a preview: control planes one at a time, then workers in batches. */
import type { NodeRef } from "./operations";
import { sameVersion } from "../talosapi/versions";

/** One node in the plan. `from` is undefined when its version is not known. */
export interface PlannedNode {
  name: string;
  ip: string;
  role: NodeRef["role"];
  from: string | undefined;
  to: string;
}

/** Nodes handled together; control-plane steps always hold one node. */
export interface RolloutStep {
  index: number;
  role: NodeRef["role"];
  nodes: PlannedNode[];
}

export interface RolloutPlan {
  steps: RolloutStep[];
  /** Nodes already at the target (skipped; a rollout resumes past them). */
  upToDate: PlannedNode[];
}

/**
 * Orders a rollout: control planes one per step in the given order, then workers `batchSize` per
 * step. Nodes whose current version equals the target are left out (listed in `upToDate`).
 * @param currentVersions version tag per node name (missing = unknown, planned as an upgrade)
 * @param isDone whether a node is already on the target (default: its version equals the target)
 */
export function planRollout(
  nodes: NodeRef[],
  currentVersions: Readonly<Record<string, string | undefined>>,
  targetVersion: string,
  batchSize = 1,
  isDone: (node: PlannedNode) => boolean = (n) => n.from !== undefined && sameVersion(n.from, targetVersion),
): RolloutPlan {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`worker batch size must be a positive integer, got ${batchSize}`);
  const names = new Set<string>();
  for (const node of nodes) {
    if (names.has(node.name)) throw new Error(`node ${node.name} is listed twice`);
    names.add(node.name);
  }
  const planned = nodes.map((node): PlannedNode => ({ name: node.name, ip: node.ip, role: node.role, from: currentVersions[node.name], to: targetVersion }));
  const pending = planned.filter((n) => !isDone(n));
  const steps: RolloutStep[] = [];
  for (const node of pending.filter((n) => n.role === "controlplane")) steps.push({ index: steps.length, role: "controlplane", nodes: [node] });
  const workers = pending.filter((n) => n.role === "worker");
  for (let i = 0; i < workers.length; i += batchSize) steps.push({ index: steps.length, role: "worker", nodes: workers.slice(i, i + batchSize) });
  return { steps, upToDate: planned.filter((n) => !pending.includes(n)) };
}

/** One line per step, e.g. `1. cp-1 (controlplane) v1.12.11 → v1.13.9`, for logs and previews. */
export function describePlan(plan: RolloutPlan): string[] {
  return plan.steps.map(
    (step) => `${step.index + 1}. ${step.nodes.map((n) => `${n.name} (${n.role}) ${n.from ?? "unknown"} → ${n.to}`).join(", ")}`,
  );
}
