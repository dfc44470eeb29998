import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface NginxAppArgs {
  /** kubeconfig of the new cluster (secret); resolves only once the cluster is healthy. */
  kubeconfig: pulumi.Input<string>;
  /** Pinned image, e.g. `nginx:1.28.0`. */
  image: string;
  replicas: number;
  /** Fixed NodePort (30000-32767); unset lets Kubernetes allocate one. */
  nodePort?: number;
  /** A node address for the URL; any node answers on a NodePort. */
  nodeIp: string;
}

const labels = { app: "nginx" };

/** The walk-through's `kubectl create deployment nginx` + `kubectl expose --type NodePort`. */
export class NginxApp extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  public readonly nodePort: pulumi.Output<number>;
  /** `http://<node ip>:<nodePort>`. */
  public readonly url: pulumi.Output<string>;

  constructor(name: string, args: NginxAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:workload:NginxApp", name, {}, opts);

    // Built from the cluster's kubeconfig only: never the ambient KUBECONFIG.
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: args.kubeconfig,
        // A destroy after the VMs are gone drops these objects from state instead of failing.
        deleteUnreachable: true,
      },
      { parent: this },
    );
    // Fixed object names: a replacement must delete the old object before creating the new one.
    const childOpts = { parent: this, provider: this.provider, deleteBeforeReplace: true };

    const deployment = new k8s.apps.v1.Deployment(
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
      childOpts,
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: "nginx", namespace: "default", labels },
        spec: {
          type: "NodePort",
          selector: labels,
          ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", nodePort: args.nodePort }],
        },
      },
      { ...childOpts, dependsOn: [deployment] },
    );

    this.nodePort = service.spec.ports[0].nodePort;
    this.url = pulumi.interpolate`http://${args.nodeIp}:${this.nodePort}`;
    this.registerOutputs({ nodePort: this.nodePort, url: this.url });
  }
}
