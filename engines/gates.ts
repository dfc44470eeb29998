/**
 * etcd safety gates. Talos 1.13's LifecycleService checks nothing, so the client re-creates the
 * legacy Upgrade's guard: every member started and healthy, and never a two-member cluster.
 */
import { memberMatchesNode } from "../talosapi/etcd";
import { RolloutError, messageOf } from "../talosapi/errors";
import type { EtcdMember } from "../talosapi/messages";
import { serviceProblem } from "../talosapi/machine";
import type { NodeRef, TalosOperations } from "./operations";
import { pollUntil, type PollOptions } from "../talosapi/poll";

/** What the etcd check found. */
export interface EtcdReport {
  members: EtcdMember[];
  /** Empty when every member is started, a voter and healthy and matches a control plane. */
  problems: string[];
}

/**
 * Checks etcd across `controlPlanes`: the member list (asked of the first that answers), each
 * member started (non-empty name) and not a learner, each control plane's etcd service Running
 * and healthy with no errors in its status, members and control planes matching one to one.
 * `departing`: a dead control plane left out of `controlPlanes` whose member is expected in the list.
 */
export async function checkEtcd(talos: TalosOperations, controlPlanes: NodeRef[], options: { departing?: NodeRef } = {}): Promise<EtcdReport> {
  const problems: string[] = [];
  let members: EtcdMember[] | undefined;
  for (const via of controlPlanes) {
    try {
      members = await talos.etcdMembers(via);
      break;
    } catch (error) {
      problems.push(`member list via ${via.name}: ${messageOf(error)}`);
    }
  }
  if (!members) return { members: [], problems };
  const list = members;
  problems.length = 0; // an answer from any control plane is enough for the list
  for (const member of list) {
    if (!member.hostname) problems.push(`member ${member.id} has not started`);
    if (member.is_learner) problems.push(`member ${member.hostname || member.id} is a learner`);
    const departing = options.departing && memberMatchesNode(member, options.departing);
    if (member.hostname && !departing && !controlPlanes.some((cp) => memberMatchesNode(member, cp))) problems.push(`member ${member.hostname} is not a known control plane`);
  }
  await Promise.all(
    controlPlanes.map(async (cp) => {
      if (!list.some((m) => memberMatchesNode(m, cp))) problems.push(`${cp.name} is not an etcd member`);
      try {
        const problem = serviceProblem(await talos.services(cp), "etcd");
        if (problem) problems.push(`${cp.name}: ${problem}`);
        const status = await talos.etcdStatus(cp);
        if (status.errors.length > 0) problems.push(`${cp.name}: etcd reports ${status.errors.join("; ")}`);
      } catch (error) {
        problems.push(`${cp.name}: ${messageOf(error)}`);
      }
    }),
  );
  return { members: list, problems: problems.sort() };
}

/**
 * Refuses to take `node` (a control plane) down unless etcd is fully healthy and not at two
 * members (losing one of two loses quorum). A single-member cluster passes: the caller accepts
 * that etcd and the Kubernetes API are down during that node's reboot.
 * @returns the member count before the node goes down.
 */
export async function gateControlPlane(talos: TalosOperations, controlPlanes: NodeRef[], node: NodeRef): Promise<number> {
  const report = await checkEtcd(talos, controlPlanes);
  if (report.problems.length > 0) {
    throw new RolloutError(node.name, "etcd gate", "every etcd member started and healthy", report.problems.join("; "));
  }
  if (report.members.length === 2) {
    throw new RolloutError(node.name, "etcd gate", "a member count other than 2 (one of two members down loses quorum)", "2 members");
  }
  return report.members.length;
}

/** Waits until etcd is healthy again with `memberCount` members (after a control plane came back). */
export async function waitEtcdHealthy(
  talos: TalosOperations,
  controlPlanes: NodeRef[],
  node: NodeRef,
  memberCount: number,
  options: PollOptions,
): Promise<void> {
  await pollUntil(
    async () => {
      const report = await checkEtcd(talos, controlPlanes);
      if (report.problems.length > 0) return { done: false, reason: report.problems.join("; ") };
      if (report.members.length !== memberCount) return { done: false, reason: `${report.members.length} members` };
      return { done: true, value: undefined };
    },
    options,
    (last) => new RolloutError(node.name, "etcd after reboot", `${memberCount} healthy members`, last),
  );
}
