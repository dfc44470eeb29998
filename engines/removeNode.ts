/**
 * Scale-down of one node. Worker: drain, graceful reset, delete the Node. Control plane: refuse
 * unless etcd stays quorate, then drain, leave etcd (or, for a dead node, remove its member by id
 * through another control plane), reset, delete the Node. Deleting the VM is the caller's.
 */
import { memberMatchesNode } from "../talosapi/etcd";
import { RolloutError } from "../talosapi/errors";
import { snapshotBefore } from "./backups";
import { checkEtcd } from "./gates";
import type { NodeRef } from "./operations";
import type { RolloutDeps } from "./rollout";

export interface RemoveNodeInput {
  /** Every node of the cluster, including the one to remove. */
  nodes: NodeRef[];
  /** Name of the node to remove. */
  node: string;
  /**
   * Skip the reachability probe and treat the node as dead (drain and reset skipped; a control
   * plane's member is removed by id). Use it for a node that answers but is broken.
   */
  assumeUnreachable?: boolean;
  /**
   * What the caller remembers of earlier removals from this cluster in the same update: given the
   * etcd member count now, the count at the update's first control-plane removal, or undefined
   * when this is the first (its count is then recorded). A later removal must leave at least
   * that count's quorum: replacement chains run in parallel, so a second control plane can reach
   * its removal before the first one's successor joined.
   */
  membersAtFirstRemoval?: (membersNow: number) => number | undefined;
}

export interface RemoveNodeResult {
  node: string;
  /** Whether the node answered (drain + reset ran) or was handled as dead. */
  reachable: boolean;
  /** The etcd member id removed by id (dead control plane only). */
  removedMemberId?: string;
}

/** Removes one node; see the module comment for the steps. */
export async function removeNode(input: RemoveNodeInput, deps: RolloutDeps): Promise<RemoveNodeResult> {
  const node = input.nodes.find((n) => n.name === input.node);
  if (!node) throw new Error(`node ${input.node} is not in the node list`);
  const emit = (step: string, detail?: string) => deps.onEvent?.({ node: node.name, step, detail });
  const reachable = input.assumeUnreachable ? false : await deps.talos.reachable(node);
  emit(reachable ? "reachable" : "unreachable");
  let removedMemberId: string | undefined;
  if (node.role === "controlplane") removedMemberId = await leaveEtcd(input, node, reachable, deps);
  else if (reachable) await deps.kube.drain(node.name);
  if (reachable) {
    await deps.talos.reset(node);
    emit("reset");
  }
  await deps.kube.deleteNode(node.name);
  emit("node deleted");
  return { node: node.name, reachable, removedMemberId };
}

/** Control-plane part: quorum check, drain, leave or remove the member, verify it is gone. */
async function leaveEtcd(input: RemoveNodeInput, node: NodeRef, reachable: boolean, deps: RolloutDeps): Promise<string | undefined> {
  const { talos } = deps;
  const nodes = input.nodes;
  const others = nodes.filter((n) => n.role === "controlplane" && n.name !== node.name);
  if (others.length === 0) throw new RolloutError(node.name, "remove control plane", "at least one other control plane", "none (it is the last)");
  // From another control plane (the departing one may be dead), before anything changes.
  await snapshotBefore(deps, [...others, node], node, `remove-${node.name}`);
  const report = reachable ? await checkEtcd(talos, [...others, node]) : await checkEtcd(talos, others, { departing: node });
  const member = report.members.find((m) => memberMatchesNode(m, node));
  // First: after an earlier removal of this update, the departed node's absence is a problem too, but quorum is the reason.
  const floor = report.members.length > 0 ? updateQuorumProblem(input, report.members.length, member !== undefined) : undefined;
  if (floor) throw new RolloutError(node.name, "remove control plane", floor.expected, floor.seen);
  if (report.problems.length > 0) {
    throw new RolloutError(node.name, "remove control plane", "every etcd member started and healthy", report.problems.join("; "));
  }
  const quorum = Math.floor(report.members.length / 2) + 1;
  const alive = reachable ? report.members.length : report.members.length - (member ? 1 : 0);
  if (alive < quorum) {
    throw new RolloutError(node.name, "remove control plane", `at least ${quorum} live etcd members`, `${alive} of ${report.members.length}`);
  }
  let removedMemberId: string | undefined;
  if (reachable) {
    await deps.kube.drain(node.name);
    const status = await talos.etcdStatus(node);
    if (status.leader !== "0" && status.leader === status.member_id) await talos.etcdForfeitLeadership(node);
    await talos.etcdLeave(node);
    deps.onEvent?.({ node: node.name, step: "left etcd" });
  } else if (member) {
    await talos.etcdRemoveMember(others[0], member.id);
    removedMemberId = member.id;
    deps.onEvent?.({ node: node.name, step: "etcd member removed", detail: member.id });
  }
  const after = await talos.etcdMembers(others[0]);
  if (after.some((m) => memberMatchesNode(m, node))) {
    throw new RolloutError(node.name, "remove control plane", "no etcd member for the node", "its member is still listed");
  }
  return removedMemberId;
}

/**
 * A second removal in one update must leave the quorum of the etcd the update started with, not
 * of what is left now: 3 → 2 → 1 passes a check against the current members each time.
 */
function updateQuorumProblem(input: RemoveNodeInput, membersNow: number, isMember: boolean): { expected: string; seen: string } | undefined {
  const atStart = input.membersAtFirstRemoval?.(membersNow);
  if (atStart === undefined) return undefined;
  const quorum = Math.floor(atStart / 2) + 1;
  const left = membersNow - (isMember ? 1 : 0);
  if (left >= quorum) return undefined;
  return {
    expected: `at least ${quorum} etcd members left (the quorum of the ${atStart} this update started with)`,
    seen: `${left} after this removal, another control plane having left in this update; remove or replace one control plane per pulumi up`,
  };
}
