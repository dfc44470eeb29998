/**
 * talos-proxmox: a bare Proxmox VE host (or cluster) to a highly available Talos Kubernetes
 * cluster with a sample NGINX app. Thin on purpose: stack config → TalosProxmoxCluster → NginxApp.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./components/config";
import { NginxApp } from "./components/nginxApp";
import { createProxmoxProvider } from "./components/proxmox";
import { TalosProxmoxCluster } from "./components/talosProxmoxCluster";

const { raw, proxmox } = loadConfig();
const cluster = new TalosProxmoxCluster("cluster", raw as never, {
  providers: [createProxmoxProvider(proxmox)],
  adoptV01Layout: true,
});
const { spec } = cluster;

const nginx = spec.workload.enabled
  ? new NginxApp("nginx", {
      provider: cluster.provider,
      image: spec.workload.image,
      replicas: spec.workload.replicas,
      nodePort: spec.workload.nodePort,
      nodeIp: spec.nodes[0].ip,
      legacyName: spec.clusterName,
    })
  : undefined;

export const kubeconfig = cluster.kubeconfig;
export const talosconfig = cluster.talosconfig;
export const nodes = cluster.nodes;
export const endpoint = cluster.endpoint;
export const nginxUrl = nginx ? nginx.url : pulumi.output(undefined);
export const schematicId = cluster.schematicId;
export const isoUrl = cluster.isoUrl;
export const installerImage = cluster.installerImage;
export const pendingReboots = cluster.pendingReboots;
