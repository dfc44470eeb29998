/**
 * The Talos API of the cluster the mock engine has built so far, for the health gate's own check:
 * every node booted, etcd and kubelet healthy, and the diagnostics Talos raises at that point
 * (talosDiagnostics in testkit/mocks.ts: `kubelet-csr` while serving CSRs wait for a CNI).
 */
import type { NodeRef, TalosOperations } from "../../engines/operations";
import type { EtcdMember, EtcdMemberStatus, ServiceInfo } from "../../talosapi/messages";
import { RecordingMocks, talosDiagnostics } from "../../testkit/mocks";

const healthy = (id: string): ServiceInfo => ({ id, state: "Running", health: { unknown: false, healthy: true, last_message: "" } });
const STATUS: EtcdMemberStatus = { protocol_version: "3.6", db_size: "1", db_size_in_use: "1", leader: "1", raft_index: "1", raft_term: "1", raft_applied_index: "1", errors: [], is_learner: false, member_id: "0", storage_version: "3.6.0" };

export function talosViewOfMocks(mocks: RecordingMocks, nodes: NodeRef[]): TalosOperations {
  const members: EtcdMember[] = nodes
    .filter((n) => n.role === "controlplane")
    .map((n, i) => ({ id: String(i + 1), hostname: n.name, peer_urls: [`https://${n.ip}:2380`], client_urls: [`https://${n.ip}:2379`], is_learner: false }));
  const unexpected = (what: string) => () => Promise.reject(new Error(`mock Talos view: ${what} is not part of a health check`));
  return {
    version: async () => "v1.13.9",
    bootId: async () => "boot",
    pullImage: unexpected("pullImage"),
    upgrade: unexpected("upgrade"),
    reboot: unexpected("reboot"),
    etcdSnapshot: unexpected("etcdSnapshot"),
    waitRebooted: unexpected("waitRebooted"),
    etcdMembers: async () => members,
    etcdStatus: async () => STATUS,
    services: async (node) => [healthy("apid"), healthy("kubelet"), ...(node.role === "controlplane" ? [healthy("etcd")] : [])],
    etcdLeave: unexpected("etcdLeave"),
    etcdRemoveMember: unexpected("etcdRemoveMember"),
    etcdForfeitLeadership: unexpected("etcdForfeitLeadership"),
    reset: unexpected("reset"),
    reachable: async () => true,
    machineConfig: unexpected("machineConfig"),
    applyConfig: unexpected("applyConfig"),
    resource: async (_node, kind, id) => (kind.type === "MachineStatuses.runtime.talos.dev" ? { id, version: "1", spec: { stage: "running", status: { ready: false } } } : undefined),
    listResources: async (_node, kind) =>
      kind.type === "Diagnostics.runtime.talos.dev" ? talosDiagnostics(mocks).map((d) => ({ id: d.id, version: "1", spec: { message: d.message, details: [] } })) : [],
  };
}
