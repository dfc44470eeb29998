import * as pulumi from "@pulumi/pulumi";
import type * as talos from "../sdk/talos";
import { ClusterSpec } from "../config/domain";
import { taskTimeouts, type TaskTimeouts } from "../config/duration";
import { planRollout } from "../engines/rolloutPlan";
import { kubernetesImages, kubernetesPlan, type KubernetesImages } from "./kubernetesTargets";
import type { PlannedVm } from "../engines/departures";
import { PackagedDynamicResource, type ProviderModule } from "./dynamicResource";
import { loadTasks, PROVIDER_KEY, requireBuiltTasks, type WithProvider } from "./taskModule";
import { backupSettings, type BackupSettings } from "./backupSettings";

/**
 * The rolling Talos and Kubernetes upgrades as a resource: when the installer image or the Talos
 * version changes, its update upgrades the nodes that already existed (control planes one at a
 * time, then workers in batches; engines/rollout.ts); when `kubernetesVersion` changes, it then
 * rolls Kubernetes the way `talosctl upgrade-k8s` does (engines/kubernetesUpgrade.ts). Both run
 * before any config apply, so the applies that follow find every image already in place.
 * Creating it, previewing it and changing anything else never reaches a node. A failed rollout fails the update and leaves the old inputs in state, so the
 * next `pulumi up` tries again and skips the nodes already on the target version.
 *
 * Its provider is not serialized: the state holds a constant text that loads `upgradeProvider` of
 * the package in the project Pulumi runs in (dynamicResource.ts), and the provider loads the
 * compiled tasks from there too (taskModule.ts).
 */

/** The resource's inputs, as its provider receives them (secrets decrypted). */
export interface UpgradeState {
  nodes: { name: string; ip: string; role: "controlplane" | "worker" }[];
  image: string;
  targetVersion: string;
  workerBatchSize: number;
  /** The cluster's CNI: recorded so that a switch on a running cluster is refused (see `cniSwitchProblem`). */
  cni?: string;
  /** The rollout order with the target, one line per step: the preview shows it changing. */
  plan: string[];
  clientConfiguration: talos.ClientConfiguration;
  /** The config's rebootTimeout and drainTimeout (absent in a state written before them: the engine's defaults). */
  timeouts?: TaskTimeouts;
  /** With static addressing only (absent with DHCP): the network the nodes' addresses are fixed in. */
  addressing?: { cidr: string; gateway: string };
  /** Talos version per node, as last upgraded to or read by `pulumi refresh`. */
  versions?: Record<string, string>;
  /** Kubernetes version (absent in the state of releases before the Kubernetes upgrade: then a change is only recorded). */
  kubernetesVersion?: string;
  /** Each node's Kubernetes images on that version (resources/kubernetesTargets.ts). */
  kubernetesImages?: Record<string, KubernetesImages>;
  /** The Kubernetes upgrade's order, one line per step: the preview shows it changing. */
  kubernetesPlan?: string[];
  /**
   * Each node's VM as planned, by node name: its Proxmox host and fixed VM ID (absent: Proxmox
   * picks). Recorded so that the check sees which control planes an update replaces (absent in
   * the state of earlier releases: then only removals are seen).
   */
  vms?: Record<string, PlannedVm>;
  /** The Kubernetes endpoint, `https://<vip or first control plane>:6443` (absent in earlier states). */
  endpoint?: string;
  /** Where the etcd snapshot before a rollout goes (absent in older states: then none is taken). */
  backups?: BackupSettings;
}

/** Whether a change of inputs means a rollout (image or version), as opposed to bookkeeping. Pure. */
export function needsRollout(olds: Pick<UpgradeState, "image" | "targetVersion">, news: Pick<UpgradeState, "image" | "targetVersion">): boolean {
  return olds.image !== news.image || olds.targetVersion !== news.targetVersion;
}

/** Whether `kubernetesVersion` changed on a cluster whose previous version is known. Pure. */
export function needsKubernetesUpgrade(olds: Pick<UpgradeState, "kubernetesVersion">, news: Pick<UpgradeState, "kubernetesVersion">): boolean {
  return olds.kubernetesVersion !== undefined && news.kubernetesVersion !== undefined && olds.kubernetesVersion !== news.kubernetesVersion;
}

/** The rollout order of a spec (engines/rolloutPlan.ts): control planes one per step, then workers in batches. Pure. */
export function upgradePlan(spec: ClusterSpec, workerBatchSize: number, image: string): string[] {
  const plan = planRollout(spec.nodes, {}, spec.talosVersion, workerBatchSize);
  return plan.steps.map((step) => `${step.index + 1}. ${step.nodes.map((n) => n.name).join(", ")} → ${spec.talosVersion} (${image})`);
}

// The departure checks live in the task module (engines/departures.ts), which the check loads
// when it runs: loading this module in the provider host stays cheap.
export { controlPlaneRemovalProblem, endpointRemovalProblem, removalWithReplacementProblem, removalWithUpgradeProblem, roleChangeProblem, vmReplacement } from "../engines/departures";

/**
 * A CNI switch on a running cluster is refused: the old CNI's pods, routes and (for Cilium) eBPF
 * state stay on the nodes, and pods lose their network until every node is rebuilt. Pure.
 */
export function cniSwitchProblem(olds: Partial<Pick<UpgradeState, "cni">>, news: Pick<UpgradeState, "cni">): string | undefined {
  if (olds.cni === undefined || olds.cni === news.cni) return undefined;
  return `cni: switching a running cluster from ${olds.cni} to ${news.cni} is refused; set it back, or destroy and redeploy the cluster with the new CNI`;
}

type AddressingView = Pick<UpgradeState, "nodes" | "addressing">;

/**
 * A change of how a running cluster is addressed, refused with the reason and the way to do it
 * (docs/configuration.md, "Static addresses"). Pure; `olds` is empty on create, when anything goes.
 * - dhcp ↔ static: the image and installer change platform, so every node would be reinstalled,
 *   and adding a cloud-init drive to a running VM needs it powered off, which the provider does
 *   for every changed VM at once or (with `rebootAfterUpdate: false`) refuses (bpg v0.111.1
 *   vm.go:6614-6660).
 * - a static node's new `ip`, `cidr` or `gateway`: the config apply would look for the node at an
 *   address it does not have until its VM reboots with the new cloud-init drive, and until then
 *   Talos holds the old address (cloud-init) and the new one (config) together, as a union.
 */
export function addressingChangeProblem(olds: Partial<AddressingView>, news: AddressingView): string | undefined {
  if (olds.nodes === undefined) return undefined;
  const mode = (view: Partial<AddressingView>) => (view.addressing ? "static" : "dhcp");
  if (mode(olds) !== mode(news)) {
    return (
      `switching network.addressing from ${mode(olds)} to ${mode(news)} on a running cluster is refused: it would reinstall ` +
      `every node on another platform, and the provider adds a cloud-init drive only to a stopped VM. Deploy a new cluster with the new addressing instead`
    );
  }
  if (!olds.addressing || !news.addressing) return undefined;
  for (const key of ["cidr", "gateway"] as const) {
    if (olds.addressing[key] !== news.addressing[key]) {
      return `changing network.${key} (${olds.addressing[key]} → ${news.addressing[key]}) of a running static cluster is refused: nodes would hold the old and the new network until each reboots. Deploy a new cluster instead`;
    }
  }
  const moved = news.nodes.filter((n) => olds.nodes!.some((o) => o.name === n.name && o.ip !== n.ip));
  if (moved.length === 0) return undefined;
  return (
    `changing the static address of ${moved.map((n) => n.name).join(", ")} in place is refused: the node would hold its old ` +
    `and new address together. Remove the node in one pulumi up and add it back with its new ip in the next (one control plane at a time)`
  );
}

type Stored = WithProvider<UpgradeState>;

const PROVIDER: pulumi.dynamic.ResourceProvider = {
  // Runs on preview as well: the refusals show before anything changes. The version rules
  // (engines/kubernetesChecks.ts) come from the compiled tasks, loaded only when a check runs.
  async check(olds: Partial<UpgradeState>, news: UpgradeState) {
    const task = loadTasks();
    const failures = [
      { property: "nodes", reason: task.controlPlaneRemovalProblem(olds, news) },
      { property: "nodes", reason: task.endpointRemovalProblem(olds, news) },
      { property: "nodes", reason: task.removalWithReplacementProblem(olds, news) },
      { property: "nodes", reason: task.removalWithUpgradeProblem(olds, news) },
      { property: "nodes", reason: task.roleChangeProblem(olds, news) },
      { property: "cni", reason: cniSwitchProblem(olds, news) },
      { property: "addressing", reason: addressingChangeProblem(olds, news) },
    ].filter((f): f is { property: string; reason: string } => f.reason !== undefined);
    if (olds.targetVersion === news.targetVersion && !needsKubernetesUpgrade(olds, news)) return { inputs: news, failures };
    return { inputs: news, failures: [...failures, ...task.compatibilityFailures(olds, news)] };
  },
  // Day one installs every node from the target image already: nothing to roll.
  async create(inputs: UpgradeState) {
    const versions = Object.fromEntries(inputs.nodes.map((n) => [n.name, inputs.targetVersion]));
    return { id: "talos-upgrade", outs: { ...inputs, versions } };
  },
  async diff(_id: string, olds: UpgradeState, news: UpgradeState) {
    const keys = ["nodes", "image", "targetVersion", "workerBatchSize", "cni", "plan", "clientConfiguration", "addressing", "kubernetesVersion", "kubernetesImages", "kubernetesPlan", "vms", "endpoint", "timeouts", "backups", PROVIDER_KEY] as const;
    const changed = keys.filter((k) => JSON.stringify((olds as Stored)[k]) !== JSON.stringify((news as Stored)[k]));
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id: string, olds: UpgradeState, news: UpgradeState) {
    const talosRollout = needsRollout(olds, news);
    const kubernetesRollout = needsKubernetesUpgrade(olds, news);
    if (!talosRollout && !kubernetesRollout) return { outs: { ...news, versions: { ...olds.versions } } };
    const task = loadTasks();
    // Nodes added in this update are installed from the new image and config; only the existing ones roll.
    const existing = news.nodes.filter((n) => olds.nodes.some((o) => o.name === n.name));
    const access = { nodes: existing, endpoints: existing.filter((n) => n.role === "controlplane").map((n) => n.ip), clientConfiguration: news.clientConfiguration, timeouts: news.timeouts, backups: news.backups };
    let versions: Record<string, string> = { ...olds.versions };
    if (talosRollout) {
      const result = await task.runUpgrade({
        ...access,
        image: news.image,
        targetVersion: news.targetVersion,
        workerBatchSize: news.workerBatchSize,
        reinstall: olds.targetVersion === news.targetVersion,
      });
      versions = result.versions;
    }
    // After Talos: a new Talos may be what supports the new Kubernetes.
    if (kubernetesRollout) {
      const images = Object.fromEntries(existing.map((n) => [n.name, news.kubernetesImages![n.name]]));
      await task.runKubernetesUpgrade({ ...access, targetVersion: news.kubernetesVersion!, images, workerBatchSize: news.workerBatchSize });
    }
    return { outs: { ...news, versions: Object.fromEntries(news.nodes.map((n) => [n.name, versions[n.name] ?? news.targetVersion])) } };
  },
  // `pulumi refresh`: the version each node runs, so drift shows.
  async read(id: string, props: UpgradeState) {
    const task = loadTasks();
    const versions = await task.readVersions({ clientConfiguration: props.clientConfiguration, endpoints: props.nodes.filter((n) => n.role === "controlplane").map((n) => n.ip), nodes: props.nodes });
    return { id, props: { ...props, versions } };
  },
  async delete() {
    // Nothing to undo: the nodes keep what they run.
  },
};

export interface TalosUpgradeArgs {
  spec: ClusterSpec;
  installerImage: pulumi.Input<string>;
  clientConfiguration: pulumi.Input<talos.ClientConfiguration>;
  workerBatchSize: number;
}

/** Where the provider host finds upgradeProvider (resources/dynamicResource.ts): states name this export, so it keeps its name. */
const PROVIDER_MODULE: ProviderModule = { file: "resources/talosUpgrade.js", exportName: "upgradeProvider" };

/** Rolling upgrades of the cluster's nodes to its installer image (see the module comment). */
export class TalosUpgrade extends PackagedDynamicResource {
  /** Talos version per node (refreshed by `pulumi refresh`). */
  declare readonly versions: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: TalosUpgradeArgs, opts?: pulumi.CustomResourceOptions) {
    requireBuiltTasks("TalosUpgrade");
    const { spec } = args;
    super(
      PROVIDER_MODULE,
      name,
      {
        nodes: spec.nodes.map((n) => ({ name: n.name, ip: n.ip, role: n.role })),
        image: args.installerImage,
        targetVersion: spec.talosVersion,
        workerBatchSize: args.workerBatchSize,
        cni: spec.talos.cni.name,
        plan: pulumi.output(args.installerImage).apply((image) => upgradePlan(spec, args.workerBatchSize, image)),
        clientConfiguration: pulumi.secret(args.clientConfiguration),
        timeouts: taskTimeouts(spec.talos),
        // Only with static addresses, so a DHCP cluster's inputs stay as they were.
        addressing: spec.network.static ? { cidr: spec.network.static.cidr, gateway: spec.network.static.gateway } : undefined,
        versions: undefined,
        kubernetesVersion: spec.kubernetesVersion,
        kubernetesImages: Object.fromEntries(spec.nodes.map((n) => [n.name, kubernetesImages(spec, n)])),
        kubernetesPlan: kubernetesPlan(spec, args.workerBatchSize),
        vms: Object.fromEntries(spec.nodes.map((n) => [n.name, { host: n.host, vmId: n.vmId }])),
        endpoint: spec.endpoint,
        backups: backupSettings(spec),
      },
      // The client key stays a secret in the resource's outputs too.
      { ...opts, additionalSecretOutputs: ["clientConfiguration"] },
    );
  }
}

/** The provider's methods, for tests. */
export const upgradeProvider = PROVIDER;
