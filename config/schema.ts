import { z } from "zod";
import { GO_DURATION, goDurationMs } from "./duration";
import {
  DEFAULT_CILIUM_VERSION,
  DEFAULT_PROXMOX_CSI_VERSION,
  DEFAULT_NGINX_IMAGE,
  DEFAULT_TALOS_VERSION,
  GUEST_AGENT_EXTENSION,
  MAX_EXTRA_DISKS,
  MAX_PCI_DEVICES,
  VM_ID_MAX,
  VM_ID_MIN,
} from "./domain";

/**
 * The shape of the stack config (namespace `talos-proxmox`) and of the component's Args, with the
 * defaults applied in code so that `pulumi up` and the tests behave the same. Cross-field rules
 * (duplicates, VIP, quorum) live in `configRules.ts`.
 */

export const CPU_TYPES = ["host", "x86-64-v2", "x86-64-v2-AES", "x86-64-v3", "x86-64-v4"] as const;
export const CNI_NAMES = ["flannel", "cilium", "custom", "none"] as const;

/** How a rejected value is shown in a message. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

/** Zod error option: "must be <what>, got <value>" (or "is required" when missing). */
function must(what: string) {
  return {
    error: (issue: { input?: unknown }) =>
      issue.input === undefined ? `is required: ${what}` : `must be ${what}, got ${describe(issue.input)}`,
  };
}

/** A Go duration above zero (a zero limit would fail every wait at once). */
function positiveGoDuration(examples: string) {
  const what = must(`a Go duration above zero such as ${examples}`);
  return z
    .string(what)
    .regex(GO_DURATION, what)
    .refine((text) => !GO_DURATION.test(text) || goDurationMs(text) > 0, what);
}

// Pulumi hands scalar config values to the program as strings ("8", "true"); YAML inside
// structured values keeps its own types. Accept both spellings of whole numbers and booleans.
const toInt = (v: unknown) => (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : v);
const toBool = (v: unknown) =>
  typeof v === "string" && /^(true|false)$/i.test(v.trim()) ? v.trim().toLowerCase() === "true" : v;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const dnsLabel = (example: string) => {
  const what = `a DNS label (lowercase letters, digits and '-', at most 63 characters), e.g. ${example}`;
  return z.string(must(what)).regex(DNS_LABEL, must(what));
};

const positiveInt = (what: string) =>
  z.preprocess(toInt, z.number(must(what)).int(must(what)).positive(must(what)));

const intRange = (min: number, max: number, what: string) => {
  const text = `${what} from ${min} to ${max}`;
  return z.preprocess(toInt, z.number(must(text)).int(must(text)).min(min, must(text)).max(max, must(text)));
};

const bool = (what: string) => z.preprocess(toBool, z.boolean(must(`true or false (${what})`)));

const semver = (what: string, example: string) =>
  z.string(must(`${what} of the form ${example}`)).regex(/^v\d+\.\d+\.\d+$/, must(`${what} of the form ${example}`));

const nonEmpty = (what: string) => z.string(must(what)).trim().min(1, must(what));

// A Proxmox storage ID as Proxmox parses it (pve-common 9.2.1 src/PVE/JSONSchema.pm:292-302 parse_id):
// two characters or more, a letter first, letters, digits, '-', '_' and '.' after, no '-', '_' or '.' last.
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const datastore = (what: string) => z.string(must(what)).regex(STORAGE_ID, must(what));

const stringList = (what: string) => z.array(nonEmpty(what), must(`a list of ${what}`));

/** Talos patches: YAML text (strategic merge, one or more documents, or a JSON patch) or `@<file>`. */
const patchList = z.array(
  nonEmpty("a Talos patch: YAML text, or @<path> to a file relative to the project directory"),
  must("a list of Talos patches (YAML text, or @<path> to a file relative to the project directory)"),
);

export const extraDiskSchema = z.strictObject({
  size: positiveInt("disk size in GiB, a whole number above 0"),
  datastore: datastore("a Proxmox datastore name for VM disks, e.g. local-lvm").optional(),
});
const extraDisks = z.array(extraDiskSchema, must("a list of disks such as [{ size: 100 }]")).max(MAX_EXTRA_DISKS, {
  error: `must list at most ${MAX_EXTRA_DISKS} disks (Proxmox scsi1-scsi30)`,
});

const PCI_ID = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(\.[0-7])?$/;
export const pciSchema = z.strictObject({
  id: z
    .string(must("a host PCI device ID such as 0000:01:00.0 (or 0000:01:00 for all functions)"))
    .regex(PCI_ID, must("a host PCI device ID such as 0000:01:00.0 (or 0000:01:00 for all functions)"))
    .optional(),
  mapping: z
    .string(must("the name of a Proxmox PCI resource mapping, e.g. gpu"))
    .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, must("the name of a Proxmox PCI resource mapping, e.g. gpu"))
    .optional(),
  pcie: bool("attach as PCI Express; the VM then uses the q35 machine type").default(false),
  // The provider sends rombar=0 when unset although Proxmox defaults it to on (bpg vm.go:3928-3933).
  rombar: bool("expose the device ROM").default(true),
  xvga: bool("the device is the primary GPU").default(false),
});

export const NODE_KEYS = ["name", "ip", "role", "host", "vmId", "mac", "cores", "memory", "diskSize", "extraDisks", "pci", "patches"] as const;

export const nodeSchema = z.strictObject({
  name: dnsLabel("talos-cp-1"),
  ip: z.string(must("an IPv4 address such as 10.0.10.11")),
  role: z.enum(["controlplane", "worker"], must("controlplane or worker")),
  host: dnsLabel("pve").optional(),
  vmId: intRange(VM_ID_MIN, VM_ID_MAX, "a Proxmox VM ID").optional(),
  mac: z.string(must("a MAC address such as 02:AB:CD:EF:01:23")).optional(),
  cores: positiveInt("a whole number of CPU cores above 0").optional(),
  memory: positiveInt("memory in MiB, a whole number above 0").optional(),
  diskSize: positiveInt("disk size in GiB, a whole number above 0").optional(),
  extraDisks: extraDisks.optional(),
  pci: z
    .array(pciSchema, must("a list of PCI devices such as [{ mapping: gpu }]"))
    .max(MAX_PCI_DEVICES, { error: `must list at most ${MAX_PCI_DEVICES} devices (Proxmox hostpci0-hostpci15)` })
    .default([]),
  patches: patchList.default([]),
});

export const ROLE_KEYS = ["cores", "memory", "diskSize", "extraDisks", "patches"] as const;

/** Defaults for every node of one role (`controlPlane`, `worker`); a node's own value wins. */
const roleSchema = z
  .strictObject({
    cores: positiveInt("a whole number of CPU cores above 0").optional(),
    memory: positiveInt("memory in MiB, a whole number above 0").optional(),
    diskSize: positiveInt("disk size in GiB, a whole number above 0").optional(),
    extraDisks: extraDisks.optional(),
    patches: patchList.default([]),
  })
  .default({ patches: [] });

export const NETWORK_KEYS = ["addressing", "cidr", "gateway", "nameservers", "timeServers"] as const;
export const ADDRESSING_MODES = ["dhcp", "static"] as const;

export const networkSchema = z
  .strictObject({
    addressing: z
      .enum(ADDRESSING_MODES, must("dhcp (addresses from DHCP reservations) or static (fixed by the program, with cidr and gateway)"))
      .default("dhcp"),
    cidr: z.string(must("an IPv4 network such as 10.0.10.0/24")).optional(),
    gateway: z.string(must("an IPv4 address such as 10.0.10.1")).optional(),
    nameservers: stringList("DNS server IP addresses such as 1.1.1.1").default([]),
    timeServers: stringList("NTP servers (host names or IP addresses) such as time.cloudflare.com").default([]),
  })
  .default({ addressing: "dhcp", nameservers: [], timeServers: [] });

const httpsUrl = z.string(must("an https:// manifest URL")).regex(/^https:\/\/\S+$/, must("an https:// manifest URL"));

export const CILIUM_KEYS = ["version", "hubble", "values"] as const;

/** `cni: cilium`: the chart version, Hubble, and Helm values merged over the program's. */
const ciliumSchema = z
  .strictObject({
    version: z
      .string(must("a Cilium chart version such as 1.19.2"))
      .regex(/^\d+\.\d+\.\d+$/, must("a Cilium chart version such as 1.19.2"))
      .default(DEFAULT_CILIUM_VERSION),
    hubble: bool("enable Hubble with its relay and UI").default(false),
    values: z.record(z.string(), z.unknown(), must("an object of Helm values, e.g. { operator: { replicas: 1 } }")).default({}),
  })
  .default({ version: DEFAULT_CILIUM_VERSION, hubble: false, values: {} });

const inlineManifest = z.strictObject({
  name: nonEmpty("a manifest name, unique"),
  contents: nonEmpty("the manifest YAML"),
});

export const BACKUPS_KEYS = ["dir", "keep", "required"] as const;

/** etcd snapshots before risky day-two steps (engines/backups.ts). */
const backupsSchema = z
  .strictObject({
    dir: nonEmpty("a directory for etcd snapshots, relative to the project directory, e.g. backups/dev").optional(),
    keep: positiveInt("how many snapshots of the stack to keep, a whole number above 0").default(10),
    required: bool("a failed snapshot stops the upgrade, reboot or removal").default(true),
  })
  .default({ keep: 10, required: true });

export const PROXMOX_CSI_KEYS = ["datastore", "storageClass", "default", "fsType", "reclaimPolicy", "region", "version"] as const;

// A Kubernetes label value (k8s.io/apimachinery validation IsValidLabelValue): at most 63
// characters, alphanumerics with '-', '_' and '.' inside. Talos checks nodeLabels the same way.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// A Kubernetes object name (DNS-1123 subdomain), as a StorageClass name must be.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `storage.proxmoxCsi`: volumes as Proxmox disks through the Proxmox CSI plugin (components/proxmoxCsi.ts). */
const proxmoxCsiSchema = z.strictObject({
  datastore: datastore("the Proxmox datastore for volume disks, e.g. local-lvm"),
  storageClass: z
    .string(must("a Kubernetes object name such as proxmox"))
    .max(253, must("a Kubernetes object name such as proxmox"))
    .regex(DNS_SUBDOMAIN, must("a Kubernetes object name such as proxmox"))
    .default("proxmox"),
  default: bool("the StorageClass is the cluster's default").default(true),
  fsType: z.enum(["ext4", "xfs"], must("ext4 or xfs")).default("ext4"),
  reclaimPolicy: z.enum(["Retain", "Delete"], must("Retain (a released volume's disk stays) or Delete")).default("Retain"),
  region: z
    .string(must("a Kubernetes label value such as homelab (letters, digits, '-', '_', '.'; at most 63)"))
    .min(1, must("a Kubernetes label value such as homelab (letters, digits, '-', '_', '.'; at most 63)"))
    .max(63, must("a Kubernetes label value such as homelab (letters, digits, '-', '_', '.'; at most 63)"))
    .regex(LABEL_VALUE, must("a Kubernetes label value such as homelab (letters, digits, '-', '_', '.'; at most 63)"))
    .default("proxmox"),
  version: z
    .string(must("a proxmox-csi-plugin chart version such as 0.5.9"))
    .regex(/^\d+\.\d+\.\d+$/, must("a proxmox-csi-plugin chart version such as 0.5.9"))
    .default(DEFAULT_PROXMOX_CSI_VERSION),
});

export const STORAGE_KEYS = ["proxmoxCsi"] as const;

/** Persistent volumes; without `proxmoxCsi`, none are provided. */
const storageSchema = z.strictObject({ proxmoxCsi: proxmoxCsiSchema.optional() }).default({});

export type RawNode = z.infer<typeof nodeSchema>;

/** Every top-level key but `nodes`, which is validated node by node. */
export const settingsSchema = z.strictObject({
  clusterName: dnsLabel("demo-cluster"),
  talosVersion: semver("a Talos version", "v1.13.9").default(DEFAULT_TALOS_VERSION),
  kubernetesVersion: z
    .string(must("a Kubernetes version of the form 1.34.1"))
    .regex(/^v?\d+\.\d+\.\d+$/, must("a Kubernetes version of the form 1.34.1"))
    .optional(),
  vip: z.string(must("an IPv4 address such as 10.0.10.10")).optional(),
  // Checked node by node (validate.ts), which also says when it is missing.
  nodes: z.unknown().optional(),
  proxmoxNode: dnsLabel("pve").default("pve"),
  isoDatastore: datastore("a Proxmox datastore name that holds ISO images, e.g. local").default("local"),
  isoDatastoreShared: bool("the ISO datastore is shared by every Proxmox host").default(false),
  diskDatastore: datastore("a Proxmox datastore name for VM disks, e.g. local-lvm").default("local-lvm"),
  bridge: nonEmpty("a Proxmox bridge name, e.g. vmbr0").default("vmbr0"),
  vlanId: intRange(1, 4094, "a VLAN ID").optional(),
  cpuType: z.enum(CPU_TYPES, must(`one of ${CPU_TYPES.join(", ")} (Talos needs x86-64-v2)`)).default("host"),
  cores: positiveInt("a whole number of CPU cores above 0").default(4),
  memory: positiveInt("memory in MiB, a whole number above 0").default(8192),
  diskSize: positiveInt("disk size in GiB, a whole number above 0").default(32),
  vmIdBase: intRange(VM_ID_MIN, VM_ID_MAX, "a Proxmox VM ID").optional(),
  kernelArgs: stringList("kernel arguments such as console=ttyS0").default([]),
  extensions: stringList("Talos system extensions such as siderolabs/qemu-guest-agent").default([
    GUEST_AGENT_EXTENSION,
  ]),
  allowSchedulingOnControlPlanes: bool("let workloads run on control planes").default(true),
  cni: z.enum(CNI_NAMES, must(CNI_NAMES.join(", "))).default("flannel"),
  cniUrls: z.array(httpsUrl, must("a list of https:// manifest URLs")).default([]),
  cilium: ciliumSchema,
  extraManifests: z.array(httpsUrl, must("a list of https:// manifest URLs")).default([]),
  inlineManifests: z.array(inlineManifest, must("a list of { name, contents } manifests")).default([]),
  network: networkSchema,
  controlPlane: roleSchema,
  worker: roleSchema,
  patches: patchList.default([]),
  upgradeBatchSize: positiveInt("a whole number of workers above 0").default(1),
  healthTimeout: positiveGoDuration("10m or 1h30m").default("10m"),
  // The defaults are the engine's own (engines/operations.ts DEFAULT_TIMEOUTS rebootMs, drainMs).
  rebootTimeout: positiveGoDuration("15m or 1h30m").default("15m"),
  drainTimeout: positiveGoDuration("5m or 90s").default("5m"),
  // Its upper bound is a rule (credentialRenewalWithinLifetime), which names the certificates' lifetime.
  credentialRenewal: z
    .string(must("a Go duration such as 2160h (90 days)"))
    .regex(GO_DURATION, must("a Go duration such as 2160h (90 days)"))
    .default("2160h"),
  workloadEnabled: bool("deploy the sample NGINX app").default(true),
  nginxReplicas: positiveInt("a whole number of replicas above 0").default(2),
  nginxImage: z
    .string(must("an image reference with a tag or digest, e.g. nginx:1.28.0"))
    .regex(/^[^\s:@]+(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?$/, must("an image reference, e.g. nginx:1.28.0"))
    .refine((ref) => /[:@][^/]*$/.test(ref), must("an image reference pinned to a tag or digest, e.g. nginx:1.28.0"))
    .default(DEFAULT_NGINX_IMAGE),
  nginxNodePort: intRange(30000, 32767, "a NodePort").optional(),
  backups: backupsSchema,
  storage: storageSchema,
});

export type Settings = z.infer<typeof settingsSchema>;

/** Keys whose config value is structured (Pulumi passes them as JSON text). */
export const STRUCTURED_KEYS = [
  "nodes",
  "kernelArgs",
  "extensions",
  "cniUrls",
  "cilium",
  "extraManifests",
  "inlineManifests",
  "network",
  "controlPlane",
  "worker",
  "patches",
  "backups",
  "storage",
];

export const TOP_LEVEL_KEYS = Object.keys(settingsSchema.shape);
