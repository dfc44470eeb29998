/**
 * The operations a rollout or removal needs, as an interface the engine is written against, and
 * their implementations over a Talos client and a Kubernetes API. Tests swap in fakes.
 */
import type { TalosClient } from "../talosapi/client";
import { etcdForfeitLeadership, etcdLeaveCluster, etcdMemberList, etcdRemoveMemberById, etcdStatus } from "../talosapi/etcd";
import { isUnreachable, labelNode } from "../talosapi/errors";
import { pullImage, upgradeNode, type TalosApiGeneration } from "../talosapi/image";
import { drainNode, uncordon, waitKubeletVersion, waitNodeReady, waitStaticPod, deleteNode, type KubeApi, type KubeObject } from "./kube";
import { getMachineConfig, getResource, listResources, type ResourceKind, type TalosResource } from "../talosapi/cosi";
import { applyConfiguration, getVersion, listServices, reboot, resetGraceful } from "../talosapi/machine";
import { syncManifests, type SyncMode } from "./manifests";
import type { ContainerdNamespace, EtcdMember, EtcdMemberStatus, ServiceInfo } from "../talosapi/messages";
import { streamEtcdSnapshot } from "../talosapi/snapshot";
import { tryGetBootId, waitUntilDown, waitUntilRebooted } from "../talosapi/wait";

/** A cluster node: Kubernetes/Talos hostname, address the Talos API routes to, and role. */
export interface NodeRef {
  name: string;
  ip: string;
  role: "controlplane" | "worker";
}

/** Time limits of one rollout or removal (milliseconds). */
export interface RolloutTimeouts {
  /** One ordinary API call (default 30 s). */
  callMs: number;
  /** Image pull (default 10 min). */
  pullMs: number;
  /** Installer run (default 15 min). */
  upgradeMs: number;
  /** From reboot until the node answers with a new boot id (default 15 min). */
  rebootMs: number;
  /** Kubernetes drain (default 5 min). */
  drainMs: number;
  /** Pause between evictions a PodDisruptionBudget blocks (default 5 s). */
  drainRetryMs: number;
  /** Node Ready after the reboot (default 10 min). */
  nodeReadyMs: number;
  /** etcd healthy again after a control plane rebooted (default 5 min). */
  etcdHealthyMs: number;
  /** Reset until the node stops answering (default 10 min). */
  resetMs: number;
  /** First and longest pause between polls (default 1 s and 10 s). */
  pollInitialMs: number;
  pollMaxMs: number;
  /** A Talos resource (static pod config, manifests) catching up with an applied config (default 2 min). */
  configMs: number;
  /** A control-plane static pod running from the new config and Ready (default 5 min, like talosctl). */
  staticPodMs: number;
  /** The Node reporting the new kubelet version and Ready (default 5 min). */
  kubeletMs: number;
  /** Synced DaemonSets and Deployments rolled out (default 5 min, like talosctl). */
  manifestsMs: number;
  /** An etcd snapshot streamed in full (default 10 min). */
  snapshotMs: number;
}

/** Production defaults for {@link RolloutTimeouts}. */
export const DEFAULT_TIMEOUTS: RolloutTimeouts = {
  callMs: 30_000,
  pullMs: 10 * 60_000,
  upgradeMs: 15 * 60_000,
  rebootMs: 15 * 60_000,
  drainMs: 5 * 60_000,
  drainRetryMs: 5_000,
  nodeReadyMs: 10 * 60_000,
  etcdHealthyMs: 5 * 60_000,
  resetMs: 10 * 60_000,
  pollInitialMs: 1_000,
  pollMaxMs: 10_000,
  configMs: 2 * 60_000,
  staticPodMs: 5 * 60_000,
  kubeletMs: 5 * 60_000,
  manifestsMs: 5 * 60_000,
  snapshotMs: 10 * 60_000,
};

/** Defaults overridden by whatever is given. */
export function rolloutTimeouts(overrides: Partial<RolloutTimeouts> = {}): RolloutTimeouts {
  return { ...DEFAULT_TIMEOUTS, ...overrides };
}

/** Talos-side operations, each on one node. */
export interface TalosOperations {
  version(node: NodeRef): Promise<string>;
  /** Undefined when the boot id cannot be read (no admin role). */
  bootId(node: NodeRef): Promise<string | undefined>;
  /** Into the system store (installer, kubelet) unless `namespace` says `NS_CRI` (static pod images). */
  pullImage(node: NodeRef, image: string, namespace?: ContainerdNamespace): Promise<void>;
  /** `lifecycle`: installed, needs drain + reboot; `legacy`: the node drains and reboots itself. */
  upgrade(node: NodeRef, image: string, fromVersion: string): Promise<TalosApiGeneration>;
  reboot(node: NodeRef): Promise<void>;
  waitRebooted(node: NodeRef, previousBootId: string | undefined): Promise<void>;
  etcdMembers(via: NodeRef): Promise<EtcdMember[]>;
  etcdStatus(node: NodeRef): Promise<EtcdMemberStatus>;
  services(node: NodeRef): Promise<ServiceInfo[]>;
  etcdLeave(node: NodeRef): Promise<void>;
  etcdRemoveMember(via: NodeRef, memberId: string): Promise<void>;
  etcdForfeitLeadership(node: NodeRef): Promise<void>;
  /** Graceful reset (wipe STATE and EPHEMERAL, power off), then wait until the node is down. */
  reset(node: NodeRef): Promise<void>;
  /** False when Version fails with "not answering" (UNAVAILABLE, deadline). */
  reachable(node: NodeRef): Promise<boolean>;
  /** The running machine config (secret). */
  machineConfig(node: NodeRef): Promise<string>;
  /** Applies a whole machine config without a reboot (what `talosctl upgrade-k8s` does per field). */
  applyConfig(node: NodeRef, configYaml: string): Promise<void>;
  /** A Talos resource, or undefined when the node has none with that id. */
  resource(node: NodeRef, kind: ResourceKind, id: string): Promise<TalosResource | undefined>;
  listResources(node: NodeRef, kind: ResourceKind): Promise<TalosResource[]>;
  /** Streams `from`'s etcd snapshot (a control plane) into `write`, chunk by chunk, in order. */
  etcdSnapshot(from: NodeRef, write: (chunk: Uint8Array) => void): Promise<void>;
}

/** Kubernetes-side operations, by Node name. */
export interface KubeOperations {
  drain(nodeName: string): Promise<void>;
  uncordon(nodeName: string): Promise<void>;
  /** True when the Node is marked unschedulable (false when there is no such Node). */
  isCordoned(nodeName: string): Promise<boolean>;
  waitReady(nodeName: string): Promise<void>;
  deleteNode(nodeName: string): Promise<void>;
  /** Waits until `service`'s static pod on the node runs from Talos config version `configVersion` and is Ready. */
  waitStaticPod(service: string, node: NodeRef, configVersion: string): Promise<void>;
  /** Waits until the Node reports kubelet `version` (`v1.36.4`) and is Ready. */
  waitKubelet(nodeName: string, version: string): Promise<void>;
  /** How many objects a list of `apiPath` returns (0 when the API is not served). */
  countObjects(apiPath: string): Promise<number>;
  /** Writes the bootstrap manifests and waits for their workloads to roll out. */
  syncManifests(objects: KubeObject[], mode: SyncMode): Promise<string[]>;
}

/** Picks the connection for calls about a node. */
export type TalosRoute = (node: NodeRef) => TalosClient;

/**
 * Routes every call through the first client whose endpoint is not the node itself, so a
 * rebooting control plane is reached through another one; the only client when there is one.
 */
export function routeAvoidingNode(clients: TalosClient[]): TalosRoute {
  if (clients.length === 0) throw new Error("routeAvoidingNode needs at least one Talos client");
  return (node) => clients.find((client) => client.host !== node.ip && client.host !== node.name) ?? clients[0];
}

/** {@link TalosOperations} over real Talos API clients. */
export function talosOperations(route: TalosRoute, overrides: Partial<RolloutTimeouts> = {}): TalosOperations {
  const t = rolloutTimeouts(overrides);
  const call = { timeoutMs: t.callMs };
  const poll = { initialDelayMs: t.pollInitialMs, maxDelayMs: t.pollMaxMs, callTimeoutMs: Math.min(t.callMs, 10_000) };
  // Calls address nodes by IP; errors name them as "name (ip)".
  const on = <T>(node: NodeRef, work: (client: TalosClient, address: string) => Promise<T>) => labelNode(node.name, node.ip, () => work(route(node), node.ip));
  return {
    version: (node) => on(node, (c, ip) => getVersion(c, ip, call)),
    bootId: (node) => on(node, (c, ip) => tryGetBootId(c, ip, call)),
    pullImage: async (node, image, namespace) => {
      await on(node, (c, ip) => pullImage(c, ip, image, { timeoutMs: t.pullMs, namespace }));
    },
    upgrade: (node, image, fromVersion) => on(node, (c, ip) => upgradeNode(c, ip, image, fromVersion, { timeoutMs: t.upgradeMs })),
    reboot: async (node) => {
      await on(node, (c, ip) => reboot(c, ip, call));
    },
    waitRebooted: async (node, previousBootId) => {
      await on(node, (c, ip) => waitUntilRebooted(c, ip, previousBootId, { timeoutMs: t.rebootMs, ...poll }));
    },
    etcdMembers: (via) => on(via, (c, ip) => etcdMemberList(c, ip, call)),
    etcdStatus: (node) => on(node, (c, ip) => etcdStatus(c, ip, call)),
    services: (node) => on(node, (c, ip) => listServices(c, ip, call)),
    // Leaving retries internally while etcd is unhealthy (up to 5 minutes on the node).
    etcdLeave: (node) => on(node, (c, ip) => etcdLeaveCluster(c, ip, { timeoutMs: Math.max(t.callMs, 5 * 60_000) })),
    etcdRemoveMember: (via, memberId) => on(via, (c, ip) => etcdRemoveMemberById(c, ip, memberId, call)),
    etcdForfeitLeadership: async (node) => {
      await on(node, (c, ip) => etcdForfeitLeadership(c, ip, call));
    },
    reset: async (node) => {
      await on(node, async (c, ip) => {
        await resetGraceful(c, ip, call);
        await waitUntilDown(c, ip, { timeoutMs: t.resetMs, ...poll });
      });
    },
    reachable: async (node) => {
      try {
        await getVersion(route(node), node.ip, call);
        return true;
      } catch (error) {
        if (isUnreachable(error)) return false;
        throw error;
      }
    },
    machineConfig: (node) => on(node, (c, ip) => getMachineConfig(c, ip, call)),
    applyConfig: async (node, configYaml) => {
      await on(node, (c, ip) => applyConfiguration(c, ip, configYaml, { ...call, mode: "NO_REBOOT" }));
    },
    resource: (node, kind, id) => on(node, (c, ip) => getResource(c, ip, kind, id, call)),
    listResources: (node, kind) => on(node, (c, ip) => listResources(c, ip, kind, call)),
    etcdSnapshot: (from, write) => on(from, (c, ip) => streamEtcdSnapshot(c, ip, write, { timeoutMs: t.snapshotMs })),
  };
}

/** {@link KubeOperations} over a {@link KubeApi}. */
export function kubeOperations(kube: KubeApi, overrides: Partial<RolloutTimeouts> = {}): KubeOperations {
  const t = rolloutTimeouts(overrides);
  return {
    drain: async (nodeName) => {
      await drainNode(kube, nodeName, { timeoutMs: t.drainMs, retryDelayMs: t.drainRetryMs, pollDelayMs: t.pollInitialMs });
    },
    uncordon: (nodeName) => uncordon(kube, nodeName),
    isCordoned: async (nodeName) => (await kube.getNode(nodeName))?.unschedulable === true,
    countObjects: async (apiPath) => {
      const items = (await kube.getObject(apiPath))?.items;
      return Array.isArray(items) ? items.length : 0;
    },
    waitReady: (nodeName) => waitNodeReady(kube, nodeName, { timeoutMs: t.nodeReadyMs, pollDelayMs: t.pollInitialMs }),
    deleteNode: (nodeName) => deleteNode(kube, nodeName),
    waitStaticPod: (service, node, configVersion) => waitStaticPod(kube, service, node.ip, configVersion, { timeoutMs: t.staticPodMs, pollDelayMs: t.pollInitialMs }),
    waitKubelet: (nodeName, version) => waitKubeletVersion(kube, nodeName, version, { timeoutMs: t.kubeletMs, pollDelayMs: t.pollInitialMs }),
    syncManifests: (objects, mode) => syncManifests(kube, objects, { mode, rolloutTimeoutMs: t.manifestsMs, pollDelayMs: t.pollInitialMs }),
  };
}
