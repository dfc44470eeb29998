import * as pulumi from "@pulumi/pulumi";
import { invokeOutput } from "./plugin";
import { ClientConfigurationArgs } from "./types";

export interface GetConfigurationArgs {
  clientConfiguration: pulumi.Input<ClientConfigurationArgs>;
  clusterName: pulumi.Input<string>;
  /** Talos API endpoints written into the talosconfig (control-plane IPs). */
  endpoints?: pulumi.Input<pulumi.Input<string>[]>;
  /** Default target nodes written into the talosconfig. */
  nodes?: pulumi.Input<pulumi.Input<string>[]>;
}

export interface GetConfigurationResult {
  id: string;
  clusterName: string;
  endpoints?: string[];
  nodes?: string[];
  /** The talosconfig YAML for talosctl (secret). */
  talosConfig: string;
}

export const getConfigurationToken = "talos:client/getConfiguration:getConfiguration";

/** `talos:client/getConfiguration:getConfiguration`: the talosconfig for talosctl. */
export function getConfigurationOutput(
  args: GetConfigurationArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetConfigurationResult> {
  return invokeOutput<GetConfigurationResult>(
    getConfigurationToken,
    {
      clientConfiguration: args.clientConfiguration,
      clusterName: args.clusterName,
      endpoints: args.endpoints,
      nodes: args.nodes,
    },
    { required: ["clientConfiguration", "clusterName"], secretResult: true },
    opts,
  );
}
