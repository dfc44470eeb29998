/**
 * What a `kubernetesVersion` change rolls, as pure data for the upgrade resource: each node's
 * target images, the order the preview shows, and the version paths Talos supports.
 */
import type { KubernetesImages } from "../engines/kubernetesUpgrade";
import { planRollout } from "../engines/rolloutPlan";
import { kubernetesRangeOf, talosCompatibilityProblems, talosSupports } from "../engines/kubernetesChecks";
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

/**
 * A version change Talos's upgrade does not support: only the same minor or the next one
 * (siderolabs/go-kubernetes kubernetes/upgrade/path.go, which `talosctl upgrade-k8s` checks).
 * Pure; undefined when the path is fine.
 */
export function kubernetesPathProblem(from: string, to: string): string | undefined {
  const minor = (v: string) => Number(v.replace(/^v/, "").split(".")[1]);
  const [a, b] = [minor(from), minor(to)];
  if (b === a || b === a + 1) return undefined;
  const why = b < a ? "Kubernetes minor versions can't be downgraded" : "a Kubernetes upgrade goes one minor version at a time";
  return `kubernetesVersion: ${from} → ${to} is refused: ${why}. Set a 1.${b < a ? a : a + 1}.x version${b < a ? ` (or ${from} as it was)` : " first, run pulumi up, then the next"}`;
}

/** What the compatibility check reads of the upgrade resource's old and new inputs. */
export interface CompatibilityView {
  nodes: { name: string }[];
  image: string;
  targetVersion: string;
  kubernetesVersion?: string;
  /** Talos per node as last upgraded or refreshed; `unreachable` and the like are ignored. */
  versions?: Record<string, string>;
}

const isTalosTag = (v: string) => /^v\d+\.\d+\.\d+/.test(v);

/**
 * The Talos each node runs when the Kubernetes upgrade starts: the new target when Talos rolls
 * first in the same update, else what the state last saw (a failed rollout can leave some behind).
 */
function talosAtKubernetesUpgrade(olds: CompatibilityView, news: CompatibilityView): Record<string, string> {
  const talosRolls = olds.image !== news.image || olds.targetVersion !== news.targetVersion;
  const seen = (name: string) => olds.versions?.[name] ?? olds.targetVersion;
  return Object.fromEntries(
    olds.nodes.filter((n) => news.nodes.some((m) => m.name === n.name)).map((n) => [n.name, talosRolls ? news.targetVersion : seen(n.name)] as [string, string]).filter(([, v]) => isTalosTag(v)),
  );
}

/**
 * `talosctl upgrade-k8s` refuses a Kubernetes version any node's Talos does not support
 * (siderolabs/talos v1.13.9 pkg/cluster/kubernetes/compat.go:107, talos_managed.go:127-130); the
 * preview refuses it already, naming the node. Pure; undefined when fine or on create.
 */
export function kubernetesCompatibilityProblem(olds: Partial<CompatibilityView>, news: CompatibilityView): string | undefined {
  if (olds.kubernetesVersion === undefined || olds.nodes === undefined || news.kubernetesVersion === undefined) return undefined;
  if (olds.kubernetesVersion === news.kubernetesVersion) return undefined;
  const problems = talosCompatibilityProblems(news.kubernetesVersion, talosAtKubernetesUpgrade(olds as CompatibilityView, news));
  return problems.length > 0 ? `kubernetesVersion: ${news.kubernetesVersion} is refused: ${problems.join("; ")}` : undefined;
}

/**
 * A Talos upgrade runs before the Kubernetes one, so during it the cluster runs the old Kubernetes
 * on the new Talos: refused when that Talos does not support it (same compatibility ranges).
 * Pure; undefined when fine or on create.
 */
export function talosCompatibilityProblem(olds: Partial<CompatibilityView>, news: CompatibilityView): string | undefined {
  const running = olds.kubernetesVersion;
  if (running === undefined || olds.targetVersion === undefined || olds.targetVersion === news.targetVersion) return undefined;
  if (talosSupports(news.targetVersion, running)) return undefined;
  const wanted = news.kubernetesVersion ?? running;
  const bridge =
    talosSupports(olds.targetVersion, wanted) && talosSupports(news.targetVersion, wanted)
      ? `Set kubernetesVersion to ${wanted} with talosVersion ${olds.targetVersion} first, run pulumi up, then set talosVersion`
      : `Set kubernetesVersion to a version both Talos ${olds.targetVersion} and ${news.targetVersion} run first (one minor per pulumi up), then set talosVersion`;
  return `talosVersion: ${news.targetVersion} is refused while the cluster runs Kubernetes ${running}: ${kubernetesRangeOf(news.targetVersion)}, and Talos upgrades before Kubernetes. ${bridge}`;
}
