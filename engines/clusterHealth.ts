/**
 * The cluster health check for a cluster whose CNI comes after the health gate (`cni: cilium`,
 * installed by the program once the gate passed, or `cni: none`, installed by the user after
 * `pulumi up`). Talos's own pre-boot-sequence checks can't pass there: they include "no
 * diagnostics" (siderolabs/talos v1.13.0 pkg/cluster/check/default.go:180-185), and Talos raises
 * the `kubelet-csr` diagnostic while a kubelet's serving CSR waits for approval
 * (internal/app/machined/pkg/controllers/runtime/internal/diagnostics/kubelet_csr_not_approved.go:76,118,
 * diagnostic.go:45 at v1.13.9). With `rotate-server-certificates` on, the approver approves it,
 * and the approver's pod needs a pod network (kubelet-serving-cert-approver v0.11.0
 * deploy/standalone-install.yaml:202-210: no not-ready toleration, no host network). So this check
 * is Talos's list over the same API minus that one diagnostic. No Pulumi here.
 */
import { checkEtcd } from "./gates";
import type { NodeRef, TalosOperations } from "./operations";
import type { ResourceKind } from "../talosapi/cosi";
import { messageOf } from "../talosapi/errors";
import { serviceProblem } from "../talosapi/machine";
import { pollUntil } from "../talosapi/poll";

/**
 * Talos's diagnostics (v1.13.9 pkg/machinery/resources/runtime/diagnostic.go:17,27; namespace `runtime`,
 * v1alpha1/v1alpha1.go:13; the id is the check's, controllers/runtime/diagnostics.go:121).
 */
export const DIAGNOSTICS: ResourceKind = { namespace: "runtime", type: "Diagnostics.runtime.talos.dev" };
/** The machine's boot stage (v1.13.9 pkg/machinery/resources/runtime/machine_status.go:17,20,29; text names, machinestage.go:20). */
export const MACHINE_STATUS: ResourceKind & { id: string } = { namespace: "runtime", type: "MachineStatuses.runtime.talos.dev", id: "machine" };

/** The diagnostic that stays until a CNI runs when kubelet serving certificates rotate. */
export const PENDING_SERVING_CSR = "kubelet-csr";

export interface TalosHealthOptions {
  /** Diagnostic ids that don't count (Talos's check ids, e.g. `kubelet-csr`). */
  ignoreDiagnostics: string[];
}

/** One node's part: its boot finished (stage `running`, as AllNodesBootedAssertion waits for), kubelet on control planes, its diagnostics. */
async function nodeProblems(talos: TalosOperations, node: NodeRef, options: TalosHealthOptions): Promise<string[]> {
  const problems: string[] = [];
  try {
    const status = await talos.resource(node, MACHINE_STATUS, MACHINE_STATUS.id);
    const stage = (status?.spec as { stage?: unknown } | undefined)?.stage;
    if (stage !== "running") problems.push(`${node.name}: boot stage is ${String(stage ?? "unknown")}, not running`);
    if (node.role === "controlplane") {
      const kubelet = serviceProblem(await talos.services(node), "kubelet");
      if (kubelet) problems.push(`${node.name}: ${kubelet}`);
    }
    for (const diagnostic of await talos.listResources(node, DIAGNOSTICS)) {
      if (options.ignoreDiagnostics.includes(diagnostic.id)) continue;
      const message = (diagnostic.spec as { message?: string } | undefined)?.message ?? "";
      problems.push(`${node.name}: diagnostic ${diagnostic.id}: ${message}`);
    }
  } catch (error) {
    problems.push(`${node.name}: ${messageOf(error)}`);
  }
  return problems;
}

/**
 * What keeps the cluster from being healthy on the Talos side: etcd (started, healthy, members =
 * control planes), each node's boot stage and active diagnostics, kubelet on the control planes.
 * Empty when healthy. Talos's memory and disk size checks are left out: they only wait for data
 * every booted node reports.
 */
export async function talosHealthProblems(talos: TalosOperations, nodes: NodeRef[], options: TalosHealthOptions): Promise<string[]> {
  const controlPlanes = nodes.filter((n) => n.role === "controlplane");
  const etcd = await checkEtcd(talos, controlPlanes);
  const perNode = await Promise.all(nodes.map((node) => nodeProblems(talos, node, options)));
  return [...etcd.problems.map((p) => `etcd: ${p}`), ...perNode.flat()];
}

/** Polls {@link talosHealthProblems} until none is left; on timeout, the error lists the last ones. */
export async function waitTalosHealthy(
  talos: TalosOperations,
  nodes: NodeRef[],
  options: TalosHealthOptions & { timeoutMs: number; pollMs?: number },
): Promise<void> {
  await pollUntil(
    async () => {
      const problems = await talosHealthProblems(talos, nodes, options);
      return problems.length === 0 ? { done: true, value: undefined } : { done: false, reason: problems.join("; ") };
    },
    { timeoutMs: options.timeoutMs, initialDelayMs: options.pollMs ?? 2_000, maxDelayMs: options.pollMs ?? 5_000 },
    (last) => new Error(`cluster health check failed after ${options.timeoutMs / 1000}s: ${last}`),
  );
}

