/**
 * talos-proxmox: a bare Proxmox VE host (or cluster) to a highly available Talos Kubernetes
 * cluster with a sample NGINX app. Thin on purpose: config, components, outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./components/config";
import { NginxApp } from "./components/nginxApp";
import { createProxmoxProvider } from "./components/proxmox";
import { TalosCluster } from "./components/talosCluster";
import { TalosImage } from "./components/talosImage";
import { TalosVm } from "./components/talosVm";

const { spec, proxmox } = loadConfig();
const proxmoxProvider = createProxmoxProvider(proxmox);
const onProxmox = { providers: [proxmoxProvider] };

const image = new TalosImage(
  spec.clusterName,
  {
    clusterName: spec.clusterName,
    talosVersion: spec.talosVersion,
    kernelArgs: spec.image.kernelArgs,
    extensions: spec.image.extensions,
    hosts: spec.nodes.map((n) => n.host),
    isoDatastore: spec.proxmox.isoDatastore,
  },
  onProxmox,
);

const vms = spec.nodes.map(
  (node) =>
    new TalosVm(
      node.name,
      {
        node,
        clusterName: spec.clusterName,
        isoFileId: image.isoFileIds[node.host],
        cpuType: spec.proxmox.cpuType,
        diskDatastore: spec.proxmox.diskDatastore,
        bridge: spec.proxmox.bridge,
        vlanId: spec.proxmox.vlanId,
        guestAgent: spec.image.guestAgent,
      },
      onProxmox,
    ),
);

const cluster = new TalosCluster(spec.clusterName, {
  spec,
  installerImage: image.installerImage,
  vms: Object.fromEntries(vms.map((vm, i) => [spec.nodes[i].name, vm.vm])),
});

const nginx = spec.workload.enabled
  ? new NginxApp(`${spec.clusterName}-nginx`, {
      kubeconfig: cluster.kubeconfig,
      image: spec.workload.image,
      replicas: spec.workload.replicas,
      nodePort: spec.workload.nodePort,
      nodeIp: spec.nodes[0].ip,
    })
  : undefined;

export const kubeconfig = cluster.kubeconfig;
export const talosconfig = cluster.talosconfig;
export const nodes = pulumi.output(
  spec.nodes.map((node, i) => ({
    name: node.name,
    role: node.role,
    ip: node.ip,
    mac: node.mac,
    vmId: vms[i].vmId,
    host: node.host,
  })),
);
export const endpoint = spec.endpoint;
export const nginxUrl = nginx ? nginx.url : pulumi.output(undefined);
export const schematicId = image.schematicId;
export const isoUrl = image.isoUrl;
export const installerImage = image.installerImage;
