import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { UserPatch } from "./domain";
import { TalosProblem, validateTalosDocuments, validateTalosPatch } from "./talosSchema/checkDocuments";

/**
 * The user's own Talos patches: read (`@<path>` files), parsed and checked against the Talos v1.13
 * config description before anything is registered; then each node's patches, the program's and
 * the user's, merged and checked again for what only shows once they are together.
 */

/** Reads a patch file; paths are relative to the project directory (Pulumi runs programs there). */
export type ReadFile = (file: string) => string;
export const readProjectFile: ReadFile = (file) => fs.readFileSync(path.resolve(file), "utf8");

export interface PatchFindings {
  patches: UserPatch[];
  problems: string[];
  warnings: string[];
}

/** Field names whose values are not echoed in messages: they may hold credentials. */
const SECRET_FIELD = /(password|secret|token|key|auth|credential)/i;

/** One finding as a config problem: where (key, file), document, field, message; credential values hidden. */
export function describeProblem(where: string, p: TalosProblem, documentLabel = `document ${p.document}`): string {
  const field = p.path.split(/[.[]/).pop() ?? "";
  const message = SECRET_FIELD.test(field) ? p.message.replace(/, got .*$/, " (value not shown)") : p.message;
  return `${where}: ${documentLabel}${p.path ? `, ${p.path}` : ""}: ${message}`;
}

/** Reads and checks the patches under one key (`patches`, `worker.patches`, `nodes[2].patches`). */
export function resolvePatches(key: string, entries: readonly string[], readFile: ReadFile): PatchFindings {
  const out: PatchFindings = { patches: [], problems: [], warnings: [] };
  entries.forEach((entry, i) => {
    const source = `${key}[${i}]`;
    const file = entry.startsWith("@") ? entry.slice(1).trim() : undefined;
    let text = entry;
    if (file !== undefined) {
      try {
        text = readFile(file);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        out.problems.push(`${source}: cannot read ${file} (${reason}): give a file path relative to the project directory, e.g. @patches/longhorn.yaml`);
        return;
      }
    }
    const where = file === undefined ? source : `${source} (${file})`;
    const found = validateTalosPatch(text);
    out.problems.push(...found.problems.map((p) => describeProblem(where, p)));
    out.warnings.push(...found.warnings.map((p) => describeProblem(where, p)));
    out.patches.push({ source, file, text });
  });
  return out;
}

type Doc = Record<string, unknown>;
const isMapping = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);

/** A document's identity in the merged config: the v1alpha1 config, or its kind and name. */
function identity(doc: Doc): string {
  return doc.kind === undefined ? "v1alpha1 config" : `${String(doc.kind)}${doc.name === undefined ? "" : ` ${String(doc.name)}`}`;
}

/**
 * Talos's strategic merge, as far as validation needs it (configpatcher): mappings merge key by
 * key, lists append, scalars replace, `$patch: delete` removes the mapping; documents merge with
 * the one of the same kind and name, others are added.
 */
function merge(into: unknown, patch: unknown): unknown {
  if (isMapping(patch) && patch.$patch === "delete") return undefined;
  if (Array.isArray(into) && Array.isArray(patch)) return [...into, ...patch];
  if (!isMapping(into) || !isMapping(patch)) return patch;
  const out: Doc = { ...into };
  for (const [key, value] of Object.entries(patch)) {
    const merged = merge(out[key], value);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

/** Frozen, so the merged documents that share them can't change them. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/**
 * Each patch text's documents, parsed once: the role's and the user's cluster and role patches are
 * the same text on every node. Bounded, since a process (a test run) may validate many configs.
 */
const parsedPatches = new Map<string, readonly unknown[]>();
function parsePatch(text: string): readonly unknown[] {
  let parsed = parsedPatches.get(text);
  if (parsed === undefined) {
    if (parsedPatches.size >= 1000) parsedPatches.clear();
    parsed = deepFreeze(YAML.parseAllDocuments(text).map((d) => d.toJS() as unknown));
    parsedPatches.set(text, parsed);
  }
  return parsed;
}

/**
 * The documents of a node's config after all its patches, keyed by identity. JSON patches are
 * skipped (warned about already). The merge copies what it changes, so the result may share (frozen)
 * parts with the parsed patches.
 */
export function mergePatches(patches: readonly string[]): Map<string, Doc> {
  const docs = new Map<string, Doc>();
  for (const text of patches) {
    const parsed = parsePatch(text);
    if (parsed.some(Array.isArray)) continue;
    for (const doc of parsed.filter(isMapping)) {
      const id = identity(doc);
      docs.set(id, merge(docs.get(id) ?? {}, doc) as Doc);
    }
  }
  return docs;
}

/** A setting of the v1alpha1 config that Talos refuses next to a document (its V1Alpha1ConflictValidate). */
interface Conflict {
  kind: string;
  field: string;
  set: (v1: Doc) => boolean;
}
/** The value at a path of nested mappings (undefined when any step is missing). */
export const at = (doc: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (isMapping(v) ? v[k] : undefined), doc);
// siderolabs/talos v1.13.9 pkg/machinery/config/container/container.go:614-624 and the documents'
// V1Alpha1ConflictValidate: network/resolver.go:146, network/time_sync.go:143, network/hostname.go:151.
const CONFLICTS: Conflict[] = [
  { kind: "ResolverConfig", field: "machine.network.nameservers", set: (v1) => at(v1, "machine", "network", "nameservers") !== undefined },
  { kind: "ResolverConfig", field: "machine.network.searchDomains", set: (v1) => at(v1, "machine", "network", "searchDomains") !== undefined },
  { kind: "ResolverConfig", field: "machine.network.disableSearchDomain", set: (v1) => at(v1, "machine", "network", "disableSearchDomain") === true },
  { kind: "TimeSyncConfig", field: "machine.time.servers", set: (v1) => ((at(v1, "machine", "time", "servers") as unknown[]) ?? []).length > 0 },
  { kind: "TimeSyncConfig", field: "machine.time.disabled", set: (v1) => at(v1, "machine", "time", "disabled") === true },
  { kind: "TimeSyncConfig", field: "machine.time.bootTimeout", set: (v1) => at(v1, "machine", "time", "bootTimeout") !== undefined },
  { kind: "HostnameConfig", field: "machine.network.hostname", set: (v1) => at(v1, "machine", "network", "hostname") !== undefined },
  { kind: "HostnameConfig", field: "machine.features.stableHostname", set: (v1) => at(v1, "machine", "features", "stableHostname") === true },
];

/**
 * Checks one node's merged config: every document against the Talos description, and the
 * v1alpha1 settings Talos refuses next to a document. `where` names the node in messages.
 */
export function checkMergedConfig(where: string, patches: readonly string[]): string[] {
  const docs = mergePatches(patches);
  const ids = [...docs.keys()];
  const found = validateTalosDocuments([...docs.values()]);
  const problems = found.problems.map((p) => describeProblem(where, p, `merged ${ids[p.document]}`));
  const v1 = docs.get("v1alpha1 config") ?? {};
  for (const c of CONFLICTS) {
    if (!c.set(v1) || !ids.some((id) => id === c.kind || id.startsWith(`${c.kind} `))) continue;
    problems.push(
      `${where}: merged config: ${c.field} is set next to a ${c.kind} document, and Talos 1.13 refuses the two together; ` +
        `set it in the ${c.kind} document only (network.nameservers and network.timeServers render ResolverConfig and TimeSyncConfig)`,
    );
  }
  return problems;
}
