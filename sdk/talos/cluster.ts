import * as pulumi from "@pulumi/pulumi";
import { invokeOutput, invokePromise, requireInputs, resourceOptions } from "./plugin";
import { ClientConfigurationArgs, KubernetesClientConfiguration } from "./types";

export interface KubeconfigArgs {
  clientConfiguration: pulumi.Input<ClientConfigurationArgs>;
  /** Control-plane node to fetch the kubeconfig from. */
  node: pulumi.Input<string>;
  endpoint?: pulumi.Input<string>;
  /** Renew the client certificate this long before expiry (default `720h`). */
  certificateRenewalDuration?: pulumi.Input<string>;
  timeouts?: pulumi.Input<{ create?: pulumi.Input<string>; update?: pulumi.Input<string> }>;
}

/** `talos:cluster/kubeconfig:Kubeconfig`: `talosctl kubeconfig`, kept in state and renewed. */
export class Kubeconfig extends pulumi.CustomResource {
  static readonly __pulumiType = "talos:cluster/kubeconfig:Kubeconfig";
  static readonly required = ["clientConfiguration", "node"] as const;
  declare public readonly node: pulumi.Output<string>;
  declare public readonly endpoint: pulumi.Output<string>;
  /** The kubeconfig YAML (secret). */
  declare public readonly kubeconfigRaw: pulumi.Output<string>;
  declare public readonly kubernetesClientConfiguration: pulumi.Output<KubernetesClientConfiguration>;

  constructor(name: string, args: KubeconfigArgs, opts?: pulumi.CustomResourceOptions) {
    requireInputs(Kubeconfig.__pulumiType, args, Kubeconfig.required, opts);
    const inputs = {
      clientConfiguration: args?.clientConfiguration,
      node: args?.node,
      endpoint: args?.endpoint,
      certificateRenewalDuration: args?.certificateRenewalDuration,
      timeouts: args?.timeouts,
      kubeconfigRaw: undefined,
      kubernetesClientConfiguration: undefined,
    };
    super(
      Kubeconfig.__pulumiType,
      name,
      inputs,
      resourceOptions(opts, ["kubeconfigRaw", "kubernetesClientConfiguration"]),
    );
  }
}

export interface GetHealthArgs {
  clientConfiguration: pulumi.Input<ClientConfigurationArgs>;
  /** Control-plane node IPs (must be IPs). */
  controlPlaneNodes: pulumi.Input<pulumi.Input<string>[]>;
  /** Talos API endpoints: control-plane IPs, never the VIP. */
  endpoints: pulumi.Input<pulumi.Input<string>[]>;
  workerNodes?: pulumi.Input<pulumi.Input<string>[]>;
  skipKubernetesChecks?: pulumi.Input<boolean>;
  timeouts?: pulumi.Input<{ read?: pulumi.Input<string> }>;
}

export interface GetHealthResult {
  id: string;
  controlPlaneNodes: string[];
  endpoints: string[];
  workerNodes?: string[];
  skipKubernetesChecks?: boolean;
}

export const getHealthToken = "talos:cluster/getHealth:getHealth";

/** `talos:cluster/getHealth:getHealth`: blocks until the cluster is healthy (`talosctl health`). */
export function getHealthOutput(
  args: GetHealthArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetHealthResult> {
  return invokeOutput<GetHealthResult>(
    getHealthToken,
    {
      clientConfiguration: args.clientConfiguration,
      controlPlaneNodes: args.controlPlaneNodes,
      endpoints: args.endpoints,
      workerNodes: args.workerNodes,
      skipKubernetesChecks: args.skipKubernetesChecks,
      timeouts: args.timeouts,
    },
    { required: ["clientConfiguration", "controlPlaneNodes", "endpoints"], secretResult: false },
    opts,
  );
}

/** `getHealth` as a Promise, for a resource hook: resolves once healthy, rejects on timeout. */
export function getHealth(
  args: { [K in keyof GetHealthArgs]: pulumi.Unwrap<GetHealthArgs[K]> },
  opts?: pulumi.InvokeOptions,
): Promise<GetHealthResult> {
  return invokePromise<GetHealthResult>(getHealthToken, { ...args }, ["clientConfiguration", "controlPlaneNodes", "endpoints"], opts);
}
