import * as pulumi from "@pulumi/pulumi";
import * as talos from "../sdk/talos";
import { ClusterSpec, NodeSpec, cniByTalos, controlPlanes } from "../config/domain";
import { goDurationMs } from "../config/duration";
import { HealthGateState, healthGateHook } from "./healthGate";
import { v01ChildAliases } from "./legacy";
import { configPatches } from "../config/patches";
import { CredentialLifetimes, TalosCredentials, TalosCredentialsArgs, adminKubeconfig, credentialLifetimes } from "../resources/talosCredentials";
import { TalosMember } from "../resources/talosMember";
import { TalosReboots, nodesToReboot, type ProxmoxConnectionArgs } from "../resources/talosReboots";
import { TalosUpgrade } from "../resources/talosUpgrade";

export interface TalosClusterArgs {
  /** Cluster name, versions, endpoint, nodes and Talos settings. */
  spec: ClusterSpec;
  /** Factory installer image for `machine.install.image`. */
  installerImage: pulumi.Input<string>;
  /** Each node's VM by node name: a node's config is applied after its VM, and again when it is replaced. */
  vms: Record<string, pulumi.CustomResource>;
  /** `clusterName` as release 0.1 used it in resource names, for aliases to that layout. */
  legacyName?: string;
  /** Each node's Proxmox VM ID by node name: hardware reboots go through the Proxmox API to these VMs. */
  vmIds?: Record<string, pulumi.Input<number>>;
  /** The Proxmox API connection for hardware reboots; without it a hardware change is refused at preview. */
  proxmox?: ProxmoxConnectionArgs;
}

/** `talosctl gen config` for one node: its patches on the cluster's secrets. Pure. */
export function machineConfigArgs(
  spec: ClusterSpec,
  node: NodeSpec,
  machineSecrets: pulumi.Input<talos.MachineSecrets>,
  installerImage: pulumi.Input<string>,
): talos.machine.GetConfigurationArgs {
  return {
    clusterName: spec.clusterName,
    clusterEndpoint: spec.endpoint,
    machineSecrets,
    machineType: node.role,
    talosVersion: spec.talosVersion,
    kubernetesVersion: spec.kubernetesVersion,
    configPatches: pulumi.output(installerImage).apply((image) => configPatches(spec, node, image)),
    docs: false,
    examples: false,
  };
}

/** `talosctl apply-config` for one node. Pure. */
export function applyArgs(
  node: NodeSpec,
  clientConfiguration: pulumi.Input<talos.ClientConfigurationArgs>,
  machineConfiguration: pulumi.Input<string>,
): talos.machine.ConfigurationApplyArgs {
  return {
    node: node.ip,
    clientConfiguration,
    machineConfigurationInput: machineConfiguration,
    // A change that needs a reboot is staged instead of rebooting every node at once; the reboot
    // resource then reboots the staged nodes one at a time (resources/talosReboots.ts).
    applyMode: "staged_if_needing_reboot",
    // Destroy leaves the node as is: the VM is deleted right after, reachable or not.
    onDestroy: { reset: false },
  };
}

/** What the health gate records: it re-checks health when any of it changes. Pure. */
export function healthGateState(
  spec: ClusterSpec,
  bootstrap: pulumi.Input<string>,
  configHashes: Record<string, pulumi.Input<string>>,
): pulumi.Output<HealthGateState> {
  return pulumi.all([bootstrap, configHashes]).apply(([bootstrapId, hashes]) => ({
    bootstrap: bootstrapId,
    nodes: Object.fromEntries(
      spec.nodes.map((n) => [n.name, { role: n.role, ip: n.ip, config: hashes[n.name] }] as const),
    ),
  }));
}

/**
 * The Talos side of the walk-through: secrets, one machine config per node, apply-config to each
 * node, bootstrap one control plane, wait until healthy, kubeconfig and talosconfig.
 */
export class TalosCluster extends pulumi.ComponentResource {
  /** Talos API client credentials (secret). */
  public readonly clientConfiguration: pulumi.Output<talos.ClientConfiguration>;
  /** talosconfig for talosctl: endpoints are the control-plane IPs, never the VIP (secret). */
  public readonly talosconfig: pulumi.Output<string>;
  /** kubeconfig, available once the cluster reported healthy (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  /** Name of the node whose etcd was bootstrapped. */
  public readonly bootstrapNode: string;
  /** Nodes whose hardware or staged config still waits for a reboot (empty after a successful up). */
  public readonly pendingReboots: pulumi.Output<string[]>;
  /** Not-after dates and days left of the client certificates and CAs (dates only, not secret). */
  public readonly credentials: pulumi.Output<CredentialLifetimes>;
  /** The client certificates, reissued from the cluster's CAs on the `pulumi up` that finds them due. */
  public readonly clientCredentials: TalosCredentials;
  public readonly applies: Record<string, talos.machine.ConfigurationApply>;
  public readonly bootstrap: talos.machine.Bootstrap;
  /** Rolled reboots of nodes whose hardware or staged config waits for one. */
  public readonly reboots: TalosReboots;
  /** Rolling upgrades to the installer image; its `versions` output shows what each node runs. */
  public readonly upgrade: TalosUpgrade;
  /** The machine secrets: what a whole-cluster destroy deletes with them skips its own delete (`deletedWith`). */
  public readonly machineSecrets: talos.machine.Secrets;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:cluster:TalosCluster", name, {}, opts);
    const { spec } = args;
    const legacy = v01ChildAliases("talos-proxmox:cluster:TalosCluster", args.legacyName);

    // New secrets would mean a new PKI the running nodes reject: the name never contains
    // clusterName, and a talosVersion bump must not replace them.
    const secrets = new talos.machine.Secrets(
      `${name}-secrets`,
      { talosVersion: spec.talosVersion },
      { parent: this, ignoreChanges: ["talosVersion"], aliases: legacy(talos.machine.Secrets.__pulumiType, "secrets") },
    );
    this.machineSecrets = secrets;
    // Our own client certificates, not the Talos provider's: renewed on any `pulumi up` within
    // `credentialRenewal` of expiry, or after it (resources/talosCredentials.ts). No
    // ignoreChanges on any input that carries them: every resource and task gets the current ones.
    this.clientCredentials = new TalosCredentials(`${name}-credentials`, credentialsArgs(spec, secrets), { parent: this });
    this.clientConfiguration = pulumi.secret(this.clientCredentials.clientConfiguration);

    // Before any config apply: an upgrade installs the new image first, then the new configs follow.
    const upgradeArgs = { spec, installerImage: args.installerImage, clientConfiguration: this.clientConfiguration };
    this.upgrade = new TalosUpgrade(`${name}-upgrade`, { ...upgradeArgs, workerBatchSize: spec.talos.upgradeBatchSize }, { parent: this });
    this.applies = Object.fromEntries(
      spec.nodes.map((node) => [node.name, this.applyConfig(name, args, node, secrets, legacy)] as const),
    );
    const bootstrapNode = spec.nodes.find((n) => n.name === spec.bootstrapNode)!;
    this.bootstrapNode = bootstrapNode.name;
    this.bootstrap = this.bootstrapOnce(name, spec, bootstrapNode, legacy);

    // After the VM updates and config applies; the health check waits for it.
    const rebootArgs = { spec, vms: args.vms, applies: this.applies, clientConfiguration: this.clientConfiguration, vmIds: args.vmIds, proxmox: args.proxmox };
    this.reboots = new TalosReboots(`${name}-reboots`, rebootArgs, { parent: this });
    const healthGate = this.healthGate(name, spec);
    // Depending on the health gate makes every consumer (the Kubernetes provider) wait for it.
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([this.clientCredentials.kubernetesClient, healthGate.id, this.bootstrap.id])
        .apply(([client]) => adminKubeconfig(spec.clusterName, spec.endpoint, client)),
    );
    // Dates only, rebuilt from parsed dates (credentialLifetimes), so it is safe to show in plain text.
    this.credentials = pulumi.unsecret(this.clientCredentials.notAfter.apply((dates) => credentialLifetimes(dates, new Date())));
    this.talosconfig = pulumi.secret(
      talos.client.getConfigurationOutput(talosconfigArgs(spec, this.clientConfiguration), { parent: this }).talosConfig,
    );
    this.pendingReboots = pulumi
      .all([this.reboots.booted, this.reboots.wanted])
      .apply(([booted, wanted]) => nodesToReboot(booted, wanted));

    this.registerOutputs({
      clientConfiguration: this.clientConfiguration,
      talosconfig: this.talosconfig,
      kubeconfig: this.kubeconfig,
      bootstrapNode: this.bootstrapNode,
      pendingReboots: this.pendingReboots,
      credentials: this.credentials,
    });
  }

  /** `talosctl bootstrap` on one control plane, after every control plane has its config. */
  private bootstrapOnce(name: string, spec: ClusterSpec, node: NodeSpec, legacy: ReturnType<typeof v01ChildAliases>): talos.machine.Bootstrap {
    return new talos.machine.Bootstrap(
      `${name}-bootstrap`,
      { node: node.ip, clientConfiguration: this.clientConfiguration },
      {
        parent: this,
        dependsOn: controlPlanes(spec).map((n) => this.applies[n.name]),
        // Bootstrapping happens once per cluster: a later change of its target (that node removed
        // or renamed) must never bootstrap a second etcd cluster.
        ignoreChanges: ["node", "endpoint"],
        aliases: legacy(talos.machine.Bootstrap.__pulumiType, "bootstrap"),
      },
    );
  }

  /** One node's machine config, applied after its VM exists and again whenever the VM is replaced. */
  private applyConfig(
    name: string,
    args: TalosClusterArgs,
    node: NodeSpec,
    secrets: talos.machine.Secrets,
    legacy: ReturnType<typeof v01ChildAliases>,
  ): talos.machine.ConfigurationApply {
    const vm = args.vms[node.name];
    if (!vm) throw new Error(`TalosCluster: no VM given for node ${node.name}`);
    // Marked here as well, so they stay secret whatever the engine reports for nested fields.
    const machineSecrets = pulumi.secret(secrets.machineSecrets);
    const machineConfig = talos.machine.getConfigurationOutput(
      machineConfigArgs(args.spec, node, machineSecrets, args.installerImage),
      { parent: this },
    );
    const apply = new talos.machine.ConfigurationApply(
      `${name}-apply-${node.name}`,
      applyArgs(node, this.clientConfiguration, machineConfig.machineConfiguration),
      {
        parent: this,
        dependsOn: [vm, this.upgrade],
        // A new VM boots into maintenance mode and needs its config again.
        replaceWith: [vm],
        aliases: legacy(talos.machine.ConfigurationApply.__pulumiType, `apply-${node.name}`),
      },
    );
    // Deleted before the apply and the VM (it depends on them): the node leaves gracefully. A new
    // VM means a new node: the old one leaves first. A destroy of the whole cluster skips it.
    new TalosMember(
      `${name}-member-${node.name}`,
      { vm, spec: args.spec, node, clientConfiguration: this.clientConfiguration, osCa: this.clientCredentials.osCa },
      { parent: this, dependsOn: [apply], deletedWith: secrets },
    );
    return apply;
  }

  /** The Stash whose create and update wait for the cluster to be healthy (see healthGate.ts). */
  private healthGate(name: string, spec: ClusterSpec): pulumi.Stash {
    const configHashes = Object.fromEntries(spec.nodes.map((n) => [n.name, this.applies[n.name].machineConfigurationHash]));
    const healthCheck = healthGateHook(`${name}-health-check`, {
      clientConfiguration: this.clientConfiguration,
      timeout: spec.talos.healthTimeout,
      // Without a CNI Talos brings up (none, or Cilium installed after the gate) nodes are not Ready yet.
      cniAfterGate: !cniByTalos(spec.talos.cni),
    });
    return new pulumi.Stash(
      `${name}-health`,
      { input: healthGateState(spec, this.bootstrap.id, configHashes) },
      {
        parent: this,
        replaceWith: Object.values(this.applies),
        dependsOn: [this.reboots],
        hooks: { beforeCreate: [healthCheck], beforeUpdate: [healthCheck] },
      },
    );
  }
}

/**
 * The credentials resource's inputs: the machine secrets (for their CAs) and the renewal window.
 * The kubeconfig is built from its client certificate (resources/talosCredentials.ts
 * adminKubeconfig), not by the Talos provider's Kubeconfig resource, whose delete only drops it
 * from the state (terraform-provider-talos v0.9.0 talos_cluster_kubeconfig_resource.go:290-291).
 */
export function credentialsArgs(spec: ClusterSpec, secrets: talos.machine.Secrets): TalosCredentialsArgs {
  return { machineSecrets: pulumi.secret(secrets.machineSecrets), renewBeforeMs: goDurationMs(spec.talos.credentialRenewal) };
}

/** talosconfig for talosctl: endpoints are the control-plane IPs, never the VIP. Pure. */
export function talosconfigArgs(
  spec: ClusterSpec,
  clientConfiguration: pulumi.Input<talos.ClientConfigurationArgs>,
): talos.client.GetConfigurationArgs {
  return {
    clientConfiguration,
    clusterName: spec.clusterName,
    endpoints: controlPlanes(spec).map((n) => n.ip),
    nodes: spec.nodes.map((n) => n.ip),
  };
}
