/**
 * Edits one field of a machine config's v1alpha1 document, the way `talosctl upgrade-k8s` patches
 * the running config (siderolabs/talos v1.13.9 pkg/cluster/kubernetes/patch.go PatchV1Alpha1):
 * every other document and field stays as it was. Pure.
 */
import { parseAllDocuments, type Document } from "yaml";

/** The result of an edit: the new config text and what the field held before. */
export interface ConfigEdit {
  yaml: string;
  changed: boolean;
  previous: unknown;
}

/** The legacy document has `version: v1alpha1` and no `kind`; the others (LinkConfig...) have `apiVersion` and `kind`. */
function isV1Alpha1(doc: Document): boolean {
  return doc.get("version") === "v1alpha1" && !doc.has("kind");
}

/** The value at `path` in the v1alpha1 document (undefined when absent). */
export function readConfigValue(configYaml: string, path: readonly string[]): unknown {
  const doc = (parseAllDocuments(configYaml) as Document[]).find(isV1Alpha1);
  return doc?.getIn(path);
}

/**
 * Sets `path` (e.g. `["cluster", "apiServer", "image"]`) in the v1alpha1 document to `value`,
 * creating the maps on the way. `changed` is false, and the text unchanged, when it already holds it.
 * @throws when the config is not valid YAML or has no v1alpha1 document (never quoting the config: it holds secrets)
 */
export function setConfigValue(configYaml: string, path: readonly string[], value: string): ConfigEdit {
  const docs = parseAllDocuments(configYaml) as Document[];
  if (docs.some((d) => d.errors.length > 0)) throw new Error("the machine config is not valid YAML");
  const target = docs.find(isV1Alpha1);
  if (!target) throw new Error("the machine config has no v1alpha1 document");
  const previous = target.getIn(path);
  if (previous === value) return { yaml: configYaml, changed: false, previous };
  target.setIn(path, value);
  // lineWidth 0: no folding of long strings (certificates, tokens) on the way out.
  const yaml = docs.map((d) => d.toString({ lineWidth: 0 }).replace(/^---\n/, "")).join("---\n");
  return { yaml, changed: true, previous };
}
