/**
 * A fake cluster for the rollout and removal tests: the fake apid, an in-memory Kubernetes whose
 * Node readiness follows the fake nodes, the real operations over a real client, generous
 * deadlines with short polls, and one timeline of both sides' calls.
 */
import { connectTalos, tlsFromClientConfiguration, type TalosClient } from "../../talosapi";
import { kubeOperations, talosOperations, type NodeRef, type RolloutDeps, type RolloutTimeouts } from "../../engines";
import { FakeKube } from "./fakeKube";
import { startFakeTalos, type FakeNode, type FakeNodeSpec, type FakeTalos } from "./fakeTalos";
import { clientConfiguration, createTestPki, type TestPki } from "./talosPki";

/**
 * Deadlines only bound a failure: a wait that succeeds ends as soon as the fake is there, so they
 * are generous, and a slow, busy machine cannot turn a pass into a timeout. A test that expects a
 * timeout gives a short deadline (NEVER_MS) to a wait whose event never comes ({@link timingOutOn}).
 */
export const GENEROUS_DEADLINES = {
  callMs: 10_000,
  pullMs: 10_000,
  upgradeMs: 10_000,
  rebootMs: 10_000,
  drainMs: 10_000,
  nodeReadyMs: 10_000,
  etcdHealthyMs: 10_000,
  resetMs: 10_000,
  configMs: 10_000,
  staticPodMs: 10_000,
  kubeletMs: 10_000,
  manifestsMs: 10_000,
  snapshotMs: 10_000,
} satisfies Partial<RolloutTimeouts>;

/** Pauses between polls and retries: short, so the room runs in seconds on a quiet machine. */
export const FAST_POLLS = { drainRetryMs: 20, pollInitialMs: 10, pollMaxMs: 40 } satisfies Partial<RolloutTimeouts>;

export const FAST_TIMEOUTS: RolloutTimeouts = { ...GENEROUS_DEADLINES, ...FAST_POLLS };

/** The deadline of a wait a test expects to time out: what it waits for never happens. */
export const NEVER_MS = 300;

/** How long a fake static pod or kubelet takes to come back after its config changed (ms). */
const RESTART_MS = 15;

const tagOf = (image: string) => image.slice(image.lastIndexOf(":") + 1);

/**
 * Kubernetes follows the fake nodes' configs: each control plane runs its static pods from the
 * rendered config version, each Node reports the kubelet version of its image. A changed config
 * restarts the pod or kubelet shortly after, unless the node's spec says it never recovers.
 */
function followConfigs(talos: FakeTalos, kube: FakeKube): void {
  const specOf = (node: FakeNode, type: string) => node.resources.find((r) => r.type === type);
  for (const node of talos.nodes) {
    kube.kubeletVersions.set(node.name, tagOf((specOf(node, "KubeletSpecs.kubernetes.talos.dev")!.spec as { image: string }).image));
    for (const r of node.resources.filter((r) => r.namespace === "controlplane" && r.type !== "Manifests.kubernetes.talos.dev")) {
      kube.staticPods.push({ service: r.id, name: `${r.id}-${node.name}`, hostIP: node.ip, annotations: { "talos.dev/config-version": String(r.version) }, ready: true });
    }
  }
  talos.onRendered = (node, changed) => {
    for (const r of changed) {
      // The pod's config-version annotation follows the component's config resource (controlplane namespace).
      const pod = r.namespace === "controlplane" ? kube.staticPods.find((p) => p.service === r.id && p.hostIP === node.ip) : undefined;
      if (pod) {
        pod.ready = false;
        setTimeout(() => {
          pod.annotations["talos.dev/config-version"] = String(r.version);
          pod.ready = node.staticPodNeverReady !== r.id;
        }, RESTART_MS).unref();
      }
      if (r.type === "KubeletSpecs.kubernetes.talos.dev" && !node.kubeletNeverUpdates) {
        setTimeout(() => kube.kubeletVersions.set(node.name, tagOf((r.spec as { image: string }).image)), RESTART_MS).unref();
      }
    }
  };
}

export interface FakeCluster {
  talos: FakeTalos;
  kube: FakeKube;
  client: TalosClient;
  nodes: NodeRef[];
  deps: RolloutDeps;
  /** Talos calls (`<method> <node>`) and Kubernetes changes (`kube <entry>`) in order. */
  timeline: string[];
  stop(): Promise<void>;
}

export async function startFakeCluster(pki: TestPki, specs: FakeNodeSpec[]): Promise<FakeCluster> {
  const timeline: string[] = [];
  const talos = await startFakeTalos(pki, specs);
  talos.timeline = timeline;
  talos.rebootDowntimeMs = 30;
  const kube = new FakeKube(specs.map((s) => s.name), (name) => talos.node(name).up, timeline);
  followConfigs(talos, kube);
  const client = connectTalos({ endpoint: talos.address, tls: tlsFromClientConfiguration(clientConfiguration(pki)), defaultTimeoutMs: GENEROUS_DEADLINES.callMs, maxReconnectBackoffMs: 100 });
  const nodes = specs.map(({ name, ip, role }) => ({ name, ip, role }));
  const deps: RolloutDeps = { talos: talosOperations(() => client, FAST_TIMEOUTS), kube: kubeOperations(kube, FAST_TIMEOUTS) };
  return {
    talos,
    kube,
    client,
    nodes,
    deps,
    timeline,
    async stop() {
      client.close();
      await talos.stop();
    },
  };
}

/**
 * The cluster's operations, except that every wait on `nodeName` (back from the reboot, drained,
 * static pod and kubelet updated, Ready) gives up after NEVER_MS: for a test in which that wait
 * never ends. Waits on the other nodes keep the generous deadlines, so the timeout can only come
 * from the node where nothing happens, however slow the machine.
 */
export function timingOutOn(c: FakeCluster, nodeName: string): RolloutDeps {
  const short = { ...FAST_TIMEOUTS, rebootMs: NEVER_MS, drainMs: NEVER_MS, staticPodMs: NEVER_MS, kubeletMs: NEVER_MS, nodeReadyMs: NEVER_MS };
  const [talos, kube] = [talosOperations(() => c.client, short), kubeOperations(c.kube, short)];
  const { talos: slowTalos, kube: slowKube } = c.deps;
  const on = <T>(name: string, fast: T, slow: T) => (name === nodeName ? fast : slow);
  return {
    ...c.deps,
    talos: { ...slowTalos, waitRebooted: (node, bootId) => on(node.name, talos, slowTalos).waitRebooted(node, bootId) },
    kube: {
      ...slowKube,
      drain: (name) => on(name, kube, slowKube).drain(name),
      waitReady: (name) => on(name, kube, slowKube).waitReady(name),
      waitStaticPod: (service, node, version) => on(node.name, kube, slowKube).waitStaticPod(service, node, version),
      waitKubelet: (name, version) => on(name, kube, slowKube).waitKubelet(name, version),
    },
  };
}

/** The timeline entries that change something, for order assertions. */
export function milestones(timeline: string[]): string[] {
  const interesting = /^(LifecycleService\/Upgrade|MachineService\/Upgrade|MachineService\/Reboot|MachineService\/Reset|MachineService\/EtcdLeaveCluster|MachineService\/EtcdRemoveMemberByID|MachineService\/EtcdForfeitLeadership|MachineService\/ApplyConfiguration|ImageService\/Pull|MachineService\/ImagePull|kube (cordon|uncordon|evict|delete|apply\(\w+\)|create|replace)) /;
  return timeline.filter((entry) => interesting.test(entry));
}

/** A control plane `cp-<n>` at 192.0.2.1<n> on v1.13.9. */
export const fakeControlPlane = (n: number, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec => ({
  name: `cp-${n}`,
  ip: `192.0.2.1${n}`,
  role: "controlplane",
  version: "v1.13.9",
  ...extra,
});

/** A worker `w-<n>` at 192.0.2.2<n> on v1.13.9. */
export const fakeWorker = (n: number, extra: Partial<FakeNodeSpec> = {}): FakeNodeSpec => ({
  name: `w-${n}`,
  ip: `192.0.2.2${n}`,
  role: "worker",
  version: "v1.13.9",
  ...extra,
});

/**
 * For a test file: one PKI for all its tests, and a `start` that runs a fake cluster which is
 * stopped after each test.
 */
export function useFakeClusters(): (specs: FakeNodeSpec[]) => Promise<FakeCluster> {
  let pki: TestPki;
  let cluster: FakeCluster | undefined;
  beforeAll(async () => {
    pki = await createTestPki();
  });
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return async (specs) => {
    cluster = await startFakeCluster(pki, specs);
    return cluster;
  };
}
