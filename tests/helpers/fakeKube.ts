/**
 * An in-memory Kubernetes for the drain and rollout tests, implementing talosapi's KubeApi.
 * Node readiness comes from a callback (the fake Talos node being up); pods can be PDB-blocked
 * (every eviction answers 429) or blocked for a number of attempts. Evicted pods vanish after
 * `terminationMs`. `log` records cordon/evict/uncordon/delete/apply in order. For the Kubernetes
 * upgrade it also holds kubelet versions, control-plane static pods (from a Talos config
 * version) and the objects a manifest sync writes, whose workloads roll out at once unless stuck.
 */
import type { EvictionResult, KubeApi, KubeNodeInfo, KubeObject, KubePodInfo, KubePodStatus, KubeResourceType } from "../../engines/kube";

export interface FakePod extends KubePodInfo {
  node: string;
  /** Evictions answered 429 before one succeeds (Infinity = a PDB that never allows it). */
  blockedEvictions?: number;
}

export interface FakeStaticPod extends KubePodStatus {
  service: string;
}

/** What discovery answers: the kinds the bootstrap manifests use. */
const RESOURCE_TYPES: Record<string, KubeResourceType[]> = {
  v1: [
    { kind: "ServiceAccount", name: "serviceaccounts", namespaced: true },
    { kind: "Service", name: "services", namespaced: true },
    { kind: "ConfigMap", name: "configmaps", namespaced: true },
    { kind: "Namespace", name: "namespaces", namespaced: false },
  ],
  "apps/v1": [
    { kind: "DaemonSet", name: "daemonsets", namespaced: true },
    { kind: "Deployment", name: "deployments", namespaced: true },
  ],
  "rbac.authorization.k8s.io/v1": [
    { kind: "ClusterRole", name: "clusterroles", namespaced: false },
    { kind: "ClusterRoleBinding", name: "clusterrolebindings", namespaced: false },
  ],
};

export class FakeKube implements KubeApi {
  readonly log: string[] = [];
  readonly kubeletVersions = new Map<string, string>();
  staticPods: FakeStaticPod[] = [];
  /** Objects by API path, with the field manager and method that last wrote each. */
  readonly objects = new Map<string, { object: KubeObject; writer: string }>();
  /** Paths of workloads that never finish rolling out. */
  readonly stuckRollouts = new Set<string>();
  readonly unschedulable = new Set<string>();
  readonly deleted = new Set<string>();
  /** Collections a list GET answers (API path → items), e.g. objects of an API a new minor removes. */
  readonly collections = new Map<string, KubeObject[]>();
  pods: FakePod[] = [];
  /** How long an evicted pod takes to go (Infinity: it never does). */
  terminationMs = 10;
  private nextUid = 1;

  constructor(
    readonly nodeNames: string[],
    private readonly isReady: (name: string) => boolean = () => true,
    /** Shared with FakeTalos to see the order across both; gets `kube <entry>`. */
    private readonly timeline?: string[],
  ) {}

  private record(entry: string): void {
    this.log.push(entry);
    this.timeline?.push(`kube ${entry}`);
  }

  /** Adds a pod on `node` (ReplicaSet-owned unless `ownerKinds` says otherwise). */
  addPod(node: string, name: string, extra: Partial<FakePod> = {}): FakePod {
    const pod: FakePod = { namespace: "default", name, uid: `uid-${this.nextUid++}`, ownerKinds: ["ReplicaSet"], mirror: false, node, ...extra };
    this.pods.push(pod);
    return pod;
  }

  async getNode(name: string): Promise<KubeNodeInfo | undefined> {
    if (!this.nodeNames.includes(name) || this.deleted.has(name)) return undefined;
    return { name, unschedulable: this.unschedulable.has(name), ready: this.isReady(name), kubeletVersion: this.kubeletVersions.get(name) };
  }

  async listPods(namespace: string, labelSelector: string): Promise<KubePodStatus[]> {
    const service = labelSelector.replace(/^k8s-app=/, "");
    if (namespace !== "kube-system") return [];
    return this.staticPods.filter((p) => p.service === service).map(({ name, hostIP, annotations, ready }) => ({ name, hostIP, annotations: { ...annotations }, ready }));
  }

  async discover(apiVersion: string): Promise<KubeResourceType[]> {
    return RESOURCE_TYPES[apiVersion] ?? [];
  }

  async getObject(path: string): Promise<KubeObject | undefined> {
    const items = this.collections.get(path);
    return this.objects.get(path)?.object ?? (items ? { apiVersion: "v1", kind: "List", items } : undefined);
  }

  private write(path: string, object: KubeObject, writer: string): void {
    this.record(`${writer} ${path}`);
    const generation = ((this.objects.get(path)?.object.metadata?.generation as number | undefined) ?? 0) + 1;
    const metadata = { ...object.metadata, generation, resourceVersion: String(generation) };
    // A workload rolls out at once: its status catches up with the new generation.
    const rolled = { observedGeneration: generation, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
    const status = this.stuckRollouts.has(path) ? { observedGeneration: generation, desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 } : rolled;
    this.objects.set(path, { object: { ...object, metadata, status }, writer });
  }

  async applyObject(path: string, object: KubeObject, fieldManager: string): Promise<void> {
    this.write(path, object, `apply(${fieldManager})`);
  }

  async createObject(collectionPath: string, object: KubeObject): Promise<void> {
    this.write(`${collectionPath}/${object.metadata?.name}`, object, "create");
  }

  async replaceObject(path: string, object: KubeObject): Promise<void> {
    if (!this.objects.has(path)) throw new Error(`PUT ${path}: HTTP 404`);
    this.write(path, object, "replace");
  }

  async setUnschedulable(name: string, unschedulable: boolean): Promise<void> {
    if (!this.nodeNames.includes(name)) throw new Error(`PATCH node ${name}: HTTP 404`);
    this.record(`${unschedulable ? "cordon" : "uncordon"} ${name}`);
    if (unschedulable) this.unschedulable.add(name);
    else this.unschedulable.delete(name);
  }

  async listPodsOnNode(nodeName: string): Promise<KubePodInfo[]> {
    return this.pods.filter((p) => p.node === nodeName).map((p) => ({ ...p }));
  }

  async getPodUid(namespace: string, name: string): Promise<string | undefined> {
    return this.pods.find((p) => p.namespace === namespace && p.name === name)?.uid;
  }

  async evictPod(namespace: string, name: string): Promise<EvictionResult> {
    const pod = this.pods.find((p) => p.namespace === namespace && p.name === name);
    if (!pod) return "gone";
    if ((pod.blockedEvictions ?? 0) > 0) {
      pod.blockedEvictions = (pod.blockedEvictions ?? 0) - 1;
      this.record(`429 ${namespace}/${name}`);
      return "blocked";
    }
    this.record(`evict ${namespace}/${name}`);
    // unref: a pod still terminating when a test ends must not keep jest's worker alive
    if (this.terminationMs !== Infinity) setTimeout(() => (this.pods = this.pods.filter((p) => p !== pod)), this.terminationMs).unref();
    return "evicted";
  }

  async deleteNode(name: string): Promise<boolean> {
    this.record(`delete ${name}`);
    if (this.deleted.has(name)) return false;
    this.deleted.add(name);
    return true;
  }
}
