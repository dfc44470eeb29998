// The Proxmox API client against the fake Proxmox over HTTPS: token and ticket authentication,
// TLS verification, the pending list, the reboot task, and what a guest reboot leaves pending.
import { connectProxmox, pendingChanges, rebootVm, startVm, taskSucceeded, vmStatus, waitForTask, type ProxmoxApiConnection } from "../proxmoxapi";
import { startFakeProxmox, type FakeProxmox } from "./helpers/fakeProxmox";

const TOKEN = "pulumi@pve!reboots=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const LOGIN = { username: "root@pam", password: "PVE-PASSWORD-VALUE" };
const VM = { host: "pve1", vmId: 101 };
// The fake's tasks end on their second read: the deadline only bounds a failure.
const POLL = { timeoutMs: 10_000, initialDelayMs: 1, maxDelayMs: 5 };

let pve: FakeProxmox;
beforeEach(async () => {
  pve = await startFakeProxmox({ apiToken: TOKEN, login: LOGIN, vms: [{ ...VM, config: { cores: 4, memory: 8192, hostpci0: "mapping=old" } }] });
});
afterEach(() => pve.stop());

const withToken = (): ProxmoxApiConnection => ({ endpoint: pve.endpoint, apiToken: TOKEN, insecure: true });

test("the API token goes in the PVEAPIToken header; a wrong one is refused without echoing it", async () => {
  await expect(vmStatus(connectProxmox(withToken()), VM)).resolves.toBe("running");
  const wrong = connectProxmox({ ...withToken(), apiToken: "pulumi@pve!reboots=WRONG-SECRET" });
  const error = (await vmStatus(wrong, VM).catch((e: unknown) => e)) as Error;
  expect(error.message).toBe("Proxmox API GET /nodes/pve1/qemu/101/status/current: HTTP 401 No ticket {\"data\":null}");
  expect(error.message).not.toContain("WRONG-SECRET");
  expect(pve.unauthorized).toBe(1);
});

test("username and password get a ticket; writes carry the CSRF token", async () => {
  const api = connectProxmox({ endpoint: pve.endpoint, ...LOGIN, insecure: true });
  const upid = await rebootVm(api, VM);
  await waitForTask(api, VM.host, upid, POLL);
  const bad = connectProxmox({ endpoint: pve.endpoint, username: "root@pam", password: "nope", insecure: true });
  await expect(vmStatus(bad, VM)).rejects.toThrow("Proxmox API POST /access/ticket: HTTP 401 authentication failure");
});

test("without insecure the self-signed certificate is refused", async () => {
  await expect(vmStatus(connectProxmox({ ...withToken(), insecure: false }), VM)).rejects.toThrow(/^Proxmox API GET \/nodes\/pve1\/qemu\/101\/status\/current: .*(self-signed|self signed|unable to verify)/);
});

test("a change to a running VM waits as pending; a guest reboot applies nothing; the API reboot applies it", async () => {
  const api = connectProxmox(withToken());
  pve.setConfig(101, { cores: 8, numa: 1 });
  pve.vm(101).pendingDelete.add("hostpci0");
  expect(await pendingChanges(api, VM)).toEqual(["cores", "hostpci0 (delete)", "numa"]);
  pve.guestReboot(101);
  expect(await pendingChanges(api, VM)).toEqual(["cores", "hostpci0 (delete)", "numa"]);

  const upid = await rebootVm(api, VM);
  expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmreboot:101:[^:]+:$/);
  await waitForTask(api, VM.host, upid, POLL);
  await new Promise((resolve) => setImmediate(resolve)); // qmeventd's start
  expect(await vmStatus(api, VM)).toBe("running");
  expect(await pendingChanges(api, VM)).toEqual([]);
  expect(pve.vm(101).config).toEqual({ cores: 8, memory: 8192, numa: 1 });
});

test("a stopped VM can't be rebooted (start it); a VM asked for on the wrong host is not found", async () => {
  const api = connectProxmox(withToken());
  pve.vm(101).status = "stopped";
  await expect(rebootVm(api, VM)).rejects.toThrow("HTTP 500 VM 101 not running");
  await waitForTask(api, VM.host, await startVm(api, VM), POLL);
  await expect(pendingChanges(api, { host: "pve2", vmId: 101 })).rejects.toThrow("Configuration file 'nodes/pve2/qemu-server/101.conf' does not exist");
});

test("task exit statuses: OK and warnings succeed, anything else fails", () => {
  expect([taskSucceeded("OK"), taskSucceeded("WARNINGS: 2"), taskSucceeded("VM 101 not running"), taskSucceeded(undefined)]).toEqual([true, true, false, false]);
});
