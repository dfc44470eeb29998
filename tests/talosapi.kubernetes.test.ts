// The Kubernetes upgrade engine end to end over the fake apid (real client, mutual TLS, COSI
// State API) and an in-memory Kubernetes that follows each node's config: order across nodes
// and components, what a node's config looks like after, failures that stop it, resume, the
// manifest sync (server-side apply on 1.13, create/replace on 1.12) and kube-proxy-less clusters.
import { parseAllDocuments } from "yaml";
import { RolloutError } from "../talosapi";
import { kubeOperations, manifestSyncMode, upgradeKubernetes, type KubernetesImages, type RolloutEvent } from "../engines";
import { FAST_TIMEOUTS, NEVER_MS, fakeControlPlane as cp, fakeWorker as worker, milestones, timingOutOn, useFakeClusters, type FakeCluster } from "./helpers/fakeCluster";

const TO = "1.36.4";
const start = useFakeClusters();

function images(c: FakeCluster, proxy = true): Record<string, KubernetesImages> {
  return Object.fromEntries(
    c.nodes.map((n) => [
      n.name,
      n.role === "controlplane"
        ? {
            kubelet: `ghcr.io/siderolabs/kubelet:v${TO}`,
            apiServer: `registry.k8s.io/kube-apiserver:v${TO}`,
            controllerManager: `registry.k8s.io/kube-controller-manager:v${TO}`,
            scheduler: `registry.k8s.io/kube-scheduler:v${TO}`,
            ...(proxy ? { proxy: `registry.k8s.io/kube-proxy:v${TO}` } : {}),
          }
        : { kubelet: `ghcr.io/siderolabs/kubelet:v${TO}` },
    ]),
  );
}

const input = (c: FakeCluster, extra: { workerBatchSize?: number; proxy?: boolean } = {}) => ({
  nodes: c.nodes,
  targetVersion: TO,
  images: images(c, extra.proxy ?? true),
  workerBatchSize: extra.workerBatchSize ?? 1,
  timeouts: FAST_TIMEOUTS,
});

/** The input for another target version than TO. */
const to = (c: FakeCluster, version: string) => {
  const retagged = Object.fromEntries(
    Object.entries(images(c)).map(([name, set]) => [name, Object.fromEntries(Object.entries(set).map(([k, image]) => [k, (image as string).replace(`v${TO}`, `v${version}`)]))]),
  ) as unknown as Record<string, KubernetesImages>;
  return { ...input(c), targetVersion: version, images: retagged };
};

const v1Of = (config: string) => parseAllDocuments(config)[0].toJS() as { machine: { token: string; kubelet: { image: string } }; cluster: Record<string, { image?: string }> };

test("components one by one across the control planes, then kubelets node by node, then the manifests", async () => {
  const c = await start([cp(1), cp(2), cp(3), worker(1), worker(2), worker(3)]);
  const events: RolloutEvent[] = [];
  const result = await upgradeKubernetes(input(c, { workerBatchSize: 2 }), { ...c.deps, onEvent: (e) => events.push(e) });

  const applies = milestones(c.timeline).filter((s) => s.startsWith("MachineService/ApplyConfiguration"));
  const each = (nodes: string[]) => nodes.map((n) => `MachineService/ApplyConfiguration ${n}`);
  const cps = ["cp-1", "cp-2", "cp-3"];
  // apiserver on every control plane, then controller-manager, scheduler, kube-proxy, then the kubelets.
  expect(applies).toEqual([...each(cps), ...each(cps), ...each(cps), ...each(cps), ...each(cps), ...each(["w-1", "w-2", "w-3"])]);
  expect(result.changed.slice(0, 4)).toEqual(["kube-apiserver cp-1", "kube-apiserver cp-2", "kube-apiserver cp-3", "kube-controller-manager cp-1"]);
  expect(result.changed).toHaveLength(18);
  // Each control plane's pod was Ready from the new config before the next node's changed.
  const apiserverSteps = events.filter((e) => e.step.startsWith("kube-apiserver")).map((e) => `${e.node} ${e.step}`);
  expect(apiserverSteps).toEqual(["cp-1 kube-apiserver updated", "cp-2 kube-apiserver updated", "cp-3 kube-apiserver updated"]);

  for (const node of c.talos.nodes) {
    const v1 = v1Of(node.config);
    expect(v1.machine.kubelet.image).toBe(`ghcr.io/siderolabs/kubelet:v${TO}`);
    // Only the images changed: the rest of the config (secrets included) is as it was.
    expect(v1.machine.token).toBe("fake.machinetoken");
    expect(node.config).toContain("kind: HostnameConfig");
    expect(node.appliedModes.every((m) => m === "NO_REBOOT")).toBe(true);
    expect(c.kube.kubeletVersions.get(node.name)).toBe(`v${TO}`);
  }
  expect(v1Of(c.talos.node("cp-2").config).cluster.apiServer.image).toBe(`registry.k8s.io/kube-apiserver:v${TO}`);
  expect(v1Of(c.talos.node("cp-2").config).cluster.proxy.image).toBe(`registry.k8s.io/kube-proxy:v${TO}`);
  // Images were pulled before anything changed: static pod images into the CRI store.
  expect(c.talos.node("cp-1").pulled.has(`cri:registry.k8s.io/kube-apiserver:v${TO}`)).toBe(true);
  expect(c.talos.node("w-1").pulled.has(`ghcr.io/siderolabs/kubelet:v${TO}`)).toBe(true);
});

test("the bootstrap manifests are server-side applied as Talos with the new kube-proxy image, and rolled out", async () => {
  const c = await start([cp(1), worker(1)]);
  const result = await upgradeKubernetes(input(c), c.deps);

  expect(result.syncMode).toBe("server-side-apply");
  expect(result.manifests).toEqual(["ServiceAccount kube-system/kube-proxy", "DaemonSet kube-system/kube-proxy", "ClusterRole system:coredns", "Deployment kube-system/coredns"]);
  const daemonSet = c.kube.objects.get("/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy")!;
  expect(daemonSet.writer).toBe("apply(talos)");
  expect(JSON.stringify(daemonSet.object)).toContain(`registry.k8s.io/kube-proxy:v${TO}`);
  expect(daemonSet.object.metadata?.annotations).toEqual({ "config.k8s.io/owning-inventory": "talos-bootstrap-manifests-inventory" });
  // A cluster-scoped object goes to its cluster path, without a namespace.
  expect(c.kube.objects.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/system:coredns")?.object.metadata?.namespace).toBeUndefined();
  // The sync comes after every kubelet.
  const steps = milestones(c.timeline);
  expect(steps.findIndex((s) => s.startsWith("kube apply"))).toBeGreaterThan(steps.lastIndexOf("MachineService/ApplyConfiguration w-1"));
});

test("a 1.12 node in the cluster means create/replace instead of server-side apply", async () => {
  expect(manifestSyncMode(["v1.13.9", "v1.12.11"])).toBe("replace");
  expect(manifestSyncMode(["v1.13.0", "v1.13.9"])).toBe("server-side-apply");
  // Talos 1.12 runs Kubernetes up to 1.35 (pkg/machinery/compatibility/talos112/talos112.go:28).
  const c = await start([cp(1, { kubernetesVersion: "1.35.4" }), worker(1, { version: "v1.12.11", kubernetesVersion: "1.35.4" })]);
  c.kube.objects.set("/api/v1/namespaces/kube-system/serviceaccounts/kube-proxy", { object: { metadata: { name: "kube-proxy", resourceVersion: "7" } }, writer: "node" });
  const result = await upgradeKubernetes(to(c, "1.35.5"), c.deps);

  expect(result.syncMode).toBe("replace");
  expect(c.kube.objects.get("/api/v1/namespaces/kube-system/serviceaccounts/kube-proxy")?.writer).toBe("replace");
  expect(c.kube.objects.get("/apis/apps/v1/namespaces/kube-system/deployments/coredns")?.writer).toBe("create");
});

test("without kube-proxy (Cilium) no proxy image is set and the manifests hold no kube-proxy", async () => {
  const c = await start([cp(1, { kubeProxy: false }), worker(1, { kubeProxy: false })]);
  const result = await upgradeKubernetes(input(c, { proxy: false }), c.deps);

  expect(result.changed).toEqual(["kube-apiserver cp-1", "kube-controller-manager cp-1", "kube-scheduler cp-1", "kubelet cp-1", "kubelet w-1"]);
  expect(result.manifests).toEqual(["ClusterRole system:coredns", "Deployment kube-system/coredns"]);
  expect(v1Of(c.talos.node("cp-1").config).cluster.proxy).toEqual({ disabled: true });
});

test("a static pod that never turns Ready stops the upgrade at that node; a second run resumes past what is done", async () => {
  const c = await start([cp(1), cp(2, { staticPodNeverReady: "kube-apiserver" }), cp(3), worker(1)]);
  const error = await upgradeKubernetes(input(c), timingOutOn(c, "cp-2")).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(RolloutError);
  expect(error).toMatchObject({ node: "cp-2", step: "kube-apiserver" });
  expect((error as Error).message).toMatch(/^kube-apiserver on cp-2: expected a Ready pod from config version \d+ \(registry.k8s.io\/kube-apiserver:v1.36.4\), saw .*is not Ready/);
  // Nothing after cp-2's apiserver was touched.
  expect(milestones(c.timeline).filter((s) => s.startsWith("MachineService/ApplyConfiguration"))).toEqual(["MachineService/ApplyConfiguration cp-1", "MachineService/ApplyConfiguration cp-2"]);
  expect(v1Of(c.talos.node("cp-3").config).cluster.apiServer.image).toBe("registry.k8s.io/kube-apiserver:v1.36.3");

  c.talos.node("cp-2").staticPodNeverReady = undefined;
  c.kube.staticPods.find((p) => p.name === "kube-apiserver-cp-2")!.ready = true;
  c.timeline.length = 0;
  const second = await upgradeKubernetes(input(c), c.deps);
  expect(second.unchanged.slice(0, 2)).toEqual(["kube-apiserver cp-1", "kube-apiserver cp-2"]);
  expect(second.changed[0]).toBe("kube-apiserver cp-3");
  // The first two control planes' apiservers were only checked, not applied again.
  expect(milestones(c.timeline).filter((s) => s.startsWith("MachineService/ApplyConfiguration"))[0]).toBe("MachineService/ApplyConfiguration cp-3");
});

test("a kubelet that never reports the new version stops the upgrade before the next node and the manifests", async () => {
  const c = await start([cp(1), worker(1, { kubeletNeverUpdates: true }), worker(2)]);
  const error = await upgradeKubernetes(input(c), timingOutOn(c, "w-1")).catch((e: unknown) => e);

  expect(error).toMatchObject({ node: "w-1", step: "kubelet", expected: "Node Ready on kubelet v1.36.4" });
  expect((error as Error).message).toContain("kubelet v1.36.3");
  expect(v1Of(c.talos.node("w-2").config).machine.kubelet.image).toBe("ghcr.io/siderolabs/kubelet:v1.36.3");
  expect(c.kube.objects.size).toBe(0);
});

test("an unhealthy etcd or kubelet refuses to start a node's change", async () => {
  const c = await start([cp(1), cp(2, { etcdUnhealthy: true }), cp(3)]);
  await expect(upgradeKubernetes(input(c), c.deps)).rejects.toMatchObject({ node: "cp-1", step: "kube-apiserver gate" });
  expect(c.talos.callsTo("MachineService/ApplyConfiguration")).toEqual([]);

  c.talos.node("cp-2").etcdUnhealthy = false;
  c.talos.node("cp-3").kubeletUnhealthy = true;
  const error = await upgradeKubernetes(input(c), c.deps).catch((e: unknown) => e);
  expect(error).toMatchObject({ node: "cp-3", step: "kubelet gate", seen: expect.stringContaining("service kubelet is not healthy") });
});

test("a workload that never rolls out fails the sync, naming it", async () => {
  const c = await start([cp(1)]);
  c.kube.stuckRollouts.add("/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy");
  // The short deadline bounds every rollout wait; the others end at their first look (the fake rolls out at once).
  const kube = kubeOperations(c.kube, { ...FAST_TIMEOUTS, manifestsMs: NEVER_MS });
  const error = await upgradeKubernetes(input(c), { ...c.deps, kube }).catch((e: unknown) => e);
  expect(error).toMatchObject({ node: "cp-1", step: "bootstrap manifests" });
  expect((error as Error).message).toContain(`daemonsets/kube-proxy not rolled out after ${NEVER_MS} ms (1 of 3 pods updated)`);
});

test("bad input is refused before any call", async () => {
  const c = await start([cp(1)]);
  await expect(upgradeKubernetes({ ...input(c), targetVersion: "v1.36" }, c.deps)).rejects.toThrow("target Kubernetes version v1.36 is not X.Y.Z");
  await expect(upgradeKubernetes({ ...input(c), images: { "cp-1": { kubelet: "k" } } }, c.deps)).rejects.toThrow("no control-plane images for node cp-1");
  expect(c.talos.calls).toEqual([]);
});

// The pre-checks of `talosctl upgrade-k8s` (siderolabs/talos v1.13.9 pkg/cluster/kubernetes/talos_managed.go:127-139):
// Talos compatibility, then the removals of siderolabs/go-kubernetes v0.2.38 kubernetes/upgrade/checks.go, before any change.
describe("pre-checks before the first node is touched", () => {
  const at = (version: string, extra: Partial<Parameters<typeof cp>[1]> = {}) => ({ kubernetesVersion: version, ...extra });
  const changes = (c: FakeCluster) => milestones(c.timeline);

  test("a removed kubelet flag and a removed feature gate refuse 1.34 → 1.35, naming the nodes and the patch fields", async () => {
    const c = await start([
      cp(1, at("1.34.3", { extraArgs: { apiServer: { "feature-gates": "SizeMemoryBackedVolumes=true,Other=false" } } })),
      worker(1, at("1.34.3", { extraArgs: { kubelet: { "pod-infra-container-image": "registry.k8s.io/pause:3.10" } } })),
      worker(2, at("1.34.3", { extraArgs: { kubelet: { "pod-infra-container-image": "registry.k8s.io/pause:3.10" } } })),
    ]);
    const error = await upgradeKubernetes(to(c, "1.35.2"), c.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      "Kubernetes 1.34 → 1.35 is refused before any node was changed:\n" +
        "- cp-1: kube-apiserver feature gate SizeMemoryBackedVolumes is removed in Kubernetes 1.35: remove SizeMemoryBackedVolumes from cluster.apiServer.extraArgs.feature-gates in the machine config patches\n" +
        "- w-1, w-2: kubelet flag --pod-infra-container-image is removed in Kubernetes 1.35: remove machine.kubelet.extraArgs.pod-infra-container-image in the machine config patches",
    );
    expect(changes(c)).toEqual([]);
  });

  test("objects of an API the target removes refuse 1.31 → 1.32", async () => {
    const c = await start([cp(1, at("1.31.4")), worker(1, at("1.31.4"))]);
    c.kube.collections.set("/apis/resource.k8s.io/v1alpha3/podschedulingcontexts", [{ metadata: { name: "a", namespace: "default" } }, { metadata: { name: "b", namespace: "default" } }]);
    await expect(upgradeKubernetes(to(c, "1.32.6"), c.deps)).rejects.toThrow(
      "- 2 podschedulingcontexts.v1alpha3.resource.k8s.io object(s) exist, an API removed in Kubernetes 1.32: delete or migrate them first",
    );
    expect(changes(c)).toEqual([]);
  });

  test("a clean cluster passes the checks of its path and upgrades", async () => {
    const c = await start([cp(1, at("1.34.3")), worker(1, at("1.34.3"))]);
    await expect(upgradeKubernetes(to(c, "1.35.2"), c.deps)).resolves.toMatchObject({ changed: expect.arrayContaining(["kube-apiserver cp-1", "kubelet w-1"]) });
  });

  test("a node whose Talos does not support the target is refused, naming it", async () => {
    const c = await start([cp(1, at("1.35.4")), worker(1, at("1.35.4", { version: "v1.12.11" }))]);
    await expect(upgradeKubernetes(to(c, "1.36.3"), c.deps)).rejects.toThrow(
      "- w-1: Talos v1.12.11 runs Kubernetes 1.30 to 1.35, not 1.36.3; upgrade talosVersion first or set kubernetesVersion within that range",
    );
    expect(changes(c)).toEqual([]);
  });
});
