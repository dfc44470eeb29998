/**
 * The rolling Kubernetes upgrade, step for step what `talosctl upgrade-k8s` does (siderolabs/talos
 * v1.13.9 pkg/cluster/kubernetes/talos_managed.go, kubelet.go, patch.go): pre-pull the images;
 * per control-plane component (apiserver, controller-manager, scheduler), node by node, set the
 * image in the running machine config (NO_REBOOT), wait for Talos to re-render the static pod and
 * for the pod to be Ready; set kube-proxy's image on the control planes; per node (control planes,
 * then workers in batches) set the kubelet image and wait for the Node to report the new version
 * and be Ready; then sync the bootstrap manifests (kube-proxy, CoreDNS, ...) into the cluster.
 * A node already on the target image is checked, not touched, so a second run resumes. Any
 * failure stops the upgrade with an error naming the node.
 */
import { KUBELET_SPECS, MANIFESTS, STATIC_POD_CONFIGS, STATIC_PODS as STATIC_POD_RESOURCES } from "../talosapi/cosi";
import { REMOVED_BY_PATH, apiPathOf, lowestVersion, removedItemsProblems, talosCompatibilityProblems, upgradePath, type ComponentArgs } from "./kubernetesChecks";
import { setConfigValue } from "./configEdit";
import { RolloutError, detailOf } from "../talosapi/errors";
import { snapshotBefore } from "./backups";
import { checkEtcd } from "./gates";
import type { KubeObject } from "./kube";
import { serviceProblem } from "../talosapi/machine";
import type { SyncMode } from "./manifests";
import type { NodeRef, RolloutTimeouts } from "./operations";
import { rolloutTimeouts } from "./operations";
import { planRollout } from "./rolloutPlan";
import { pollUntil } from "../talosapi/poll";
import { imageTag, runBatch, type RolloutDeps } from "./rollout";
import { compareTalosVersions } from "../talosapi/versions";

/** The images a node runs Kubernetes from; the control-plane ones only on control planes. */
export interface KubernetesImages {
  kubelet: string;
  apiServer?: string;
  controllerManager?: string;
  scheduler?: string;
  /** Absent when kube-proxy is disabled (Cilium replaces it). */
  proxy?: string;
}

export interface KubernetesUpgradeInput {
  /** The nodes to upgrade (control planes first in the order given, then workers). */
  nodes: NodeRef[];
  /** The target Kubernetes version, e.g. `1.36.4`. */
  targetVersion: string;
  /** Each node's target images, by node name. */
  images: Record<string, KubernetesImages>;
  /** Kubelets upgraded together on workers (default 1; control planes always one at a time). */
  workerBatchSize?: number;
  /** The engine's own waits (a Talos resource catching up, polling); the operations carry their own limits. */
  timeouts?: Partial<Pick<RolloutTimeouts, "configMs" | "pollInitialMs" | "pollMaxMs">>;
}

export interface KubernetesUpgradeResult {
  /** `<component> <node>` for each change applied, in order. */
  changed: string[];
  /** `<component> <node>` already on the target image (checked, not changed). */
  unchanged: string[];
  /** The bootstrap manifests written (`Kind namespace/name`). */
  manifests: string[];
  syncMode: SyncMode;
}

type StaticPod = "kube-apiserver" | "kube-controller-manager" | "kube-scheduler";
const STATIC_PODS: [StaticPod, keyof KubernetesImages, string[]][] = [
  ["kube-apiserver", "apiServer", ["cluster", "apiServer", "image"]],
  ["kube-controller-manager", "controllerManager", ["cluster", "controllerManager", "image"]],
  ["kube-scheduler", "scheduler", ["cluster", "scheduler", "image"]],
];
const PROXY_PATH = ["cluster", "proxy", "image"];
const KUBELET_PATH = ["machine", "kubelet", "image"];

/** Server-side apply needs every node on Talos 1.13 or later (talos compatibility SupportsSSAManifestSync). Pure. */
export function manifestSyncMode(talosVersions: readonly string[]): SyncMode {
  return talosVersions.every((v) => compareTalosVersions(v, "v1.13.0") >= 0) ? "server-side-apply" : "replace";
}

function validate(input: KubernetesUpgradeInput): void {
  if (!/^\d+\.\d+\.\d+$/.test(input.targetVersion)) throw new Error(`target Kubernetes version ${input.targetVersion} is not X.Y.Z`);
  if (!input.nodes.some((n) => n.role === "controlplane")) throw new Error("the node list has no control plane");
  for (const node of input.nodes) {
    const images = input.images[node.name];
    if (!images?.kubelet) throw new Error(`no kubelet image for node ${node.name}`);
    if (node.role === "controlplane" && (!images.apiServer || !images.controllerManager || !images.scheduler)) {
      throw new Error(`no control-plane images for node ${node.name}`);
    }
  }
}

/** Upgrades Kubernetes on `input.nodes` (see the module comment). */
export async function upgradeKubernetes(input: KubernetesUpgradeInput, deps: RolloutDeps): Promise<KubernetesUpgradeResult> {
  validate(input);
  const t = rolloutTimeouts(input.timeouts);
  const controlPlanes = input.nodes.filter((n) => n.role === "controlplane");
  const result: KubernetesUpgradeResult = { changed: [], unchanged: [], manifests: [], syncMode: "server-side-apply" };
  const talosVersions = await Promise.all(input.nodes.map((n) => deps.talos.version(n)));
  result.syncMode = manifestSyncMode(talosVersions);
  await preCheck(input, deps, talosVersions);
  // Before the first change (the pre-pull changes nothing; the first apiserver restart does).
  await snapshotBefore(deps, controlPlanes, controlPlanes[0], `kubernetes-${controlPlanes[0].name}`);
  await prePull(input, deps);
  for (const [service, key, path] of STATIC_PODS) {
    for (const node of controlPlanes) {
      const changed = await upgradeStaticPod(deps, controlPlanes, node, { service, image: input.images[node.name][key]!, path }, t);
      record(result, `${service} ${node.name}`, changed);
    }
  }
  for (const node of controlPlanes) {
    const proxy = input.images[node.name].proxy;
    if (proxy) record(result, `kube-proxy ${node.name}`, await setImage(deps, node, PROXY_PATH, proxy));
  }
  const plan = planRollout(input.nodes, {}, input.targetVersion, input.workerBatchSize ?? 1);
  for (const step of plan.steps) {
    // The whole batch settles before a failure stops the upgrade: nothing keeps running behind it.
    await runBatch(step.nodes.map((p) => input.nodes.find((n) => n.name === p.name)!), (node) => upgradeKubelet(deps, node, input, result));
  }
  result.manifests = await syncBootstrapManifests(deps, controlPlanes, input, t, result.syncMode);
  return result;
}

function record(result: KubernetesUpgradeResult, what: string, changed: boolean): void {
  (changed ? result.changed : result.unchanged).push(what);
}

type PodSpec = { spec?: { containers?: { image?: string; command?: string[] }[] } } | null | undefined;

/** A control-plane component's running container, from its StaticPod resource. */
async function runningContainer(deps: RolloutDeps, node: NodeRef, id: StaticPod): Promise<{ image?: string; command?: string[] } | undefined> {
  return ((await deps.talos.resource(node, STATIC_POD_RESOURCES, id))?.spec as PodSpec)?.spec?.containers?.[0];
}

/** The flags each component runs with: static pod commands on the control planes, kubelet args everywhere (checks.go:369-412). */
async function componentArgs(input: KubernetesUpgradeInput, deps: RolloutDeps): Promise<ComponentArgs[]> {
  const perNode = await Promise.all(
    input.nodes.map(async (node): Promise<ComponentArgs[]> => {
      const kubelet = (await deps.talos.resource(node, KUBELET_SPECS, "kubelet"))?.spec as { args?: string[] } | null | undefined;
      const found: ComponentArgs[] = [{ node: node.name, component: "kubelet", args: kubelet?.args ?? [] }];
      if (node.role !== "controlplane") return found;
      for (const [id] of STATIC_PODS) found.push({ node: node.name, component: id, args: (await runningContainer(deps, node, id))?.command ?? [] });
      return found;
    }),
  );
  return perNode.flat();
}

/**
 * Refuses, before any node is touched, a target some node's Talos does not support or that removes
 * something the cluster runs with, as `talosctl upgrade-k8s` does (talos_managed.go:127-139). The
 * path starts at the lowest running kube-apiserver version, as talosctl's `--from` default.
 */
async function preCheck(input: KubernetesUpgradeInput, deps: RolloutDeps, talosVersions: string[]): Promise<void> {
  const problems = talosCompatibilityProblems(input.targetVersion, Object.fromEntries(input.nodes.map((n, i) => [n.name, talosVersions[i]])));
  const controlPlanes = input.nodes.filter((n) => n.role === "controlplane");
  const from = lowestVersion(await Promise.all(controlPlanes.map(async (n) => imageTag((await runningContainer(deps, n, "kube-apiserver"))?.image ?? ""))));
  const path = from === undefined ? undefined : upgradePath(from, input.targetVersion);
  const removals = path === undefined ? undefined : REMOVED_BY_PATH[path];
  if (path && removals) {
    const counts = await Promise.all((removals.apiResources ?? []).map(async (r) => [r, await deps.kube.countObjects(apiPathOf(r))] as const));
    problems.push(...removedItemsProblems(path, await componentArgs(input, deps), Object.fromEntries(counts)));
  }
  if (problems.length === 0) return;
  const what = path ? path.replace("->", " → ") : input.targetVersion;
  throw new Error(`Kubernetes ${what} is refused before any node was changed:\n${problems.map((p) => `- ${p}`).join("\n")}`);
}

/** Pulls the new images first, so each component's restart is short (talosctl's default `--pre-pull-images`). */
async function prePull(input: KubernetesUpgradeInput, deps: RolloutDeps): Promise<void> {
  await runBatch(input.nodes, async (node) => {
    const images = input.images[node.name];
    for (const [, key] of STATIC_PODS) if (images[key]) await deps.talos.pullImage(node, images[key]!, "NS_CRI");
    await deps.talos.pullImage(node, images.kubelet, "NS_SYSTEM");
    deps.onEvent?.({ node: node.name, step: "images pulled" });
  });
}

/** Sets one image in the node's running config; false when it already held it. */
async function setImage(deps: RolloutDeps, node: NodeRef, path: string[], image: string): Promise<boolean> {
  const edit = setConfigValue(await deps.talos.machineConfig(node), path, image);
  if (!edit.changed) return false;
  await deps.talos.applyConfig(node, edit.yaml);
  deps.onEvent?.({ node: node.name, step: `${path.join(".")} set`, detail: image });
  return true;
}

/** One component on one control plane; true when its image changed, false when it was only checked. */
async function upgradeStaticPod(
  deps: RolloutDeps,
  controlPlanes: NodeRef[],
  node: NodeRef,
  { service, image, path }: { service: StaticPod; image: string; path: string[] },
  t: RolloutTimeouts,
): Promise<boolean> {
  // Gate: a component restarts only while etcd is fully healthy.
  const etcd = await checkEtcd(deps.talos, controlPlanes);
  if (etcd.problems.length > 0) throw new RolloutError(node.name, `${service} gate`, "every etcd member started and healthy", etcd.problems.join("; "));
  const kind = STATIC_POD_CONFIGS[service];
  const before = await deps.talos.resource(node, kind, service);
  if (!before) throw new RolloutError(node.name, service, `a ${kind.type} resource`, "none (is this node a control plane?)");
  const renderedImage = (before.spec as { image?: string } | null)?.image;
  const changed = renderedImage !== image && (await setImage(deps, node, path, image));
  let configVersion = before.version;
  if (changed) {
    configVersion = await pollUntil(
      async () => {
        const now = await deps.talos.resource(node, kind, service);
        const rendered = (now?.spec as { image?: string } | null)?.image;
        return now && now.version !== before.version && rendered === image ? { done: true, value: now.version } : { done: false, reason: `rendered image ${rendered ?? "none"}` };
      },
      { timeoutMs: t.configMs, initialDelayMs: t.pollInitialMs, maxDelayMs: t.pollMaxMs },
      (last) => new RolloutError(node.name, `${service} config`, image, last),
    );
  }
  try {
    await deps.kube.waitStaticPod(service, node, configVersion);
  } catch (error) {
    throw new RolloutError(node.name, service, `a Ready pod from config version ${configVersion} (${image})`, detailOf(error));
  }
  deps.onEvent?.({ node: node.name, step: `${service} ${changed ? "updated" : "already current"}`, detail: image });
  return changed;
}

async function upgradeKubelet(deps: RolloutDeps, node: NodeRef, input: KubernetesUpgradeInput, result: KubernetesUpgradeResult): Promise<void> {
  const problem = serviceProblem(await deps.talos.services(node), "kubelet");
  if (problem) throw new RolloutError(node.name, "kubelet gate", "kubelet running and healthy", problem);
  const changed = await setImage(deps, node, KUBELET_PATH, input.images[node.name].kubelet);
  try {
    await deps.kube.waitKubelet(node.name, `v${input.targetVersion}`);
  } catch (error) {
    throw new RolloutError(node.name, "kubelet", `Node Ready on kubelet v${input.targetVersion}`, detailOf(error));
  }
  deps.onEvent?.({ node: node.name, step: `kubelet ${changed ? "updated" : "already current"}`, detail: `v${input.targetVersion}` });
  record(result, `kubelet ${node.name}`, changed);
}

type ManifestSpec = KubeObject[] | null;

/** Reads the manifests from the first control plane that answers, once they carry the new kube-proxy image. */
async function syncBootstrapManifests(deps: RolloutDeps, controlPlanes: NodeRef[], input: KubernetesUpgradeInput, t: RolloutTimeouts, mode: SyncMode): Promise<string[]> {
  const source = controlPlanes[0];
  const proxy = input.images[source.name].proxy;
  const objects = await pollUntil(
    async () => {
      const found = await deps.talos.listResources(source, MANIFESTS);
      const list = found.flatMap((r) => (r.spec as ManifestSpec) ?? []);
      const daemonSet = list.find((o) => o.kind === "DaemonSet" && o.metadata?.name === "kube-proxy") as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | undefined;
      const rendered = daemonSet?.spec?.template?.spec?.containers?.[0]?.image;
      // Without kube-proxy (Cilium) there is nothing to wait for.
      if (proxy && rendered !== proxy) return { done: false, reason: `kube-proxy manifest image ${rendered ?? "absent"}` };
      return { done: true, value: list };
    },
    { timeoutMs: t.configMs, initialDelayMs: t.pollInitialMs, maxDelayMs: t.pollMaxMs },
    (last) => new RolloutError(source.name, "bootstrap manifests", `kube-proxy ${proxy}`, last),
  );
  try {
    const written = await deps.kube.syncManifests(objects, mode);
    deps.onEvent?.({ node: source.name, step: "bootstrap manifests synced", detail: `${written.length} objects (${mode})` });
    return written;
  } catch (error) {
    throw new RolloutError(source.name, "bootstrap manifests", "every object written and rolled out", detailOf(error));
  }
}
