/**
 * Is a Talos config patch valid for Talos v1.13? A pure check of every document of a patch against
 * the hand-written description in `v1alpha1.ts` and `documents.ts`, before anything is deployed.
 *
 * It follows how Talos loads a patch (configpatcher.LoadPatch): a strategic merge patch is one or
 * more YAML documents, each the v1alpha1 config (no `kind`; `machine`/`cluster`/... keys) or a
 * document with `apiVersion: v1alpha1` and a `kind`; `$patch: delete` in a mapping deletes it; a
 * YAML list of `{op, path, value}` operations as the whole patch is a JSON patch (RFC 6902).
 * It does not merge patches or check the merged config (that is Talos's own `Validate` on the
 * node); a few findings known to fail after merging into what Talos 1.13 generates are warnings.
 */
import * as YAML from "yaml";
import { DOCUMENT_KINDS, Finding, documentSpec } from "./documents";
import { DURATION, Fields, Spec } from "./types";
import { V1ALPHA1, V1ALPHA1_MARKERS, v1alpha1Rules } from "./v1alpha1";
import { closest } from "../suggest";

/** The Talos release the description was transcribed from. */
export const TALOS_SCHEMA_VERSION = "v1.13.9";

export interface TalosProblem {
  /** Index of the YAML document in the patch, from 0. */
  document: number;
  /** Dotted path of the field, lists as `[i]` (`machine.kubelet.extraMounts[0].source`); "" for the document. */
  path: string;
  message: string;
}

export interface TalosValidation {
  /** What Talos would reject. */
  problems: TalosProblem[];
  /** Accepted, but deprecated or known to fail once merged into the generated config. */
  warnings: TalosProblem[];
}

/** Validates a patch as written by a user or rendered by the program (one or more YAML documents). */
export function validateTalosPatch(yamlText: string): TalosValidation {
  const docs = YAML.parseAllDocuments(yamlText, { merge: true });
  const problems: TalosProblem[] = [];
  docs.forEach((doc, document) => {
    for (const error of doc.errors) {
      problems.push({
        document,
        path: "",
        message: `YAML syntax error: ${error.message.split("\n")[0].replace(/:$/, "")}`,
      });
    }
  });
  if (problems.length > 0) return { problems, warnings: [] };
  return validateTalosDocuments(docs.map((doc) => doc.toJS({ maxAliasCount: 1000 }) as unknown));
}

/** Validates the already-parsed documents of one patch (as `YAML.parseAllDocuments(...).map(d => d.toJS())`). */
export function validateTalosDocuments(docs: readonly unknown[]): TalosValidation {
  const out: TalosValidation = { problems: [], warnings: [] };
  const present = docs.filter((d) => d !== null && d !== undefined);
  if (present.length === 1 && Array.isArray(present[0])) {
    checkJsonPatch(present[0], docs.indexOf(present[0]), out);
    return out;
  }
  const seen = new Map<string, number>();
  docs.forEach((doc, index) => {
    if (doc === null || doc === undefined) return; // Talos skips empty documents
    if (!isMapping(doc)) {
      const hint = Array.isArray(doc) ? ": a JSON patch (a list of operations) must be the whole patch" : "";
      out.problems.push({
        document: index,
        path: "",
        message: `must be a mapping (a config document), got ${describe(doc)}${hint}`,
      });
      return;
    }
    const id = checkDocument(doc, new Walker(index, out));
    if (id === undefined) return;
    const first = seen.get(id);
    if (first !== undefined) {
      out.problems.push({
        document: index,
        path: "",
        message: `duplicate document ${id}: document ${first} already has it`,
      });
    } else {
      seen.set(id, index);
    }
  });
  return out;
}

/** All kinds a document may have, besides the v1alpha1 config. */
export const DOCUMENT_KIND_NAMES = Object.keys(DOCUMENT_KINDS);

// --- documents -------------------------------------------------------------------------------

/** Checks one document; returns its identity (apiVersion/kind/name) for the duplicate check. */
function checkDocument(doc: Record<string, unknown>, walk: Walker): string | undefined {
  const deleting = doc.$patch !== undefined;
  const kind = doc.kind;
  if (kind === undefined || kind === null) {
    if (doc.apiVersion !== "v1alpha1" && !V1ALPHA1_MARKERS.some((key) => key in doc)) {
      const near = Object.keys(doc)
        .map((key) => closest(key, V1ALPHA1_MARKERS))
        .find((k) => k !== undefined);
      walk.problem(
        "kind",
        "is required: a document needs apiVersion: v1alpha1 and a kind, unless it is the v1alpha1 machine config " +
          `(keys ${V1ALPHA1_MARKERS.join(", ")})${near ? `; did you mean ${near}?` : ""}`,
      );
      return undefined;
    }
    walk.check(V1ALPHA1, doc, "");
    if (!deleting) walk.findings(v1alpha1Rules(doc));
    return "v1alpha1";
  }
  if (typeof kind !== "string" || DOCUMENT_KINDS[kind] === undefined) {
    const near = typeof kind === "string" ? closest(kind, DOCUMENT_KIND_NAMES) : undefined;
    walk.problem(
      "kind",
      `unknown kind ${describe(kind)}${near ? `; did you mean ${near}?` : "."} Known kinds in Talos ${TALOS_SCHEMA_VERSION}: ` +
        `${DOCUMENT_KIND_NAMES.join(", ")} (and the v1alpha1 config, which has no kind)`,
    );
    return undefined;
  }
  const def = DOCUMENT_KINDS[kind];
  if (doc.apiVersion === undefined || doc.apiVersion === null)
    walk.problem("apiVersion", `is required: v1alpha1 (with kind ${kind})`);
  walk.check(documentSpec(kind, def), doc, "");
  if (!deleting && def.rules) walk.findings(def.rules(doc));
  return `${String(doc.apiVersion)}/${kind}/${doc.name === undefined ? "" : String(doc.name)}`;
}

const JSON_PATCH_OPS = ["add", "remove", "replace", "move", "copy", "test"];

function checkJsonPatch(ops: unknown[], document: number, out: TalosValidation): void {
  const problem = (path: string, message: string): void => void out.problems.push({ document, path, message });
  ops.forEach((op, i) => {
    const at = `[${i}]`;
    if (!isMapping(op)) return problem(at, `must be a JSON patch operation {op, path, value}, got ${describe(op)}`);
    if (typeof op.op !== "string" || !JSON_PATCH_OPS.includes(op.op)) {
      const near = typeof op.op === "string" ? closest(op.op, JSON_PATCH_OPS) : undefined;
      problem(
        `${at}.op`,
        `must be one of ${JSON_PATCH_OPS.join(", ")}, got ${describe(op.op)}${near ? `; did you mean ${near}?` : ""}`,
      );
    }
    for (const key of ["path", ...(op.op === "move" || op.op === "copy" ? ["from"] : [])]) {
      const value = op[key];
      if (typeof value !== "string" || (value !== "" && !value.startsWith("/"))) {
        problem(`${at}.${key}`, `must be a JSON pointer such as /machine/install/disk, got ${describe(value)}`);
      }
    }
    if ((op.op === "add" || op.op === "replace" || op.op === "test") && !("value" in op)) {
      problem(`${at}.value`, `is required for op ${op.op}`);
    }
  });
  out.warnings.push({
    document,
    path: "",
    message:
      "a JSON patch applies only to a single-document machine config, and Talos 1.13 generates a HostnameConfig " +
      "document next to the v1alpha1 config: this patch will fail there; write it as a strategic merge patch",
  });
}

// --- values ----------------------------------------------------------------------------------

/** Walks one document, collecting findings with their paths. */
class Walker {
  constructor(
    private readonly document: number,
    private readonly out: TalosValidation,
  ) {}

  problem(path: string, message: string): void {
    this.out.problems.push({ document: this.document, path, message });
  }

  findings(found: Finding[]): void {
    for (const f of found)
      (f.warning ? this.out.warnings : this.out.problems).push({
        document: this.document,
        path: f.path,
        message: f.message,
      });
  }

  /** Checks `value` against `spec`; `listDepth` is -1 outside lists, 0 for a list item, then 1, 2... inside it. */
  check(spec: Spec, value: unknown, path: string, listDepth = -1): void {
    if (value === null || value === undefined) return; // Talos leaves the field unset
    if (isMapping(value) && "$patch" in value) return this.deletion(spec, value, path, listDepth);
    if (spec.deprecated) {
      this.out.warnings.push({
        document: this.document,
        path,
        message: `deprecated, still accepted by Talos 1.13: ${spec.deprecated}`,
      });
    }
    switch (spec.kind) {
      case "any":
        return;
      case "string":
        return this.scalar(value, path, spec.values, spec.anyCase, spec.format?.what, spec.format?.test);
      case "integer": {
        const range = rangeText(spec.min, spec.max);
        if (typeof value !== "number" || !Number.isInteger(value))
          return this.mismatch(path, `a whole number${range}`, value);
        if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
          return this.mismatch(path, `a whole number${range}`, value);
        }
        return;
      }
      case "boolean":
        if (typeof value === "boolean" || (typeof value === "string" && YAML11_BOOLEANS.includes(value))) return;
        return this.mismatch(path, "true or false", value);
      case "duration":
        if (value === 0 || (typeof value === "string" && DURATION.test(value))) return;
        return this.mismatch(path, "a duration such as 30s, 5m or 1h30m", value);
      case "either":
        if (spec.options.some((option) => this.passes(option, value))) return;
        return this.mismatch(path, spec.what, value);
      case "list":
        if (!Array.isArray(value)) return this.mismatch(path, "a list", value);
        value.forEach((item, i) => this.check(spec.of, item, `${path}[${i}]`, 0));
        return;
      case "mapping":
      case "map":
      case "object":
        return this.mapping(spec, value, path, listDepth);
    }
  }

  private mapping(
    spec: Spec & { kind: "mapping" | "map" | "object" },
    value: unknown,
    path: string,
    listDepth: number,
  ): void {
    const fields = spec.kind === "object" ? spec.fields : undefined;
    if (!isMapping(value)) {
      return this.mismatch(path, fields ? `a mapping with keys ${Object.keys(fields).join(", ")}` : "a mapping", value);
    }
    if (spec.kind === "mapping") return;
    const depth = listDepth < 0 ? -1 : listDepth + 1;
    for (const [key, item] of Object.entries(value)) {
      const at = joinKey(path, key);
      if (spec.kind === "map") this.check(spec.of, item, at, depth);
      else if (this.known(spec.fields, key, at)) this.check(spec.fields[key], item, at, depth);
    }
    if (spec.kind === "object") {
      for (const key of spec.required ?? []) {
        const item = value[key];
        if (item === undefined || item === null || item === "") this.problem(joinKey(path, key), "is required");
      }
    }
  }

  private known(fields: Fields, key: string, at: string): boolean {
    if (fields[key] !== undefined) return true;
    const valid = Object.keys(fields);
    const near = closest(key, valid);
    this.problem(at, `unknown key${near ? `; did you mean ${near}?` : "."} Valid keys: ${valid.join(", ")}`);
    return false;
  }

  /**
   * `$patch: delete` deletes the mapping it is in (or, directly in a list, the item its other key
   * selects): whatever the field's type, only the names of the other keys matter.
   */
  private deletion(spec: Spec, value: Record<string, unknown>, path: string, listDepth: number): void {
    const at = joinKey(path, "$patch");
    if (spec.kind === "object") {
      for (const key of Object.keys(value)) if (key !== "$patch") this.known(spec.fields, key, joinKey(path, key));
    }
    if (value.$patch !== "delete") {
      this.problem(at, `must be delete (Talos supports only $patch: delete), got ${describe(value.$patch)}`);
    } else if (listDepth > 0) {
      this.problem(
        at,
        "cannot delete a key inside a list item: delete the whole item (put $patch: delete in the item with one key that selects it)",
      );
    } else if (listDepth === 0 && Object.keys(value).length < 2) {
      this.problem(at, "a list item with $patch: delete needs one more key (such as name) to select the item");
    }
  }

  private scalar(
    value: unknown,
    path: string,
    values?: readonly string[],
    anyCase?: boolean,
    what?: string,
    test?: (t: string) => boolean,
  ): void {
    if (!isScalar(value))
      return this.mismatch(path, values ? `one of ${values.join(", ")}` : (what ?? "a string"), value);
    const text = String(value);
    // "" is a plain Go string left unset; an enum type parsed from text has no empty value.
    const unset = text === "" && !anyCase;
    if (values && !unset && !values.includes(text) && !(anyCase && values.includes(text.toLowerCase()))) {
      const near = closest(text, values);
      this.problem(
        path,
        `must be one of ${values.join(", ")}, got ${describe(value)}${near ? `; did you mean ${near}?` : ""}`,
      );
    } else if (what && test && text !== "" && !test(text)) {
      this.mismatch(path, what, value);
    }
  }

  private mismatch(path: string, expected: string, value: unknown): void {
    this.problem(path, `must be ${expected}, got ${describe(value)}`);
  }

  private passes(spec: Spec, value: unknown): boolean {
    const scratch = new Walker(this.document, { problems: [], warnings: [] });
    scratch.check(spec, value, "");
    return scratch.out.problems.length === 0;
  }
}

/** Go's YAML decoder reads these (YAML 1.1) words into a bool field. */
const YAML11_BOOLEANS = [
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "on",
  "On",
  "ON",
  "n",
  "N",
  "no",
  "No",
  "NO",
  "off",
  "Off",
  "OFF",
];

function rangeText(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return min === 0 ? " (0 or more)" : ` of ${min} or more`;
  return "";
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

function isScalar(value: unknown): boolean {
  return (
    typeof value === "string" || typeof value === "number" || typeof value === "boolean" || typeof value === "bigint"
  );
}

function joinKey(path: string, key: string): string {
  if (!/^[A-Za-z0-9_$-]+$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

