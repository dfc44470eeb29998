/**
 * The domain: what a validated cluster is (plain data, no Outputs), the hardware facts the VMs and
 * the Talos configs must agree on, and the pinned defaults. Imported by config validation, the
 * components and the template alike; it reads nothing.
 */

export type Role = "controlplane" | "worker";

// renovate: datasource=github-releases depName=siderolabs/talos
export const DEFAULT_TALOS_VERSION = "v1.13.9";

/**
 * Kubernetes version per Talos minor when `kubernetesVersion` is unset: the one each Talos release
 * ships (siderolabs/talos constants.go at v1.12.11 and v1.13.9). Pinned here, so a provider
 * update never changes the cluster's Kubernetes version behind the user's back.
 */
// renovate: datasource=github-releases depName=kubernetes/kubernetes extractVersion=^v(?<version>.+)$
const KUBERNETES_FOR_TALOS_1_13 = "1.36.3";
export const DEFAULT_KUBERNETES_VERSIONS: Record<string, string> = {
  "1.12": "1.35.4",
  "1.13": KUBERNETES_FOR_TALOS_1_13,
};

/** Kubernetes minors each Talos minor supports (siderolabs/talos pkg/machinery/compatibility). */
export const SUPPORTED_KUBERNETES_MINORS: Record<string, [number, number]> = {
  "1.12": [30, 35],
  "1.13": [31, 36],
};

// renovate: datasource=docker depName=nginx
export const DEFAULT_NGINX_IMAGE = "nginx:1.28.0";
export const GUEST_AGENT_EXTENSION = "siderolabs/qemu-guest-agent";
/** Kernel argument the network config depends on: it names the NIC `eth0`. */
export const REQUIRED_KERNEL_ARGS = ["net.ifnames=0"];

/** The VM's system disk: Proxmox `scsi0` is `/dev/sda` in the guest, Talos's install disk. */
export const INSTALL_DISK_INTERFACE = "scsi0";
export const INSTALL_DISK = "/dev/sda";
/** Extra disks follow the system disk: `scsi1` is `/dev/sdb` in the guest, `scsi2` `/dev/sdc`... */
export const EXTRA_DISK_INTERFACE_PREFIX = "scsi";
/** Proxmox allows `scsi0`-`scsi30`; `scsi0` is the system disk. */
export const MAX_EXTRA_DISKS = 30;
/** Proxmox allows `hostpci0`-`hostpci15` (qemu-server PCI.pm MAX_HOSTPCI_DEVICES). */
export const MAX_PCI_DEVICES = 16;
/** Where the Talos ISO is attached; boot falls through to it while the disk is empty. */
export const CDROM_INTERFACE = "ide2";
/**
 * Where the cloud-init (NoCloud) drive of a static node is attached. Not the provider's default
 * `ide2`: that is the ISO's slot, and on create the provider puts both devices in one map keyed by
 * interface with the cdrom written last, so the cloud-init drive would silently vanish (bpg
 * v0.111.1 proxmoxtf/resource/vm/vm.go:3142-3145, 3276-3292). `ide0` exists on both machine types
 * (q35 has only ide0 and ide2: bpg#420), and a `scsi` slot would collide with the extra disks
 * (`scsi1`...). Proxmox attaches a cloud-init drive as a CD-ROM, so `/dev/sda` stays the install disk.
 */
export const CLOUD_INIT_INTERFACE = "ide0";
/** The VM's one NIC as Talos names it (`net.ifnames=0`). */
export const LINK = "eth0";

/** Proxmox VM IDs run from 100 to 999999999. */
export const VM_ID_MIN = 100;
export const VM_ID_MAX = 999_999_999;
/** With `vmIdBase`, a node's VM ID is `vmIdBase` plus a number below this, derived from its name. */
export const VM_ID_SPAN = 1000;

/** A disk after the system disk, attached as `scsi<n>` (n from 1, in list order). */
export interface ExtraDisk {
  /** GiB. */
  size: number;
  datastore: string;
}

/**
 * A host PCI device passed through to the VM, as `hostpci<n>` (n from 0, in list order): either a
 * raw device ID (needs the root@pam user with a password; Proxmox refuses it for API tokens) or
 * a Proxmox resource mapping (works with an API token that has Mapping.Use).
 */
export interface PciDevice {
  /** Raw host device, e.g. `0000:01:00.0` (all functions: `0000:01:00`). */
  id?: string;
  /** Name of a Proxmox PCI resource mapping (Datacenter → Resource Mappings). */
  mapping?: string;
  /** Attach as PCI Express (the VM then uses the q35 machine type). */
  pcie: boolean;
  /** Expose the device's ROM to the guest. */
  rombar: boolean;
  /** The device is the VM's primary GPU. */
  xvga: boolean;
}

/** A Talos patch the user gave, with where it came from (a stack key, and its file). */
export interface UserPatch {
  /** The key that holds it, e.g. `worker.patches[1]` or `nodes[2].patches[0]`. */
  source: string;
  /** The file of an `@<path>` patch, as written. */
  file?: string;
  /** The YAML text: one or more documents, or a JSON patch. */
  text: string;
}

/** One VM and Talos node, with every default applied. */
export interface NodeSpec {
  name: string;
  ip: string;
  role: Role;
  /** Proxmox node that runs the VM. */
  host: string;
  /** Fixed VM ID; undefined lets Proxmox choose. */
  vmId?: number;
  /** Upper-case MAC, configured or derived from cluster and node name. */
  mac: string;
  cores: number;
  /** MiB. */
  memory: number;
  /** GiB. */
  diskSize: number;
  extraDisks: ExtraDisk[];
  pci: PciDevice[];
  /** The user's patches for this node, in the order they apply: cluster, role, node. */
  patches: UserPatch[];
}

/** How the nodes get their addresses: from DHCP reservations, or fixed by the program. */
export type Addressing = "dhcp" | "static";

/** The network every node's static address lies in. */
export interface StaticAddressing {
  /** The network, e.g. `10.0.10.0/24`. */
  cidr: string;
  /** Its prefix length, e.g. 24: a node's address is `<ip>/<prefixLength>`. */
  prefixLength: number;
  /** The default gateway, inside `cidr`. */
  gateway: string;
}

/** The Image Factory platform: `nocloud` reads the cloud-init drive (static addresses), `metal` does not. */
export function imagePlatform(spec: ClusterSpec): "metal" | "nocloud" {
  return spec.network.static ? "nocloud" : "metal";
}


export type CniSpec =
  | { name: "flannel" }
  | { name: "none" }
  | { name: "custom"; urls: string[] }
  | { name: "cilium"; version: string; hubble: boolean; values: Record<string, unknown> };

/** Cilium's Helm chart: repository and the pinned version (`cilium.version` overrides it). */
export const CILIUM_CHART_REPO = "https://helm.cilium.io/";
// renovate: datasource=helm depName=cilium registryUrl=https://helm.cilium.io/
export const DEFAULT_CILIUM_VERSION = "1.19.2";

/** The Proxmox CSI plugin's Helm chart (OCI only: proxmox-csi-plugin v0.19.1 Makefile:1-4,110-115) and its pinned version, chart 0.5.9 = plugin v0.19.1 (charts/proxmox-csi-plugin/Chart.yaml:21,26). */
export const PROXMOX_CSI_CHART = "oci://ghcr.io/sergelogvinov/charts/proxmox-csi-plugin";
// renovate: datasource=docker depName=ghcr.io/sergelogvinov/charts/proxmox-csi-plugin
export const DEFAULT_PROXMOX_CSI_VERSION = "0.5.9";
/** The driver the plugin registers; the chart says it cannot be changed (values.yaml:29-31, pkg/csi/driver.go:21-22). */
export const PROXMOX_CSI_DRIVER = "csi.proxmox.sinextra.dev";
/**
 * The VM ID the plugin files every volume disk under (`vm-9999-pvc-<uuid>`; pkg/config/config.go:44-46
 * controllerVmID): a real VM with this ID would own those disks, and destroying it would delete them
 * (qemu-server QemuServer.pm:1882-1884 frees the volumes a VM owns).
 */
export const PROXMOX_CSI_DISK_OWNER = 9999;

/** Persistent volumes through the Proxmox CSI plugin (`storage.proxmoxCsi`). */
export interface ProxmoxCsiSpec {
  datastore: string;
  storageClass: string;
  default: boolean;
  fsType: "ext4" | "xfs";
  reclaimPolicy: "Retain" | "Delete";
  /** `topology.kubernetes.io/region` of every node and the plugin's cluster region. */
  region: string;
  /** Chart version. */
  version: string;
}

/** Whether Talos brings the pod network up itself (so nodes turn Ready without the program's help). */
export const cniByTalos = (cni: CniSpec): boolean => cni.name === "flannel" || cni.name === "custom";

/** The validated, defaulted and derived config. Nodes are sorted by name: list order means nothing. */
export interface ClusterSpec {
  clusterName: string;
  talosVersion: string;
  kubernetesVersion: string;
  vip?: string;
  /** `https://<vip, else the bootstrap node's IP>:6443`. */
  endpoint: string;
  nodes: NodeSpec[];
  /** The control plane whose etcd is bootstrapped: the first by name, so reordering moves nothing. */
  bootstrapNode: string;
  proxmox: {
    /** Proxmox node for nodes without a host (and the one that downloads a shared ISO). */
    defaultHost: string;
    isoDatastore: string;
    /** The ISO datastore is shared by every host (NFS, CephFS): one download for all. */
    isoDatastoreShared: boolean;
    diskDatastore: string;
    bridge: string;
    vlanId?: number;
    cpuType: string;
  };
  image: { kernelArgs: string[]; extensions: string[]; guestAgent: boolean };
  talos: {
    allowSchedulingOnControlPlanes: boolean;
    cni: CniSpec;
    healthTimeout: string;
    /** How long a rebooted node (upgrade, rolled reboot) may take to come back (Go duration). */
    rebootTimeout: string;
    /** How long draining a node (upgrade, reboot, removal) may take (Go duration). */
    drainTimeout: string;
    /** Client certificates are reissued on `pulumi up` once they expire within this Go duration. */
    credentialRenewal: string;
    /** Workers upgraded together in a rolling upgrade (control planes always one at a time). */
    upgradeBatchSize: number;
    /** Manifest URLs applied by the control planes (`cluster.extraManifests`). */
    extraManifests: string[];
    /** Manifests given inline (`cluster.inlineManifests`). */
    inlineManifests: { name: string; contents: string }[];
  };
  /** DNS and NTP servers for every node; empty leaves the DHCP-provided or Talos defaults. */
  network: {
    nameservers: string[];
    timeServers: string[];
    /** Set with `addressing: static`: every node's address is fixed by a cloud-init drive and its config, no DHCP. */
    static?: StaticAddressing;
  };
  workload: { enabled: boolean; replicas: number; image: string; nodePort?: number };
  /** etcd snapshots before risky day-two steps: directory (default `backups/<stack>`), how many to keep, whether a failed one stops the step. */
  backups: { dir?: string; keep: number; required: boolean };
  /** Persistent volumes: the Proxmox CSI plugin, or none. */
  storage: { proxmoxCsi?: ProxmoxCsiSpec };
}

export const controlPlanes = (spec: ClusterSpec): NodeSpec[] => spec.nodes.filter((n) => n.role === "controlplane");
export const workers = (spec: ClusterSpec): NodeSpec[] => spec.nodes.filter((n) => n.role === "worker");

/** The Talos minor of a version such as `v1.13.9` (`1.13`). */
export function talosMinor(talosVersion: string): string {
  return talosVersion.replace(/^v/, "").split(".").slice(0, 2).join(".");
}

