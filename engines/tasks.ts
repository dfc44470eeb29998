/**
 * The cluster-wide tasks the Pulumi upgrade resource runs (resources/talosUpgrade.ts loads this
 * module at run time, from the compiled package): connect with the cluster's client credentials,
 * roll a Talos or Kubernetes upgrade, read every node's version, remove a node, roll reboots.
 * Plain data in and out; nothing of Pulumi.
 */
import { createHash } from "node:crypto";
import { connectTalos, type TalosClient } from "../talosapi/client";
import { tlsFromClientConfiguration, type TalosClientConfiguration } from "../talosapi/credentials";
import { isUnreachable } from "../talosapi/errors";
import { kubeApiFromKubeconfig } from "./kubeHttp";
import { etcdBackup, type BackupSettings } from "./snapshotFiles";
import { getKubeconfig, getVersion } from "../talosapi/machine";
import { kubeOperations, routeAvoidingNode, rolloutTimeouts, talosOperations, type NodeRef, type RolloutTimeouts, type TalosOperations } from "./operations";
import { upgradeKubernetes, type KubernetesImages, type KubernetesUpgradeResult } from "./kubernetesUpgrade";
import { removeNode, type RemoveNodeResult } from "./removeNode";
import { diskChangeProblem, volumesAttachedTo, volumesOfDriver, volumesRemovalProblem } from "./volumes";
import type { KubeApi } from "./kube";

export { controlPlaneRemovalProblem, endpointRemovalProblem, removalWithReplacementProblem, removalWithUpgradeProblem, roleChangeProblem } from "./departures";
import { rolledReboot, rollout, type RolloutDeps, type RolloutEvent } from "./rollout";
import { proxmoxOperations, type VmRef } from "./proxmoxReboot";
import type { ProxmoxApiConnection } from "../proxmoxapi";

// The upgrade resource's check loads these from here (resources/talosUpgrade.ts versionFailures).
export { compatibilityFailures } from "./kubernetesChecks";
export { readPendingChanges } from "./proxmoxReboot";

/** How to reach the cluster: its client credentials and the control-plane endpoints. */
export interface ClusterAccess {
  clientConfiguration: TalosClientConfiguration;
  /** Talos API endpoints, the control-plane IPs (never the VIP), port 50000 unless given. */
  endpoints: string[];
  nodes: NodeRef[];
  timeouts?: Partial<RolloutTimeouts>;
  /** Where the etcd snapshot before a risky step goes (engines/backups.ts); none taken when absent. */
  backups?: BackupSettings;
}

export type { BackupSettings };

export interface UpgradeTaskInput extends ClusterAccess {
  image: string;
  targetVersion: string;
  workerBatchSize: number;
  reinstall: boolean;
}

export interface UpgradeTaskResult {
  /** Talos version per node after the rollout. */
  versions: Record<string, string>;
  upgraded: string[];
  skipped: string[];
}

/**
 * One provider process serves every call of an update, and the engine runs independent
 * replacement chains at the same time (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/dynamic-provider
 * index.ts:59-72, pkg/resource/deploy/step_executor.go:55-58), while this module is loaded once
 * per process. So it keeps, per cluster (its Talos CA), the tail of a queue: removals, upgrades
 * and reboots of one cluster run one after the other, in the order they were called.
 */
const clusterQueues = new Map<string, Promise<unknown>>();
/** The etcd member count at the first control-plane removal of each cluster in this process (one update). */
const etcdAtFirstRemoval = new Map<string, number>();

/** The cluster a call is about: the hash of its Talos CA certificate, the same in every resource's state. */
function clusterKey(access: Pick<ClusterAccess, "clientConfiguration">): string {
  return createHash("sha256").update(access.clientConfiguration.caCertificate).digest("hex");
}

/** Runs `task` once every task called earlier for the same cluster has settled. */
async function oneAtATime<T>(access: Pick<ClusterAccess, "clientConfiguration">, task: () => Promise<T>): Promise<T> {
  const key = clusterKey(access);
  const result = (clusterQueues.get(key) ?? Promise.resolve()).then(task, task);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  clusterQueues.set(key, tail);
  try {
    return await result;
  } finally {
    if (clusterQueues.get(key) === tail) clusterQueues.delete(key);
  }
}

/**
 * The real operations over the cluster: Talos through the endpoints, Kubernetes through a control
 * plane's kubeconfig (from one other than `avoid`, a node that may be down).
 */
export async function connectCluster(access: ClusterAccess, avoid?: string): Promise<{ deps: RolloutDeps; close(): void }> {
  const tls = tlsFromClientConfiguration(access.clientConfiguration);
  const clients: TalosClient[] = access.endpoints.map((endpoint) => connectTalos({ endpoint, tls }));
  try {
    const controlPlanes = access.nodes.filter((n) => n.role === "controlplane");
    const controlPlane = controlPlanes.find((n) => n.name !== avoid) ?? controlPlanes[0];
    if (!controlPlane) throw new Error("the node list has no control plane");
    const kubeconfig = await getKubeconfig(clients[0], controlPlane.ip);
    const deps: RolloutDeps = {
      talos: talosOperations(routeAvoidingNode(clients), access.timeouts),
      kube: kubeOperations(kubeApiFromKubeconfig(kubeconfig), access.timeouts),
      backup: etcdBackup(access.backups),
    };
    return { deps, close: () => clients.forEach((c) => c.close()) };
  } catch (error) {
    clients.forEach((c) => c.close());
    throw error;
  }
}

/** Talos operations through the endpoints, no Kubernetes (the health gate runs before the API server may be up). */
export function connectTalosOperations(access: ClusterAccess): { talos: TalosOperations; close(): void } {
  const tls = tlsFromClientConfiguration(access.clientConfiguration);
  const clients = access.endpoints.map((endpoint) => connectTalos({ endpoint, tls }));
  return { talos: talosOperations(routeAvoidingNode(clients), access.timeouts), close: () => clients.forEach((c) => c.close()) };
}

/** Rolls the upgrade (see `rollout`), then reads back every node's version. */
export async function upgradeCluster(input: UpgradeTaskInput, deps: RolloutDeps, onEvent?: (e: RolloutEvent) => void): Promise<UpgradeTaskResult> {
  const result = await rollout(
    { nodes: input.nodes, image: input.image, targetVersion: input.targetVersion, workerBatchSize: input.workerBatchSize, reinstall: input.reinstall, timeouts: input.timeouts },
    { ...deps, onEvent },
  );
  const read = await Promise.all(input.nodes.map((node) => deps.talos.version(node)));
  const versions = Object.fromEntries(input.nodes.map((node, i) => [node.name, read[i]]));
  return { versions, upgraded: result.upgraded, skipped: result.skipped };
}

/** Every node's running Talos version, `unreachable` for a node that doesn't answer (for `pulumi refresh`). */
export async function readVersions(access: ClusterAccess): Promise<Record<string, string>> {
  const tls = tlsFromClientConfiguration(access.clientConfiguration);
  const clients = access.endpoints.map((endpoint) => connectTalos({ endpoint, tls }));
  try {
    const route = routeAvoidingNode(clients);
    const versions: Record<string, string> = {};
    for (const node of access.nodes) {
      try {
        versions[node.name] = await getVersion(route(node), node.ip, { timeoutMs: 10_000 });
      } catch (error) {
        if (!isUnreachable(error)) throw error;
        versions[node.name] = "unreachable";
      }
    }
    return versions;
  } finally {
    clients.forEach((c) => c.close());
  }
}

/** What the resource's update runs: connect, upgrade, disconnect. */
export async function runUpgrade(input: UpgradeTaskInput, onEvent?: (e: RolloutEvent) => void): Promise<UpgradeTaskResult> {
  return oneAtATime(input, async () => {
    const cluster = await connectCluster(input);
    try {
      return await upgradeCluster(input, cluster.deps, onEvent);
    } finally {
      cluster.close();
    }
  });
}

export interface RemoveTaskInput extends ClusterAccess {
  /** The node to remove; `nodes` lists the cluster as it was, this node included. */
  node: string;
}

/**
 * Takes one node out before its VM goes: drain, leave etcd (or remove a dead member through
 * another control plane), graceful reset, delete the Kubernetes Node (engines/removeNode.ts).
 * Calls go through the other control planes when there are any.
 */
export async function runRemoveNode(input: RemoveTaskInput, onEvent?: (e: RolloutEvent) => void): Promise<RemoveNodeResult> {
  const departing = input.nodes.find((n) => n.name === input.node);
  const others = input.endpoints.filter((e) => e !== departing?.ip);
  const key = clusterKey(input);
  // The first control-plane removal of the update records etcd's size; later ones must keep its quorum.
  const membersAtFirstRemoval = (membersNow: number) => {
    const first = etcdAtFirstRemoval.get(key);
    if (first === undefined) etcdAtFirstRemoval.set(key, membersNow);
    return first;
  };
  return oneAtATime(input, async () => {
    const cluster = await connectCluster({ ...input, endpoints: others.length > 0 ? others : input.endpoints }, input.node);
    try {
      return await removeNode({ nodes: input.nodes, node: input.node, membersAtFirstRemoval }, { ...cluster.deps, onEvent });
    } finally {
      cluster.close();
    }
  });
}

export interface RebootTaskInput extends ClusterAccess {
  /** The nodes to reboot, in rollout order (control planes one at a time, then workers in batches). */
  only: string[];
  workerBatchSize: number;
  /** The Proxmox API, and the VMs of the nodes whose hardware changed: those reboot through it. */
  proxmox?: { connection: ProxmoxApiConnection; throughProxmox: Record<string, VmRef> };
}

/** Reboots the given nodes one control plane at a time, then workers in batches (engines/rollout.ts rolledReboot). */
export async function runRolledReboot(input: RebootTaskInput, onEvent?: (e: RolloutEvent) => void): Promise<string[]> {
  return oneAtATime(input, async () => {
    const cluster = await connectCluster(input);
    try {
      const proxmox = input.proxmox && proxmoxOperations(input.proxmox.connection, rolloutTimeouts(input.timeouts));
      return await rolledReboot(
        { nodes: input.nodes, only: input.only, workerBatchSize: input.workerBatchSize, timeouts: input.timeouts, throughProxmox: input.proxmox?.throughProxmox },
        { ...cluster.deps, proxmox, onEvent },
      );
    } finally {
      cluster.close();
    }
  });
}

export interface KubernetesUpgradeTaskInput extends ClusterAccess {
  /** e.g. `1.36.4`. */
  targetVersion: string;
  /** Each node's target images, by node name (engines/kubernetesUpgrade.ts). */
  images: Record<string, KubernetesImages>;
  workerBatchSize: number;
}

/** Rolls Kubernetes to `targetVersion` on the given nodes, the way `talosctl upgrade-k8s` does (engines/kubernetesUpgrade.ts). */
export async function runKubernetesUpgrade(input: KubernetesUpgradeTaskInput, onEvent?: (e: RolloutEvent) => void): Promise<KubernetesUpgradeResult> {
  return oneAtATime(input, async () => {
    const cluster = await connectCluster(input);
    try {
      return await upgradeKubernetes(
        { nodes: input.nodes, targetVersion: input.targetVersion, images: input.images, workerBatchSize: input.workerBatchSize, timeouts: input.timeouts },
        { ...cluster.deps, onEvent },
      );
    } finally {
      cluster.close();
    }
  });
}

export interface VolumesCheckInput extends ClusterAccess {
  /** The config key that installs the driver, named in the refusal (e.g. `storage.proxmoxCsi`). */
  key: string;
  /** The CSI driver name, e.g. `csi.proxmox.sinextra.dev`. */
  driver: string;
}

/**
 * Throws, naming what to delete first, while PersistentVolumes of `driver` exist (engines/volumes.ts);
 * Kubernetes is reached through a control plane's kubeconfig, as the other tasks reach it.
 */
export async function runVolumesCheck(input: VolumesCheckInput): Promise<void> {
  const volumes = await readKubernetes(input, (kube) => volumesOfDriver(kube, input.driver), (why) =>
    `removing ${input.key} needs the cluster's PersistentVolumes, which could not be read (${why}). ` +
    `Run pulumi up again once the control planes answer. If the cluster is gone for good, pulumi destroy removes everything without this check`,
  );
  const problem = volumesRemovalProblem(input.key, input.driver, volumes);
  if (problem) throw new Error(problem);
}

export interface DiskChangeCheckInput extends ClusterAccess {
  /** The node (Kubernetes Node name, the VM's name) whose disks change. */
  node: string;
  /** The CSI driver name, e.g. `csi.proxmox.sinextra.dev`. */
  driver: string;
}

/** Throws, naming the way through, while volumes of `driver` are attached to `node` (engines/volumes.ts diskChangeProblem). */
export async function runDiskChangeCheck(input: DiskChangeCheckInput): Promise<void> {
  const volumes = await readKubernetes(input, (kube) => volumesAttachedTo(kube, input.driver, input.node), (why) =>
    `changing the disks of ${input.node}'s VM needs to know which volumes of ${input.driver} are attached to it, which could not be read (${why}). ` +
    `Run pulumi up again once the control planes answer`,
  );
  const problem = diskChangeProblem(input.node, input.driver, volumes);
  if (problem) throw new Error(problem);
}

/** Reads from Kubernetes through a control plane's kubeconfig, as the other tasks reach it; a failure throws `unreadable(message)`. */
async function readKubernetes<T>(input: ClusterAccess, read: (kube: KubeApi) => Promise<T>, unreadable: (why: string) => string): Promise<T> {
  const tls = tlsFromClientConfiguration(input.clientConfiguration);
  const clients = input.endpoints.map((endpoint) => connectTalos({ endpoint, tls }));
  try {
    const controlPlane = input.nodes.find((n) => n.role === "controlplane");
    if (!controlPlane) throw new Error("the node list has no control plane");
    const kubeconfig = await getKubeconfig(clients[0], controlPlane.ip, { timeoutMs: rolloutTimeouts(input.timeouts).callMs });
    return await read(kubeApiFromKubeconfig(kubeconfig));
  } catch (error) {
    throw new Error(unreadable((error as Error).message));
  } finally {
    clients.forEach((c) => c.close());
  }
}

/** Client certificates from the cluster's CAs (resources/talosCredentials.ts). */
export { credentialsChanged, renewCredentials, usableClientConfiguration } from "./credentials";
