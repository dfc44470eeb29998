/**
 * Talos machine API client room: mutual-TLS gRPC to apid, node operations, the Kubernetes drain,
 * and the engines of the Talos and Kubernetes upgrades, removals and reboots. Plain async functions; knows nothing of Pulumi.
 */
export * from "./client";
export * from "./configEdit";
export * from "./cosi";
export * from "./credentials";
export * from "./errors";
export * from "./etcd";
export * from "./gates";
export * from "./image";
export * from "./kube";
export * from "./kubeHttp";
export * from "./kubernetesUpgrade";
export * from "./machine";
export * from "./manifests";
export type * from "./messages";
export * from "./operations";
export * from "./plan";
export * from "./poll";
export * from "./protos";
export * from "./removeNode";
export * from "./rollout";
export * from "./tar";
export * from "./versions";
export * from "./wait";
export * from "./tasks";
