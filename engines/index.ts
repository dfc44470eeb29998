/**
 * The engines room: Talos and Kubernetes upgrades, node removal and rolled reboots, with their gates
 * and the Kubernetes calls they need, written against small interfaces (TalosOperations,
 * KubeOperations) as Talos's own pkg/cluster is. `tasks.ts` wires them to the Talos API client for the
 * dynamic resources. Knows nothing of Pulumi.
 */
export * from "./backups";
export * from "./configEdit";
export * from "./departures";
export * from "./gates";
export * from "./kube";
export * from "./kubeHttp";
export * from "./kubernetesUpgrade";
export * from "./manifests";
export * from "./operations";
export * from "./proxmoxReboot";
export * from "./removeNode";
export * from "./rollout";
export * from "./rolloutPlan";
export * from "./snapshotFiles";
export * from "./tasks";
export * from "./clusterHealth";
