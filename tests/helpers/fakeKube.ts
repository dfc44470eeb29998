/**
 * An in-memory Kubernetes for the drain and rollout tests, implementing talosapi's KubeApi.
 * Node readiness comes from a callback (the fake Talos node being up); pods can be PDB-blocked
 * (every eviction answers 429) or blocked for a number of attempts. Evicted pods vanish after
 * `terminationMs`. `log` records cordon/evict/uncordon/delete in order.
 */
import type { EvictionResult, KubeApi, KubeNodeInfo, KubePodInfo } from "../../talosapi/kube";

export interface FakePod extends KubePodInfo {
  node: string;
  /** Evictions answered 429 before one succeeds (Infinity = a PDB that never allows it). */
  blockedEvictions?: number;
}

export class FakeKube implements KubeApi {
  readonly log: string[] = [];
  readonly unschedulable = new Set<string>();
  readonly deleted = new Set<string>();
  pods: FakePod[] = [];
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
    return { name, unschedulable: this.unschedulable.has(name), ready: this.isReady(name) };
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
    // unref: a pod that never terminates in a test must not keep jest's worker alive
    setTimeout(() => (this.pods = this.pods.filter((p) => p !== pod)), this.terminationMs).unref();
    return "evicted";
  }

  async deleteNode(name: string): Promise<boolean> {
    this.record(`delete ${name}`);
    if (this.deleted.has(name)) return false;
    this.deleted.add(name);
    return true;
  }
}
