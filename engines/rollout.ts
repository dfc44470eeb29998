/**
 * Rolling Talos upgrade and rolling reboot: one control plane at a time behind an etcd gate, then
 * workers in batches; every node drained, rebooted, verified and uncordoned before the next step.
 * Any failure stops the rollout (no blind retry); running it again resumes past upgraded nodes.
 */
import { RolloutError, detailOf } from "../talosapi/errors";
import { snapshotBeforePlan, type EtcdBackup } from "./backups";
import { gateControlPlane, waitEtcdHealthy } from "./gates";
import type { KubeOperations, NodeRef, RolloutTimeouts, TalosOperations } from "./operations";
import { rolloutTimeouts } from "./operations";
import { planRollout, type RolloutPlan } from "./rolloutPlan";
import { hasLifecycleApi, parseTalosVersion, sameVersion } from "../talosapi/versions";

/** Progress report (never contains credentials). */
export interface RolloutEvent {
  node: string;
  step: string;
  detail?: string;
}

/** What the engine runs on. */
export interface RolloutDeps {
  talos: TalosOperations;
  kube: KubeOperations;
  onEvent?: (event: RolloutEvent) => void;
  /** An etcd snapshot before the first control plane changes (engines/backups.ts); none when absent. */
  backup?: EtcdBackup;
}

export interface RolloutInput {
  /** Every node of the cluster (control planes are all needed for the etcd gate). */
  nodes: NodeRef[];
  /** Installer image, e.g. `factory.talos.dev/installer/<schematic>:v1.13.9`. */
  image: string;
  /** Talos version tag the image installs, e.g. `v1.13.9`. */
  targetVersion: string;
  /** Workers upgraded together (default 1). */
  workerBatchSize?: number;
  /**
   * Install the image on nodes already at `targetVersion` too: the image changed within a version
   * (new extensions or kernel arguments), which the version alone can't tell apart.
   */
  reinstall?: boolean;
  /** Waits the engine does itself; each operation's own limits are set where the operations are built. */
  timeouts?: EngineTimeouts;
}

/** The limits the engine applies itself (etcd healthy again after a control plane's reboot). */
export type EngineTimeouts = Partial<Pick<RolloutTimeouts, "etcdHealthyMs" | "pollInitialMs" | "pollMaxMs">>;

export interface RolloutResult {
  plan: RolloutPlan;
  upgraded: string[];
  /** Already at the target when their turn came. */
  skipped: string[];
}

/** The tag of an image reference (`repo:tag` or `repo:tag@digest`), if it has one. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split("@")[0];
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? undefined : withoutDigest.slice(colon + 1);
}

function validateInput(input: RolloutInput): void {
  if (!parseTalosVersion(input.targetVersion)) throw new Error(`target version ${input.targetVersion} is not a Talos version tag (vX.Y.Z)`);
  const tag = imageTag(input.image);
  if (tag !== undefined && !sameVersion(tag, input.targetVersion)) {
    throw new Error(`installer image tag ${tag} does not match the target version ${input.targetVersion}`);
  }
  if (!input.nodes.some((n) => n.role === "controlplane")) throw new Error("the node list has no control plane");
}

/** Runs `work` for each node of a batch together; after all settle, throws the first failure. */
export async function runBatch<T>(nodes: NodeRef[], work: (node: NodeRef) => Promise<T>): Promise<T[]> {
  const results = await Promise.allSettled(nodes.map(work));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

function controlPlanesOf(nodes: NodeRef[]): NodeRef[] {
  return nodes.filter((n) => n.role === "controlplane");
}

/** After the node is back: etcd (control planes), Node Ready, uncordon. */
async function afterReboot(deps: RolloutDeps, nodes: NodeRef[], node: NodeRef, memberCount: number | undefined, t: RolloutTimeouts): Promise<void> {
  const emit = (step: string, detail?: string) => deps.onEvent?.({ node: node.name, step, detail });
  if (memberCount !== undefined) {
    await waitEtcdHealthy(deps.talos, controlPlanesOf(nodes), node, memberCount, {
      timeoutMs: t.etcdHealthyMs,
      initialDelayMs: t.pollInitialMs,
      maxDelayMs: t.pollMaxMs,
    });
    emit("etcd healthy", `${memberCount} members`);
  }
  await deps.kube.waitReady(node.name);
  emit("node ready");
  await deps.kube.uncordon(node.name);
  emit("uncordoned");
}

/**
 * Upgrades Talos on every node not yet at `targetVersion`, in plan order. Per node: gate (control
 * planes), boot id, pull, upgrade, drain, reboot (1.13 API; a pre-1.13 node is drained first and
 * then reboots itself), wait back, verify the version (else an A/B rollback: stop), etcd healthy
 * with the same member count (control planes), Node Ready, uncordon.
 * @throws RolloutError or TalosApiError naming the node; nothing after it has been touched.
 */
export async function rollout(input: RolloutInput, deps: RolloutDeps): Promise<RolloutResult> {
  validateInput(input);
  const t = rolloutTimeouts(input.timeouts);
  // Read together: a serial read would add one call per node to the rollout's critical path.
  const versions = await Promise.all(input.nodes.map((node) => deps.talos.version(node)));
  const current = Object.fromEntries(input.nodes.map((node, i) => [node.name, versions[i]]));
  // With reinstall every node is planned, whatever it runs.
  const plan = planRollout(input.nodes, input.reinstall ? {} : current, input.targetVersion, input.workerBatchSize ?? 1);
  const upgraded: string[] = [];
  const skipped = plan.upToDate.map((n) => n.name);
  await snapshotBeforePlan(deps, input.nodes, plan, "upgrade");
  for (const step of plan.steps) {
    const stepNodes = step.nodes.map((p) => input.nodes.find((n) => n.name === p.name) as NodeRef);
    const outcomes = await runBatch(stepNodes, (node) => upgradeOne(input, deps, node, t));
    stepNodes.forEach((node, i) => (outcomes[i] === "upgraded" ? upgraded : skipped).push(node.name));
  }
  return { plan, upgraded, skipped };
}

async function upgradeOne(input: RolloutInput, deps: RolloutDeps, node: NodeRef, t: RolloutTimeouts): Promise<"upgraded" | "skipped"> {
  const { talos, kube } = deps;
  const emit = (step: string, detail?: string) => deps.onEvent?.({ node: node.name, step, detail });
  const from = await talos.version(node);
  if (!input.reinstall && sameVersion(from, input.targetVersion)) {
    emit("skipped", `already at ${from}`);
    return "skipped";
  }
  const memberCount = node.role === "controlplane" ? await gateControlPlane(talos, controlPlanesOf(input.nodes), node) : undefined;
  const bootId = await talos.bootId(node);
  await talos.pullImage(node, input.image);
  emit("pulled", input.image);
  if (hasLifecycleApi(from)) {
    await talos.upgrade(node, input.image, from);
    emit("installed", `${from} → ${input.targetVersion}`);
    await kube.drain(node.name);
    emit("drained");
    await talos.reboot(node);
    emit("rebooting");
  } else {
    await kube.drain(node.name);
    emit("drained");
    await talos.upgrade(node, input.image, from);
    emit("upgrading (legacy API: the node reboots itself)", `${from} → ${input.targetVersion}`);
  }
  try {
    await talos.waitRebooted(node, bootId);
  } catch (error) {
    throw new RolloutError(node.name, "wait for reboot", `the node back on ${input.targetVersion}`, detailOf(error));
  }
  const seen = await talos.version(node);
  if (!sameVersion(seen, input.targetVersion)) {
    throw new RolloutError(node.name, "version after reboot", input.targetVersion, `${seen} (booted the previous image: A/B rollback)`);
  }
  emit("running", seen);
  await afterReboot(deps, input.nodes, node, memberCount, t);
  return "upgraded";
}

export interface RolledRebootInput {
  /** Every node of the cluster. */
  nodes: NodeRef[];
  /** Names of the nodes to reboot (default: all), rebooted in rollout order. */
  only?: string[];
  workerBatchSize?: number;
  timeouts?: EngineTimeouts;
}

/**
 * Reboots nodes one control plane at a time (etcd gate before, healthy after), then workers in
 * batches: drain, reboot, wait for a new boot, Node Ready, uncordon.
 * @returns the names rebooted, in order.
 */
export async function rolledReboot(input: RolledRebootInput, deps: RolloutDeps): Promise<string[]> {
  const t = rolloutTimeouts(input.timeouts);
  const wanted = input.only ?? input.nodes.map((n) => n.name);
  for (const name of wanted) if (!input.nodes.some((n) => n.name === name)) throw new Error(`node ${name} is not in the node list`);
  const selected = input.nodes.filter((n) => wanted.includes(n.name));
  // Unknown versions never equal the marker, so every selected node gets a step, in rollout order.
  const plan = planRollout(selected, {}, "reboot", input.workerBatchSize ?? 1);
  const rebooted: string[] = [];
  await snapshotBeforePlan(deps, input.nodes, plan, "reboot");
  for (const step of plan.steps) {
    await runBatch(step.nodes.map((p) => selected.find((n) => n.name === p.name) as NodeRef), async (node) => {
      const memberCount = node.role === "controlplane" ? await gateControlPlane(deps.talos, controlPlanesOf(input.nodes), node) : undefined;
      const bootId = await deps.talos.bootId(node);
      await deps.kube.drain(node.name);
      await deps.talos.reboot(node);
      deps.onEvent?.({ node: node.name, step: "rebooting" });
      try {
        await deps.talos.waitRebooted(node, bootId);
      } catch (error) {
        throw new RolloutError(node.name, "wait for reboot", "the node back with a new boot id", detailOf(error));
      }
      await afterReboot(deps, input.nodes, node, memberCount, t);
    });
    rebooted.push(...step.nodes.map((n) => n.name));
  }
  return rebooted;
}
