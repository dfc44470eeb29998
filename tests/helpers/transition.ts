import { RecordingMocks, unwrap } from "../../testkit/mocks";
import { ProgramRun, RegistrationRequest, RunOptions, runProgram } from "./program";

/**
 * What a real `pulumi up` from config A to config B would do, worked out the way the engine does
 * from the two runs' registrations (both under mocks): resources matched by URN or alias; inputs
 * compared, minus `ignoreChanges`; a change to an input the provider can't update in place, or
 * listed in `replaceOnChanges`, is a replacement; `replaceWith` spreads replacements; a
 * `deleteBeforeReplace` resource is deleted before its successor is created; removed resources
 * are deleted last, dependents first. Each delete-before-replace replacement is a chain (its
 * replaced dependents deleted, then it, then its successor created), and the engine runs
 * independent chains at the same time (`Step.chain`, `parallelChains`).
 */

/**
 * Inputs each provider can only change by replacing the resource (path prefixes, `[*]` for any
 * index). Everything else updates in place.
 */
export const REPLACED_ON_CHANGE: Record<string, string[]> = {
  // bpg/terraform-provider-proxmox v0.111.1 proxmoxtf/resource/vm/vm.go:1664-1671, 1767-1790
  // (vm_id; node_name unless migrate, which defaults to false: vm.go:109), disk/schema.go:136-142
  // (disk file_id), vm.go:994-1032 (initialization type and *_file_id). cdrom, network devices
  // (MACs included), cpu, memory, tags, description and name update in place; so do host PCI
  // devices (vm.go:1047-1051) and a new disk without file_id (disk/disk.go:620-714).
  "proxmoxve:index/vmLegacy:VmLegacy": [
    "vmId",
    "nodeName",
    "disks[*].fileId",
    "initialization.type",
    "initialization.userDataFileId",
    "initialization.vendorDataFileId",
    "initialization.networkDataFileId",
    "initialization.metaDataFileId",
  ],
  // bpg v0.111.1 fwprovider/nodes/resource_download_file.go:216-326 (RequiresReplace).
  "proxmoxve:download/file:File": [
    "contentType",
    "fileName",
    "datastoreId",
    "nodeName",
    "url",
    "checksum",
    "checksumAlgorithm",
    "decompressionAlgorithm",
  ],
  // This project's own dynamic providers: a node's membership is replaced with its VM (resources/talosMember.ts diff).
  "pulumi-nodejs:dynamic:Resource": ["vm"],
  // siderolabs/terraform-provider-talos v0.11.0: the only RequiresReplace is a talos_version
  // downgrade of talos_machine_secrets (pkg/talos/talos_machine_secrets_resource.go:525-543);
  // the schematic updates in place (talos_image_factory_schematic_resource.go:123-156).
  "talos:machine/secrets:Secrets": ["talosVersion"],
  // Kubernetes: an object's name and namespace are its identity; a Deployment's selector and a
  // Service's clusterIP are immutable (pulumi-kubernetes replaces on them).
  "kubernetes:apps/v1:Deployment": ["metadata.name", "metadata.namespace", "spec.selector"],
  "kubernetes:core/v1:Service": ["metadata.name", "metadata.namespace", "spec.clusterIP"],
  // pulumi-kubernetes v4.32.0 provider/pkg/provider/diff.go:70-77 (parameters, provisioner); our
  // StorageClass adds reclaimPolicy and volumeBindingMode through replaceOnChanges.
  "kubernetes:storage.k8s.io/v1:StorageClass": ["metadata.name", "parameters", "provisioner"],
};

export type Op = "create" | "update" | "replace" | "delete";

export interface Step {
  op: Op;
  type: string;
  name: string;
  /** For updates and replacements: the input paths that differ. */
  changed?: string[];
  /** A replacement that deletes the old resource before creating the new one. */
  deleteFirst?: boolean;
  /** A delete the engine does not send to the provider: its `deletedWith` target goes in the same operation. */
  skipped?: boolean;
  /**
   * The replaced resource whose delete-before-replace chain this step is part of. Steps of one
   * chain run in order; different chains run at the same time (pulumi/pulumi v3.248.0
   * pkg/resource/deploy/step_generator.go:1939-2023 builds a chain per replacement with its
   * dependents' deletes first; step_executor.go:55-58 runs independent chains concurrently).
   */
  chain?: string;
}

export interface Transition {
  a: ProgramRun;
  b: ProgramRun;
  /** Every step the engine would take, in order. */
  steps: Step[];
}

const firstRuns = new Map<string, Promise<ProgramRun>>();

/**
 * Runs the program with config A, then with config B (B sees A's state), and plans the update.
 * Runs of the same config A are shared within a test file: the program is deterministic.
 */
export async function transition(
  configA: Record<string, string>,
  configB: Record<string, string>,
  options: Pick<RunOptions, "runHooks"> = {},
): Promise<Transition> {
  const key = JSON.stringify([configA, options]);
  if (!firstRuns.has(key)) firstRuns.set(key, runProgram(configA, options));
  const a = await firstRuns.get(key)!;
  const b = await runProgram(configB, { ...options, mocks: new RecordingMocks({}, a.mocks.state) });
  return { a, b, steps: planUpdate(a, b) };
}

interface Resource {
  request: RegistrationRequest;
  inputs: Record<string, unknown>;
  order: number;
}

function resources(run: ProgramRun): Map<string, Resource> {
  const out = new Map<string, Resource>();
  run.mocks.registrations.forEach((r, order) => {
    const request = run.requests.get(`${r.type}::${r.name}`);
    // Components have no provider operations of their own.
    if (!request || !request.custom) return;
    out.set(request.urn, { request, inputs: unwrap(r.inputs) as Record<string, unknown>, order });
  });
  return out;
}

/** The plan of an update from run A's state to run B's program. */
export function planUpdate(a: ProgramRun, b: ProgramRun): Step[] {
  const before = resources(a);
  const after = resources(b);
  const matched = new Map<string, string>(); // B urn → A urn
  for (const [urn, r] of after) {
    const candidates = [urn, ...r.request.aliases.map((alias) => alias.urn).filter((u): u is string => !!u)];
    const old = candidates.find((u) => before.has(u));
    if (old) matched.set(urn, old);
  }

  const decisions = new Map<string, Step>();
  for (const [urn, r] of after) {
    const step = { type: r.request.type, name: r.request.name };
    const oldUrn = matched.get(urn);
    if (!oldUrn) {
      decisions.set(urn, { op: "create", ...step });
      continue;
    }
    const ignored = r.request.ignoreChanges;
    const changed = diffPaths(before.get(oldUrn)!.inputs, r.inputs).filter((p) => !ignored.some((i) => covers(i, p)));
    const forcing = [...(REPLACED_ON_CHANGE[r.request.type] ?? []), ...r.request.replaceOnChanges];
    if (addedLeaves(changed, before.get(oldUrn)!.inputs, r.inputs).some((p) => forcing.some((f) => covers(f, p)))) {
      decisions.set(urn, { op: "replace", ...step, changed, deleteFirst: r.request.deleteBeforeReplace });
    } else if (changed.length > 0) {
      decisions.set(urn, { op: "update", ...step, changed });
    }
  }
  // replaceWith: replaced along with any listed resource, until nothing more changes.
  for (let spread = true; spread; ) {
    spread = false;
    for (const [urn, r] of after) {
      if (decisions.get(urn)?.op === "replace" || decisions.get(urn)?.op === "create") continue;
      if (r.request.replaceWith.some((u) => decisions.get(u)?.op === "replace")) {
        const prior = decisions.get(urn);
        decisions.set(urn, { op: "replace", type: r.request.type, name: r.request.name, changed: prior?.changed ?? [], deleteFirst: r.request.deleteBeforeReplace });
        spread = true;
      }
    }
  }

  const steps: Step[] = [];
  const ordered = [...after.entries()].sort((x, y) => x[1].order - y[1].order);
  const deletedEarly = new Set<string>();
  for (const [urn] of ordered) {
    const decision = decisions.get(urn);
    if (!decision) continue;
    if (decision.op === "replace" && decision.deleteFirst && !deletedEarly.has(urn)) {
      // First the replaced dependents whose inputs come from it, the last registered first
      // (pulumi/pulumi v3.208.0 step_generator.go calculateDependentReplacements).
      const chain = decision.name;
      for (const dependent of dependentReplacements(urn, after, decisions, ordered)) {
        steps.push({ ...decisions.get(dependent)!, op: "delete", chain });
        deletedEarly.add(dependent);
      }
      steps.push({ ...decision, op: "delete", chain });
      steps.push({ ...decision, op: "create", chain });
    } else if (decision.op === "replace" && deletedEarly.has(urn)) {
      steps.push({ ...decision, op: "create" });
    } else {
      steps.push(decision);
    }
  }
  // Create-before-delete replacements delete their old resource at the end, as do removals.
  for (const [urn] of [...ordered].reverse()) {
    const decision = decisions.get(urn);
    if (decision?.op === "replace" && !decision.deleteFirst && !deletedEarly.has(urn)) steps.push({ ...decision, op: "delete" });
  }
  const kept = new Set(matched.values());
  for (const [urn, r] of [...before.entries()].sort((x, y) => y[1].order - x[1].order)) {
    if (!kept.has(urn)) steps.push({ op: "delete", type: r.request.type, name: r.request.name });
  }
  return steps;
}

/**
 * The replacement chains of a plan, by the replaced resource's name, each in its own order. The
 * engine starts them together: the first step of every chain runs at the same moment.
 */
export function parallelChains(steps: Step[]): Map<string, Step[]> {
  const chains = new Map<string, Step[]>();
  for (const step of steps) {
    if (step.chain === undefined) continue;
    chains.set(step.chain, [...(chains.get(step.chain) ?? []), step]);
  }
  return chains;
}

/**
 * `pulumi destroy`: every resource deleted, the last registered first; a delete whose
 * `deletedWith` target is deleted too is not sent to its provider (pulumi/pulumi v3.208.0
 * pkg/resource/deploy/step.go isDeletedWith over all of the operation's deletions).
 */
export function planDestroy(run: ProgramRun): Step[] {
  const all = [...resources(run).values()].sort((x, y) => y.order - x.order);
  const deleted = new Set(all.map((r) => r.request.urn));
  return all.map((r) => ({
    op: "delete" as const,
    type: r.request.type,
    name: r.request.name,
    skipped: r.request.deletedWith !== "" && deleted.has(r.request.deletedWith),
  }));
}

/** Resources being replaced that take an input from `root` or from another of them, the last registered first. */
function dependentReplacements(root: string, after: Map<string, Resource>, decisions: Map<string, Step>, ordered: [string, Resource][]): string[] {
  const set = new Set([root]);
  for (const [urn, r] of ordered) {
    const fromSet = Object.values(r.request.propertyDependencies).some((urns) => urns.some((u) => set.has(u)));
    if (urn !== root && fromSet && decisions.get(urn)?.op === "replace") set.add(urn);
  }
  set.delete(root);
  return [...set].sort((x, y) => after.get(y)!.order - after.get(x)!.order);
}

/**
 * The changed paths with each block that appeared whole expanded into its leaves: a block added
 * to a resource sets every attribute in it, and one of them may force a replacement (the
 * provider diffs `initialization.0.type` from "" to a value: Terraform SDKv2 schema.go
 * finalizeDiff marks a ForceNew attribute RequiresNew whenever old and new differ).
 */
export function addedLeaves(changed: string[], before: unknown, after: unknown): string[] {
  return changed.flatMap((path) => {
    const value = valueAt(after, path);
    return valueAt(before, path) === undefined && typeof value === "object" && value !== null ? leafPaths(value, path) : [path];
  });
}

function leafPaths(value: unknown, prefix: string): string[] {
  if (typeof value !== "object" || value === null) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, Array.isArray(value) ? `${prefix}[${k}]` : `${prefix}.${k}`));
}

/** The value at a path such as `initialization.ipConfigs[0]`. */
function valueAt(root: unknown, path: string): unknown {
  return path
    .split(/\.|(?=\[)/)
    .reduce<unknown>((v, part) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[part.replace(/^\[(\d+)\]$/, "$1")] : undefined), root);
}

/** Leaf paths (`disks[0].size`) whose values differ between two input objects. */
export function diffPaths(before: unknown, after: unknown, prefix = ""): string[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown) => typeof v === "object" && v !== null;
  if (!isObject(before) || !isObject(after) || Array.isArray(before) !== Array.isArray(after)) return [prefix];
  const keys = new Set([...Object.keys(before as object), ...Object.keys(after as object)]);
  return [...keys].flatMap((k) => {
    const path = Array.isArray(after) ? `${prefix}[${k}]` : prefix ? `${prefix}.${k}` : k;
    return diffPaths((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k], path);
  });
}

/** Whether an option path (`disks[*].speed`, `spec.selector`) covers a changed leaf path. */
export function covers(option: string, path: string): boolean {
  const pattern = option.replace(/[.$^+?()|{}\\]/g, "\\$&").replace(/\[\*\]/g, "\\[\\d+\\]").replace(/\[(\d+)\]/g, "\\[$1\\]");
  return new RegExp(`^${pattern}($|[.[])`).test(path);
}
