import * as pulumi from "@pulumi/pulumi";
import { invokeOutput, resourceOptions } from "./plugin";
import { ImageFactoryUrls } from "./types";

export interface SchematicArgs {
  /** Schematic YAML (kernel args, system extensions); unset means the vanilla schematic. */
  schematic?: pulumi.Input<string>;
}

/** `talos:imageFactory/schematic:Schematic`. Its `id` is the schematic ID the factory returns. */
export class Schematic extends pulumi.CustomResource {
  static readonly __pulumiType = "talos:imageFactory/schematic:Schematic";
  declare public readonly schematic: pulumi.Output<string | undefined>;

  constructor(name: string, args?: SchematicArgs, opts?: pulumi.CustomResourceOptions) {
    super(Schematic.__pulumiType, name, { schematic: args?.schematic }, resourceOptions(opts));
  }
}

export interface GetUrlsArgs {
  schematicId: pulumi.Input<string>;
  /** e.g. `v1.13.9`. */
  talosVersion: pulumi.Input<string>;
  /** e.g. `amd64`. */
  architecture?: pulumi.Input<string>;
  /** e.g. `metal`, `nocloud`. */
  platform?: pulumi.Input<string>;
  sbc?: pulumi.Input<string>;
}

export interface GetUrlsResult {
  id: string;
  architecture: string;
  platform?: string;
  sbc?: string;
  schematicId: string;
  talosVersion: string;
  urls: ImageFactoryUrls;
}

export const getUrlsToken = "talos:imageFactory/getUrls:getUrls";

/** `talos:imageFactory/getUrls:getUrls`: ISO, installer image and other URLs for a schematic. */
export function getUrlsOutput(args: GetUrlsArgs, opts?: pulumi.InvokeOutputOptions): pulumi.Output<GetUrlsResult> {
  return invokeOutput<GetUrlsResult>(
    getUrlsToken,
    {
      schematicId: args.schematicId,
      talosVersion: args.talosVersion,
      architecture: args.architecture,
      platform: args.platform,
      sbc: args.sbc,
    },
    { required: ["schematicId", "talosVersion"], secretResult: false },
    opts,
  );
}
