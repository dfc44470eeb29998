/**
 * Talos resources through the COSI State API (what `talosctl get` reads): one resource by id, or
 * every resource of a type, with the spec parsed from the YAML Talos renders for it.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";
import { parse as parseYaml } from "yaml";
import type { TalosClient } from "./client";
import { TalosApiError, grpcCode } from "./errors";
import type { OpOptions } from "./machine";
import type { CosiResource } from "./messages";

/** A resource kind: namespace and type, as in siderolabs/talos v1.13.9 pkg/machinery/resources. */
export interface ResourceKind {
  namespace: string;
  type: string;
}

/** The running machine config (config/machine_config.go: id `v1alpha1`, the spec is the config as one YAML string). */
export const MACHINE_CONFIG: ResourceKind & { id: string } = { namespace: "config", type: "MachineConfigs.config.talos.dev", id: "v1alpha1" };
/** Bootstrap manifests rendered on a control plane (k8s/manifest.go: the spec is a list of objects). */
export const MANIFESTS: ResourceKind = { namespace: "controlplane", type: "Manifests.kubernetes.talos.dev" };
/** Control-plane static pod configs (k8s/apiserver_config.go etc.; ids are the service names, `image` in the spec). */
export const STATIC_POD_CONFIGS: Record<string, ResourceKind> = {
  "kube-apiserver": { namespace: "controlplane", type: "APIServerConfigs.kubernetes.talos.dev" },
  "kube-controller-manager": { namespace: "controlplane", type: "ControllerManagerConfigs.kubernetes.talos.dev" },
  "kube-scheduler": { namespace: "controlplane", type: "SchedulerConfigs.kubernetes.talos.dev" },
};

/**
 * The extensions of the booted image, one resource per layer, published once per boot
 * (siderolabs/talos v1.13.9 internal/app/machined/pkg/controllers/runtime/extension_status.go:46-70;
 * type and namespace pkg/machinery/resources/runtime/extension_status.go:18, runtime.go:16).
 */
export const EXTENSION_STATUSES: ResourceKind = { namespace: "runtime", type: "ExtensionStatuses.runtime.talos.dev" };

/**
 * The schematic ID of the booted image: Image Factory adds a virtual extension named `schematic`
 * whose version is the ID (siderolabs/image-factory v1.5.0 internal/artifacts/schematic.go:65-72,
 * pkg/constants/constants.go:10). Undefined when the image is not a factory image.
 */
export function schematicFromExtensions(extensions: TalosResource[]): string | undefined {
  for (const { spec } of extensions) {
    const metadata = (spec as { metadata?: { name?: unknown; version?: unknown } } | null)?.metadata;
    if (metadata?.name === "schematic" && typeof metadata.version === "string") return metadata.version;
  }
  return undefined;
}

/** The static pods Talos hands the kubelet (k8s/static_pod.go:17; ids are the component names, the spec is the pod object). */
export const STATIC_PODS: ResourceKind = { namespace: "k8s", type: "StaticPods.kubernetes.talos.dev" };
/** The kubelet's image and args (k8s/kubelet_spec.go:18,27-28; id `kubelet`). */
export const KUBELET_SPECS: ResourceKind = { namespace: "k8s", type: "KubeletSpecs.kubernetes.talos.dev" };

/** A resource as this client uses it. */
export interface TalosResource {
  id: string;
  /** Changes whenever the resource does (COSI metadata version). */
  version: string;
  spec: unknown;
}

function toResource(operation: string, node: string, resource: CosiResource | null): TalosResource {
  if (!resource?.metadata) throw new TalosApiError(operation, node, "reply has no resource");
  let spec: unknown;
  try {
    spec = parseYaml(resource.spec?.yaml_spec ?? "");
  } catch {
    // The spec may be a secret (the machine config): never quote it.
    throw new TalosApiError(operation, node, "resource spec is not valid YAML");
  }
  return { id: resource.metadata.id, version: resource.metadata.version, spec };
}

/** One resource, or undefined when the node has none with that id. */
export async function getResource(client: TalosClient, node: string, kind: ResourceKind, id: string, options: OpOptions = {}): Promise<TalosResource | undefined> {
  const operation = `get ${kind.type}/${id}`;
  try {
    const reply = await client.unary("State/Get", { namespace: kind.namespace, type: kind.type, id }, { node, operation, timeoutMs: options.timeoutMs });
    return toResource(operation, node, reply.resource);
  } catch (error) {
    if (grpcCode(error) === GrpcStatus.NOT_FOUND) return undefined;
    throw error;
  }
}

/** Every resource of a kind on the node. */
export async function listResources(client: TalosClient, node: string, kind: ResourceKind, options: OpOptions = {}): Promise<TalosResource[]> {
  const operation = `list ${kind.type}`;
  const replies = await client.collect("State/List", { namespace: kind.namespace, type: kind.type }, { node, operation, timeoutMs: options.timeoutMs });
  return replies.map((reply) => toResource(operation, node, reply.resource));
}

/** The node's running machine config, as the YAML text it was applied with (multi-document). Secret. */
export async function getMachineConfig(client: TalosClient, node: string, options: OpOptions = {}): Promise<string> {
  const found = await getResource(client, node, MACHINE_CONFIG, MACHINE_CONFIG.id, options);
  if (typeof found?.spec !== "string") throw new TalosApiError("get machine config", node, found ? "the spec is not the config text" : "the node has no machine config");
  return found.spec;
}
