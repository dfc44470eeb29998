/**
 * The checks `talosctl upgrade-k8s` runs before it touches a node (siderolabs/talos v1.13.9
 * pkg/cluster/kubernetes/talos_managed.go:127-139): every node's Talos supports the target
 * Kubernetes, and nothing the cluster runs with is removed in the target minor (flags, feature
 * gates, admission plugins of the control-plane static pods and the kubelet; objects of removed API
 * resources). The removals are data, from siderolabs/go-kubernetes v0.2.38
 * kubernetes/upgrade/checks.go, for the upgrade paths of the minors our config supports
 * (config/domain.ts SUPPORTED_KUBERNETES_MINORS: 1.30 to 1.36). Pure.
 */
import { SUPPORTED_KUBERNETES_MINORS } from "../config/domain";

export type CheckedComponent = "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubelet";

/** What one upgrade path removes. Feature gates apply to the three control-plane components. */
export interface PathRemovals {
  featureGates?: string[];
  flags?: Partial<Record<CheckedComponent, string[]>>;
  admissionPlugins?: string[];
  /** `resource.version.group`, as go-kubernetes lists them. */
  apiResources?: string[];
}

/** go-kubernetes v0.2.38 kubernetes/upgrade/checks.go:230-350 (the paths from 1.30 on; the others have no entries). */
export const REMOVED_BY_PATH: Readonly<Record<string, PathRemovals>> = {
  "1.30->1.31": {
    featureGates: ["APIPriorityAndFairness", "CSINodeExpandSecret", "ConsistentHTTPGetHandlers", "DefaultHostNetworkHostPortsInPodTemplates", "ServiceNodePortStaticSubrange", "SkipReadOnlyValidationGCE"],
    flags: {
      kubelet: ["keep-terminated-pod-volumes", "iptables-masquerade-bit", "iptables-drop-bit"],
      "kube-controller-manager": ["volume-host-cidr-denylist", "volume-host-allow-local-loopback", "horizontal-pod-autoscaler-upscale-delay", "horizontal-pod-autoscaler-downscale-delay"],
    },
  },
  "1.31->1.32": {
    featureGates: [
      "AllowServiceLBStatusOnNonLB", "CloudDualStackNodeIPs", "DRAControlPlaneController", "HPAContainerMetrics", "KMSv2", "KMSv2KDF",
      "LegacyServiceAccountTokenCleanUp", "MinDomainsInPodTopologySpread", "NewVolumeManagerReconstruction", "NodeOutOfServiceVolumeDetach",
      "ServerSideApply", "ServerSideFieldValidation", "StableLoadBalancerNodeSet", "ValidatingAdmissionPolicy", "ZeroLimitedNominalConcurrencyShares",
    ],
    apiResources: ["podschedulingcontexts.v1alpha3.resource.k8s.io"],
  },
  "1.32->1.33": {
    featureGates: [
      "AppArmor", "AppArmorFields", "CPUManager", "DisableCloudProviders", "DisableKubeletCloudCredentialProviders", "JobPodFailurePolicy",
      "KubeProxyDrainingTerminatingNodes", "PDBUnhealthyPodEvictionPolicy", "PersistentVolumeLastPhaseTransitionTime", "VolumeCapacityPriority",
    ],
    flags: { "kube-apiserver": ["cloud-config"] },
  },
  "1.33->1.34": {
    featureGates: ["DevicePluginCDIDevices", "LegacySidecarContainers", "PodDisruptionConditions"],
    flags: { kubelet: ["cloud-config"] },
  },
  "1.34->1.35": {
    featureGates: ["SizeMemoryBackedVolumes", "UserNamespacesHostNetworkSupport"],
    flags: { kubelet: ["pod-infra-container-image"] },
  },
  "1.35->1.36": {
    featureGates: ["CSIMigrationPortworx", "HonorPVReclaimPolicy", "InTreePluginPortworxUnregister", "WatchFromStorageWithoutResourceVersion"],
  },
};

/** The machine-config key whose `extraArgs` set a component's flags (Talos v1alpha1 config). */
export const EXTRA_ARGS_KEY: Record<CheckedComponent, string> = {
  "kube-apiserver": "cluster.apiServer.extraArgs",
  "kube-controller-manager": "cluster.controllerManager.extraArgs",
  "kube-scheduler": "cluster.scheduler.extraArgs",
  kubelet: "machine.kubelet.extraArgs",
};

/** `1.35.2`, `v1.35.2` → `1.35`; undefined for anything else. */
function minorOf(version: string): string | undefined {
  return /^v?(\d+\.\d+)\.\d+/.exec(version)?.[1];
}

/** The path key as go-kubernetes v0.2.38 kubernetes/upgrade/path.go:56-58 writes it (`1.35->1.36`). */
export function upgradePath(from: string, to: string): string | undefined {
  const [a, b] = [minorOf(from), minorOf(to)];
  return a && b ? `${a}->${b}` : undefined;
}

/**
 * Nodes whose Talos does not support Kubernetes `to` (compat.go VerifyVersionCompatibility;
 * the ranges of pkg/machinery/compatibility/talos112, talos113 as SUPPORTED_KUBERNETES_MINORS
 * holds them), one line each naming what to change. Empty when all do.
 */
export function talosCompatibilityProblems(to: string, talosVersions: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [node, talos] of Object.entries(talosVersions)) {
    if (talosSupports(talos, to)) continue;
    problems.push(`${node}: ${kubernetesRangeOf(talos)}, not ${to}; upgrade talosVersion first or set kubernetesVersion within that range`);
  }
  return problems;
}

/** Whether Talos `talos` runs Kubernetes `kubernetes` (the minor ranges of SUPPORTED_KUBERNETES_MINORS). */
export function talosSupports(talos: string, kubernetes: string): boolean {
  const talosMinor = minorOf(talos);
  const range = talosMinor ? SUPPORTED_KUBERNETES_MINORS[talosMinor] : undefined;
  const minor = Number(minorOf(kubernetes)?.split(".")[1]);
  return range !== undefined && minorOf(kubernetes)?.startsWith("1.") === true && minor >= range[0] && minor <= range[1];
}

/** `Talos v1.13.9 runs Kubernetes 1.31 to 1.36`, for messages. */
export function kubernetesRangeOf(talos: string): string {
  const talosMinor = minorOf(talos);
  const range = talosMinor ? SUPPORTED_KUBERNETES_MINORS[talosMinor] : undefined;
  return range ? `Talos ${talos} runs Kubernetes 1.${range[0]} to 1.${range[1]}` : `Talos ${talos} is not a version this program knows`;
}

/** The list path of a `resource.version.group` (apimachinery schema.ParseResourceArg). */
export function apiPathOf(resource: string): string {
  const [name, version, ...group] = resource.split(".");
  return group.length > 0 ? `/apis/${group.join(".")}/${version}/${name}` : `/api/${version}/${name}`;
}

/** The lowest `vX.Y.Z` among image tags (`talosctl upgrade-k8s` takes the lowest running version as `--from`). */
export function lowestVersion(tags: readonly (string | undefined)[]): string | undefined {
  const parsed = tags.map((t) => /^v?(\d+)\.(\d+)\.(\d+)/.exec(t ?? "")).filter((m): m is RegExpExecArray => m !== null);
  parsed.sort((a, b) => Number(a[1]) - Number(b[1]) || Number(a[2]) - Number(b[2]) || Number(a[3]) - Number(b[3]));
  return parsed[0] ? `${parsed[0][1]}.${parsed[0][2]}.${parsed[0][3]}` : undefined;
}

/** A component's command line (static pod `command`, kubelet `args`) on one node. */
export interface ComponentArgs {
  node: string;
  component: CheckedComponent;
  args: readonly string[];
}

/** The values of the first `--<flag>=a,b` argument, as go-kubernetes reads them (checks.go:444-488). */
function listFlag(args: readonly string[], flag: string): string[] {
  const found = args.find((a) => a.startsWith(`--${flag}`));
  return found ? found.replace(`--${flag}=`, "").split(",") : [];
}

/** What one component on one node uses that `removals` takes away, as `[what, fix]` pairs. */
function removedIn(removals: PathRemovals, { component, args }: ComponentArgs): [string, string][] {
  const key = EXTRA_ARGS_KEY[component];
  const found: [string, string][] = [];
  for (const flag of removals.flags?.[component] ?? []) {
    if (args.some((a) => a.split("=")[0] === `--${flag}`)) found.push([`flag --${flag}`, `remove ${key}.${flag}`]);
  }
  if (component !== "kubelet") {
    const gates = listFlag(args, "feature-gates").map((g) => g.split("=")[0]);
    for (const gate of removals.featureGates ?? []) if (gates.includes(gate)) found.push([`feature gate ${gate}`, `remove ${gate} from ${key}.feature-gates`]);
  }
  if (component === "kube-apiserver") {
    const plugins = listFlag(args, "enable-admission-plugins");
    for (const plugin of removals.admissionPlugins ?? []) if (plugins.includes(plugin)) found.push([`admission plugin ${plugin}`, `remove ${plugin} from ${key}.enable-admission-plugins`]);
  }
  return found;
}

/**
 * What the cluster runs with that the upgrade path removes, one line per item naming the nodes,
 * the component and the machine-config patch field to change. Empty when nothing is in the way.
 * @param objectCounts objects per removed API resource (`resource.version.group`)
 */
export function removedItemsProblems(path: string, components: readonly ComponentArgs[], objectCounts: Readonly<Record<string, number>> = {}): string[] {
  const removals = REMOVED_BY_PATH[path];
  if (!removals) return [];
  const byItem = new Map<string, string[]>();
  for (const entry of components) {
    for (const [what, fix] of removedIn(removals, entry)) {
      const line = `${entry.component} ${what} is removed in Kubernetes ${path.split("->")[1]}: ${fix} in the machine config patches`;
      byItem.set(line, [...(byItem.get(line) ?? []), entry.node]);
    }
  }
  const problems = [...byItem].map(([line, nodes]) => `${nodes.join(", ")}: ${line}`);
  for (const resource of removals.apiResources ?? []) {
    const count = objectCounts[resource] ?? 0;
    if (count > 0) problems.push(`${count} ${resource} object(s) exist, an API removed in Kubernetes ${path.split("->")[1]}: delete or migrate them first`);
  }
  return problems;
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
 * upgrade resource's check (preview) refuses it already, naming the node. Pure; undefined when fine
 * or on create. Loaded by the check from the compiled tasks, so loading the provider stays cheap.
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

/**
 * The version checks of the upgrade resource's check, as failures (property = the input to change):
 * the Kubernetes path first, then Talos compatibility both ways.
 */
export function compatibilityFailures(olds: Partial<CompatibilityView>, news: CompatibilityView): { property: string; reason: string }[] {
  const path = olds.kubernetesVersion && news.kubernetesVersion && olds.kubernetesVersion !== news.kubernetesVersion ? kubernetesPathProblem(olds.kubernetesVersion, news.kubernetesVersion) : undefined;
  return [
    { property: "kubernetesVersion", reason: path ?? kubernetesCompatibilityProblem(olds, news) },
    { property: "targetVersion", reason: talosCompatibilityProblem(olds, news) },
  ].filter((f): f is { property: string; reason: string } => f.reason !== undefined);
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
