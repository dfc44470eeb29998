// Types from the package; classes from their own modules: the package's index loads every
// resource module (about 40) and the program uses three (docs/performance.md).
import { File as ProxmoxFile } from "@muhlba91/pulumi-proxmoxve/download/file";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import * as talos from "../sdk/talos";
import { v01ChildAliases } from "./legacy";

export interface TalosImageArgs {
  /** Names the ISO files, so two clusters on one Proxmox host never share (or delete) one. */
  clusterName: string;
  /** Talos version of the ISO and installer, e.g. `v1.13.9`. */
  talosVersion: string;
  /** Kernel arguments baked into the schematic, e.g. `net.ifnames=0`. */
  kernelArgs: string[];
  /** Official system extensions, e.g. `siderolabs/qemu-guest-agent`. */
  extensions: string[];
  /** Proxmox nodes that run a VM: the ISO is downloaded once to each. */
  hosts: string[];
  /** Datastore for the ISO files (content type `iso`), e.g. `local`. */
  isoDatastore: string;
  /**
   * When the ISO datastore is shared by every host (NFS, CephFS), the one host that downloads the
   * ISO for all; unset downloads to each host's own datastore.
   */
  sharedIsoHost?: string;
  /**
   * Image Factory platform of the ISO and the installer. `nocloud` (static addresses) reads the
   * VM's cloud-init drive; its installer must be the nocloud one too, or the installed node boots
   * as `metal` and ignores the drive (siderolabs/talos#10486). Default: `metal`.
   */
  platform?: "metal" | "nocloud";
  /** `clusterName` as release 0.1 used it in resource names, for aliases to that layout. */
  legacyName?: string;
}

/** Schematic YAML for the Image Factory. Pure. */
export function renderSchematic(kernelArgs: string[], extensions: string[]): string {
  return YAML.stringify({
    customization: {
      extraKernelArgs: kernelArgs,
      systemExtensions: { officialExtensions: extensions },
    },
  });
}

/** ISO file name on Proxmox: cluster, version, schematic and platform, so images never collide. Pure. */
export function isoFileName(clusterName: string, talosVersion: string, schematicId: string, platform = "metal"): string {
  return `talos-${clusterName}-${talosVersion}-${schematicId.slice(0, 12)}-${platform}-amd64.iso`;
}

/**
 * The Talos boot image: an Image Factory schematic (kernel args, extensions), its URLs for the
 * version and platform (metal or nocloud, amd64), and the ISO downloaded onto every Proxmox host
 * that runs a node.
 */
export class TalosImage extends pulumi.ComponentResource {
  public readonly schematicId: pulumi.Output<string>;
  /** Image Factory ISO URL. */
  public readonly isoUrl: pulumi.Output<string>;
  /** Factory installer for `machine.install.image` (keeps kernel args and extensions installed). */
  public readonly installerImage: pulumi.Output<string>;
  /** Proxmox volume ID of the ISO per host (`local:iso/<file>`), for a VM's cdrom. */
  public readonly isoFileIds: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: TalosImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:image:TalosImage", name, {}, opts);

    const legacy = v01ChildAliases("talos-proxmox:image:TalosImage", args.legacyName);
    const schematic = new talos.imageFactory.Schematic(
      `${name}-schematic`,
      { schematic: renderSchematic(args.kernelArgs, args.extensions) },
      {
        parent: this,
        // The provider updates a changed schematic in place and keeps the old ID (see docs/day-two.md,
        // "Changing extensions or kernel args"); only a new resource gets the new schematic's ID.
        replaceOnChanges: ["schematic"],
        aliases: legacy(talos.imageFactory.Schematic.__pulumiType, "schematic"),
      },
    );
    this.schematicId = schematic.id;

    // The factory's ISO and installer for the platform: `<platform>-amd64.iso` and
    // `factory.talos.dev/<platform>-installer/<schematic>:<version>` (terraform-provider-talos
    // v0.11.0 talos_image_factory_urls_data_source.go; image-factory PR #210).
    const platform = args.platform ?? "metal";
    const urls = talos.imageFactory.getUrlsOutput(
      { schematicId: schematic.id, talosVersion: args.talosVersion, platform, architecture: "amd64" },
      { parent: this },
    ).urls;
    this.isoUrl = urls.iso;
    this.installerImage = urls.installer;

    const fileName = schematic.id.apply((id) => isoFileName(args.clusterName, args.talosVersion, id, platform));
    this.isoFileIds = {};
    const downloadHosts = args.sharedIsoHost ? [args.sharedIsoHost] : [...new Set(args.hosts)].sort();
    for (const host of downloadHosts) {
      const iso = new ProxmoxFile(
        `${name}-iso-${host}`,
        {
          nodeName: host,
          datastoreId: args.isoDatastore,
          contentType: "iso",
          url: urls.iso,
          fileName,
          // Replace a stray file of the same name left by an interrupted earlier run.
          overwriteUnmanaged: true,
          // The factory builds an ISO on its first request; allow more than the 600 s default.
          uploadTimeout: 1800,
        },
        { parent: this, aliases: legacy("proxmoxve:download/file:File", `iso-${host}`) },
      );
      this.isoFileIds[host] = iso.id;
    }
    // On shared storage every host sees the one file under the same volume ID.
    for (const host of args.hosts) this.isoFileIds[host] ??= this.isoFileIds[downloadHosts[0]];

    this.registerOutputs({
      schematicId: this.schematicId,
      isoUrl: this.isoUrl,
      installerImage: this.installerImage,
      isoFileIds: this.isoFileIds,
    });
  }
}
