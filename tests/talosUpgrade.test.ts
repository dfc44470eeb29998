import * as departures from "../engines/departures";
import { taskModulePath } from "../resources/taskModule";
import { kubernetesImages, kubernetesPathProblem, kubernetesPlan } from "../resources/kubernetesTargets";
import { needsKubernetesUpgrade, needsRollout, upgradePlan, upgradeProvider, type UpgradeState } from "../resources/talosUpgrade";
import { validateConfig } from "../config/validate";
import { compatibilityFailures } from "../engines/kubernetesChecks";
import { base, node } from "./helpers/configCases";

const IMAGE_A = "factory.talos.dev/metal-installer/aaa:v1.12.11";
const IMAGE_B = "factory.talos.dev/metal-installer/aaa:v1.13.9";
const spec = validateConfig({
  ...base(),
  talosVersion: "v1.13.9",
  nodes: [node(1), node(2), node(3), node(4, { role: "worker" }), node(5, { role: "worker" }), node(6, { role: "worker" })],
}).spec;

const state = (extra: Partial<UpgradeState> = {}): UpgradeState => ({
  nodes: spec.nodes.map((n) => ({ name: n.name, ip: n.ip, role: n.role })),
  image: IMAGE_A,
  targetVersion: "v1.12.11",
  workerBatchSize: 1,
  plan: [],
  clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" },
  ...extra,
});

/** The task module the provider loads, replaced by a recorder. */
const runUpgrade = jest.fn(async (input: { nodes: { name: string }[]; targetVersion: string }) => ({
  versions: Object.fromEntries(input.nodes.map((n) => [n.name, input.targetVersion])),
  upgraded: input.nodes.map((n) => n.name),
  skipped: [],
}));
const readVersions = jest.fn(async () => ({ "talos-demo-01": "v1.13.9" }));
const runKubernetesUpgrade = jest.fn(async (_input: { nodes: { name: string }[] }) => ({ changed: [], unchanged: [], manifests: [], syncMode: "server-side-apply" }));
// The check's departure and compatibility rules come from the compiled tasks too: the real ones.
jest.doMock(taskModulePath(), () => ({ ...departures, runUpgrade, readVersions, runKubernetesUpgrade, compatibilityFailures }));
beforeEach(() => jest.clearAllMocks());

describe("the rollout plan the preview shows", () => {
  test("control planes one per step, then workers in batches, each with the target and image", () => {
    expect(upgradePlan(spec, 2, IMAGE_B)).toEqual([
      `1. talos-demo-01 → v1.13.9 (${IMAGE_B})`,
      `2. talos-demo-02 → v1.13.9 (${IMAGE_B})`,
      `3. talos-demo-03 → v1.13.9 (${IMAGE_B})`,
      `4. talos-demo-04, talos-demo-05 → v1.13.9 (${IMAGE_B})`,
      `5. talos-demo-06 → v1.13.9 (${IMAGE_B})`,
    ]);
  });

  test("only an image or version change means a rollout", () => {
    expect(needsRollout(state(), state({ image: IMAGE_B, targetVersion: "v1.13.9" }))).toBe(true);
    expect(needsRollout(state(), state({ image: "factory.talos.dev/metal-installer/bbb:v1.12.11" }))).toBe(true);
    expect(needsRollout(state(), state({ workerBatchSize: 3 }))).toBe(false);
  });
});

describe("the upgrade resource's provider", () => {
  test("create records every node at the target and reaches no node", async () => {
    const created = await upgradeProvider.create!(state());
    expect(created.outs.versions).toEqual(Object.fromEntries(spec.nodes.map((n) => [n.name, "v1.12.11"])));
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(readVersions).not.toHaveBeenCalled();
  });

  test("diff (what preview runs) reports the change without reaching a node", async () => {
    expect(await upgradeProvider.diff!("id", state(), state({ image: IMAGE_B, targetVersion: "v1.13.9" }))).toMatchObject({ changes: true, replaces: [] });
    expect(await upgradeProvider.diff!("id", state(), state())).toMatchObject({ changes: false });
    expect(runUpgrade).not.toHaveBeenCalled();
  });

  test("a new version rolls over the nodes that existed; nodes added in the same update are installed fresh", async () => {
    const olds = state({ nodes: state().nodes.filter((n) => n.name !== "talos-demo-06"), versions: {} });
    const news = state({ image: IMAGE_B, targetVersion: "v1.13.9" });
    const updated = await upgradeProvider.update!("id", olds, news);
    expect(runUpgrade).toHaveBeenCalledTimes(1);
    expect(runUpgrade.mock.calls[0][0]).toMatchObject({
      nodes: olds.nodes,
      endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"],
      image: IMAGE_B,
      targetVersion: "v1.13.9",
      reinstall: false,
      clientConfiguration: { clientKey: "KEY" },
    });
    expect(updated.outs.versions).toEqual(Object.fromEntries(spec.nodes.map((n) => [n.name, "v1.13.9"])));
  });

  test("a new image at the same version (extensions, kernel args) reinstalls every node", async () => {
    await upgradeProvider.update!("id", state(), state({ image: "factory.talos.dev/metal-installer/bbb:v1.12.11" }));
    expect(runUpgrade.mock.calls[0][0]).toMatchObject({ reinstall: true });
  });

  test("anything else (nodes, batch size) is bookkeeping: no node is reached", async () => {
    const updated = await upgradeProvider.update!("id", state({ versions: { "talos-demo-01": "v1.12.11" } }), state({ workerBatchSize: 2 }));
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(updated.outs).toMatchObject({ workerBatchSize: 2, versions: { "talos-demo-01": "v1.12.11" } });
  });

  test("a failed rollout fails the update, so the state keeps the old inputs and the next up resumes", async () => {
    runUpgrade.mockRejectedValueOnce(new Error("version after reboot on talos-demo-02: expected v1.13.9, saw v1.12.11"));
    await expect(upgradeProvider.update!("id", state(), state({ image: IMAGE_B, targetVersion: "v1.13.9" }))).rejects.toThrow(/talos-demo-02/);
  });

  test("refresh reads what each node runs", async () => {
    const read = await upgradeProvider.read!("id", state());
    expect(readVersions).toHaveBeenCalledWith(expect.objectContaining({ endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"], nodes: state().nodes }));
    expect(read.props).toMatchObject({ versions: { "talos-demo-01": "v1.13.9" } });
  });

  test("delete reaches no node", async () => {
    await upgradeProvider.delete!("id", state());
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(readVersions).not.toHaveBeenCalled();
  });
});

describe("the Kubernetes upgrade", () => {
  const k8s = (version: string, nodes = spec.nodes) => ({
    kubernetesVersion: version,
    kubernetesImages: Object.fromEntries(nodes.map((n) => [n.name, kubernetesImages({ ...spec, kubernetesVersion: version }, n)])),
  });

  test("each node's target images are the ones talosctl gen config writes for the version", () => {
    expect(kubernetesImages(spec, spec.nodes[0])).toEqual({
      kubelet: "ghcr.io/siderolabs/kubelet:v1.36.3",
      apiServer: "registry.k8s.io/kube-apiserver:v1.36.3",
      controllerManager: "registry.k8s.io/kube-controller-manager:v1.36.3",
      scheduler: "registry.k8s.io/kube-scheduler:v1.36.3",
      proxy: "registry.k8s.io/kube-proxy:v1.36.3",
    });
    expect(kubernetesImages(spec, spec.nodes[3])).toEqual({ kubelet: "ghcr.io/siderolabs/kubelet:v1.36.3" });
  });

  test("a patch that sets an image wins, as it does in the applied config; Cilium means no kube-proxy", () => {
    const patched = validateConfig({
      ...base(),
      kubernetesVersion: "1.36.4",
      cni: "cilium",
      controlPlane: { patches: ["cluster:\n  apiServer:\n    image: mirror.example/kube-apiserver:v1.36.4"] },
      nodes: [node(1), node(4, { role: "worker", patches: ["machine:\n  kubelet:\n    image: ghcr.io/siderolabs/kubelet:v1.36.4-fat"] })],
    }).spec;
    expect(kubernetesImages(patched, patched.nodes[0])).toEqual({
      kubelet: "ghcr.io/siderolabs/kubelet:v1.36.4",
      apiServer: "mirror.example/kube-apiserver:v1.36.4",
      controllerManager: "registry.k8s.io/kube-controller-manager:v1.36.4",
      scheduler: "registry.k8s.io/kube-scheduler:v1.36.4",
    });
    expect(kubernetesImages(patched, patched.nodes[1])).toEqual({ kubelet: "ghcr.io/siderolabs/kubelet:v1.36.4-fat" });
    expect(kubernetesPlan(patched, 1).some((line) => line.includes("kube-proxy image"))).toBe(false);
  });

  test("the preview plan: each component across the control planes, kubelets in rollout order, then the manifests", () => {
    expect(kubernetesPlan(spec, 2)).toEqual([
      "1. kube-apiserver on talos-demo-01, talos-demo-02, talos-demo-03, one at a time → 1.36.3",
      "2. kube-controller-manager on talos-demo-01, talos-demo-02, talos-demo-03, one at a time → 1.36.3",
      "3. kube-scheduler on talos-demo-01, talos-demo-02, talos-demo-03, one at a time → 1.36.3",
      "4. kube-proxy image on talos-demo-01, talos-demo-02, talos-demo-03 → 1.36.3",
      "5. kubelet on talos-demo-01 → 1.36.3",
      "6. kubelet on talos-demo-02 → 1.36.3",
      "7. kubelet on talos-demo-03 → 1.36.3",
      "8. kubelet on talos-demo-04, talos-demo-05 → 1.36.3",
      "9. kubelet on talos-demo-06 → 1.36.3",
      "10. bootstrap manifests (kube-proxy, CoreDNS, CNI) synced",
    ]);
  });

  test("only the same or the next minor version is a supported path", () => {
    expect(kubernetesPathProblem("1.35.4", "1.36.3")).toBeUndefined();
    expect(kubernetesPathProblem("1.36.3", "1.36.1")).toBeUndefined();
    expect(kubernetesPathProblem("1.34.1", "1.36.3")).toBe(
      "kubernetesVersion: 1.34.1 → 1.36.3 is refused: a Kubernetes upgrade goes one minor version at a time. Set a 1.35.x version first, run pulumi up, then the next",
    );
    expect(kubernetesPathProblem("1.36.3", "1.35.4")).toBe("kubernetesVersion: 1.36.3 → 1.35.4 is refused: Kubernetes minor versions can't be downgraded. Set a 1.36.x version (or 1.36.3 as it was)");
  });

  test("check refuses a skipped minor, in preview too; a state from before the Kubernetes upgrade is only recorded", async () => {
    const checked = await upgradeProvider.check!(state(k8s("1.34.1")), state(k8s("1.36.3")));
    expect(checked.failures).toEqual([{ property: "kubernetesVersion", reason: expect.stringContaining("one minor version at a time") }]);
    expect(needsKubernetesUpgrade({}, { kubernetesVersion: "1.36.3" })).toBe(false);
    await upgradeProvider.update!("id", state(), state(k8s("1.36.4")));
    expect(runKubernetesUpgrade).not.toHaveBeenCalled();
  });

  // siderolabs/talos v1.13.9 pkg/cluster/kubernetes/compat.go:107 (VerifyVersionCompatibility), ranges in
  // pkg/machinery/compatibility/talos112/talos112.go:25-28 and talos113/talos113.go:25-28.
  test("check refuses a Kubernetes version the Talos the nodes run by then does not support, in preview too", async () => {
    const onTalos112 = await upgradeProvider.check!(state(k8s("1.35.4")), state(k8s("1.36.3")));
    expect(onTalos112.failures).toEqual([
      { property: "kubernetesVersion", reason: expect.stringContaining("talos-demo-01: Talos v1.12.11 runs Kubernetes 1.30 to 1.35, not 1.36.3") },
    ]);
    // Talos rolls first in the same update: the nodes run 1.13 when Kubernetes moves.
    const withTalos = await upgradeProvider.check!(state(k8s("1.35.4")), state({ ...k8s("1.36.3"), image: IMAGE_B, targetVersion: "v1.13.9" }));
    expect(withTalos.failures).toEqual([]);
    // A node left on 1.12 by an earlier failed rollout (as refresh recorded it) is named.
    const on113 = { image: IMAGE_B, targetVersion: "v1.13.9" };
    const lagging = state({ ...k8s("1.35.4"), ...on113, versions: { "talos-demo-01": "v1.13.9", "talos-demo-05": "v1.12.11" } });
    const refused = await upgradeProvider.check!(lagging, state({ ...k8s("1.36.3"), ...on113 }));
    expect(refused.failures).toEqual([{ property: "kubernetesVersion", reason: expect.stringMatching(/^kubernetesVersion: 1\.36\.3 is refused: talos-demo-05: Talos v1\.12\.11 runs Kubernetes 1\.30 to 1\.35, not 1\.36\.3; upgrade talosVersion first/) }]);
  });

  test("check refuses a Talos upgrade whose Talos does not support the Kubernetes the cluster runs during it", async () => {
    const checked = await upgradeProvider.check!(state(k8s("1.30.5")), state({ ...k8s("1.31.2"), image: IMAGE_B, targetVersion: "v1.13.9" }));
    expect(checked.failures).toEqual([
      {
        property: "targetVersion",
        reason:
          "talosVersion: v1.13.9 is refused while the cluster runs Kubernetes 1.30.5: Talos v1.13.9 runs Kubernetes 1.31 to 1.36, and Talos upgrades before Kubernetes. " +
          "Set kubernetesVersion to 1.31.2 with talosVersion v1.12.11 first, run pulumi up, then set talosVersion",
      },
    ]);
  });

  test("a new kubernetesVersion rolls Kubernetes over the nodes that existed, with their images, and no Talos rollout", async () => {
    const olds = state({ ...k8s("1.36.3"), nodes: state().nodes.filter((n) => n.name !== "talos-demo-06") });
    const news = state(k8s("1.36.4"));
    await upgradeProvider.update!("id", olds, news);
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(runKubernetesUpgrade).toHaveBeenCalledTimes(1);
    const input = runKubernetesUpgrade.mock.calls[0][0] as unknown as Record<string, unknown>;
    expect(input).toMatchObject({ nodes: olds.nodes, endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"], targetVersion: "1.36.4", workerBatchSize: 1 });
    expect(Object.keys(input.images as object)).toEqual(olds.nodes.map((n) => n.name));
    expect((input.images as Record<string, { apiServer: string }>)["talos-demo-01"].apiServer).toBe("registry.k8s.io/kube-apiserver:v1.36.4");
  });

  test("Talos first, then Kubernetes, when both change; a failed Kubernetes upgrade fails the update", async () => {
    const order: string[] = [];
    runUpgrade.mockImplementationOnce(async () => (order.push("talos"), { versions: {}, upgraded: [], skipped: [] }));
    runKubernetesUpgrade.mockImplementationOnce(async () => (order.push("kubernetes"), { changed: [], unchanged: [], manifests: [], syncMode: "server-side-apply" }));
    await upgradeProvider.update!("id", state(k8s("1.35.4")), state({ ...k8s("1.36.3"), image: IMAGE_B, targetVersion: "v1.13.9" }));
    expect(order).toEqual(["talos", "kubernetes"]);

    runKubernetesUpgrade.mockRejectedValueOnce(new Error("kube-apiserver on talos-demo-02: expected a Ready pod"));
    await expect(upgradeProvider.update!("id", state(k8s("1.36.3")), state(k8s("1.36.4")))).rejects.toThrow(/talos-demo-02/);
  });
});
