import * as pulumi from "@pulumi/pulumi";
import { invokeOutput, requireInputs, resourceOptions } from "./plugin";
import {
  ApplyTimeouts,
  ClientConfiguration,
  ClientConfigurationArgs,
  ConfigurationApplyOnDestroy,
  MachineSecrets,
} from "./types";

export interface SecretsArgs {
  /** Talos version contract for the secrets, e.g. `v1.13.9`. */
  talosVersion?: pulumi.Input<string>;
}

/** `talos:machine/secrets:Secrets`: the cluster's PKI and tokens (`talosctl gen secrets`). */
export class Secrets extends pulumi.CustomResource {
  static readonly __pulumiType = "talos:machine/secrets:Secrets";
  declare public readonly clientConfiguration: pulumi.Output<ClientConfiguration>;
  declare public readonly machineSecrets: pulumi.Output<MachineSecrets>;
  declare public readonly talosVersion: pulumi.Output<string>;

  constructor(name: string, args?: SecretsArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = { talosVersion: args?.talosVersion, clientConfiguration: undefined, machineSecrets: undefined };
    // Nested keys are secret in the schema; marking the whole properties keeps them secret in state too.
    super(Secrets.__pulumiType, name, inputs, resourceOptions(opts, ["clientConfiguration", "machineSecrets"]));
  }
}

export interface ConfigurationApplyArgs {
  /** Node address to apply the configuration to. */
  node: pulumi.Input<string>;
  /** Talos API endpoint used to reach the node; defaults to `node`. */
  endpoint?: pulumi.Input<string>;
  clientConfiguration?: pulumi.Input<ClientConfigurationArgs>;
  clientConfigurationWo?: pulumi.Input<ClientConfigurationArgs>;
  /** The machine configuration to apply (secret). */
  machineConfigurationInput?: pulumi.Input<string>;
  machineConfigurationInputWo?: pulumi.Input<string>;
  configPatches?: pulumi.Input<pulumi.Input<string>[]>;
  /** `auto` (default), `reboot`, `no_reboot`, `staged`, `staged_if_needing_reboot`. */
  applyMode?: pulumi.Input<string>;
  onDestroy?: pulumi.Input<ConfigurationApplyOnDestroy>;
  timeouts?: pulumi.Input<ApplyTimeouts>;
}

/** `talos:machine/configurationApply:ConfigurationApply`: `talosctl apply-config`. */
export class ConfigurationApply extends pulumi.CustomResource {
  static readonly __pulumiType = "talos:machine/configurationApply:ConfigurationApply";
  static readonly required = ["node"] as const;
  declare public readonly node: pulumi.Output<string>;
  declare public readonly endpoint: pulumi.Output<string>;
  declare public readonly applyMode: pulumi.Output<string>;
  declare public readonly resolvedApplyMode: pulumi.Output<string>;
  declare public readonly machineConfiguration: pulumi.Output<string>;
  declare public readonly machineConfigurationHash: pulumi.Output<string>;
  declare public readonly machineConfigurationInput: pulumi.Output<string | undefined>;

  constructor(name: string, args: ConfigurationApplyArgs, opts?: pulumi.CustomResourceOptions) {
    requireInputs(ConfigurationApply.__pulumiType, args, ConfigurationApply.required, opts);
    const inputs = {
      node: args?.node,
      endpoint: args?.endpoint,
      clientConfiguration: args?.clientConfiguration,
      clientConfigurationWo: secretIfSet(args?.clientConfigurationWo),
      machineConfigurationInput: secretIfSet(args?.machineConfigurationInput),
      machineConfigurationInputWo: secretIfSet(args?.machineConfigurationInputWo),
      configPatches: args?.configPatches,
      applyMode: args?.applyMode,
      onDestroy: args?.onDestroy,
      timeouts: args?.timeouts,
      machineConfiguration: undefined,
      machineConfigurationHash: undefined,
      resolvedApplyMode: undefined,
    };
    super(
      ConfigurationApply.__pulumiType,
      name,
      inputs,
      resourceOptions(opts, [
        "clientConfigurationWo",
        "machineConfiguration",
        "machineConfigurationInput",
        "machineConfigurationInputWo",
      ]),
    );
  }
}

export interface BootstrapArgs {
  /** The one control-plane node whose etcd is bootstrapped. */
  node: pulumi.Input<string>;
  endpoint?: pulumi.Input<string>;
  clientConfiguration?: pulumi.Input<ClientConfigurationArgs>;
  clientConfigurationWo?: pulumi.Input<ClientConfigurationArgs>;
  timeouts?: pulumi.Input<{ create?: pulumi.Input<string> }>;
}

/** `talos:machine/bootstrap:Bootstrap`: `talosctl bootstrap` on one control plane. */
export class Bootstrap extends pulumi.CustomResource {
  static readonly __pulumiType = "talos:machine/bootstrap:Bootstrap";
  static readonly required = ["node"] as const;
  declare public readonly node: pulumi.Output<string>;
  declare public readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: BootstrapArgs, opts?: pulumi.CustomResourceOptions) {
    requireInputs(Bootstrap.__pulumiType, args, Bootstrap.required, opts);
    const inputs = {
      node: args?.node,
      endpoint: args?.endpoint,
      clientConfiguration: args?.clientConfiguration,
      clientConfigurationWo: secretIfSet(args?.clientConfigurationWo),
      timeouts: args?.timeouts,
    };
    super(Bootstrap.__pulumiType, name, inputs, resourceOptions(opts, ["clientConfigurationWo"]));
  }
}

export interface GetConfigurationArgs {
  /** e.g. `https://10.0.10.10:6443`. */
  clusterEndpoint: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  machineSecrets: pulumi.Input<MachineSecrets>;
  /** `controlplane` or `worker`. */
  machineType: pulumi.Input<string>;
  /** Strategic-merge patches as YAML strings. */
  configPatches?: pulumi.Input<pulumi.Input<string>[]>;
  docs?: pulumi.Input<boolean>;
  examples?: pulumi.Input<boolean>;
  kubernetesVersion?: pulumi.Input<string>;
  /** Talos version contract of the generated config (does not pick the installed version). */
  talosVersion?: pulumi.Input<string>;
}

export interface GetConfigurationResult {
  id: string;
  clusterEndpoint: string;
  clusterName: string;
  machineType: string;
  configPatches?: string[];
  docs?: boolean;
  examples?: boolean;
  kubernetesVersion?: string;
  talosVersion?: string;
  /** The rendered machine configuration (secret). */
  machineConfiguration: string;
}

export const getConfigurationToken = "talos:machine/getConfiguration:getConfiguration";

/** `talos:machine/getConfiguration:getConfiguration`: `talosctl gen config` for one machine type. */
export function getConfigurationOutput(
  args: GetConfigurationArgs,
  opts?: pulumi.InvokeOutputOptions,
): pulumi.Output<GetConfigurationResult> {
  return invokeOutput<GetConfigurationResult>(
    getConfigurationToken,
    {
      clusterEndpoint: args.clusterEndpoint,
      clusterName: args.clusterName,
      machineSecrets: args.machineSecrets,
      machineType: args.machineType,
      configPatches: args.configPatches,
      docs: args.docs,
      examples: args.examples,
      kubernetesVersion: args.kubernetesVersion,
      talosVersion: args.talosVersion,
    },
    { required: ["clusterEndpoint", "clusterName", "machineSecrets", "machineType"], secretResult: true },
    opts,
  );
}

function secretIfSet<T>(value: pulumi.Input<T> | undefined): pulumi.Output<pulumi.Unwrap<T>> | undefined {
  return value === undefined ? undefined : pulumi.secret(value);
}
