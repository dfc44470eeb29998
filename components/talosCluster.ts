import * as pulumi from "@pulumi/pulumi";
import * as talos from "../sdk/talos";
import { ClusterSpec } from "./config";
import { nodePatches, rolePatches } from "./patches";

export interface TalosClusterArgs {
  /** Cluster name, versions, endpoint, nodes and Talos settings. */
  spec: ClusterSpec;
  /** Factory installer image for `machine.install.image`. */
  installerImage: pulumi.Input<string>;
  /** Each node's VM by node name: a node's config is applied only after its VM exists. */
  vms: Record<string, pulumi.Resource>;
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
  public readonly applies: Record<string, talos.machine.ConfigurationApply>;
  public readonly bootstrap: talos.machine.Bootstrap;

  constructor(name: string, args: TalosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:cluster:TalosCluster", name, {}, opts);
    const { spec } = args;
    const controlPlanes = spec.nodes.filter((n) => n.role === "controlplane");
    const workers = spec.nodes.filter((n) => n.role === "worker");
    const controlPlaneIps = controlPlanes.map((n) => n.ip);

    // New secrets would mean a new PKI the running nodes reject: bumping talosVersion later must
    // not replace them.
    const secrets = new talos.machine.Secrets(
      `${name}-secrets`,
      { talosVersion: spec.talosVersion },
      { parent: this, ignoreChanges: ["talosVersion"] },
    );
    // Marked here as well, so they stay secret whatever the engine reports for nested fields.
    const machineSecrets = pulumi.secret(secrets.machineSecrets);
    this.clientConfiguration = pulumi.secret(secrets.clientConfiguration);

    this.applies = {};
    for (const node of spec.nodes) {
      const machineConfig = talos.machine.getConfigurationOutput(
        {
          clusterName: spec.clusterName,
          clusterEndpoint: spec.endpoint,
          machineSecrets,
          machineType: node.role,
          talosVersion: spec.talosVersion,
          kubernetesVersion: spec.kubernetesVersion,
          configPatches: pulumi
            .output(args.installerImage)
            .apply((image) => [...rolePatches(spec, node.role), ...nodePatches(spec, node, image)]),
          docs: false,
          examples: false,
        },
        { parent: this },
      );
      const vm = args.vms[node.name];
      if (!vm) throw new Error(`TalosCluster: no VM given for node ${node.name}`);
      this.applies[node.name] = new talos.machine.ConfigurationApply(
        `${name}-apply-${node.name}`,
        {
          node: node.ip,
          clientConfiguration: this.clientConfiguration,
          machineConfigurationInput: machineConfig.machineConfiguration,
          // Destroy leaves the node as is: the VM is deleted right after, reachable or not.
          onDestroy: { reset: false },
        },
        { parent: this, dependsOn: [vm] },
      );
    }

    const first = controlPlanes[0];
    this.bootstrapNode = first.name;
    this.bootstrap = new talos.machine.Bootstrap(
      `${name}-bootstrap`,
      { node: first.ip, clientConfiguration: this.clientConfiguration },
      { parent: this, dependsOn: controlPlanes.map((n) => this.applies[n.name]) },
    );

    const health = talos.cluster.getHealthOutput(
      {
        clientConfiguration: this.clientConfiguration,
        controlPlaneNodes: controlPlaneIps,
        endpoints: controlPlaneIps,
        workerNodes: workers.map((n) => n.ip),
        // Without a CNI nodes never turn Ready; check Talos and etcd only.
        skipKubernetesChecks: spec.talos.cni.name === "none",
        timeouts: { read: spec.talos.healthTimeout },
      },
      { parent: this, dependsOn: [this.bootstrap, ...workers.map((n) => this.applies[n.name])] },
    );

    const kubeconfig = new talos.cluster.Kubeconfig(
      `${name}-kubeconfig`,
      { node: first.ip, clientConfiguration: this.clientConfiguration },
      { parent: this, dependsOn: [this.bootstrap] },
    );
    // Depending on the health result makes every consumer (the Kubernetes provider) wait for it.
    this.kubeconfig = pulumi.secret(pulumi.all([kubeconfig.kubeconfigRaw, health.id]).apply(([raw]) => raw));

    this.talosconfig = pulumi.secret(
      talos.client.getConfigurationOutput(
        {
          clientConfiguration: this.clientConfiguration,
          clusterName: spec.clusterName,
          endpoints: controlPlaneIps,
          nodes: spec.nodes.map((n) => n.ip),
        },
        { parent: this },
      ).talosConfig,
    );

    this.registerOutputs({
      clientConfiguration: this.clientConfiguration,
      talosconfig: this.talosconfig,
      kubeconfig: this.kubeconfig,
      bootstrapNode: this.bootstrapNode,
    });
  }
}
