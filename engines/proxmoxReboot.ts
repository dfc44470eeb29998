/**
 * Reboots that must start a new QEMU process. Cores, memory and PCI devices changed on a running
 * VM wait as pending config until Proxmox starts the VM again (qemu-server e6352be
 * src/PVE/QemuServer.pm:5598-5600); a reboot from inside the guest (Talos's reboot) keeps the same
 * QEMU process (QEMU resets the guest itself unless the VM has `reboot: 0`, QemuServer.pm:3403), so
 * those nodes go through the Proxmox API reboot instead: stop, then start, which applies them.
 */
import { RolloutError } from "../talosapi/errors";
import { pollUntil } from "../talosapi/poll";
import { connectProxmox, pendingChanges, rebootVm, vmStatus, waitForTask, type ProxmoxApiConnection, type VmRef } from "../proxmoxapi";
import type { NodeRef, RolloutTimeouts, TalosOperations } from "./operations";

export type { VmRef } from "../proxmoxapi";

/** Proxmox-side operations, each on one VM. */
export interface ProxmoxOperations {
  /** The config keys that wait for a new QEMU process (empty when none). */
  pending(vm: VmRef): Promise<string[]>;
  status(vm: VmRef): Promise<"running" | "stopped">;
  /** The API reboot (shut down, then start); resolves once its task ended well. */
  reboot(vm: VmRef): Promise<void>;
}

/** {@link ProxmoxOperations} over the API client. */
export function proxmoxOperations(connection: ProxmoxApiConnection, timeouts: Pick<RolloutTimeouts, "rebootMs" | "pollInitialMs" | "pollMaxMs">): ProxmoxOperations {
  const api = connectProxmox(connection);
  const poll = { timeoutMs: timeouts.rebootMs, initialDelayMs: timeouts.pollInitialMs, maxDelayMs: timeouts.pollMaxMs };
  return {
    pending: (vm) => pendingChanges(api, vm),
    status: (vm) => vmStatus(api, vm),
    reboot: async (vm) => waitForTask(api, vm.host, await rebootVm(api, vm), poll),
  };
}

/** What restarting a node needs: Talos, Proxmox for nodes rebooted through it, progress reports. */
export interface RestartDeps {
  talos: TalosOperations;
  proxmox?: ProxmoxOperations;
  onEvent?: (event: { node: string; step: string; detail?: string }) => void;
}

/** Refuses before any node is touched when some node must go through Proxmox and no client was given. */
export function requireProxmoxFor(throughProxmox: Record<string, VmRef> | undefined, proxmox: ProxmoxOperations | undefined): void {
  const names = Object.keys(throughProxmox ?? {});
  if (names.length > 0 && !proxmox) {
    throw new Error(`${names.join(", ")}: hardware changes need a reboot through the Proxmox API, but no Proxmox connection was given`);
  }
}

/**
 * Restarts one node: the Talos reboot, or, when `vm` is given, the Proxmox API reboot, waiting until
 * Proxmox runs the VM again with nothing pending. The caller then waits for the new boot id.
 */
export async function restartNode(deps: RestartDeps, node: NodeRef, vm: VmRef | undefined, t: RolloutTimeouts): Promise<void> {
  const emit = (step: string, detail?: string) => deps.onEvent?.({ node: node.name, step, detail });
  if (!vm) {
    await deps.talos.reboot(node);
    emit("rebooting");
    return;
  }
  const proxmox = deps.proxmox;
  if (!proxmox) throw new Error(`${node.name}: no Proxmox connection for its hardware reboot`);
  const waiting = await proxmox.pending(vm);
  await proxmox.reboot(vm);
  emit("rebooting through Proxmox (stop and start)", waiting.length > 0 ? `applies ${waiting.join(", ")}` : undefined);
  // The reboot task ends once the VM stopped; qmeventd starts it again, applying the pending config
  // before QEMU runs (qemu-server src/PVE/CLI/qm.pm:1163-1176, QemuServer.pm:5598-5600). So a
  // running VM with changes still pending means Proxmox could not apply them.
  const expected = `VM ${vm.host}/${vm.vmId} running with no pending changes`;
  const left = await pollUntil(
    async () => ((await proxmox.status(vm)) === "running" ? { done: true, value: await proxmox.pending(vm) } : { done: false, reason: "VM stopped" }),
    { timeoutMs: t.rebootMs, initialDelayMs: t.pollInitialMs, maxDelayMs: t.pollMaxMs },
    (reason) => new RolloutError(node.name, "Proxmox reboot", expected, `${reason} after ${t.rebootMs} ms`),
  );
  if (left.length > 0) throw new RolloutError(node.name, "Proxmox reboot", expected, `still pending after the start: ${left.join(", ")}`);
  emit("VM restarted", `${vm.host}/${vm.vmId}`);
}

/** Each node's pending config keys, read in parallel (for `pulumi refresh`). */
export async function readPendingChanges(connection: ProxmoxApiConnection, vms: Record<string, VmRef>): Promise<Record<string, string[]>> {
  const api = connectProxmox(connection);
  const names = Object.keys(vms);
  const lists = await Promise.all(names.map((name) => pendingChanges(api, vms[name])));
  return Object.fromEntries(names.map((name, i) => [name, lists[i]]));
}
