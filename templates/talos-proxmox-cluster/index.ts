import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { TalosProxmoxCluster, TalosProxmoxClusterArgs, TalosProxmoxNodeArgs, proxmoxConnectionFromConfig } from "talos-proxmox";

const config = new pulumi.Config();

/** A comma-separated list of IPs from config: the nodes of one role, named `<prefix>-1`, `-2`, ... */
function nodesOf(key: string, role: TalosProxmoxNodeArgs["role"], prefix: string): TalosProxmoxNodeArgs[] {
  const ips = (config.get(key) ?? "").split(",").map((ip) => ip.trim()).filter((ip) => ip !== "");
  return ips.map((ip, i) => ({ name: `${prefix}-${i + 1}`, ip, role }));
}

const nodes = [...nodesOf("controlPlaneIps", "controlplane", "cp"), ...nodesOf("workerIps", "worker", "worker")];
if (!nodes.some((n) => n.role === "controlplane")) {
  throw new pulumi.RunError(`${pulumi.getProject()}:controlPlaneIps: give at least one IP, e.g. 10.0.10.11,10.0.10.12,10.0.10.13`);
}

// Every other setting of the component (README, "Configuration": patches, network, worker,
// extensions...) under one structured key, checked by the component like its other Args.
const settings = config.getObject<Partial<TalosProxmoxClusterArgs>>("settings") ?? {};

// The Proxmox provider is the default one, configured by the stack's proxmoxve:* keys. The same
// connection lets a change of cores, memory or PCI devices reboot those VMs through the Proxmox API.
const cluster = new TalosProxmoxCluster("cluster", {
  ...settings,
  proxmox: proxmoxConnectionFromConfig(),
  clusterName: config.require("clusterName"),
  vip: config.get("vip"),
  proxmoxNode: config.get("proxmoxNode"),
  nodes,
});

// Your own workloads go through the cluster's provider; it is ready once the cluster is healthy.
new k8s.core.v1.Namespace("apps", { metadata: { name: "apps" } }, { provider: cluster.provider });

export const kubeconfig = cluster.kubeconfig;
export const talosconfig = cluster.talosconfig;
export const endpoint = cluster.endpoint;
export const clusterNodes = cluster.nodes;
