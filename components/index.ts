/**
 * The package's entry point (`main`/`types` in package.json, compiled to `dist/`): the cluster as
 * one component, the sample workload, and the config checks they share with the stack program.
 */
export { TalosProxmoxCluster } from "./talosProxmoxCluster";
export type {
  NodeSummary,
  TalosProxmoxClusterArgs,
  TalosProxmoxClusterOptions,
  TalosProxmoxDiskArgs,
  TalosProxmoxNodeArgs,
  TalosProxmoxPciArgs,
  TalosProxmoxRoleArgs,
} from "./talosProxmoxCluster";
export { proxmoxConnectionFromConfig } from "../stack/proxmoxConnection";
export type { ProxmoxConnectionArgs } from "../resources/talosReboots";
export { NginxApp } from "./nginxApp";
export type { NginxAppArgs } from "./nginxApp";
export { ConfigError, validateConfig } from "../config/validate";
export type { ValidateOptions, ValidatedConfig } from "../config/validate";
export type { ClusterSpec, NodeSpec, Role } from "../config/domain";
export { DEFAULT_TALOS_VERSION, DEFAULT_KUBERNETES_VERSIONS } from "../config/domain";
