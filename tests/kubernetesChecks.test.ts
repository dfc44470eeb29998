// The upgrade-k8s pre-checks as pure functions: the data of siderolabs/go-kubernetes v0.2.38
// kubernetes/upgrade/checks.go and how it matches command lines (checks.go:427-488).
import { REMOVED_BY_PATH, apiPathOf, lowestVersion, removedItemsProblems, talosCompatibilityProblems, upgradePath } from "../engines/kubernetesChecks";
import { SUPPORTED_KUBERNETES_MINORS } from "../config/domain";

test("every path between the supported minors is covered, with the path key go-kubernetes uses", () => {
  const minors = Object.values(SUPPORTED_KUBERNETES_MINORS).flat();
  for (let m = Math.min(...minors); m < Math.max(...minors); m++) expect(REMOVED_BY_PATH).toHaveProperty([`1.${m}->1.${m + 1}`]);
  expect(upgradePath("v1.35.4", "1.36.3")).toBe("1.35->1.36");
  expect(upgradePath("latest", "1.36.3")).toBeUndefined();
});

test("flags match by name before '=', feature gates and admission plugins by list entry", () => {
  const problems = removedItemsProblems("1.30->1.31", [
    { node: "cp-1", component: "kube-controller-manager", args: ["/usr/local/bin/kube-controller-manager", "--volume-host-cidr-denylist=10.0.0.0/8", "--feature-gates=CSINodeExpandSecret=true"] },
    // A flag whose name only starts with a removed one is not removed.
    { node: "w-1", component: "kubelet", args: ["--keep-terminated-pod-volumes-extra=true", "--feature-gates=APIPriorityAndFairness=true"] },
  ]);
  expect(problems).toEqual([
    "cp-1: kube-controller-manager flag --volume-host-cidr-denylist is removed in Kubernetes 1.31: remove cluster.controllerManager.extraArgs.volume-host-cidr-denylist in the machine config patches",
    "cp-1: kube-controller-manager feature gate CSINodeExpandSecret is removed in Kubernetes 1.31: remove CSINodeExpandSecret from cluster.controllerManager.extraArgs.feature-gates in the machine config patches",
  ]);
  expect(removedItemsProblems("1.36->1.36", [{ node: "cp-1", component: "kube-apiserver", args: ["--cloud-config=x"] }])).toEqual([]);
});

test("an API resource argument maps to its list path; the lowest running version is the path's start", () => {
  expect(apiPathOf("podschedulingcontexts.v1alpha3.resource.k8s.io")).toBe("/apis/resource.k8s.io/v1alpha3/podschedulingcontexts");
  expect(lowestVersion(["v1.35.10", "v1.35.9", undefined, "custom"])).toBe("1.35.9");
});

test("Talos compatibility follows pkg/machinery/compatibility: 1.12 runs 1.30-1.35, 1.13 runs 1.31-1.36", () => {
  expect(talosCompatibilityProblems("1.36.0", { a: "v1.13.9", b: "v1.12.11" })).toEqual([
    "b: Talos v1.12.11 runs Kubernetes 1.30 to 1.35, not 1.36.0; upgrade talosVersion first or set kubernetesVersion within that range",
  ]);
  expect(talosCompatibilityProblems("1.30.2", { a: "v1.13.9" })).toHaveLength(1);
  expect(talosCompatibilityProblems("1.31.0", { a: "v1.13.9", b: "v1.12.11" })).toEqual([]);
});
