// Types from the package; classes from their own modules: the package's index loads every API
// group (about 120 modules, 40 ms of each start) and these use three (docs/performance.md).
import type * as k8s from "@pulumi/kubernetes";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { Settings } from "../config/schema";
import { ClusterSpec, NodeSpec, controlPlanes, imagePlatform } from "../config/domain";
import { taskTimeouts } from "../config/duration";
import type * as talos from "../sdk/talos";
import { v01Alias } from "./legacy";
import { TalosCluster } from "./talosCluster";
import type { CredentialLifetimes } from "../resources/talosCredentials";
import { TalosImage, TalosImageArgs } from "./talosImage";
import { TalosVm, TalosVmArgs } from "./talosVm";
import { installCilium } from "./cilium";
import { ProxmoxCsi, attachedVolumesHook, type StorageSummary } from "./proxmoxCsi";
import { VolumesGuard } from "../resources/storageVolumes";
import { PROXMOX_CSI_DRIVER } from "../config/domain";
import { ConfigError, ValidatedConfig, validateConfig } from "../config/validate";
import { recordPlan } from "../config/nodePlan";
import type { ProxmoxConnectionArgs } from "../resources/talosReboots";

/** One node of the cluster. */
export interface TalosProxmoxNodeArgs {
  /** VM name and Talos hostname, a DNS label; unique. */
  name: string;
  /** IPv4 address the node gets (its DHCP reservation for the node's MAC, or fixed with static addressing); unique. */
  ip: string;
  /** `controlplane` or `worker`; 1 control plane, or 3 or more (2 are refused: etcd quorum 2 of 2), best an odd number. */
  role: "controlplane" | "worker";
  /** Proxmox node that runs the VM. Default: `proxmoxNode`. */
  host?: string;
  /** Proxmox VM ID, 100-999999999. Default: derived from `vmIdBase` and the name, else chosen by Proxmox. */
  vmId?: number;
  /** NIC MAC. Default: derived from `clusterName` and the name (locally administered, stable across redeploys). */
  mac?: string;
  /** CPU cores. Default: the role's `cores`, else `cores`. */
  cores?: number;
  /** Memory in MiB. Default: the role's `memory`, else `memory`. */
  memory?: number;
  /** System disk in GiB. Default: the role's `diskSize`, else `diskSize`. */
  diskSize?: number;
  /** Disks after the system disk (`scsi1` = `/dev/sdb`, ...), in GiB. Default: the role's `extraDisks`, else none. */
  extraDisks?: TalosProxmoxDiskArgs[];
  /** Host PCI devices passed through (`hostpci0`, ...). Default: none. */
  pci?: TalosProxmoxPciArgs[];
  /** This node's own Talos patches, applied last (YAML text or `@<path>`). Default: none. */
  patches?: string[];
}

/** A disk after the system disk. */
export interface TalosProxmoxDiskArgs {
  /** Size in GiB. */
  size: number;
  /** Datastore. Default: `diskDatastore`. */
  datastore?: string;
}

/**
 * A host PCI device (GPU, NIC) passed through to the VM: exactly one of `id` and `mapping`. A raw
 * `id` needs the Proxmox provider to log in as root@pam with a password (Proxmox refuses raw
 * devices to API tokens, even root's); a `mapping` works with an API token that has `Mapping.Use`
 * on `/mapping/pci/<name>`.
 */
export interface TalosProxmoxPciArgs {
  /** Raw host device ID, e.g. `0000:01:00.0` (`0000:01:00` for all functions). */
  id?: string;
  /** Proxmox PCI resource mapping name (Datacenter → Resource Mappings). */
  mapping?: string;
  /** Attach as PCI Express; the VM then uses the q35 machine type. Default: false. */
  pcie?: boolean;
  /** Expose the device ROM. Default: true. */
  rombar?: boolean;
  /** The device is the primary GPU. Default: false. */
  xvga?: boolean;
}

/** Defaults for every node of one role; a node's own value wins, patches add up. */
export interface TalosProxmoxRoleArgs {
  cores?: number;
  memory?: number;
  diskSize?: number;
  extraDisks?: TalosProxmoxDiskArgs[];
  /** Talos patches for the role, after the cluster's `patches` and before a node's own. */
  patches?: string[];
}

/**
 * Arguments of {@link TalosProxmoxCluster}: the same keys, defaults and rules as the stack config
 * (docs/configuration.md). Only `clusterName` and `nodes` are required. Plain values, not
 * Outputs: they are validated before anything is registered.
 */
export interface TalosProxmoxClusterArgs {
  /** Talos/Kubernetes cluster name, a DNS label. */
  clusterName: string;
  /** The VMs, one per node. */
  nodes: TalosProxmoxNodeArgs[];
  /** Kubernetes API virtual IP on the control planes; endpoint `https://<vip>:6443`. Default: none (the first control plane's IP). */
  vip?: string;
  /** Talos version of the image, installer and config contract (`vX.Y.Z`, 1.12 or 1.13). Default: `v1.13.9`. */
  talosVersion?: string;
  /** Kubernetes version (`X.Y.Z`). Default: the version pinned for the Talos minor (1.36.3 for 1.13). */
  kubernetesVersion?: string;
  /** Proxmox node for nodes without `host`. Default: `pve`. */
  proxmoxNode?: string;
  /** Datastore for the ISO (content `iso`). Default: `local`. */
  isoDatastore?: string;
  /** The ISO datastore is shared by every host (NFS, CephFS): download once, through `proxmoxNode`. Default: false. */
  isoDatastoreShared?: boolean;
  /** Datastore for VM disks. Default: `local-lvm`. */
  diskDatastore?: string;
  /** Bridge for the VM NICs. Default: `vmbr0`. */
  bridge?: string;
  /** VLAN tag on the NICs, 1-4094. Default: none. */
  vlanId?: number;
  /** VM CPU type: `host` or `x86-64-v2` and up. Default: `host`. */
  cpuType?: string;
  /** Cores per VM. Default: 4. */
  cores?: number;
  /** Memory per VM in MiB. Default: 8192. */
  memory?: number;
  /** System disk per VM in GiB. Default: 32. */
  diskSize?: number;
  /** Node VM IDs are `vmIdBase` plus 0-999 derived from the node name. Default: none (Proxmox picks). */
  vmIdBase?: number;
  /** Extra kernel arguments for the image (`net.ifnames=0` is always included). Default: none. */
  kernelArgs?: string[];
  /** Official Talos system extensions. Default: `[siderolabs/qemu-guest-agent]`. */
  extensions?: string[];
  /** Let workloads run on control planes. Default: true. */
  allowSchedulingOnControlPlanes?: boolean;
  /** `flannel`, `cilium` (Helm chart, no kube-proxy), `custom` (with `cniUrls`) or `none`. Default: `flannel`. */
  cni?: string;
  /** With `cni: cilium`: chart `version` (default pinned), `hubble` (default false), Helm `values` merged over the program's. */
  cilium?: { version?: string; hubble?: boolean; values?: Record<string, unknown> };
  /** Manifest URLs for `cni: custom`, https and pinned to a release. Default: none. */
  cniUrls?: string[];
  /** More manifest URLs the control planes apply (`cluster.extraManifests`), https and pinned to a release. Default: none. */
  extraManifests?: string[];
  /** Manifests given inline (`cluster.inlineManifests`); names unique. Default: none. */
  inlineManifests?: { name: string; contents: string }[];
  /**
   * How the nodes get their addresses, and DNS and NTP servers for every node. `addressing`:
   * `dhcp` (default: each node's `ip` is its DHCP reservation) or `static` (a cloud-init drive and
   * the Talos config fix each node's `ip` in `cidr` with `gateway`; needs `nameservers`; nocloud
   * image). `nameservers`: IP addresses, default DHCP's. `timeServers`: host names or IPs, default Talos's.
   */
  network?: { addressing?: "dhcp" | "static"; cidr?: string; gateway?: string; nameservers?: string[]; timeServers?: string[] };
  /** Defaults for control-plane nodes. */
  controlPlane?: TalosProxmoxRoleArgs;
  /** Defaults for worker nodes. */
  worker?: TalosProxmoxRoleArgs;
  /**
   * Talos patches for every node, applied after the program's own: YAML text (strategic merge, one or
   * more documents, Talos 1.13 kinds included) or `@<path>` to a file relative to the project
   * directory. Checked against the Talos v1.13 config before anything is registered. Default: none.
   */
  patches?: string[];
  /** Workers upgraded together in a rolling Talos upgrade. Default: 1. */
  upgradeBatchSize?: number;
  /** How long `pulumi up` waits for the cluster to be healthy (Go duration). Default: `10m`. */
  healthTimeout?: string;
  /** How long a node may take to come back from a reboot in an upgrade or rolled reboot (Go duration above zero). Default: `15m`. */
  rebootTimeout?: string;
  /** How long draining a node may take in an upgrade, reboot or removal (Go duration above zero). Default: `5m`. */
  drainTimeout?: string;
  /**
   * `pulumi up` reissues the talosconfig and kubeconfig client certificates (valid one year) from
   * the cluster's CAs once they expire within this Go duration, or have expired; no node changes.
   * Under 8760h. Default: `2160h` (90 days).
   */
  credentialRenewal?: string;
  /** Stack program only: deploy the sample NGINX app. Default: true. */
  workloadEnabled?: boolean;
  /** Stack program only: NGINX replicas. Default: 2. */
  nginxReplicas?: number;
  /** Stack program only: NGINX image with tag or digest. Default: `nginx:1.28.0`. */
  nginxImage?: string;
  /** Stack program only: fixed NodePort 30000-32767. Default: allocated. */
  nginxNodePort?: number;
  /**
   * The Proxmox API connection (the same endpoint and credentials as the `proxmoxve` provider), for
   * changes of cores, memory or PCI devices: those apply only when Proxmox starts the VM again, so
   * such nodes are rebooted through the Proxmox API, one at a time behind the cluster's gates. The
   * token needs VM.PowerMgmt and VM.Audit on the VMs. Default: none, and such a change is refused
   * at preview (a Talos reboot would leave it pending). Not a stack config key: the stack program
   * passes its `proxmoxve:*` settings.
   */
  proxmox?: ProxmoxConnectionArgs;
  /**
   * etcd snapshots taken through the Talos API before each risky day-two step: the first control
   * plane of a Talos or Kubernetes upgrade, a control plane's removal or replacement, rolled
   * reboots of control planes. `dir`: where they go, relative to the program's directory
   * (default `backups/<stack>`; created 0700, files 0600: a snapshot holds every Kubernetes
   * secret, keep it out of git). `keep`: the newest snapshots of the stack kept (default 10).
   * `required`: a failed snapshot stops the step before it touches a node (default true); false
   * goes on with a warning. Restore with `talosctl bootstrap --recover-from=<file>`.
   */
  backups?: { dir?: string; keep?: number; required?: boolean };
  /**
   * Persistent volumes. `proxmoxCsi` installs the Proxmox CSI plugin (volumes are Proxmox disks on
   * `datastore`, attached to the VM that runs the pod): a Proxmox role, user and API token for it,
   * `topology.kubernetes.io/region` (`region`, default `proxmox`) and `zone` (the node's host)
   * labels on every node, the pinned chart (`version`), and a StorageClass (`storageClass`,
   * default `proxmox`; `default` true; `fsType` `ext4` or `xfs`; `reclaimPolicy` `Retain` or
   * `Delete`, default `Retain`). Needs `proxmox`. Default: none (docs/storage.md).
   */
  storage?: {
    proxmoxCsi?: { datastore: string; storageClass?: string; default?: boolean; fsType?: "ext4" | "xfs"; reclaimPolicy?: "Retain" | "Delete"; region?: string; version?: string };
  };
}

// Every config key is an Arg (checked by the compiler).
type MissingArgs = Exclude<keyof Settings, keyof TalosProxmoxClusterArgs>;
const everyConfigKeyIsAnArg: [MissingArgs] extends [never] ? true : MissingArgs = true;
void everyConfigKeyIsAnArg;

export interface TalosProxmoxClusterOptions extends pulumi.ComponentResourceOptions {
  /**
   * Alias every resource to the URN release 0.1 of the stack program gave it, so a stack
   * deployed with 0.1 moves to this layout without replacements. Only for that stack program.
   */
  adoptV01Layout?: boolean;
}

/** A config `validateConfig` checked, and the Proxmox API connection (not a config key: see `TalosProxmoxClusterArgs.proxmox`). */
export type ValidatedClusterArgs = ValidatedConfig & Pick<TalosProxmoxClusterArgs, "proxmox">;

/** A node as the `nodes` output lists it. */
export interface NodeSummary {
  name: string;
  role: string;
  ip: string;
  mac: string;
  vmId: number;
  host: string;
}

/**
 * A highly available Talos Linux Kubernetes cluster on Proxmox VE: the Image Factory image and its
 * ISO on every host, one VM per node, machine secrets and configs, bootstrap, a health gate, and a
 * ready Kubernetes provider. The Proxmox provider comes from the resource options
 * (`providers: [pve]`) or the default provider.
 */
export class TalosProxmoxCluster extends pulumi.ComponentResource {
  /** The validated and defaulted config (plain data). */
  public readonly spec: ClusterSpec;
  /** kubeconfig, once the cluster reported healthy (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** talosconfig; endpoints = control-plane IPs (secret). */
  public readonly talosconfig: pulumi.Output<string>;
  /** Name, role, IP, MAC, VM ID and host per node. */
  public readonly nodes: pulumi.Output<NodeSummary[]>;
  /** Kubernetes API endpoint, `https://<vip or first control plane>:6443`. */
  public readonly endpoint: string;
  /** A Kubernetes provider for this cluster, ready once it is healthy. */
  public readonly provider: k8s.Provider;
  public readonly schematicId: pulumi.Output<string>;
  public readonly isoUrl: pulumi.Output<string>;
  public readonly installerImage: pulumi.Output<string>;
  /** Nodes whose VM hardware or staged config still waits for a reboot (empty after a successful up). */
  public readonly pendingReboots: pulumi.Output<string[]>;
  /**
   * When the talosconfig and kubeconfig client certificates and the Talos OS, Kubernetes and etcd
   * CAs expire: not-after (ISO 8601) and days left. Dates only, not secret.
   */
  public readonly credentials: pulumi.Output<CredentialLifetimes>;
  /** The Cilium Helm release (`cni: cilium`); `provider` waits for it. */
  public cilium?: k8s.helm.v3.Release;
  /** The StorageClass of `storage.proxmoxCsi` (undefined without it). */
  public readonly storage?: StorageSummary;
  /** The Proxmox CSI plugin (`storage.proxmoxCsi`). */
  public readonly proxmoxCsi?: ProxmoxCsi;

  /**
   * @param args The cluster's settings, validated here before anything (this component included) is
   *   registered; or a config already validated by `validateConfig` (a stack program that read and
   *   checked its config once passes that on as it is), with the Proxmox API connection beside it.
   */
  constructor(name: string, args: TalosProxmoxClusterArgs | ValidatedClusterArgs, opts?: TalosProxmoxClusterOptions) {
    const { proxmox, ...settings } = args;
    const { spec, warnings } = isValidated(settings) ? settings : validateConfig({ ...settings }, { what: `TalosProxmoxCluster "${name}" arguments` });
    const { adoptV01Layout, ...componentOpts } = opts ?? {};
    requireConnectionForStorage(spec, proxmox, name);
    super("talos-proxmox:index:TalosProxmoxCluster", name, {}, componentOpts);
    for (const warning of warnings) void pulumi.log.warn(warning, this);
    this.spec = spec;
    recordPlan(name, spec);
    const legacyName = adoptV01Layout ? spec.clusterName : undefined;

    const image = new TalosImage(name, imageArgs(spec, legacyName), { parent: this });
    const volumesCheck = spec.storage.proxmoxCsi && proxmox ? this.attachedVolumesCheck(name) : undefined;
    const beforeUpdate = volumesCheck?.beforeUpdate;
    const vms = Object.fromEntries(
      spec.nodes.map((node) => [node.name, new TalosVm(`${name}-${node.name}`, { ...vmArgsOf(spec, node, image, legacyName), beforeUpdate }, { parent: this })] as const),
    );
    const cluster = new TalosCluster(
      name,
      {
        spec,
        installerImage: image.installerImage,
        vms: Object.fromEntries(Object.entries(vms).map(([node, vm]) => [node, vm.vm])),
        legacyName,
        vmIds: Object.fromEntries(Object.entries(vms).map(([node, vm]) => [node, vm.vmId])),
        proxmox,
      },
      { parent: this },
    );
    volumesCheck?.connect(cluster);

    this.provider = this.kubernetesProvider(name, this.withCni(name, cluster.kubeconfig), legacyName);
    this.kubeconfig = cluster.kubeconfig;
    this.talosconfig = cluster.talosconfig;
    this.endpoint = spec.endpoint;
    this.nodes = pulumi
      .all(Object.fromEntries(spec.nodes.map((n) => [n.name, vms[n.name].vmId])))
      .apply((ids) => nodeSummaries(spec, ids));
    this.schematicId = image.schematicId;
    this.isoUrl = image.isoUrl;
    this.installerImage = image.installerImage;
    this.pendingReboots = cluster.pendingReboots;
    this.credentials = cluster.credentials;
    this.proxmoxCsi = this.volumes(name, cluster, proxmox);
    this.storage = this.proxmoxCsi?.storage;

    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      talosconfig: this.talosconfig,
      nodes: this.nodes,
      endpoint: this.endpoint,
      schematicId: this.schematicId,
      isoUrl: this.isoUrl,
      installerImage: this.installerImage,
      pendingReboots: this.pendingReboots,
      credentials: this.credentials,
      storage: this.storage,
    });
  }

  /**
   * With `storage.proxmoxCsi`: each VM's update first checks that no volume is attached where its
   * disks change (components/proxmoxCsi.ts). The VMs come before the cluster whose credentials the
   * check connects with: `connect` hands them over once it exists.
   */
  private attachedVolumesCheck(name: string): { beforeUpdate: NonNullable<TalosVmArgs["beforeUpdate"]>; connect(cluster: TalosCluster): void } {
    const [clientConfiguration, resolveClientConfiguration] = pulumi.deferredOutput<talos.ClientConfiguration>();
    const [credentials, resolveCredentials] = pulumi.deferredOutput<pulumi.Resource>();
    const nodes = controlPlanes(this.spec).map((n) => ({ name: n.name, ip: n.ip, role: n.role }));
    const hook = attachedVolumesHook(`${name}-csi-attached-volumes`, { controlPlanes: nodes, clientConfiguration, timeouts: taskTimeouts(this.spec.talos) });
    return {
      beforeUpdate: { hook, after: credentials },
      connect: (cluster) => {
        resolveClientConfiguration(cluster.clientConfiguration);
        resolveCredentials(pulumi.output(cluster.clientCredentials));
      },
    };
  }

  /**
   * `storage.proxmoxCsi`: the plugin on the cluster's provider (after the health gate and the CNI),
   * and the guard the engine deletes before it, which refuses while the plugin's volumes exist. A
   * destroy of the whole cluster skips the guard (`deletedWith` the machine secrets).
   */
  private volumes(name: string, cluster: TalosCluster, proxmox: ProxmoxConnectionArgs | undefined): ProxmoxCsi | undefined {
    const csi = this.spec.storage.proxmoxCsi;
    if (!csi || !proxmox) return undefined;
    const plugin = new ProxmoxCsi(
      `${name}-csi`,
      { clusterName: this.spec.clusterName, csi, proxmoxEndpoint: proxmox.endpoint, insecure: proxmox.insecure, provider: this.provider },
      { parent: this },
    );
    new VolumesGuard(
      `${name}-csi-volumes`,
      { spec: this.spec, key: "storage.proxmoxCsi", driver: PROXMOX_CSI_DRIVER, clientConfiguration: cluster.clientConfiguration, osCa: cluster.clientCredentials.osCa },
      { parent: this, dependsOn: [plugin.release, plugin.storageClass], deletedWith: cluster.machineSecrets },
    );
    return plugin;
  }

  /**
   * The kubeconfig for workloads. With `cni: cilium` it is known only once Cilium runs (installed
   * through a provider of its own), so everything on the cluster's provider comes after it.
   */
  private withCni(name: string, kubeconfig: pulumi.Output<string>): pulumi.Output<string> {
    const cni = this.spec.talos.cni;
    if (cni.name !== "cilium") return kubeconfig;
    const system = new KubernetesProvider(`${name}-k8s-cni`, { kubeconfig, deleteUnreachable: true, clusterIdentifier: kubernetesClusterIdentifier(name) }, { parent: this });
    this.cilium = installCilium(name, cni, system, this);
    return pulumi.secret(pulumi.all([kubeconfig, this.cilium.status]).apply(([raw]) => raw));
  }

  /** A Kubernetes provider built from the cluster's kubeconfig only: never the ambient KUBECONFIG. */
  private kubernetesProvider(name: string, kubeconfig: pulumi.Output<string>, legacyName: string | undefined): k8s.Provider {
    return new KubernetesProvider(
      `${name}-k8s`,
      {
        kubeconfig,
        // A destroy after the VMs are gone drops these objects from state instead of failing.
        deleteUnreachable: true,
        clusterIdentifier: kubernetesClusterIdentifier(name),
      },
      {
        parent: this,
        aliases: legacyName
          ? v01Alias("talos-proxmox:workload:NginxApp$pulumi:providers:kubernetes", `${legacyName}-nginx-k8s`)
          : undefined,
      },
    );
  }
}

/** `storage.proxmoxCsi` needs the Proxmox API for the plugin: refused before anything is registered. */
function requireConnectionForStorage(spec: ClusterSpec, proxmox: ProxmoxConnectionArgs | undefined, name: string): void {
  if (!spec.storage.proxmoxCsi || proxmox) return;
  throw new ConfigError(
    [`storage.proxmoxCsi: the Proxmox CSI plugin needs the Proxmox API: pass \`proxmox\` (its endpoint and credentials, as the proxmoxve provider's) to the component; the stack program passes its proxmoxve:endpoint`],
    `TalosProxmoxCluster "${name}" arguments`,
  );
}

/**
 * The identity of the cluster behind both Kubernetes providers. Without one, pulumi-kubernetes
 * replaces a provider, and with it every object on it (Cilium, the CSI plugin, NGINX), whenever the
 * kubeconfig's server or CA changes (setting `vip`, removing the control plane the endpoint names)
 * or is not known yet in a preview (pulumi/pulumi-kubernetes v4.32.0 provider/pkg/provider/provider.go
 * DiffConfig:486-516,539-556); with one, only a change of the identifier replaces it. The machine
 * secrets, so the cluster, never change under a component name: the identifier is that name. Adding
 * it to an existing provider is an update, not a replacement (the same function, :486-492). Pure.
 */
export function kubernetesClusterIdentifier(name: string): string {
  return `talos-proxmox:${name}`;
}

/** Whether the Args are a config `validateConfig` returned (a spec with its warnings), not settings. */
function isValidated(args: Omit<TalosProxmoxClusterArgs, "proxmox"> | ValidatedConfig): args is ValidatedConfig {
  return "spec" in args && "warnings" in args;
}

/** The image: one schematic, its ISO on every host that runs a node (or once, on shared storage). Pure. */
export function imageArgs(spec: ClusterSpec, legacyName: string | undefined): TalosImageArgs {
  return {
    clusterName: spec.clusterName,
    talosVersion: spec.talosVersion,
    kernelArgs: spec.image.kernelArgs,
    extensions: spec.image.extensions,
    hosts: spec.nodes.map((n) => n.host),
    isoDatastore: spec.proxmox.isoDatastore,
    sharedIsoHost: spec.proxmox.isoDatastoreShared ? spec.proxmox.defaultHost : undefined,
    platform: imagePlatform(spec),
    legacyName,
  };
}

/** One node's VM, booting the ISO on its host. Pure. */
export function vmArgsOf(spec: ClusterSpec, node: NodeSpec, image: TalosImage, legacyName: string | undefined): TalosVmArgs {
  return {
    node,
    clusterName: spec.clusterName,
    isoFileId: image.isoFileIds[node.host],
    cpuType: spec.proxmox.cpuType,
    diskDatastore: spec.proxmox.diskDatastore,
    bridge: spec.proxmox.bridge,
    vlanId: spec.proxmox.vlanId,
    guestAgent: spec.image.guestAgent,
    staticAddress: spec.network.static ? { network: spec.network.static, nameservers: spec.network.nameservers } : undefined,
    legacyName,
  };
}

/** The `nodes` output, from the spec and each VM's ID (given or chosen by Proxmox). Pure. */
export function nodeSummaries(spec: ClusterSpec, vmIds: Record<string, number>): NodeSummary[] {
  return spec.nodes.map((node) => ({
    name: node.name,
    role: node.role,
    ip: node.ip,
    mac: node.mac,
    vmId: vmIds[node.name],
    host: node.host,
  }));
}
