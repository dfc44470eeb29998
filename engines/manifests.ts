/**
 * Syncs Talos's bootstrap manifests (kube-proxy, CoreDNS, the CNI, RBAC) into the cluster after a
 * Kubernetes upgrade. A node only creates what is missing (siderolabs/talos v1.13.9
 * internal/app/machined/pkg/controllers/k8s/manifest_apply.go), so new images reach these objects
 * only through a sync like `talosctl upgrade-k8s` step "updating manifests" (talos_managed.go).
 */
import type { KubeApi, KubeObject, KubeResourceType } from "./kube";
import { pollUntil } from "../talosapi/poll";

/** Field manager and inventory of Talos's own applies (constants.go KubernetesFieldManagerName, KubernetesBootstrapManifestsInventoryName). */
export const TALOS_FIELD_MANAGER = "talos";
export const INVENTORY_ANNOTATION = "config.k8s.io/owning-inventory";
export const BOOTSTRAP_INVENTORY = "talos-bootstrap-manifests-inventory";

/** How objects are written: server-side apply (nodes on Talos ≥ 1.13) or create/replace (1.12, like its go-kubernetes sync). */
export type SyncMode = "server-side-apply" | "replace";

export interface SyncOptions {
  mode: SyncMode;
  /** How long the DaemonSets and Deployments may take to roll out (default 5 min, like talosctl's reconcile timeout). */
  rolloutTimeoutMs?: number;
  pollDelayMs?: number;
}

const rank = (o: KubeObject) => (o.kind === "Namespace" ? 0 : o.kind === "CustomResourceDefinition" ? 1 : 2);

/** Namespaces first, then CRDs, then the rest in their order (as the node applies them). Pure. */
export function orderManifests(objects: readonly KubeObject[]): KubeObject[] {
  return objects.map((o, i) => [o, i] as const).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([o]) => o);
}

/** The API path of an object, from the resource types of its apiVersion. Pure. */
export function objectPath(object: KubeObject, types: readonly KubeResourceType[]): { path: string; collection: string } {
  const { apiVersion = "", kind = "", metadata = {} } = object;
  const type = types.find((t) => t.kind === kind);
  if (!type) throw new Error(`manifest ${kind}/${metadata.name}: the API serves no ${kind} in ${apiVersion}`);
  const root = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const scope = type.namespaced ? `/namespaces/${encodeURIComponent(metadata.namespace ?? "default")}` : "";
  const collection = `${root}${scope}/${type.name}`;
  return { path: `${collection}/${encodeURIComponent(metadata.name ?? "")}`, collection };
}

/** Namespace defaulted or dropped by scope; with server-side apply, the node's inventory annotation added as Talos ≥ 1.13 does. */
function prepare(object: KubeObject, namespaced: boolean, mode: SyncMode): KubeObject {
  const metadata = { ...object.metadata };
  if (mode === "server-side-apply") metadata.annotations = { ...metadata.annotations, [INVENTORY_ANNOTATION]: BOOTSTRAP_INVENTORY };
  if (namespaced) metadata.namespace ??= "default";
  else delete metadata.namespace;
  return { ...object, metadata };
}

/**
 * Writes every object, then waits for the DaemonSets and Deployments among them to roll out.
 * Objects dropped from the manifests are left in place (talosctl prunes them through its
 * inventory; this sync does not).
 * @returns `Kind namespace/name` of each object written, in order.
 */
export async function syncManifests(kube: KubeApi, objects: readonly KubeObject[], options: SyncOptions): Promise<string[]> {
  const discovered = new Map<string, Promise<KubeResourceType[]>>();
  const typesOf = (apiVersion: string) => {
    if (!discovered.has(apiVersion)) discovered.set(apiVersion, kube.discover(apiVersion));
    return discovered.get(apiVersion)!;
  };
  const written: { object: KubeObject; path: string }[] = [];
  for (const original of orderManifests(objects)) {
    const types = await typesOf(original.apiVersion ?? "");
    const namespaced = types.find((t) => t.kind === original.kind)?.namespaced ?? false;
    const object = prepare(original, namespaced, options.mode);
    const { path, collection } = objectPath(object, types);
    if (options.mode === "server-side-apply") {
      await kube.applyObject(path, object, TALOS_FIELD_MANAGER);
    } else {
      const existing = await kube.getObject(path);
      if (existing) await kube.replaceObject(path, { ...object, metadata: { ...object.metadata, resourceVersion: existing.metadata?.resourceVersion } });
      else await kube.createObject(collection, object);
    }
    written.push({ object, path });
  }
  await Promise.all(written.filter((w) => w.object.kind === "DaemonSet" || w.object.kind === "Deployment").map((w) => waitRolledOut(kube, w.path, options)));
  return written.map(({ object: o }) => `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`);
}

type Workload = KubeObject & { status?: Record<string, number | undefined>; spec?: { replicas?: number } };

/** Why a DaemonSet or Deployment has not rolled out yet, or undefined when it has (kubectl rollout status rules). Pure. */
export function rolloutProblem(object: Workload): string | undefined {
  const status = object.status ?? {};
  if ((status.observedGeneration ?? 0) < (object.metadata?.generation ?? 0)) return "the controller has not seen the new spec";
  if (object.kind === "DaemonSet") {
    const desired = status.desiredNumberScheduled ?? 0;
    if ((status.updatedNumberScheduled ?? 0) < desired) return `${status.updatedNumberScheduled ?? 0} of ${desired} pods updated`;
    if ((status.numberAvailable ?? 0) < desired) return `${status.numberAvailable ?? 0} of ${desired} pods available`;
    return undefined;
  }
  const wanted = object.spec?.replicas ?? 1;
  if ((status.updatedReplicas ?? 0) < wanted) return `${status.updatedReplicas ?? 0} of ${wanted} replicas updated`;
  if ((status.replicas ?? 0) > (status.updatedReplicas ?? 0)) return `${(status.replicas ?? 0) - (status.updatedReplicas ?? 0)} old replicas still running`;
  if ((status.availableReplicas ?? 0) < wanted) return `${status.availableReplicas ?? 0} of ${wanted} replicas available`;
  return undefined;
}

async function waitRolledOut(kube: KubeApi, path: string, options: SyncOptions): Promise<void> {
  const timeoutMs = options.rolloutTimeoutMs ?? 5 * 60_000;
  await pollUntil(
    async () => {
      const object = (await kube.getObject(path)) as Workload | undefined;
      const problem = object ? rolloutProblem(object) : "not found";
      return problem ? { done: false, reason: problem } : { done: true, value: undefined };
    },
    { timeoutMs, initialDelayMs: options.pollDelayMs ?? 2_000, maxDelayMs: options.pollDelayMs ?? 5_000 },
    (last) => new Error(`${path} not rolled out after ${timeoutMs} ms (${last})`),
  );
}
