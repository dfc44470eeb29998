/**
 * The Kubernetes side of a rollout: cordon, drain through the Eviction API, uncordon, wait for
 * Ready, delete the Node. Written against {@link KubeApi} so tests can use an in-memory fake;
 * `kubeHttp.ts` implements it over HTTPS from a kubeconfig.
 */
import { pollUntil, sleep } from "../talosapi/poll";

/** A Node as the drain needs it. */
export interface KubeNodeInfo {
  name: string;
  unschedulable: boolean;
  /** The Ready condition is True. */
  ready: boolean;
  /** `status.nodeInfo.kubeletVersion`, e.g. `v1.36.3`. */
  kubeletVersion?: string;
}

/** A pod as the static-pod wait needs it. */
export interface KubePodStatus {
  name: string;
  /** `status.hostIP`: the node's address. */
  hostIP: string;
  annotations: Record<string, string>;
  /** The PodReady condition is True. */
  ready: boolean;
}

/** A resource type the API serves for an apiVersion (from discovery). */
export interface KubeResourceType {
  kind: string;
  /** The plural used in paths, e.g. `daemonsets`. */
  name: string;
  namespaced: boolean;
}

/** A Kubernetes object as plain JSON. */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number; annotations?: Record<string, string>; resourceVersion?: string };
};

/** A Pod as the drain needs it. */
export interface KubePodInfo {
  namespace: string;
  name: string;
  uid: string;
  /** Kinds of the controllers owning it (`ReplicaSet`, `DaemonSet`, ...). */
  ownerKinds: string[];
  /** A static pod's API mirror (annotation `kubernetes.io/config.mirror`): cannot be evicted. */
  mirror: boolean;
}

/** Result of one eviction request. */
export type EvictionResult = "evicted" | "blocked" | "gone";

/** The few Kubernetes API calls the drain uses. */
export interface KubeApi {
  /** The Node, or undefined when it does not exist. */
  getNode(name: string): Promise<KubeNodeInfo | undefined>;
  setUnschedulable(name: string, unschedulable: boolean): Promise<void>;
  listPodsOnNode(nodeName: string): Promise<KubePodInfo[]>;
  /** The pod's uid, or undefined when it no longer exists. */
  getPodUid(namespace: string, name: string): Promise<string | undefined>;
  /** POST an Eviction: `blocked` = 429 (a PodDisruptionBudget forbids it now), `gone` = 404. */
  evictPod(namespace: string, name: string): Promise<EvictionResult>;
  /** Deletes the Node; `false` when it was already gone. */
  deleteNode(name: string): Promise<boolean>;
  /** Pods of a namespace matching a label selector such as `k8s-app=kube-apiserver`. */
  listPods(namespace: string, labelSelector: string): Promise<KubePodStatus[]>;
  /** The resource types served for `apiVersion` (`v1`, `apps/v1`...); empty when the group version is not served. */
  discover(apiVersion: string): Promise<KubeResourceType[]>;
  /** GET an object by its API path; undefined on 404. */
  getObject(path: string): Promise<KubeObject | undefined>;
  /** Server-side apply (PATCH `application/apply-patch+yaml`) as `fieldManager`, forcing conflicts. */
  applyObject(path: string, object: KubeObject, fieldManager: string): Promise<void>;
  /** POST to a collection path. */
  createObject(collectionPath: string, object: KubeObject): Promise<void>;
  /** PUT an object (with the resourceVersion it was read at). */
  replaceObject(path: string, object: KubeObject): Promise<void>;
}

/** Drain timing. */
export interface DrainOptions {
  /** Overall limit for evicting and waiting for the pods to go (default 5 min, like talosctl). */
  timeoutMs?: number;
  /** Pause between eviction retries while a PDB blocks (default 5 s, like Talos's node-side drain). */
  retryDelayMs?: number;
  /** Pause between checks that evicted pods are gone (default 1 s). */
  pollDelayMs?: number;
}

/** Pods the drain leaves alone: DaemonSet pods (they would come back) and static-pod mirrors. */
export function isDrainable(pod: KubePodInfo): boolean {
  return !pod.mirror && !pod.ownerKinds.includes("DaemonSet");
}

/** Marks the Node unschedulable. */
export async function cordon(kube: KubeApi, nodeName: string): Promise<void> {
  await kube.setUnschedulable(nodeName, true);
}

/** Marks the Node schedulable again. */
export async function uncordon(kube: KubeApi, nodeName: string): Promise<void> {
  await kube.setUnschedulable(nodeName, false);
}

async function evictUntilAccepted(kube: KubeApi, pod: KubePodInfo, deadline: number, retryDelayMs: number): Promise<void> {
  for (;;) {
    const result = await kube.evictPod(pod.namespace, pod.name);
    if (result !== "blocked") return;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new Error(`drain: eviction of pod ${pod.namespace}/${pod.name} still blocked by a PodDisruptionBudget (429) when the drain timed out`);
    }
    await sleep(Math.min(retryDelayMs, remaining));
  }
}

/**
 * Cordons the Node, evicts every drainable pod on it (retrying 429s until the timeout, then
 * failing with the pod's name) and waits until those pods are gone. Pods without a controller are
 * evicted too (talosctl drains with Force). The Node stays cordoned; uncordon after the work.
 * @returns the evicted pods as `namespace/name`.
 */
export async function drainNode(kube: KubeApi, nodeName: string, options: DrainOptions = {}): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? 5 * 60_000;
  const deadline = Date.now() + timeoutMs;
  await cordon(kube, nodeName);
  const pods = (await kube.listPodsOnNode(nodeName)).filter(isDrainable);
  await Promise.all(pods.map((pod) => evictUntilAccepted(kube, pod, deadline, options.retryDelayMs ?? 5_000)));
  let pending = pods;
  await pollUntil(
    async () => {
      const uids = await Promise.all(pending.map((pod) => kube.getPodUid(pod.namespace, pod.name)));
      // A pod recreated under the same name (StatefulSet) has a new uid: the evicted one is gone.
      pending = pending.filter((pod, i) => uids[i] === pod.uid);
      return pending.length === 0 ? { done: true, value: undefined } : { done: false, reason: `${pending.length} pod(s) still terminating` };
    },
    { timeoutMs: Math.max(1, deadline - Date.now()), initialDelayMs: options.pollDelayMs ?? 1_000, maxDelayMs: options.pollDelayMs ?? 1_000 },
    () => new Error(`drain of ${nodeName}: pods still terminating at the timeout: ${pending.map((p) => `${p.namespace}/${p.name}`).join(", ")}`),
  );
  return pods.map((pod) => `${pod.namespace}/${pod.name}`);
}

/** Waits until the Node exists and its Ready condition is True. */
export async function waitNodeReady(kube: KubeApi, nodeName: string, options: { timeoutMs: number; pollDelayMs?: number }): Promise<void> {
  await pollUntil(
    async () => {
      const node = await kube.getNode(nodeName).catch((error: Error) => ({ error }));
      if (node && "error" in node) return { done: false, reason: node.error.message };
      if (!node) return { done: false, reason: "Node not registered" };
      return node.ready ? { done: true, value: undefined } : { done: false, reason: "Node not Ready" };
    },
    { timeoutMs: options.timeoutMs, initialDelayMs: options.pollDelayMs ?? 2_000, maxDelayMs: options.pollDelayMs ?? 5_000 },
    (last) => new Error(`Node ${nodeName} not Ready after ${options.timeoutMs} ms (${last})`),
  );
}

/** Deletes the Node object (no-op when already gone). */
export async function deleteNode(kube: KubeApi, nodeName: string): Promise<void> {
  await kube.deleteNode(nodeName);
}

/** Static pod annotation Talos sets to the version of the config the pod was rendered from (constants.go AnnotationStaticPodConfigVersion). */
export const STATIC_POD_CONFIG_VERSION = "talos.dev/config-version";

/**
 * Waits until the static pod of `service` (label `k8s-app=<service>` in kube-system) on the node
 * at `hostIP` was rendered from config version `configVersion` and is Ready, as `talosctl
 * upgrade-k8s` does (siderolabs/talos v1.13.9 pkg/cluster/kubernetes/talos_managed.go checkPodStatus).
 */
export async function waitStaticPod(kube: KubeApi, service: string, hostIP: string, configVersion: string, options: { timeoutMs: number; pollDelayMs?: number }): Promise<void> {
  await pollUntil(
    async () => {
      const pods = await kube.listPods("kube-system", `k8s-app=${service}`).catch((error: Error) => error);
      if (pods instanceof Error) return { done: false, reason: pods.message };
      const pod = pods.find((p) => p.hostIP === hostIP);
      if (!pod) return { done: false, reason: `no ${service} pod on ${hostIP}` };
      const seen = pod.annotations[STATIC_POD_CONFIG_VERSION];
      if (seen !== configVersion) return { done: false, reason: `pod ${pod.name} is from config version ${seen ?? "none"}, expected ${configVersion}` };
      return pod.ready ? { done: true, value: undefined } : { done: false, reason: `pod ${pod.name} is not Ready` };
    },
    { timeoutMs: options.timeoutMs, initialDelayMs: options.pollDelayMs ?? 2_000, maxDelayMs: options.pollDelayMs ?? 5_000 },
    (last) => new Error(`${service} on ${hostIP} not updated after ${options.timeoutMs} ms (${last})`),
  );
}

/** Waits until the Node reports kubelet `version` (e.g. `v1.36.4`) and is Ready (talos kubelet.go checkNodeKubeletVersion). */
export async function waitKubeletVersion(kube: KubeApi, nodeName: string, version: string, options: { timeoutMs: number; pollDelayMs?: number }): Promise<void> {
  await pollUntil(
    async () => {
      const node = await kube.getNode(nodeName).catch((error: Error) => error);
      if (node instanceof Error) return { done: false, reason: node.message };
      if (!node) return { done: false, reason: "Node not registered" };
      if (node.kubeletVersion !== version) return { done: false, reason: `kubelet ${node.kubeletVersion ?? "unknown"}` };
      return node.ready ? { done: true, value: undefined } : { done: false, reason: "Node not Ready" };
    },
    { timeoutMs: options.timeoutMs, initialDelayMs: options.pollDelayMs ?? 2_000, maxDelayMs: options.pollDelayMs ?? 10_000 },
    (last) => new Error(`Node ${nodeName} not on kubelet ${version} and Ready after ${options.timeoutMs} ms (${last})`),
  );
}
