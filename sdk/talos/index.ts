/**
 * Typed binding of the Talos Pulumi provider (pulumiverse/pulumi-talos v0.8.1), registering
 * its resources and invokes by token. The npm SDK `@pulumiverse/talos` cannot be installed
 * from this project's registry; nothing else in the project knows tokens or plugin versions.
 */
export * as client from "./client";
export * as cluster from "./cluster";
export * as imageFactory from "./imageFactory";
export * as machine from "./machine";
export { PLUGIN_DOWNLOAD_URL, PLUGIN_NAME, PLUGIN_VERSION } from "./plugin";
export { Provider } from "./provider";
export type { ProviderArgs } from "./provider";
export * from "./types";
