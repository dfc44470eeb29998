import * as pulumi from "@pulumi/pulumi";
import * as talos from "../sdk/talos";
import { Role } from "../config/domain";
import { goDurationMs } from "../config/duration";
import type { NodeRef } from "../engines/operations";

/**
 * The cluster health wait, run only when it can matter: a `pulumi:index:Stash` records what the
 * cluster was last checked with (the bootstrap and each node's applied config), and a hook on
 * its create and update runs the Talos health check before it. Nothing changed → no update → no
 * call to the nodes; hooks never run on preview (`onDryRun` defaults to false).
 *
 * Which check: with a CNI Talos deploys (flannel, custom), Talos's own (`talos:cluster/getHealth`).
 * With the CNI after the gate (cilium, none), Talos's checks can't pass before it runs (the pending
 * kubelet serving CSRs raise a diagnostic, see engines/clusterHealth.ts): the gate runs the same
 * Talos-side checks itself, without that diagnostic.
 */

/** What the health gate records, per node by name. */
export interface HealthGateState {
  bootstrap: string;
  nodes: Record<string, { role: Role; ip: string; config: string }>;
}

export interface HealthCheckPlan {
  run: boolean;
  /**
   * The control planes to check, those leaving in this update included: their delete runs after
   * every registration (pulumi/pulumi v3.248.0 deployment_executor.go:484-499), so at the gate
   * they are still etcd members, and Talos fails unless every member is a control plane it is
   * given (siderolabs/talos v1.13.9 pkg/cluster/check/etcd.go:94-127).
   */
  controlPlaneNodes: string[];
  /** Where the check connects: the control planes that stay. */
  endpoints: string[];
  workerNodes: string[];
  /**
   * A removed node's Kubernetes Node object stays until the node is deleted at the end of the
   * update, and the Kubernetes checks would count it as an unexpected node: check Talos and etcd only.
   */
  skipKubernetesChecks: boolean;
}

/** Whether and how to check health, from the previously recorded state to the new one. Pure. */
export function healthCheckPlan(previous: HealthGateState | undefined, next: HealthGateState, cniAfterGate: boolean): HealthCheckPlan {
  const names = Object.keys(next.nodes).sort();
  const removed = previous ? Object.keys(previous.nodes).filter((n) => !(n in next.nodes)) : [];
  const changed =
    !previous ||
    previous.bootstrap !== next.bootstrap ||
    names.some((n) => JSON.stringify(previous.nodes[n]) !== JSON.stringify(next.nodes[n]));
  const { nodes, endpoints } = talosSideNodes(previous, next);
  const ips = (role: Role) => nodes.filter((n) => n.role === role).map((n) => n.ip);
  return {
    run: changed,
    controlPlaneNodes: ips("controlplane"),
    endpoints,
    workerNodes: ips("worker"),
    skipKubernetesChecks: cniAfterGate || removed.length > 0,
  };
}

export interface HealthGateHookArgs {
  clientConfiguration: pulumi.Output<talos.ClientConfiguration>;
  /** Go duration, e.g. `10m`. */
  timeout: string;
  /**
   * No CNI comes with Talos (none, or Cilium installed after the gate): nodes are not Ready and
   * serving CSRs wait for a pod network, so Talos-side checks only, without the `kubelet-csr` diagnostic.
   */
  cniAfterGate: boolean;
}

/** The hook that waits until the cluster is healthy (`talos:cluster/getHealth`), when the plan says so. */
export function healthGateHook(name: string, args: HealthGateHookArgs, opts?: pulumi.InvokeOptions): pulumi.ResourceHook {
  return new pulumi.ResourceHook(name, async (hook) => {
    const next = hook.newInputs?.input as HealthGateState;
    const previous = hook.oldInputs?.input as HealthGateState | undefined;
    const plan = healthCheckPlan(previous, next, args.cniAfterGate);
    if (!plan.run) return;
    const clientConfiguration = await new Promise<talos.ClientConfiguration>((resolve) =>
      args.clientConfiguration.apply(resolve),
    );
    if (args.cniAfterGate) {
      await waitTalosBeforeCni(clientConfiguration, talosSideNodes(previous, next), args.timeout);
      return;
    }
    await talos.cluster.getHealth(
      {
        clientConfiguration,
        controlPlaneNodes: plan.controlPlaneNodes,
        endpoints: plan.endpoints,
        workerNodes: plan.workerNodes,
        skipKubernetesChecks: plan.skipKubernetesChecks,
        timeouts: { read: args.timeout },
      },
      opts,
    );
  });
}

/** The gate's nodes as the engines name them. Pure. */
export function nodeRefs(state: HealthGateState): NodeRef[] {
  return Object.keys(state.nodes)
    .sort()
    .map((name) => ({ name, ip: state.nodes[name].ip, role: state.nodes[name].role }));
}

/**
 * The nodes the Talos-side gate checks, as `healthCheckPlan` does for getHealth: every node of the
 * new state, and the control planes that are leaving, which stay etcd members until their delete
 * runs after every registration (pulumi/pulumi v3.248.0 deployment_executor.go:484-499). Only the
 * control planes that stay are endpoints. Pure.
 */
export function talosSideNodes(previous: HealthGateState | undefined, next: HealthGateState): { nodes: NodeRef[]; endpoints: string[] } {
  const staying = nodeRefs(next);
  const departing = previous ? nodeRefs(previous).filter((n) => n.role === "controlplane" && !(n.name in next.nodes)) : [];
  return { nodes: [...staying, ...departing], endpoints: staying.filter((n) => n.role === "controlplane").map((n) => n.ip) };
}

/** Talos's checks over the Talos API, minus the diagnostic no cluster can clear before its CNI runs. */
async function waitTalosBeforeCni(clientConfiguration: talos.ClientConfiguration, { nodes, endpoints }: { nodes: NodeRef[]; endpoints: string[] }, timeout: string): Promise<void> {
  // Loaded when the hook runs, not with the program: the Talos client and the engines (gRPC, X.509)
  // were a quarter of the program's start-up and a preview never needs them.
  const { connectTalosOperations } = await import("../engines/tasks");
  const { PENDING_SERVING_CSR, waitTalosHealthy } = await import("../engines/clusterHealth");
  const cluster = connectTalosOperations({ clientConfiguration, endpoints, nodes });
  try {
    await waitTalosHealthy(cluster.talos, nodes, { ignoreDiagnostics: [PENDING_SERVING_CSR], timeoutMs: goDurationMs(timeout) });
  } finally {
    cluster.close();
  }
}
