/**
 * The VM calls a hardware reboot needs. Facts at qemu-server master e6352be (src/PVE/API2/Qemu.pm,
 * src/PVE/QemuServer.pm), pve-manager 14a22df, pve-common f665029, pve-guest-common 4a8f6cb:
 * - `POST /nodes/{node}/qemu/{vmid}/status/reboot` "shuts down and starts again, applies pending
 *   changes" (Qemu.pm:3974-3979, needs VM.PowerMgmt :3981); it refuses a VM that is not running
 *   (:4013) and returns a task UPID (fork_worker, :4022). The task only stops the VM (QemuServer.pm:6375-6398,
 *   a reboot request then a stop); qmeventd's `qm cleanup` starts it again (src/PVE/CLI/qm.pm:1163-1176),
 *   and that start applies the pending config before QEMU runs (QemuServer.pm:5598-5600).
 * - `GET /nodes/{node}/qemu/{vmid}/pending` (Qemu.pm:1859, VM.Audit) lists every key with `value`,
 *   and `pending` or `delete` for what waits (pve-guest-common src/PVE/GuestHelpers.pm:223-262).
 * - `GET /nodes/{node}/qemu/{vmid}/status/current` (Qemu.pm:3427, VM.Audit): `status` is
 *   `running` or `stopped` (QemuServer.pm:2373-2377).
 * - `GET /nodes/{node}/tasks/{upid}/status` (pve-manager PVE/API2/Tasks.pm:455): `status`
 *   `running`/`stopped`, and once stopped `exitstatus` `OK`, `WARNINGS: n` or the error
 *   (pve-common src/PVE/UPID.pm:70-91). A UPID is `UPID:node:pid:pstart:starttime:type:id:user:`
 *   (UPID.pm:18-30), so it is URL-encoded in the path.
 */
import { pollUntil, type PollOptions } from "../talosapi/poll";
import { ProxmoxApiError, type ProxmoxApi } from "./client";

/** A VM: the Proxmox node (host) that runs it and its ID. */
export interface VmRef {
  host: string;
  vmId: number;
}

/** One entry of the pending list (GuestHelpers.pm config_with_pending_array). */
export interface PendingEntry {
  key: string;
  value?: string | number;
  pending?: string | number;
  delete?: number;
}

export interface TaskStatus {
  status: "running" | "stopped";
  exitstatus?: string;
}

const vmPath = (vm: VmRef) => `/nodes/${encodeURIComponent(vm.host)}/qemu/${vm.vmId}`;

/** Asks Proxmox to shut the VM down and start it again; returns the task's UPID. */
export function rebootVm(api: ProxmoxApi, vm: VmRef): Promise<string> {
  return api.request<string>("POST", `${vmPath(vm)}/status/reboot`);
}

/** Starts a stopped VM (pending changes apply first); returns the task's UPID. */
export function startVm(api: ProxmoxApi, vm: VmRef): Promise<string> {
  return api.request<string>("POST", `${vmPath(vm)}/status/start`);
}

export async function vmStatus(api: ProxmoxApi, vm: VmRef): Promise<"running" | "stopped"> {
  return (await api.request<{ status: "running" | "stopped" }>("GET", `${vmPath(vm)}/status/current`)).status;
}

/** What waits for a new QEMU process: `key` for a pending value, `key (delete)` for a pending removal. Values are left out. */
export async function pendingChanges(api: ProxmoxApi, vm: VmRef): Promise<string[]> {
  const entries = await api.request<PendingEntry[]>("GET", `${vmPath(vm)}/pending`);
  return entries
    .flatMap((e) => [...(e.pending !== undefined ? [e.key] : []), ...(e.delete ? [`${e.key} (delete)`] : [])])
    .sort();
}

export function taskStatus(api: ProxmoxApi, host: string, upid: string): Promise<TaskStatus> {
  return api.request<TaskStatus>("GET", `/nodes/${encodeURIComponent(host)}/tasks/${encodeURIComponent(upid)}/status`);
}

/** True for a task that ended well: `OK` or only warnings (pve-common UPID.pm:89-91). */
export function taskSucceeded(exitstatus: string | undefined): boolean {
  return exitstatus === "OK" || /^WARNINGS: \d+$/.test(exitstatus ?? "");
}

/** Waits until the task stopped; throws naming the task when it failed or outlasted `poll.timeoutMs`. */
export async function waitForTask(api: ProxmoxApi, host: string, upid: string, poll: PollOptions): Promise<void> {
  const done = await pollUntil(
    async () => {
      const task = await taskStatus(api, host, upid);
      return task.status === "stopped" ? { done: true, value: task } : { done: false, reason: "still running" };
    },
    poll,
    (reason) => new ProxmoxApiError("GET", `/nodes/${host}/tasks/${upid}/status`, undefined, `task ${reason} after ${poll.timeoutMs} ms`),
  );
  if (!taskSucceeded(done.exitstatus)) throw new ProxmoxApiError("GET", `/nodes/${host}/tasks/${upid}/status`, 200, `task failed: ${done.exitstatus ?? "no exit status"}`);
}
