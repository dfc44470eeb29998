// Types from the package; classes from their own modules: the package's index loads every
// resource module (about 40) and the program uses three (docs/performance.md).
import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { CDROM_INTERFACE, CLOUD_INIT_INTERFACE, EXTRA_DISK_INTERFACE_PREFIX, INSTALL_DISK_INTERFACE, NodeSpec, StaticAddressing } from "../config/domain";
import { ProxmoxVm } from "../sdk/proxmox/vm";
import { v01Alias } from "./legacy";

export interface TalosVmArgs {
  /** The node: name, role, Proxmox host, VM ID, MAC and size. */
  node: NodeSpec;
  clusterName: string;
  /** Proxmox volume ID of the Talos ISO on `node.host`. */
  isoFileId: pulumi.Input<string>;
  /** CPU type: `host` (default in config) or an x86-64-v2+ model; Talos needs x86-64-v2. */
  cpuType: string;
  /** Datastore for the install disk, e.g. `local-lvm`. */
  diskDatastore: string;
  /** Bridge for the NIC, e.g. `vmbr0`. */
  bridge: string;
  /** Optional VLAN tag on the NIC. */
  vlanId?: number;
  /** Enable the QEMU guest agent: only when the image has the qemu-guest-agent extension. */
  guestAgent: boolean;
  /**
   * Static addressing: the VM gets a cloud-init (NoCloud) drive on `diskDatastore` with the node's
   * address, this gateway and these DNS servers, so the node answers at its final address already
   * in maintenance mode. Unset (DHCP): no drive.
   */
  staticAddress?: { network: StaticAddressing; nameservers: string[] };
  /** `clusterName` as release 0.1 used it, for an alias to that layout (VMs were named by node). */
  legacyName?: string;
  /**
   * Run before each update of the VM, once `after` is done: with `storage.proxmoxCsi`, the check of
   * its attached volumes (components/proxmoxCsi.ts), after the credentials it connects with.
   */
  beforeUpdate?: { hook: pulumi.ResourceHook; after: pulumi.Input<pulumi.Resource> };
}

const DISK_OPTIONS = { fileFormat: "raw", iothread: true, discard: "on", ssd: true };

/** VM arguments for one Talos node. Pure, so the shape is tested directly. */
export function vmArgs(args: TalosVmArgs): proxmoxve.VmLegacyArgs {
  const { node } = args;
  return {
    nodeName: node.host,
    name: node.name,
    vmId: node.vmId,
    description: `Talos ${node.role} of cluster ${args.clusterName}. Managed by Pulumi (talos-proxmox).`,
    // Proxmox stores tags sorted; an unsorted list would show a diff on every run.
    tags: ["talos", args.clusterName, node.role].sort(),
    operatingSystem: { type: "l26" },
    cpu: { type: args.cpuType, cores: node.cores },
    memory: { dedicated: node.memory },
    scsiHardware: "virtio-scsi-single",
    // Extra disks follow the system disk (scsi1 = /dev/sdb...); adding one hot-plugs it in place:
    // only a disk's file_id forces a new VM (bpg v0.111.1 disk/schema.go:136-143, disk.go:620-714).
    disks: [
      { interface: INSTALL_DISK_INTERFACE, datastoreId: args.diskDatastore, size: node.diskSize, ...DISK_OPTIONS },
      ...node.extraDisks.map((disk, i) => ({
        interface: `${EXTRA_DISK_INTERFACE_PREFIX}${i + 1}`,
        datastoreId: disk.datastore,
        size: disk.size,
        ...DISK_OPTIONS,
      })),
    ],
    // Passthrough updates in place and waits for a reboot (bpg vm.go:1047-1051, 6686-6701).
    hostpcis: node.pci.length > 0 ? node.pci.map((device, i) => ({ device: `hostpci${i}`, ...device })) : undefined,
    // PCI Express devices need the q35 machine; otherwise the provider's default stays.
    machine: node.pci.some((device) => device.pcie) ? "q35" : undefined,
    cdrom: { fileId: args.isoFileId, interface: CDROM_INTERFACE },
    // Disk first: empty on first boot so it falls through to the ISO; after install Talos
    // boots from disk although the ISO stays attached.
    bootOrders: [INSTALL_DISK_INTERFACE, CDROM_INTERFACE],
    networkDevices: [{ bridge: args.bridge, model: "virtio", macAddress: node.mac, vlanId: args.vlanId }],
    initialization: cloudInit(args),
    agent: {
      enabled: args.guestAgent,
      trim: args.guestAgent,
      // The agent doesn't run in maintenance mode: never wait for it to report an address.
      waitForIp: { disabled: true },
    },
    onBoot: true,
    started: true,
    // A size change must never reboot every VM at once (the provider's default is to reboot each
    // changed VM right after its update); the reboot resource reboots them one at a time instead.
    rebootAfterUpdate: false,
    // A hard stop on destroy: a node that ignores ACPI (or has no agent yet) can't hang teardown.
    stopOnDestroy: true,
    timeoutStopVm: 120,
    purgeOnDestroy: true,
    deleteUnreferencedDisksOnDestroy: true,
  };
}

/**
 * The cloud-init drive of a static node, or undefined with DHCP. Pure.
 * - `ipConfigs[0]` pairs with the first (only) NIC, matched by its MAC in the generated
 *   network-config (bpg v0.111.1 proxmox/nodes/vms/custom_cloud_init.go; Talos nocloud matches by MAC).
 * - `dns.servers` always set: without them Proxmox writes its own host's resolvers into the drive
 *   (proxmox/qemu-server 9.2.6 src/PVE/QemuServer/Cloudinit.pm get_dns_conf).
 * - `datastoreId`: the disk datastore, which accepts VM images: Proxmox allocates the drive there
 *   as a VM volume (Cloudinit.pm commit_cloudinit_disk, vdisk_alloc).
 * - `type` left unset: Proxmox writes NoCloud unless the `ostype` is Windows (Cloudinit.pm
 *   get_cloudinit_format; ours is l26), and `type` is ForceNew
 *   (bpg vm.go:1026-1032), so setting it would turn adding the drive to an existing VM into a
 *   replacement; unset, that is an in-place update (and refused by the program, see docs/day-two.md).
 * - No user data: Proxmox's generated user-data starts with `#cloud-config`, which Talos treats as
 *   "no config" and waits in maintenance mode for the config to be applied (Talos v1.13.9 nocloud.go).
 */
export function cloudInit(args: TalosVmArgs): proxmoxve.types.input.VmLegacyInitialization | undefined {
  const fixed = args.staticAddress;
  if (!fixed) return undefined;
  return {
    datastoreId: args.diskDatastore,
    interface: CLOUD_INIT_INTERFACE,
    ipConfigs: [{ ipv4: { address: `${args.node.ip}/${fixed.network.prefixLength}`, gateway: fixed.network.gateway } }],
    dns: { servers: fixed.nameservers },
  };
}

/** Resource options of the VM: how it is replaced and what the provider reports back. */
export function vmOptions(args: TalosVmArgs, parent: pulumi.Resource): pulumi.CustomResourceOptions {
  return {
    parent,
    // The new VM reuses the VM ID and MAC (and so the address): the old one must go first.
    deleteBeforeReplace: true,
    // The provider reads an unset disk speed back as an empty block and shows a change on every
    // run (muhlba91/pulumi-proxmoxve#664; bpg disk/schema.go defaults it to zeros).
    ignoreChanges: ["disks[*].speed"],
    hooks: args.beforeUpdate ? { beforeUpdate: [args.beforeUpdate.hook] } : undefined,
    dependsOn: args.beforeUpdate?.after,
    aliases:
      args.legacyName === undefined
        ? undefined
        : v01Alias("talos-proxmox:vm:TalosVm$proxmoxve:index/vmLegacy:VmLegacy", args.node.name),
  };
}

/** One Proxmox VM that boots the Talos ISO into maintenance mode, ready for its machine config. */
export class TalosVm extends pulumi.ComponentResource {
  public readonly vm: ProxmoxVm;
  public readonly vmId: pulumi.Output<number>;
  public readonly macAddress: pulumi.Output<string>;

  constructor(name: string, args: TalosVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:vm:TalosVm", name, {}, opts);
    this.vm = new ProxmoxVm(name, vmArgs(args), vmOptions(args, this));
    this.vmId = this.vm.vmId;
    this.macAddress = pulumi.output(args.node.mac);
    this.registerOutputs({ vmId: this.vmId, macAddress: this.macAddress });
  }
}
