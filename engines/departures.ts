/**
 * Which control planes an update takes out of etcd, read from the upgrade resource's old and new
 * inputs, and the refusals of what would cost quorum. Pure; the upgrade resource's check loads
 * it from the compiled task module at run time (preview included).
 */
import type { NodeRef } from "./operations";

/** A node's VM as the program plans it: the inputs whose change replaces it. */
export interface PlannedVm {
  host: string;
  /** Absent: Proxmox picks. */
  vmId?: number;
}

/**
 * Why a control plane's VM is replaced, or undefined when it is not: the only ForceNew inputs of
 * bpg's VM our config can change are the Proxmox node (node_name, `migrate` off) and the VM ID
 * (bpg/terraform-provider-proxmox v0.111.1 proxmoxtf/resource/vm/vm.go:1767-1790; the other
 * ForceNew fields, clone, amd_sev, a disk's file_id, the cloud-init type and file IDs, the TPM
 * version and EFI disk type, are never set by the program). Pure.
 */
export function vmReplacement(old: PlannedVm | undefined, next: PlannedVm | undefined): string | undefined {
  if (!old || !next) return undefined;
  if (old.host !== next.host) return `host ${old.host} → ${next.host}`;
  if (old.vmId !== next.vmId) return `vmId ${old.vmId ?? "auto"} → ${next.vmId ?? "auto"}`;
  return undefined;
}

type DepartureView = { nodes: NodeRef[]; vms?: Record<string, PlannedVm> };

/**
 * Control planes an update takes out of etcd: removed, or replaced (the engine deletes a replaced
 * VM's membership first, and independent replacement chains run in parallel: pulumi/pulumi
 * v3.248.0 step_generator.go:1939-2023, step_executor.go:55-58). More than one is refused: each
 * must leave etcd and its successor join before the next goes, or etcd loses quorum. Pure; `olds`
 * is empty on create.
 */
export function controlPlaneRemovalProblem(olds: Partial<DepartureView>, news: DepartureView): string | undefined {
  const isControlPlane = (name: string) => news.nodes.some((n) => n.name === name && n.role === "controlplane");
  const oldControlPlanes = (olds.nodes ?? []).filter((o) => o.role === "controlplane");
  const removed = removedControlPlanes(olds, news).map((o) => o.name);
  const replaced = oldControlPlanes
    .filter((o) => isControlPlane(o.name))
    .map((o) => ({ name: o.name, why: vmReplacement(olds.vms?.[o.name], news.vms?.[o.name]) }))
    .filter((r): r is { name: string; why: string } => r.why !== undefined);
  if (removed.length + replaced.length <= 1) return undefined;
  if (replaced.length === 0) {
    return (
      `removing ${removed.length} control planes (${removed.join(", ")}) in one update is refused: ` +
      `each must leave etcd before the next goes. Remove one control plane per pulumi up`
    );
  }
  const departures = [...removed.map((n) => `${n} removed`), ...replaced.map((r) => `${r.name} replaced: ${r.why}`)];
  return (
    `${removed.length > 0 ? "removing and replacing" : "replacing"} ${departures.length} control planes (${departures.join("; ")}) in one update is refused: ` +
    `the engine takes their VMs out at the same time and etcd would lose quorum. A control plane's VM is replaced when its ` +
    `nodes[].host (default proxmoxNode) or nodes[].vmId (default from vmIdBase) changes. Do one control plane per pulumi up: ` +
    `set host and vmId of the others to their current values (pulumi stack output nodes), then change them one per pulumi up` +
    (removed.length > 0 ? `, and remove a control plane in a pulumi up of its own` : "")
  );
}

/**
 * Removing the control plane a cluster without `vip` uses as its Kubernetes endpoint is refused:
 * the endpoint (`https://<first control plane>:6443`, config/validate.ts) would move to the next
 * control plane, so every node's config and the kubeconfig change in the same update that takes
 * the old one out of etcd. The way out is a VIP first. Pure; `olds` is empty on create.
 */
export function endpointRemovalProblem(olds: { nodes?: NodeRef[]; endpoint?: string }, news: { nodes: NodeRef[] }): string | undefined {
  if (!olds.endpoint || !olds.nodes) return undefined;
  const host = new URL(olds.endpoint).hostname;
  const endpointNode = olds.nodes.find((o) => o.role === "controlplane" && o.ip === host);
  if (!endpointNode || news.nodes.some((n) => n.name === endpointNode.name && n.role === "controlplane")) return undefined;
  return (
    `removing ${endpointNode.name} is refused: the cluster has no vip, so ${endpointNode.name} is its Kubernetes endpoint ` +
    `(${olds.endpoint}) and every node's config and the kubeconfig would move to another control plane while it leaves etcd. ` +
    `Set vip to a free address in the nodes' subnet in one pulumi up (the endpoint moves to it), then remove ${endpointNode.name} in the next`
  );
}


/**
 * A control plane removed while any node's VM is replaced in the same update is refused: a new
 * VM replaces its config apply and with it the health gate (`replaceWith`), and a replacement's
 * create hook gets no old inputs (pulumi/pulumi v3.248.0 pkg/resource/deploy/step.go:293-307), so
 * the gate could not tell that the removed control plane is still an etcd member and Talos's
 * check would fail until its timeout. Pure; `olds` is empty on create.
 */
export function removalWithReplacementProblem(olds: Partial<DepartureView>, news: DepartureView): string | undefined {
  const removed = removedControlPlanes(olds, news);
  const replaced = news.nodes.filter((n) => vmReplacement(olds.vms?.[n.name], news.vms?.[n.name]) !== undefined).map((n) => n.name);
  if (removed.length === 0 || replaced.length === 0) return undefined;
  return (
    `removing control plane ${removed.map((n) => n.name).join(", ")} while replacing the VM of ${replaced.join(", ")} in one update is refused: ` +
    `the health check would still see the removed control plane in etcd. Remove it in one pulumi up and change host or vmId in another`
  );
}

/**
 * A control plane removed in the same update as a Talos or Kubernetes upgrade: the upgrade runs
 * before the removal (the removal is a delete, and deletes of removed resources run after every
 * registration: pulumi/pulumi v3.248.0 deployment_executor.go:484-499), while the departing node is
 * still an etcd member that the upgrade's etcd gate does not expect, so it would refuse every
 * control plane. Refused in preview with the order to do them in. Pure.
 */
export function removalWithUpgradeProblem(
  olds: Partial<DepartureView> & { image?: string; targetVersion?: string; kubernetesVersion?: string },
  news: DepartureView & { image: string; targetVersion: string; kubernetesVersion?: string },
): string | undefined {
  const removed = removedControlPlanes(olds, news);
  const upgrading = olds.image !== undefined && (olds.image !== news.image || olds.targetVersion !== news.targetVersion);
  const kubernetes = olds.kubernetesVersion !== undefined && news.kubernetesVersion !== undefined && olds.kubernetesVersion !== news.kubernetesVersion;
  if (removed.length === 0 || (!upgrading && !kubernetes)) return undefined;
  return (
    `removing control plane ${removed.map((n) => n.name).join(", ")} in the same update as ${upgrading ? "a Talos upgrade" : "a Kubernetes upgrade"} is refused: ` +
    `the upgrade runs first, while the leaving node is still in etcd, and its etcd gate would stop it. Remove the node in one pulumi up and upgrade in the next`
  );
}

/**
 * A node whose role changes under the same name is refused. The program takes a node out of the
 * cluster (drain, leave etcd, reset) only when its membership is deleted, and a membership is
 * kept, not replaced, when only the role changes (resources/talosMember.ts diff): a control plane
 * made a worker would stay an etcd member. The reverse is refused alike: remove and add is the
 * one path tested for both roles. Pure; `olds` is empty on create.
 */
export function roleChangeProblem(olds: { nodes?: NodeRef[] }, news: { nodes: NodeRef[] }): string | undefined {
  const changes = news.nodes.flatMap((n) => (olds.nodes ?? []).filter((o) => o.name === n.name && o.role !== n.role).map((o) => ({ name: n.name, from: o.role, to: n.role })));
  if (changes.length === 0) return undefined;
  const listed = changes.map((c) => `${c.name} (${c.from} → ${c.to})`).join(", ");
  return (
    `changing the role of ${listed} is refused: the program takes a node out of the cluster only when it is removed, so its etcd membership ` +
    `would not follow the new role. Remove the node in one pulumi up (it leaves the cluster gracefully), then add it back with its new role in the next`
  );
}

/** The control planes of `olds` that are no control plane of `news` (removed, or made workers). Pure. */
function removedControlPlanes(olds: { nodes?: NodeRef[] }, news: { nodes: NodeRef[] }): NodeRef[] {
  return (olds.nodes ?? []).filter((o) => o.role === "controlplane" && !news.nodes.some((n) => n.name === o.name && n.role === "controlplane"));
}
