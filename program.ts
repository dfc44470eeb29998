/**
 * The stack program: stack config → TalosProxmoxCluster → NginxApp → stack outputs. `index.ts`
 * exports what this returns; tests call it once per config.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./stack/loadConfig";
import { NginxApp } from "./components/nginxApp";
import { createProxmoxProvider, proxmoxApiConnection } from "./stack/proxmoxConnection";
import { TalosProxmoxCluster } from "./components/talosProxmoxCluster";

/**
 * Runs `build` with V8's own stack formatting instead of the source-mapping one ts-node installs.
 * The SDK formats a stack trace for every promise it makes (four per output property of every
 * resource: pulumi/pulumi v3.248.0 sdk/nodejs/runtime/rpc.ts transferProperties, debuggable.ts
 * debuggablePromise), kept only for its promise-leak report; mapping each through source maps was
 * most of the program's evaluation time. Errors format their stack when it is first read, after
 * this returns, so they are still mapped; with PULUMI_DEBUG_PROMISE_LEAKS set nothing changes.
 */
export function withPlainPromiseStacks<T>(build: () => T): T {
  if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return build();
  const errors = Error as { prepareStackTrace?: unknown };
  const mapped = errors.prepareStackTrace;
  errors.prepareStackTrace = undefined;
  try {
    return build();
  } finally {
    errors.prepareStackTrace = mapped;
  }
}

export function main() {
  return withPlainPromiseStacks(stackProgram);
}

function stackProgram() {
  const { config, proxmox } = loadConfig();
  // Validated once, here: the component takes the checked config as it is. The same Proxmox
  // connection reaches the hardware reboots, which call the Proxmox API themselves.
  const cluster = new TalosProxmoxCluster("cluster", { ...config, proxmox: proxmoxApiConnection(proxmox, process.env) }, {
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
  return {
    kubeconfig: cluster.kubeconfig,
    talosconfig: cluster.talosconfig,
    nodes: cluster.nodes,
    endpoint: cluster.endpoint,
    nginxUrl: nginx ? nginx.url : pulumi.output(undefined),
    schematicId: cluster.schematicId,
    isoUrl: cluster.isoUrl,
    installerImage: cluster.installerImage,
    pendingReboots: cluster.pendingReboots,
    credentials: cluster.credentials,
    storage: pulumi.output(cluster.storage),
  };
}
