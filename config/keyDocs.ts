import * as YAML from "yaml";
import { z } from "zod";
import { BACKUPS_KEYS, CILIUM_KEYS, NETWORK_KEYS, NODE_KEYS, PROXMOX_CSI_KEYS, ROLE_KEYS, Settings, networkSchema, pciSchema, settingsSchema } from "./schema";
import { DEFAULT_KUBERNETES_VERSIONS, DEFAULT_TALOS_VERSION, talosMinor } from "./domain";

/**
 * The configuration reference: one row per key, with the default taken from the schema itself.
 * `npm run docs` writes these tables into docs/configuration.md; a test fails when that file differs.
 */

interface KeyDoc {
  type: string;
  meaning: string;
  /** Shown when the schema has no default value (required, none, or computed). */
  defaultText?: string;
}

const SETTINGS_DOCS: Record<Exclude<keyof Settings, "nodes">, KeyDoc> & { nodes: KeyDoc } = {
  clusterName: { type: "DNS label", defaultText: "required", meaning: "Talos/Kubernetes cluster name; also in VM tags, ISO file names and derived MACs" },
  talosVersion: { type: "`vX.Y.Z`, 1.12 or 1.13", meaning: "Talos version of the image, installer and config contract" },
  kubernetesVersion: {
    type: "`X.Y.Z`, a minor the Talos version supports",
    defaultText: `\`${DEFAULT_KUBERNETES_VERSIONS[talosMinor(DEFAULT_TALOS_VERSION)]}\` (pinned per Talos minor)`,
    meaning: "Kubernetes version; a change on a running cluster is a rolling Kubernetes upgrade, to the same or the next minor only (docs/day-two.md, \"Upgrading\")",
  },
  vip: { type: "IPv4", defaultText: "none", meaning: "Kubernetes API VIP on the control planes; endpoint `https://<vip>:6443` (else the first control plane's IP, by name)" },
  nodes: { type: "list", defaultText: "required", meaning: "one entry per VM, see below; order does not matter" },
  proxmoxNode: { type: "DNS label", meaning: "Proxmox node for nodes without `host` (and the one that downloads a shared ISO)" },
  isoDatastore: { type: "string", meaning: "datastore for the ISO (content `iso`)" },
  isoDatastoreShared: { type: "boolean", meaning: "`isoDatastore` is shared by every host (NFS, CephFS): the ISO is downloaded once, through `proxmoxNode`" },
  diskDatastore: { type: "string", meaning: "datastore for VM disks" },
  bridge: { type: "string", meaning: "bridge for the VM NICs" },
  vlanId: { type: "1-4094", defaultText: "none", meaning: "VLAN tag on the NICs" },
  cpuType: { type: "`host`, `x86-64-v2`, `x86-64-v2-AES`, `x86-64-v3`, `x86-64-v4`", meaning: "VM CPU type (Talos needs x86-64-v2)" },
  cores: { type: "integer > 0", meaning: "cores per VM unless the node sets `cores`" },
  memory: { type: "MiB > 0", meaning: "memory per VM unless the node sets `memory`" },
  diskSize: { type: "GiB > 0", meaning: "disk per VM unless the node sets `diskSize` (grow only: Proxmox can't shrink a disk)" },
  vmIdBase: {
    type: "100-999999000",
    defaultText: "none",
    meaning: "a node without `vmId` gets `vmIdBase` + a number 0-999 derived from its name (never its list position); unset lets Proxmox pick",
  },
  kernelArgs: { type: "list of strings", meaning: "extra kernel arguments for the schematic (`net.ifnames=0` is always included)" },
  extensions: { type: "list of strings", meaning: "official system extensions; the VM's guest agent is enabled only when the qemu-guest-agent is among them" },
  allowSchedulingOnControlPlanes: { type: "boolean", meaning: "let workloads run on control planes" },
  cni: { type: "`flannel`, `cilium`, `custom`, `none`", meaning: "CNI; `cilium` installs Cilium without kube-proxy from its Helm chart; `custom` needs `cniUrls`; `none` needs `workloadEnabled: false`. Fixed once the cluster exists" },
  cniUrls: { type: "list of https URLs", meaning: "manifests for `cni: custom` (pin them to a release)" },
  cilium: { type: "object, see below", defaultText: "`{}`", meaning: "Cilium settings for `cni: cilium` (see \"Cilium\" below)" },
  extraManifests: { type: "list of https URLs", meaning: "more manifests the control planes apply (`cluster.extraManifests`); pinned to a release, not a branch" },
  inlineManifests: { type: "list of `{name, contents}`", meaning: "manifests given inline (`cluster.inlineManifests`); names unique" },
  network: { type: "object, see below", defaultText: "`{}`", meaning: "addressing (DHCP or static), DNS and NTP servers for every node" },
  controlPlane: { type: "object, see below", defaultText: "`{}`", meaning: "defaults for control-plane nodes" },
  worker: { type: "object, see below", defaultText: "`{}`", meaning: "defaults for worker nodes" },
  patches: { type: "list of patches", meaning: "your Talos patches for every node (see \"Your own Talos patches\")" },
  upgradeBatchSize: { type: "integer > 0", meaning: "workers upgraded (or whose kubelets are upgraded, or rebooted) together when `talosVersion`, the image or `kubernetesVersion` changes (control planes always one at a time; docs/day-two.md, \"Upgrading\")" },
  healthTimeout: { type: "Go duration", meaning: "how long `pulumi up` waits for the cluster to be healthy after a change" },
  rebootTimeout: { type: "Go duration > 0", meaning: "how long a node may take to come back from a reboot during an upgrade or a rolled reboot before the update fails" },
  drainTimeout: { type: "Go duration > 0", meaning: "how long draining a node may take (upgrade, reboot, removal) before the update fails, e.g. while a PodDisruptionBudget blocks an eviction" },
  credentialRenewal: { type: "Go duration, under 8760h", meaning: "`pulumi up` reissues the talosconfig and kubeconfig client certificates (valid one year) once they expire within this window, or have expired; nodes are not changed (docs/credentials-and-backups.md)" },
  workloadEnabled: { type: "boolean", meaning: "deploy the sample NGINX app" },
  nginxReplicas: { type: "integer > 0", meaning: "NGINX replicas" },
  nginxImage: { type: "image with tag or digest", meaning: "NGINX image" },
  nginxNodePort: { type: "30000-32767", defaultText: "allocated", meaning: "fixed NodePort" },
  backups: { type: "object, see below", defaultText: "`{}`", meaning: "etcd snapshots before each risky day-two step (docs/credentials-and-backups.md)" },
  storage: { type: "object, see below", defaultText: "`{}`", meaning: "persistent volumes: `proxmoxCsi` installs the Proxmox CSI plugin, with its Proxmox role, user and token, node topology labels and a StorageClass (docs/storage.md); absent, none" },
};

const PROXMOX_CSI_DOCS: Record<(typeof PROXMOX_CSI_KEYS)[number], KeyDoc> = {
  datastore: { type: "Proxmox storage ID", defaultText: "required", meaning: "where volume disks are created (`vm-9999-pvc-<uuid>`); a local datastore such as `local-lvm` must exist under that name on every host that runs a node" },
  storageClass: { type: "Kubernetes name", meaning: "the StorageClass's name; a change replaces the class (existing volumes keep theirs)" },
  default: { type: "boolean", meaning: "the StorageClass is the cluster's default (PVCs without `storageClassName` use it)" },
  fsType: { type: "`ext4` or `xfs`", meaning: "filesystem of new volumes; a change replaces the StorageClass" },
  reclaimPolicy: { type: "`Retain` or `Delete`", meaning: "`Retain`: a deleted claim's disk stays in Proxmox until you delete it; `Delete`: it goes with the claim. A change replaces the StorageClass" },
  region: { type: "label value", meaning: "`topology.kubernetes.io/region` of every node (its `zone` is its Proxmox host) and the plugin's cluster region; keep it once volumes exist (they are bound to it)" },
  version: { type: "`X.Y.Z`", meaning: "proxmox-csi-plugin Helm chart version (oci://ghcr.io/sergelogvinov/charts); changing it is a Helm upgrade" },
};

const BACKUPS_DOCS: Record<(typeof BACKUPS_KEYS)[number], KeyDoc> = {
  dir: {
    type: "path",
    defaultText: "`backups/<stack>`",
    meaning: "where the snapshots go, relative to the project directory; created with mode 0700, files 0600 (a snapshot holds every Kubernetes secret: keep it out of git)",
  },
  keep: { type: "integer > 0", meaning: "how many of the stack's snapshots to keep; older ones are deleted after a new one is written" },
  required: { type: "boolean", meaning: "a failed snapshot stops the upgrade, reboot or removal before it touches a node; `false` goes on with a warning" },
};

const NODE_DOCS: Record<(typeof NODE_KEYS)[number], KeyDoc> = {
  name: { type: "DNS label, unique", defaultText: "required", meaning: "VM name and Talos hostname" },
  ip: { type: "IPv4, unique", defaultText: "required", meaning: "the address DHCP reserves for the node's MAC; with `network.addressing: static`, the node's fixed address inside `network.cidr`" },
  role: { type: "`controlplane` or `worker`", defaultText: "required", meaning: "1 control plane, or 3 or more: 2 are refused (etcd quorum 2 of 2), another even count is a warning" },
  host: { type: "DNS label", defaultText: "`proxmoxNode`", meaning: "Proxmox node that runs the VM (changing it replaces the VM)" },
  vmId: { type: "100-999999999, unique", defaultText: "from `vmIdBase`", meaning: "Proxmox VM ID (changing it replaces the VM)" },
  mac: { type: "unicast MAC, unique", defaultText: "derived", meaning: "NIC MAC; derived ones are locally administered (`x2:..`) from cluster and node name" },
  cores: { type: "integer > 0", defaultText: "`cores`", meaning: "per-node cores" },
  memory: { type: "MiB > 0", defaultText: "`memory`", meaning: "per-node memory" },
  diskSize: { type: "GiB > 0", defaultText: "role's, else `diskSize`", meaning: "per-node system disk" },
  extraDisks: { type: "list of `{size, datastore?}`", defaultText: "role's, else none", meaning: "disks after the system disk: `scsi1` is `/dev/sdb` in the guest, and so on; `size` in GiB, `datastore` defaults to `diskDatastore`" },
  pci: { type: "list, see below", defaultText: "none", meaning: "host PCI devices passed through (`hostpci0`, ...)" },
  patches: { type: "list of patches", defaultText: "none", meaning: "this node's own Talos patches, applied last" },
};

const ROLE_DOCS: Record<(typeof ROLE_KEYS)[number], KeyDoc> = {
  cores: { type: "integer > 0", defaultText: "`cores`", meaning: "cores of the role's nodes" },
  memory: { type: "MiB > 0", defaultText: "`memory`", meaning: "memory of the role's nodes" },
  diskSize: { type: "GiB > 0", defaultText: "`diskSize`", meaning: "system disk of the role's nodes" },
  extraDisks: { type: "list of `{size, datastore?}`", defaultText: "none", meaning: "extra disks of the role's nodes" },
  patches: { type: "list of patches", defaultText: "none", meaning: "Talos patches for the role, after `patches`, before a node's own" },
};

const NETWORK_DOCS: Record<(typeof NETWORK_KEYS)[number], KeyDoc> = {
  addressing: {
    type: "`dhcp` or `static`",
    meaning: "`dhcp`: each node's `ip` is its DHCP reservation. `static`: a cloud-init drive and the Talos config fix it, nocloud image (see \"Static addresses\"); a running cluster can't switch",
  },
  cidr: { type: "IPv4 network", defaultText: "none", meaning: "with `static` (required): the nodes' network, e.g. `10.0.10.0/24`; every node IP and the VIP inside it. With `dhcp` (optional): the subnet your DHCP serves, used only to check the addresses (without it the VIP's /24 is assumed for the control planes)" },
  gateway: { type: "IPv4", defaultText: "none", meaning: "with `static` (required): the default gateway, inside `cidr`, no node's IP nor the VIP. Refused with `dhcp`" },
  nameservers: { type: "list of IP addresses", meaning: "DNS servers (rendered as a `ResolverConfig` document, and on the cloud-init drive with `static`); empty keeps DHCP's; required with `static`" },
  timeServers: { type: "list of host names or IPs", meaning: "NTP servers (a `TimeSyncConfig` document); empty keeps Talos's default" },
};

const CILIUM_DOCS: Record<(typeof CILIUM_KEYS)[number], KeyDoc> = {
  version: { type: "`X.Y.Z`", meaning: "Cilium Helm chart version (https://helm.cilium.io/); changing it is a Helm upgrade" },
  hubble: { type: "boolean", meaning: "Hubble with its relay and UI" },
  values: { type: "object", meaning: "Helm values merged over the program's (objects key by key, lists replaced)" },
};

const PCI_DOCS: Record<keyof typeof pciSchema.shape, KeyDoc> = {
  id: { type: "`0000:01:00.0`", defaultText: "none", meaning: "raw host device; needs the Proxmox login root@pam with a password (Proxmox refuses raw devices to API tokens)" },
  mapping: { type: "mapping name", defaultText: "none", meaning: "a Proxmox PCI resource mapping; works with an API token that has `Mapping.Use`. Exactly one of `id` and `mapping`" },
  pcie: { type: "boolean", meaning: "attach as PCI Express (the VM then uses the q35 machine type)" },
  rombar: { type: "boolean", meaning: "expose the device ROM" },
  xvga: { type: "boolean", meaning: "the device is the VM's primary GPU" },
};

/** A schema's default, as the reference shows it. */
function defaultOf(schema: z.ZodType): string | undefined {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return undefined;
  // As it would be written in a stack file (flow style fits a table cell): lists and objects included.
  return `\`${YAML.stringify(parsed.data, { collectionStyle: "flow" }).trim()}\``;
}

function table(rows: [string, KeyDoc, string | undefined][]): string {
  const lines = ["| key | type | default | meaning |", "|---|---|---|---|"];
  for (const [key, doc, schemaDefault] of rows) {
    lines.push(`| \`${key}\` | ${doc.type} | ${schemaDefault ?? doc.defaultText ?? "none"} | ${doc.meaning} |`);
  }
  return lines.join("\n");
}

/** The reference's two configuration tables (stack keys, then `nodes` entries). */
export function renderConfigTables(): string {
  const keys = Object.keys(settingsSchema.shape) as (keyof Settings)[];
  const structured = ["nodes", "network", "controlPlane", "worker", "cilium", "backups", "storage"];
  const settings = table(keys.map((k) => [k, SETTINGS_DOCS[k], structured.includes(k) ? undefined : defaultOf(settingsSchema.shape[k])]));
  const nodes = table(NODE_KEYS.map((k) => [k, NODE_DOCS[k], undefined]));
  const roles = table(ROLE_KEYS.map((k) => [k, ROLE_DOCS[k], undefined]));
  const networkShape = networkSchema.unwrap().shape;
  const network = table(NETWORK_KEYS.map((k) => [k, NETWORK_DOCS[k], defaultOf(networkShape[k])]));
  const pciKeys = Object.keys(pciSchema.shape) as (keyof typeof pciSchema.shape)[];
  const pci = table(pciKeys.map((k) => [k, PCI_DOCS[k], defaultOf(pciSchema.shape[k])]));
  const ciliumShape = (settingsSchema.shape.cilium.unwrap() as z.ZodObject).shape as Record<string, z.ZodType>;
  const cilium = table(CILIUM_KEYS.map((k) => [k, CILIUM_DOCS[k], defaultOf(ciliumShape[k])]));
  const backupsShape = (settingsSchema.shape.backups.unwrap() as z.ZodObject).shape as Record<string, z.ZodType>;
  const backups = table(BACKUPS_KEYS.map((k) => [k, BACKUPS_DOCS[k], defaultOf(backupsShape[k])]));
  const csiShape = ((settingsSchema.shape.storage.unwrap() as z.ZodObject).shape.proxmoxCsi as z.ZodOptional<z.ZodObject>).unwrap().shape as Record<string, z.ZodType>;
  const proxmoxCsi = table(PROXMOX_CSI_KEYS.map((k) => [k, PROXMOX_CSI_DOCS[k], defaultOf(csiShape[k])]));
  return [
    settings,
    "Each `nodes` entry:",
    nodes,
    "`controlPlane` and `worker` (a node's own value wins over its role's, which wins over the cluster-wide key):",
    roles,
    "`network`:",
    network,
    "Each `pci` entry of a node:",
    pci,
    "`cilium` (with `cni: cilium`):",
    cilium,
    "`backups`:",
    backups,
    "`storage.proxmoxCsi` (docs/storage.md):",
    proxmoxCsi,
  ].join("\n\n") + "\n";
}

export const CONFIG_TABLE_START = "<!-- config-tables: generated by `npm run docs` from config/keyDocs.ts -->";
export const CONFIG_TABLE_END = "<!-- end of config-tables -->";

/** The configuration reference with its tables regenerated. */
export function withConfigTables(readme: string): string {
  const start = readme.indexOf(CONFIG_TABLE_START);
  const end = readme.indexOf(CONFIG_TABLE_END);
  if (start < 0 || end < start) throw new Error("docs/configuration.md lacks the config-tables markers");
  return `${readme.slice(0, start + CONFIG_TABLE_START.length)}\n\n${renderConfigTables()}\n${readme.slice(end)}`;
}
