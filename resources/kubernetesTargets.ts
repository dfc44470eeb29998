/**
 * What a `kubernetesVersion` change rolls, as pure data for the upgrade resource: each node's
 * target images, the order the preview shows, and the version paths Talos supports.
 */
import type { KubernetesImages } from "../engines/kubernetesUpgrade";
import { planRollout } from "../engines/rolloutPlan";
import { ClusterSpec, NodeSpec, controlPlanes } from "../config/domain";
import { rolePatches } from "../config/patches";
import { at, mergePatches } from "../config/userPatches";

export type { KubernetesImages };

const image = (doc: unknown, keys: string[], fallback: string): string => {
  const set = at(doc, ...keys);
  return typeof set === "string" && set !== "" ? set : fallback;
};

/**
 * The images `node`'s config will hold on `spec.kubernetesVersion`: what `talosctl gen config`
 * writes (siderolabs/talos v1.13.9 pkg/machinery/config/generate/init.go, worker.go; image names
 * from constants.go), unless a patch sets one, which then wins as it does in the applied config.
 * No kube-proxy when it is disabled (Cilium). Pure.
 */
export function kubernetesImages(spec: ClusterSpec, node: NodeSpec): KubernetesImages {
  const v1 = mergePatches([...rolePatches(spec, node.role), ...node.patches.map((p) => p.text)]).get("v1alpha1 config");
  const tag = `v${spec.kubernetesVersion}`;
  const kubelet = image(v1, ["machine", "kubelet", "image"], `ghcr.io/siderolabs/kubelet:${tag}`);
  if (node.role !== "controlplane") return { kubelet };
  const proxyDisabled = at(v1, "cluster", "proxy", "disabled") === true;
  return {
    kubelet,
    apiServer: image(v1, ["cluster", "apiServer", "image"], `registry.k8s.io/kube-apiserver:${tag}`),
    controllerManager: image(v1, ["cluster", "controllerManager", "image"], `registry.k8s.io/kube-controller-manager:${tag}`),
    scheduler: image(v1, ["cluster", "scheduler", "image"], `registry.k8s.io/kube-scheduler:${tag}`),
    ...(proxyDisabled ? {} : { proxy: image(v1, ["cluster", "proxy", "image"], `registry.k8s.io/kube-proxy:${tag}`) }),
  };
}

/** The rollout order of a Kubernetes upgrade, one line per step, for the preview. Pure. */
export function kubernetesPlan(spec: ClusterSpec, workerBatchSize: number): string[] {
  const to = spec.kubernetesVersion;
  const cps = controlPlanes(spec).map((n) => n.name).join(", ");
  const lines = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"].map((c) => `${c} on ${cps}, one at a time → ${to}`);
  if (controlPlanes(spec).some((n) => kubernetesImages(spec, n).proxy)) lines.push(`kube-proxy image on ${cps} → ${to}`);
  for (const step of planRollout(spec.nodes, {}, to, workerBatchSize).steps) lines.push(`kubelet on ${step.nodes.map((n) => n.name).join(", ")} → ${to}`);
  lines.push("bootstrap manifests (kube-proxy, CoreDNS, CNI) synced");
  return lines.map((line, i) => `${i + 1}. ${line}`);
}

// The path rule lives with the other upgrade-k8s checks; the upgrade resource's check loads it from the compiled tasks.
export { kubernetesPathProblem } from "../engines/kubernetesChecks";
