/**
 * Rolling Talos upgrade and rolling reboot: one control plane at a time behind an etcd gate, then
 * workers in batches; every node drained, rebooted, verified and uncordoned before the next step.
 * Any failure stops the rollout (no blind retry); running it again resumes past upgraded nodes.
 */
import { EXTENSION_STATUSES, schematicFromExtensions } from "../talosapi/cosi";
import { RolloutError, detailOf, messageOf } from "../talosapi/errors";
import { pollUntil } from "../talosapi/poll";
import { snapshotBeforePlan, type EtcdBackup } from "./backups";
import { gateControlPlane, waitEtcdHealthy } from "./gates";
import type { KubeOperations, NodeRef, RolloutTimeouts, TalosOperations } from "./operations";
import { rolloutTimeouts } from "./operations";
import { planRollout, type RolloutPlan } from "./rolloutPlan";
import { hasLifecycleApi, parseTalosVersion, sameVersion } from "../talosapi/versions";
import { requireProxmoxFor, restartNode, type ProxmoxOperations, type VmRef } from "./proxmoxReboot";

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
  /** For reboots that must restart the VM (RolledRebootInput.throughProxmox). */
  proxmox?: ProxmoxOperations;
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
   * The image changed within a version (new extensions or kernel arguments). With a factory
   * installer, nodes already on its schematic are skipped; with any other image every node is
   * reinstalled, as the version alone can't tell them apart.
   */
  reinstall?: boolean;
  /** Waits the engine does itself; each operation's own limits are set where the operations are built. */
  timeouts?: EngineTimeouts;
}

/** The limits the engine applies itself (etcd healthy again after a control plane's reboot; a VM running again after a Proxmox reboot). */
export type EngineTimeouts = Partial<Pick<RolloutTimeouts, "etcdHealthyMs" | "rebootMs" | "pollInitialMs" | "pollMaxMs">>;

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

/**
 * The schematic ID of an Image Factory installer, `<host>/<platform>-installer/<id>:<tag>` (the
 * ID is a sha256 in hex); undefined for any other image, whose running schematic can't be compared.
 */
export function installerSchematic(image: string): string | undefined {
  const repository = image.split("@")[0].replace(/:[^/:]*$/, "");
  return /\/(?:[a-z0-9-]+-)?installer\/([0-9a-f]{64})$/.exec(repository)?.[1];
}

/** What a node runs: Talos version and, when the rollout compares it, the booted image's schematic. */
interface RunningImage {
  version: string;
  schematic?: string;
}

/** Where the rollout takes every node. */
interface RolloutTarget {
  version: string;
  /** Schematic of a factory installer: compared after each reboot and to skip nodes already on it. */
  schematic?: string;
  reinstall: boolean;
}

function targetOf(input: RolloutInput): RolloutTarget {
  return { version: input.targetVersion, schematic: installerSchematic(input.image), reinstall: input.reinstall === true };
}

async function runningImage(talos: TalosOperations, node: NodeRef, target: RolloutTarget): Promise<RunningImage> {
  const version = await talos.version(node);
  if (target.schematic === undefined) return { version };
  return { version, schematic: schematicFromExtensions(await talos.listResources(node, EXTENSION_STATUSES)) };
}

/**
 * Already done: on the target version and, for a factory installer, on its schematic. Without a
 * schematic to compare, `reinstall` means the version alone can't tell, so every node is redone.
 */
function isOnTarget(image: RunningImage, target: RolloutTarget): boolean {
  if (!sameVersion(image.version, target.version)) return false;
  return target.schematic === undefined ? !target.reinstall : image.schematic === target.schematic;
}

/**
 * After the reboot, the node must run the target schematic: an A/B fallback boots the previous
 * entry, which has the same version when only the image changed. Talos publishes the extension
 * statuses once per boot, so an empty list right after the boot is waited out.
 */
async function verifySchematic(talos: TalosOperations, node: NodeRef, schematic: string, t: RolloutTimeouts): Promise<void> {
  const seen = await pollUntil(
    async () => {
      const running = schematicFromExtensions(await talos.listResources(node, EXTENSION_STATUSES));
      return running === undefined ? { done: false, reason: "no schematic extension reported" } : { done: true, value: running };
    },
    { timeoutMs: t.nodeReadyMs, initialDelayMs: t.pollInitialMs, maxDelayMs: t.pollMaxMs },
    (reason) => new RolloutError(node.name, "schematic after reboot", schematic, reason),
  );
  if (seen !== schematic) throw new RolloutError(node.name, "schematic after reboot", schematic, `${seen} (booted the previous image: A/B rollback)`);
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
 * then reboots itself), wait back, verify the version and, for a factory installer, the schematic
 * (else an A/B rollback: stop), etcd healthy
 * with the same member count (control planes), Node Ready, uncordon.
 * @throws RolloutError or TalosApiError naming the node; nothing after it has been touched.
 */
export async function rollout(input: RolloutInput, deps: RolloutDeps): Promise<RolloutResult> {
  validateInput(input);
  const t = rolloutTimeouts(input.timeouts);
  const target = targetOf(input);
  // Read together: a serial read would add one call per node to the rollout's critical path.
  const images = await Promise.all(input.nodes.map((node) => runningImage(deps.talos, node, target)));
  const running = new Map(input.nodes.map((node, i) => [node.name, images[i]]));
  const current = Object.fromEntries(images.map((image, i) => [input.nodes[i].name, image.version]));
  const plan = planRollout(input.nodes, current, input.targetVersion, input.workerBatchSize ?? 1, (n) => isOnTarget(running.get(n.name)!, target));
  const upgraded: string[] = [];
  const skipped = plan.upToDate.map((n) => n.name);
  await Promise.all(plan.upToDate.map((p) => uncordonLeftover(deps, input.nodes.find((n) => n.name === p.name) as NodeRef)));
  await snapshotBeforePlan(deps, input.nodes, plan, "upgrade");
  for (const step of plan.steps) {
    const stepNodes = step.nodes.map((p) => input.nodes.find((n) => n.name === p.name) as NodeRef);
    const outcomes = await runBatch(stepNodes, (node) => upgradeOne(input, target, deps, node, t));
    stepNodes.forEach((node, i) => (outcomes[i] === "upgraded" ? upgraded : skipped).push(node.name));
  }
  return { plan, upgraded, skipped };
}

/**
 * Runs a node's work from its cordon on. On failure it uncordons the node, as `talosctl upgrade`
 * does in a defer also when the upgrade failed (siderolabs/talos v1.13.9
 * cmd/talosctl/cmd/talos/upgrade.go:155-165): a node that fell back runs its previous image and a
 * rerun redoes it anyway. The error says whether the uncordon worked.
 */
async function uncordonOnFailure<T>(deps: RolloutDeps, node: NodeRef, step: string, expected: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    let note: string;
    try {
      await deps.kube.uncordon(node.name);
      note = `${node.name} uncordoned again, as talosctl upgrade does after a failure`;
    } catch (uncordonError) {
      note = `${node.name} is still cordoned (uncordon failed: ${messageOf(uncordonError)}): run kubectl uncordon ${node.name} or run the upgrade again`;
    }
    if (error instanceof RolloutError) throw new RolloutError(error.node, error.step, error.expected, error.seen, note);
    throw new RolloutError(node.name, step, expected, messageOf(error), note);
  }
}

/** A node already done but still cordoned (a failed or killed earlier run) is made schedulable again. */
async function uncordonLeftover(deps: RolloutDeps, node: NodeRef): Promise<void> {
  if (!(await deps.kube.isCordoned(node.name))) return;
  await deps.kube.uncordon(node.name);
  deps.onEvent?.({ node: node.name, step: "uncordoned", detail: "already on the target, left cordoned by an earlier run" });
}

async function upgradeOne(input: RolloutInput, target: RolloutTarget, deps: RolloutDeps, node: NodeRef, t: RolloutTimeouts): Promise<"upgraded" | "skipped"> {
  const { talos } = deps;
  const emit = (step: string, detail?: string) => deps.onEvent?.({ node: node.name, step, detail });
  const running = await runningImage(talos, node, target);
  if (isOnTarget(running, target)) {
    emit("skipped", `already at ${running.version}`);
    await uncordonLeftover(deps, node);
    return "skipped";
  }
  const memberCount = node.role === "controlplane" ? await gateControlPlane(talos, controlPlanesOf(input.nodes), node) : undefined;
  const bootId = await talos.bootId(node);
  await talos.pullImage(node, input.image);
  emit("pulled", input.image);
  const lifecycle = hasLifecycleApi(running.version);
  if (lifecycle) {
    await talos.upgrade(node, input.image, running.version);
    emit("installed", `${running.version} → ${input.targetVersion}`);
  }
  await uncordonOnFailure(deps, node, "upgrade", `the node on ${input.targetVersion}`, async () => {
    await deps.kube.drain(node.name);
    emit("drained");
    if (lifecycle) {
      await talos.reboot(node);
      emit("rebooting");
    } else {
      await talos.upgrade(node, input.image, running.version);
      emit("upgrading (legacy API: the node reboots itself)", `${running.version} → ${input.targetVersion}`);
    }
    await verifyBooted(input, target, deps, node, bootId, t);
    await afterReboot(deps, input.nodes, node, memberCount, t);
  });
  return "upgraded";
}

/** Waits for the new boot and checks it runs the target: version, and schematic for a factory installer. */
async function verifyBooted(input: RolloutInput, target: RolloutTarget, deps: RolloutDeps, node: NodeRef, bootId: string | undefined, t: RolloutTimeouts): Promise<void> {
  try {
    await deps.talos.waitRebooted(node, bootId);
  } catch (error) {
    throw new RolloutError(node.name, "wait for reboot", `the node back on ${input.targetVersion}`, detailOf(error));
  }
  const seen = await deps.talos.version(node);
  if (!sameVersion(seen, input.targetVersion)) {
    throw new RolloutError(node.name, "version after reboot", input.targetVersion, `${seen} (booted the previous image: A/B rollback)`);
  }
  if (target.schematic !== undefined) await verifySchematic(deps.talos, node, target.schematic, t);
  deps.onEvent?.({ node: node.name, step: "running", detail: seen });
}

export interface RolledRebootInput {
  /** Every node of the cluster. */
  nodes: NodeRef[];
  /** Names of the nodes to reboot (default: all), rebooted in rollout order. */
  only?: string[];
  workerBatchSize?: number;
  timeouts?: EngineTimeouts;
  /** Nodes rebooted through the Proxmox API (stop and start: their hardware changed), with their VMs. */
  throughProxmox?: Record<string, VmRef>;
}

/**
 * Reboots nodes one control plane at a time (etcd gate before, healthy after), then workers in
 * batches: drain, reboot (a node in `throughProxmox` through the Proxmox API, so its hardware
 * changes apply), wait for a new boot, Node Ready, uncordon.
 * @returns the names rebooted, in order.
 */
export async function rolledReboot(input: RolledRebootInput, deps: RolloutDeps): Promise<string[]> {
  const t = rolloutTimeouts(input.timeouts);
  const wanted = input.only ?? input.nodes.map((n) => n.name);
  for (const name of wanted) if (!input.nodes.some((n) => n.name === name)) throw new Error(`node ${name} is not in the node list`);
  requireProxmoxFor(input.throughProxmox, deps.proxmox);
  const selected = input.nodes.filter((n) => wanted.includes(n.name));
  // Unknown versions never equal the marker, so every selected node gets a step, in rollout order.
  const plan = planRollout(selected, {}, "reboot", input.workerBatchSize ?? 1);
  const rebooted: string[] = [];
  await snapshotBeforePlan(deps, input.nodes, plan, "reboot");
  for (const step of plan.steps) {
    await runBatch(step.nodes.map((p) => selected.find((n) => n.name === p.name) as NodeRef), async (node) => {
      const memberCount = node.role === "controlplane" ? await gateControlPlane(deps.talos, controlPlanesOf(input.nodes), node) : undefined;
      const bootId = await deps.talos.bootId(node);
      await uncordonOnFailure(deps, node, "reboot", "the node rebooted and schedulable", async () => {
        await deps.kube.drain(node.name);
        await restartNode(deps, node, input.throughProxmox?.[node.name], t);
        try {
          await deps.talos.waitRebooted(node, bootId);
        } catch (error) {
          throw new RolloutError(node.name, "wait for reboot", "the node back with a new boot id", detailOf(error));
        }
        await afterReboot(deps, input.nodes, node, memberCount, t);
      });
    });
    rebooted.push(...step.nodes.map((n) => n.name));
  }
  return rebooted;
}
