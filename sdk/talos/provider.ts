import * as pulumi from "@pulumi/pulumi";
import { PLUGIN_NAME, resourceOptions } from "./plugin";

export interface ProviderArgs {
  /** Image Factory URL; the provider defaults to https://factory.talos.dev. */
  imageFactoryUrl?: pulumi.Input<string>;
}

/** An explicit Talos provider (`pulumi:providers:talos`), e.g. for a private Image Factory. */
export class Provider extends pulumi.ProviderResource {
  constructor(name: string, args?: ProviderArgs, opts?: pulumi.ResourceOptions) {
    super(PLUGIN_NAME, name, { imageFactoryUrl: args?.imageFactoryUrl }, resourceOptions(opts));
  }
}
