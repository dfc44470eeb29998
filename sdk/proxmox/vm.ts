import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";
import { getVersion } from "@muhlba91/pulumi-proxmoxve/utilities";

/** The provider package's own resource defaults (its `utilities.resourceOptsDefaults`, 8.6.0). */
export const PROXMOX_PLUGIN_DOWNLOAD_URL = "github://api.github.com/muhlba91/pulumi-proxmoxve";

/**
 * `proxmoxve:index/vmLegacy:VmLegacy`, the provider's own resource, with far fewer outputs: the
 * inputs given and the ones this project reads. The generated class declares about 60
 * properties, and the SDK makes an `Output` with four tracked promises for every one of them on
 * every VM (pulumi/pulumi v3.248.0 sdk/nodejs/runtime/rpc.ts `transferProperties`); at 100 nodes
 * that was a quarter of the program's evaluation (docs/performance.md). What the engine is sent is the same: undefined
 * properties are never sent (rpc.ts `serializeFilteredProperties`), and outputs the engine
 * returns that the class does not declare are not resolved (rpc.ts `resolveProperties`). The
 * state holds every output the provider returns; read them with
 * `VmLegacy.get(name, vm.id)` from `@muhlba91/pulumi-proxmoxve` when needed.
 */
export class ProxmoxVm extends pulumi.CustomResource {
  static readonly __pulumiType = "proxmoxve:index/vmLegacy:VmLegacy";
  /** The Proxmox VM ID. */
  declare public readonly vmId: pulumi.Output<number>;
  /** The Proxmox host (node) the VM runs on. */
  declare public readonly nodeName: pulumi.Output<string>;
  /** The VM's name. */
  declare public readonly name: pulumi.Output<string>;

  constructor(name: string, args: proxmoxve.VmLegacyArgs, opts?: pulumi.CustomResourceOptions) {
    // As the generated class checks it (vmLegacy.ts), so a missing host fails the same way.
    if (args?.nodeName === undefined && !opts?.urn) throw new Error("Missing required property 'nodeName'");
    const defaults = { version: getVersion(), pluginDownloadURL: PROXMOX_PLUGIN_DOWNLOAD_URL };
    // Every declared output needs its key, even when not given (Proxmox picks the VM ID).
    super(ProxmoxVm.__pulumiType, name, { ...args, vmId: args?.vmId, name: args?.name }, pulumi.mergeOptions(defaults, opts ?? {}));
  }
}
