// Types from the package; classes from their own modules: the package's index loads every API
// group (about 120 modules, 40 ms of each start) and these use three (docs/performance.md).
import type * as k8s from "@pulumi/kubernetes";
import { Deployment } from "@pulumi/kubernetes/apps/v1";
import { Service } from "@pulumi/kubernetes/core/v1";
import * as pulumi from "@pulumi/pulumi";
import { v01ChildAliases } from "./legacy";

export interface NginxAppArgs {
  /** The cluster's Kubernetes provider (`TalosProxmoxCluster.provider`). */
  provider: k8s.Provider;
  /** Pinned image, e.g. `nginx:1.28.0`. */
  image: string;
  replicas: number;
  /** Fixed NodePort (30000-32767); unset lets Kubernetes allocate one. */
  nodePort?: number;
  /** A node address for the URL; any node answers on a NodePort. */
  nodeIp: string;
  /** `clusterName` as release 0.1 used it in resource names, for aliases to that layout. */
  legacyName?: string;
}

const labels = { app: "nginx" };

/** The walk-through's `kubectl create deployment nginx` + `kubectl expose --type NodePort`. */
export class NginxApp extends pulumi.ComponentResource {
  public readonly nodePort: pulumi.Output<number>;
  /** `http://<node ip>:<nodePort>`. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: NginxAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:workload:NginxApp", name, {}, opts);

    const legacy = v01ChildAliases("talos-proxmox:workload:NginxApp", args.legacyName && `${args.legacyName}-nginx`);
    // Fixed object names: a replacement must delete the old object before creating the new one.
    const childOpts = { parent: this, provider: args.provider, deleteBeforeReplace: true };

    const deployment = new Deployment(
      `${name}-deployment`,
      {
        metadata: { name: "nginx", namespace: "default", labels },
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: "nginx",
                  image: args.image,
                  ports: [{ name: "http", containerPort: 80 }],
                  readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 5 },
                  resources: { requests: { cpu: "10m", memory: "16Mi" } },
                },
              ],
            },
          },
        },
      },
      { ...childOpts, aliases: legacy("kubernetes:apps/v1:Deployment", "deployment") },
    );

    const service = new Service(
      `${name}-service`,
      {
        metadata: { name: "nginx", namespace: "default", labels },
        spec: {
          type: "NodePort",
          selector: labels,
          ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: args.nodePort }],
        },
      },
      { ...childOpts, dependsOn: [deployment], aliases: legacy("kubernetes:core/v1:Service", "service") },
    );

    this.nodePort = service.spec.ports[0].nodePort;
    this.url = pulumi.interpolate`http://${args.nodeIp}:${this.nodePort}`;
    this.registerOutputs({ nodePort: this.nodePort, url: this.url });
  }
}
