/** etcd operations (control planes only). Member ids are uint64 decimal strings. */
import type { TalosClient } from "./client";
import { TalosApiError } from "./errors";
import type { EtcdMember, EtcdMemberStatus } from "./messages";
import type { OpOptions } from "./machine";

/** Members of the etcd cluster as `node` sees them (`queryLocal`: its local member's view). */
export async function etcdMemberList(client: TalosClient, node: string, options?: OpOptions & { queryLocal?: boolean }): Promise<EtcdMember[]> {
  const reply = await client.unary(
    "MachineService/EtcdMemberList",
    { query_local: options?.queryLocal ?? false },
    { node, operation: "etcd member list", timeoutMs: options?.timeoutMs },
  );
  if (reply.messages.length !== 1) throw new TalosApiError("etcd member list", node, `expected one reply, got ${reply.messages.length}`);
  return reply.messages[0].members;
}

/** Status of `node`'s own etcd member (leader, errors, learner flag, ...). */
export async function etcdStatus(client: TalosClient, node: string, options?: OpOptions): Promise<EtcdMemberStatus> {
  const reply = await client.unary("MachineService/EtcdStatus", {}, { node, operation: "etcd status", timeoutMs: options?.timeoutMs });
  const status = reply.messages[0]?.member_status;
  if (!status) throw new TalosApiError("etcd status", node, "reply has no member status");
  return status;
}

/** Makes `node` leave etcd (run on the leaving node; it stops etcd and deletes its data). */
export async function etcdLeaveCluster(client: TalosClient, node: string, options?: OpOptions): Promise<void> {
  await client.unary("MachineService/EtcdLeaveCluster", {}, { node, operation: "etcd leave cluster", timeoutMs: options?.timeoutMs });
}

/** Removes a member that has no live node, asking another control plane (`via`). */
export async function etcdRemoveMemberById(client: TalosClient, via: string, memberId: string, options?: OpOptions): Promise<void> {
  if (!/^\d+$/.test(memberId)) throw new TalosApiError("etcd remove member", via, "member id must be a decimal uint64");
  await client.unary(
    "MachineService/EtcdRemoveMemberByID",
    { member_id: memberId },
    { node: via, operation: `etcd remove member ${memberId}`, timeoutMs: options?.timeoutMs },
  );
}

/** Moves etcd leadership away from `node`; returns the new leader's name as Talos reports it. */
export async function etcdForfeitLeadership(client: TalosClient, node: string, options?: OpOptions): Promise<string> {
  const reply = await client.unary("MachineService/EtcdForfeitLeadership", {}, { node, operation: "etcd forfeit leadership", timeoutMs: options?.timeoutMs });
  return reply.messages[0]?.member ?? "";
}

/** Whether an etcd member belongs to a node: same hostname, or a peer URL on its IP. */
export function memberMatchesNode(member: EtcdMember, node: { name: string; ip: string }): boolean {
  if (member.hostname === node.name) return true;
  return member.peer_urls.some((url) => {
    try {
      return new URL(url).hostname.replace(/^\[|\]$/g, "") === node.ip;
    } catch {
      return false;
    }
  });
}
