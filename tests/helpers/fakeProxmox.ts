/**
 * A fake Proxmox VE API over HTTPS on 127.0.0.1, for the hardware-reboot tests. It models what
 * qemu-server (master e6352be), pve-manager (14a22df), pve-common (f665029), pve-guest-common
 * (4a8f6cb), pve-http-server (5c9e4ea) and pve-access-control (5ccd07d) do:
 * - A config change to a running VM waits as pending (not hotplugged: cores, memory without
 *   hotplug, hostpciN); a stopped VM takes it at once.
 * - Pending config applies only when a new QEMU process starts (qemu-server src/PVE/QemuServer.pm:
 *   5598-5600). A reboot from inside the guest keeps the process, so `guestReboot` applies nothing
 *   (QemuServer.pm:3403: QEMU resets the guest itself unless `reboot: 0`).
 * - `POST .../status/reboot` refuses a stopped VM (src/PVE/API2/Qemu.pm:4013) and answers a UPID
 *   (Qemu.pm:4022; format pve-common src/PVE/UPID.pm:18-30). The task stops the VM
 *   (QemuServer.pm:6375-6398); then qmeventd starts it again (src/PVE/CLI/qm.pm:1163-1176).
 * - `GET .../pending` answers pve-guest-common src/PVE/GuestHelpers.pm:223-262; `GET
 *   .../status/current` `status` running|stopped (QemuServer.pm:2373-2377); `GET
 *   /nodes/{node}/tasks/{upid}/status` (pve-manager PVE/API2/Tasks.pm:455-545).
 * - Auth: `Authorization: PVEAPIToken=user@realm!id=secret` (pve-http-server
 *   src/PVE/APIServer/AnyEvent.pm:1591-1595), or a ticket from `POST /access/ticket`
 *   (pve-access-control src/PVE/API2/AccessControl.pm:196-270) in the `PVEAuthCookie` cookie, with
 *   `CSRFPreventionToken` on writes (pve-manager PVE/HTTPServer.pm:127-129). Otherwise 401.
 * Every answer is `{ data }` (pve-http-server src/PVE/APIServer/Formatter/Standard.pm:19).
 * The stop/start happens on the fake's own steps, not on timers: the task stops the VM when its
 * status is first read, ends on the second read, and the VM starts again right after (setImmediate).
 */
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { createTestPki } from "./talosPki";

type ConfigValue = string | number;

export interface FakeVm {
  host: string;
  vmId: number;
  config: Record<string, ConfigValue>;
  pending: Record<string, ConfigValue>;
  pendingDelete: Set<string>;
  status: "running" | "stopped";
  /** A new QEMU process gets a new pid; a guest reboot keeps it. */
  pid: number;
}

interface FakeTask {
  upid: string;
  host: string;
  reads: number;
  exitstatus?: string;
  onStop?: () => void;
}

export interface FakeProxmoxOptions {
  vms: { host: string; vmId: number; config: Record<string, ConfigValue>; status?: "running" | "stopped" }[];
  /** The API token the server accepts (`user@realm!id=secret`). */
  apiToken?: string;
  /** A user and password `POST /access/ticket` accepts. */
  login?: { username: string; password: string };
}

const TICKET = "PVE:root@pam:6784A1B2::fake-ticket-signature";
const CSRF = "6784A1B2:fake-csrf";

export class FakeProxmox {
  readonly vms: FakeVm[];
  /** `<METHOD> <path>` of every authenticated call, in order. */
  readonly calls: string[] = [];
  /** When set, reboots and starts are also appended (`proxmox reboot <vmid>`, `proxmox start <vmid> [applied]`). */
  timeline?: string[];
  /** Called when a new QEMU process starts (the guest boots fresh): tests reboot the fake Talos node. */
  onStart?: (vm: FakeVm) => void;
  /** Requests refused for missing or wrong credentials. */
  unauthorized = 0;
  /** Config keys whose change fails to apply at a start: they stay pending (QemuServer.pm:5084-5086). */
  readonly failsToApply = new Set<string>();
  /** Reboots from inside a guest, by VM ID (none of them applied anything). */
  readonly guestReboots: number[] = [];
  port = 0;
  private nextPid = 1000;
  private readonly tasks = new Map<string, FakeTask>();

  constructor(
    private readonly options: FakeProxmoxOptions,
    private readonly server: https.Server,
  ) {
    this.vms = options.vms.map((vm) => ({ ...vm, config: { ...vm.config }, pending: {}, pendingDelete: new Set(), status: vm.status ?? "running", pid: this.nextPid++ }));
  }

  get endpoint(): string {
    return `https://127.0.0.1:${this.port}/`;
  }

  vm(vmId: number): FakeVm {
    const vm = this.vms.find((v) => v.vmId === vmId);
    if (!vm) throw new Error(`no fake VM ${vmId}`);
    return vm;
  }

  /** A config update as the VM resource makes it: pending on a running VM, applied on a stopped one. */
  setConfig(vmId: number, changes: Record<string, ConfigValue>): void {
    const vm = this.vm(vmId);
    Object.assign(vm.status === "running" ? vm.pending : vm.config, changes);
  }

  /** A reboot from inside the guest (Talos's reboot): the same QEMU process, nothing applied. */
  guestReboot(vmId: number): void {
    this.vm(vmId); // the VM must exist; its process, pid and pending config stay as they are
    this.guestReboots.push(vmId);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A new QEMU process: pending applied first (QemuServer.pm:5598-5600). */
  private start(vm: FakeVm): void {
    const applied = [...Object.keys(vm.pending), ...vm.pendingDelete].filter((key) => !this.failsToApply.has(key)).sort();
    for (const key of applied) {
      if (key in vm.pending) vm.config[key] = vm.pending[key];
      else delete vm.config[key];
      delete vm.pending[key];
      vm.pendingDelete.delete(key);
    }
    vm.status = "running";
    vm.pid = this.nextPid++;
    this.timeline?.push(`proxmox start ${vm.vmId}${applied.length > 0 ? ` applied ${applied.join(",")}` : ""}`);
    this.onStart?.(vm);
  }

  private task(host: string, type: string, vmId: number, onStop?: () => void): string {
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, "0");
    const upid = `UPID:${host}:${hex(this.nextPid++)}:${hex(4242)}:${hex(1_767_000_000 + this.tasks.size)}:${type}:${vmId}:root@pam!pulumi:`;
    this.tasks.set(upid, { upid, host, reads: 0, onStop });
    return upid;
  }

  private authorized(req: import("node:http").IncomingMessage, method: string): boolean {
    const auth = req.headers.authorization ?? "";
    if (this.options.apiToken && auth === `PVEAPIToken=${this.options.apiToken}`) return true;
    const cookie = /(?:^|;\s*)PVEAuthCookie=([^;]*)/.exec(req.headers.cookie ?? "")?.[1];
    if (this.options.login && cookie && decodeURIComponent(cookie) === TICKET) return method === "GET" || req.headers.csrfpreventiontoken === CSRF;
    return false;
  }

  /** The routes: returns `[status, data or error message]`. */
  route(method: string, path: string, body: URLSearchParams): [number, unknown] {
    if (method === "POST" && path === "/access/ticket") {
      const login = this.options.login;
      if (!login || body.get("username") !== login.username || body.get("password") !== login.password) return [401, "authentication failure"];
      return [200, { username: login.username, ticket: TICKET, CSRFPreventionToken: CSRF }];
    }
    const task = /^\/nodes\/([^/]+)\/tasks\/([^/]+)\/status$/.exec(path);
    if (task && method === "GET") return this.taskStatus(task[1], decodeURIComponent(task[2]));
    const vmMatch = /^\/nodes\/([^/]+)\/qemu\/(\d+)\/(pending|status\/current|status\/reboot|status\/start)$/.exec(path);
    if (!vmMatch) return [501, `Method '${method} ${path}' not implemented`];
    const vm = this.vms.find((v) => v.vmId === Number(vmMatch[2]));
    // The config lives under the node that runs the VM (pmxcfs nodes/<node>/qemu-server/<vmid>.conf).
    if (!vm || vm.host !== vmMatch[1]) return [500, `Configuration file 'nodes/${vmMatch[1]}/qemu-server/${vmMatch[2]}.conf' does not exist`];
    return this.vmRoute(method, vmMatch[3], vm);
  }

  private vmRoute(method: string, what: string, vm: FakeVm): [number, unknown] {
    if (method === "GET" && what === "pending") return [200, this.pendingArray(vm)];
    if (method === "GET" && what === "status/current") return [200, { vmid: vm.vmId, status: vm.status, ...(vm.status === "running" ? { pid: vm.pid } : {}) }];
    if (method === "POST" && what === "status/reboot") {
      if (vm.status !== "running") return [500, `VM ${vm.vmId} not running`];
      this.timeline?.push(`proxmox reboot ${vm.vmId}`);
      return [200, this.task(vm.host, "qmreboot", vm.vmId, () => (vm.status = "stopped"))];
    }
    if (method === "POST" && what === "status/start") {
      if (vm.status === "running") return [500, `VM ${vm.vmId} already running`];
      this.start(vm);
      const upid = this.task(vm.host, "qmstart", vm.vmId);
      Object.assign(this.tasks.get(upid)!, { reads: 1 });
      return [200, upid];
    }
    return [501, `Method '${method}' not implemented`];
  }

  /** GuestHelpers.pm config_with_pending_array: current keys (with pending/delete), then pending-only keys, then delete-only keys. */
  private pendingArray(vm: FakeVm): unknown[] {
    const current = Object.keys(vm.config).map((key) => ({
      key,
      value: vm.config[key],
      ...(key in vm.pending ? { pending: vm.pending[key] } : {}),
      ...(vm.pendingDelete.has(key) ? { delete: 1 } : {}),
    }));
    const pendingOnly = Object.keys(vm.pending)
      .filter((key) => !(key in vm.config))
      .map((key) => ({ key, pending: vm.pending[key] }));
    const deleteOnly = [...vm.pendingDelete].filter((key) => !(key in vm.config)).map((key) => ({ key, delete: 1 }));
    return [...current, ...pendingOnly, ...deleteOnly];
  }

  /** First read: running (the VM stops now); second: stopped with OK, and qmeventd starts the VM again. */
  private taskStatus(host: string, upid: string): [number, unknown] {
    const task = this.tasks.get(upid);
    if (!task || task.host !== host) return [400, "no such task"];
    task.reads += 1;
    if (task.reads === 1) {
      task.onStop?.();
      return [200, { upid, node: host, status: "running" }];
    }
    if (task.exitstatus === undefined) {
      task.exitstatus = "OK";
      const vm = task.onStop ? this.vms.find((v) => upid.includes(`:qmreboot:${v.vmId}:`)) : undefined;
      if (vm) setImmediate(() => this.start(vm));
    }
    return [200, { upid, node: host, status: "stopped", exitstatus: task.exitstatus }];
  }

  handle(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse, body: string): void {
    const method = req.method ?? "GET";
    const path = decodeURI(new URL(req.url ?? "/", "https://x").pathname).replace(/^\/api2\/json/, "");
    const send = (status: number, data: unknown) => {
      res.writeHead(status, typeof data === "string" && status !== 200 ? data : "OK", { "Content-Type": "application/json" });
      res.end(JSON.stringify(status === 200 ? { data } : { data: null }));
    };
    if (path !== "/access/ticket" && !this.authorized(req, method)) {
      this.unauthorized += 1;
      return send(401, "No ticket");
    }
    if (path !== "/access/ticket") this.calls.push(`${method} ${path}`);
    const [status, data] = this.route(method, path, new URLSearchParams(body));
    send(status, data);
  }
}

/** Starts the fake on 127.0.0.1 with a self-signed certificate (clients need `insecure: true`). */
export async function startFakeProxmox(options: FakeProxmoxOptions): Promise<FakeProxmox> {
  const pki = await createTestPki("ECDSA");
  const server = https.createServer({ key: pki.server.key, cert: pki.server.cert });
  const fake = new FakeProxmox(options, server);
  server.on("request", (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => fake.handle(req, res, Buffer.concat(chunks).toString("utf8")));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.port = (server.address() as AddressInfo).port;
  return fake;
}
