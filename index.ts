/**
 * talos-proxmox: a bare Proxmox VE host (or cluster) to a highly available Talos Kubernetes
 * cluster with a sample NGINX app. The program is `main` in program.ts; these are its outputs.
 */
import { main } from "./program";

const outputs = main();
export const kubeconfig = outputs.kubeconfig;
export const talosconfig = outputs.talosconfig;
export const nodes = outputs.nodes;
export const endpoint = outputs.endpoint;
export const nginxUrl = outputs.nginxUrl;
export const schematicId = outputs.schematicId;
export const isoUrl = outputs.isoUrl;
export const installerImage = outputs.installerImage;
export const pendingReboots = outputs.pendingReboots;
export const credentials = outputs.credentials;
export const storage = outputs.storage;
