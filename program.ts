/**
 * The stack program: stack config → TalosProxmoxCluster → NginxApp → stack outputs. `index.ts`
 * exports what this returns; tests call it once per config.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./stack/loadConfig";
import { NginxApp } from "./components/nginxApp";
import { createProxmoxProvider, proxmoxApiConnection } from "./stack/proxmoxConnection";
import { TalosProxmoxCluster } from "./components/talosProxmoxCluster";

/** What the SDK's promise-tracking stacks read as instead of a formatted trace. */
export const UNRECORDED_PROMISE_STACK = "(stack not recorded: set PULUMI_DEBUG_PROMISE_LEAKS to record it)";

type StackFormatter = ((error: Error, frames: NodeJS.CallSite[]) => unknown) & { elidesPromiseStacks?: true };

/** Is this the stack of the Error the SDK makes in `debuggablePromise` for its promise-leak report? */
function isPromiseTrackingStack(frames: NodeJS.CallSite[]): boolean {
  const top = frames[0];
  return top?.getFunctionName() === "debuggablePromise" && /[\\/]runtime[\\/]debuggable\.js$/.test(top.getFileName() ?? "");
}

/**
 * The SDK reads a stack trace for every promise it tracks (four per output property of every
 * resource, pulumi/pulumi v3.248.0 sdk/nodejs/runtime/debuggable.ts:84, via rpc.ts
 * transferProperties), and prints it only in the promise-leak report of PULUMI_DEBUG_PROMISE_LEAKS
 * (debuggable.ts:53-56,68). Formatting them through ts-node's source maps was most of the program's
 * evaluation time. This wraps the installed formatter: those stacks read as a constant, every other
 * stack is formatted as before, so errors and the source positions the SDK records for each resource
 * (resource.ts Resource.callsites, kept in the state as sourcePosition) stay mapped. Without a
 * formatter (plain JavaScript) or with PULUMI_DEBUG_PROMISE_LEAKS set, nothing changes. Idempotent.
 */
export function elidePromiseTrackingStacks(): void {
  const errors = Error as { prepareStackTrace?: StackFormatter };
  const format = errors.prepareStackTrace;
  if (process.env.PULUMI_DEBUG_PROMISE_LEAKS || format === undefined || format.elidesPromiseStacks) return;
  const eliding: StackFormatter = (error, frames) => (isPromiseTrackingStack(frames) ? UNRECORDED_PROMISE_STACK : format(error, frames));
  eliding.elidesPromiseStacks = true;
  errors.prepareStackTrace = eliding;
}

export function main() {
  elidePromiseTrackingStacks();
  return stackProgram();
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
