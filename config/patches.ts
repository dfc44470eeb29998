import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { ClusterSpec, INSTALL_DISK, LINK, NodeSpec, Role } from "./domain";

/**
 * YAML for a patch, every string double-quoted: values such as `off` stay strings for any YAML
 * parser on the way (YAML 1.1 parsers read a bare `off` as false).
 */
function toYaml(doc: unknown): string {
  return YAML.stringify(doc, { defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", lineWidth: 0 });
}

/** Folder of the static patches, one intent per file. */
export const PATCH_DIR = path.join(__dirname, "..", "patches");

/** Static patches rendered so far, by name: every node of a role uses the same ones, twice (validation, apply). */
const renderedStatic = new Map<string, string>();

/** A static patch from `patches/<name>.yaml`, checked to be a single YAML mapping; read and rendered once per process. */
export function staticPatch(name: string): string {
  const rendered = renderedStatic.get(name);
  if (rendered !== undefined) return rendered;
  const text = fs.readFileSync(path.join(PATCH_DIR, `${name}.yaml`), "utf8");
  const doc = YAML.parse(text) as unknown;
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error(`patches/${name}.yaml must hold one YAML mapping`);
  }
  renderedStatic.set(name, toYaml(doc));
  return renderedStatic.get(name)!;
}

/**
 * Patches shared by every node of a role: the static intents picked by config.
 * Order matters only for readability; the intents touch disjoint fields.
 */
export function rolePatches(spec: ClusterSpec, role: Role): string[] {
  const patches = [staticPatch("kubelet-serving-cert-rotation"), cniPatch(spec)];
  if (role === "controlplane") {
    patches.push(staticPatch("kubelet-serving-cert-approver"));
    if (spec.talos.allowSchedulingOnControlPlanes) patches.push(staticPatch("allow-scheduling-on-control-planes"));
    // Control planes apply the cluster's manifests; workers never read them, so their configs
    // don't change when a manifest does.
    const manifests = manifestsPatch(spec);
    if (manifests) patches.push(manifests);
  }
  return patches;
}

function manifestsPatch(spec: ClusterSpec): string | undefined {
  const { extraManifests, inlineManifests } = spec.talos;
  if (extraManifests.length === 0 && inlineManifests.length === 0) return undefined;
  const cluster: Record<string, unknown> = {};
  if (extraManifests.length > 0) cluster.extraManifests = extraManifests;
  if (inlineManifests.length > 0) cluster.inlineManifests = inlineManifests;
  return toYaml({ cluster });
}

function cniPatch(spec: ClusterSpec): string {
  const cni = spec.talos.cni;
  if (cni.name === "custom") {
    return toYaml({ cluster: { network: { cni: { name: "custom", urls: cni.urls } } } });
  }
  return staticPatch(`cni-${cni.name}`);
}

/** A node's patches: its role's, then its own, then the user's (cluster, role, node). Pure. */
export function configPatches(spec: ClusterSpec, node: NodeSpec, installerImage: string): string[] {
  return [...rolePatches(spec, node.role), ...nodePatches(spec, node, installerImage), ...node.patches.map((p) => p.text)];
}

/**
 * Patches rendered per node from the spec (Talos 1.13 contract: network settings as their own
 * documents, no `.machine.network`, kernel args in the image schematic, not in `machine.install`).
 */
export function nodePatches(spec: ClusterSpec, node: NodeSpec, installerImage: string): string[] {
  const link = LINK;
  const patches = [
    // The factory installer of the same schematic keeps kernel args and extensions after install.
    toYaml({ machine: { install: { disk: INSTALL_DISK, image: installerImage } } }),
    // `auto: off` replaces the generated `auto: stable`; the two can't be set together with a name.
    toYaml({ apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: node.name }),
    addressPatch(spec, node),
  ];
  if (node.role === "controlplane" && spec.vip !== undefined) {
    patches.push(toYaml({ apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: spec.vip, link }));
  }
  const topology = topologyPatch(spec, node);
  if (topology) patches.push(topology);
  return [...patches, ...networkDocuments(spec)];
}

/**
 * With `storage.proxmoxCsi`, where the node runs: region = the Proxmox cluster (the plugin's config
 * key for its API), zone = the Proxmox host. The plugin's node service reads both from its Node and
 * refuses to register without them (proxmox-csi-plugin v0.19.1 pkg/csi/node.go:543-580); volumes are
 * created on the zone's host (pkg/csi/controller.go:316). A kubelet may set both labels on its own
 * Node (kubernetes/kubelet v0.35.7 pkg/apis/well_known_labels.go:35-48). Talos applies a change of
 * `machine.nodeLabels` without a reboot (talos v1.13.9
 * internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_runtime.go:149-195) to the Node through its
 * own controller (internal/app/machined/pkg/controllers/k8s/node_apply.go).
 */
export function topologyPatch(spec: ClusterSpec, node: NodeSpec): string | undefined {
  const csi = spec.storage.proxmoxCsi;
  if (!csi) return undefined;
  return toYaml({ machine: { nodeLabels: { [TOPOLOGY_REGION]: csi.region, [TOPOLOGY_ZONE]: node.host } } });
}

export const TOPOLOGY_REGION = "topology.kubernetes.io/region";
export const TOPOLOGY_ZONE = "topology.kubernetes.io/zone";

/**
 * How the node's link gets its address. With DHCP, the address its reservation gives the fixed
 * MAC. With static addresses, a `LinkConfig` with the same address and default route as the VM's
 * cloud-init drive (Talos merges the two layers as a union, so they must never differ) and no
 * DHCP document: any link document stops Talos's default DHCP on every link (siderolabs/talos
 * v1.13.9 pkg/machinery/config/container/container.go RunDefaultDHCPOperators).
 */
export function addressPatch(spec: ClusterSpec, node: NodeSpec): string {
  const fixed = spec.network.static;
  if (!fixed) return toYaml({ apiVersion: "v1alpha1", kind: "DHCPv4Config", name: LINK });
  return toYaml({
    apiVersion: "v1alpha1",
    kind: "LinkConfig",
    name: LINK,
    addresses: [{ address: `${node.ip}/${fixed.prefixLength}` }],
    // A route with only a gateway is the default route of its family (Talos v1.13 LinkConfig reference).
    routes: [{ gateway: fixed.gateway }],
  });
}

/** DNS and NTP servers as the Talos 1.12+ documents (the v1alpha1 fields are deprecated). */
function networkDocuments(spec: ClusterSpec): string[] {
  const { nameservers, timeServers } = spec.network;
  const docs: string[] = [];
  if (nameservers.length > 0) {
    docs.push(toYaml({ apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: nameservers.map((address) => ({ address })) }));
  }
  if (timeServers.length > 0) {
    docs.push(toYaml({ apiVersion: "v1alpha1", kind: "TimeSyncConfig", ntp: { servers: timeServers } }));
  }
  return docs;
}
