// Node operations against the fake apid: versions, pulls and upgrades on 1.13 and 1.12 nodes,
// reboot waits, etcd, reset, kubeconfig and configuration apply.
import * as grpc from "@grpc/grpc-js";
import { TalosApiError, TalosClient, applyConfiguration, connectTalos, etcdForfeitLeadership, etcdMemberList, etcdRemoveMemberById, etcdStatus, getBootId, getBootTime, getKubeconfig, getVersion, listServices, pullImage, reboot, resetGraceful, serviceProblem, tlsFromClientConfiguration, upgradeNode, waitUntilDown, waitUntilRebooted } from "../talosapi";
import { FakeTalos, startFakeTalos } from "./helpers/fakeTalos";
import { clientConfiguration, createTestPki, type TestPki } from "./helpers/talosPki";

const IMAGE = "factory.talos.dev/installer/abc123:v1.13.10";
// Generous per-call limits: a loaded CI machine can take a few hundred ms for a TLS handshake.
// Waits that succeed return as soon as the fake node is back: their deadline only bounds a
// failure, so it is generous (a busy machine must not turn a pass into a timeout).
const FAST_WAIT = { timeoutMs: 10_000, initialDelayMs: 10, maxDelayMs: 40, callTimeoutMs: 5_000 };

let pki: TestPki;
let fake: FakeTalos;
let admin: TalosClient;
let reader: TalosClient;

beforeAll(async () => {
  pki = await createTestPki();
  fake = await startFakeTalos(pki, [
    { name: "cp-1", ip: "192.0.2.11", role: "controlplane", version: "v1.13.9" },
    { name: "cp-2", ip: "192.0.2.12", role: "controlplane", version: "v1.13.9" },
    { name: "cp-3", ip: "192.0.2.13", role: "controlplane", version: "v1.13.9" },
    { name: "new-1", ip: "192.0.2.21", role: "worker", version: "v1.13.9" },
    { name: "old-1", ip: "192.0.2.22", role: "worker", version: "v1.12.11" },
    { name: "bad-1", ip: "192.0.2.23", role: "worker", version: "v1.13.9", installerExitCode: 3 },
    { name: "gone-1", ip: "192.0.2.24", role: "worker", version: "v1.13.9", onUpgradeBoot: "never-returns" },
  ]);
  fake.rebootDowntimeMs = 40;
  admin = connectTalos({ endpoint: fake.address, tls: tlsFromClientConfiguration(clientConfiguration(pki)), defaultTimeoutMs: 10_000, maxReconnectBackoffMs: 100 });
  reader = connectTalos({ endpoint: fake.address, tls: tlsFromClientConfiguration(clientConfiguration(pki, "reader")), defaultTimeoutMs: 10_000 });
});

afterAll(async () => {
  admin.close();
  reader.close();
  await fake.stop();
});

describe("pull and upgrade", () => {
  test("1.13: ImageService.Pull, then LifecycleService.Upgrade; the version changes only after a reboot", async () => {
    await expect(pullImage(admin, "new-1", IMAGE)).resolves.toBe("lifecycle");
    await expect(upgradeNode(admin, "new-1", IMAGE, "v1.13.9")).resolves.toBe("lifecycle");
    expect(fake.callsTo("ImageService/Pull")).toEqual(["new-1"]);
    expect(fake.callsTo("LifecycleService/Upgrade")).toEqual(["new-1"]);
    await expect(getVersion(admin, "new-1")).resolves.toBe("v1.13.9");
    const before = await getBootId(admin, "new-1");
    await reboot(admin, "new-1");
    await expect(waitUntilRebooted(admin, "new-1", before, FAST_WAIT)).resolves.toMatchObject({ by: "boot-id" });
    await expect(getVersion(admin, "new-1")).resolves.toBe("v1.13.10");
  });

  test("1.12: Pull falls back to the legacy ImagePull on UNIMPLEMENTED, and the legacy Upgrade reboots by itself", async () => {
    await expect(pullImage(admin, "old-1", IMAGE)).resolves.toBe("legacy");
    expect(fake.callsTo("MachineService/ImagePull")).toEqual(["old-1"]);
    const before = await getBootId(admin, "old-1");
    await expect(upgradeNode(admin, "old-1", IMAGE, "v1.12.11")).resolves.toBe("legacy");
    expect(fake.callsTo("LifecycleService/Upgrade")).not.toContain("old-1");
    expect(fake.callsTo("MachineService/Upgrade")).toEqual(["old-1"]);
    await waitUntilRebooted(admin, "old-1", before, FAST_WAIT);
    await expect(getVersion(admin, "old-1")).resolves.toBe("v1.13.10");
  });

  test("a non-zero installer exit code on a stream that ends OK is a failure", async () => {
    await pullImage(admin, "bad-1", IMAGE);
    await expect(upgradeNode(admin, "bad-1", IMAGE, "v1.13.9")).rejects.toThrow(
      `upgrade to ${IMAGE} on bad-1: installer exited with 3 (last output: install failed)`,
    );
  });

  test("upgrading without pulling first surfaces the node's error", async () => {
    await expect(upgradeNode(admin, "cp-3", "factory.talos.dev/installer/abc123:v9.9.9", "v1.13.9")).rejects.toThrow(/not found in containerd store/);
  });
});

describe("waiting for a reboot", () => {
  test("without the admin role Read is denied; the wait falls back to Version answering after a drop", async () => {
    await expect(getBootId(reader, "cp-2")).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    const bootTime = await getBootTime(reader, "cp-2");
    fake.reboot(fake.node("cp-2"));
    await expect(waitUntilRebooted(reader, "cp-2", "stale-boot-id", FAST_WAIT)).resolves.toEqual({ by: "version-after-drop" });
    expect(Number(await getBootTime(reader, "cp-2"))).toBeGreaterThan(Number(bootTime));
  });

  test("a node that never comes back times out, naming the node and the last error", async () => {
    await pullImage(admin, "gone-1", IMAGE);
    await upgradeNode(admin, "gone-1", IMAGE, "v1.13.9");
    const before = await getBootId(admin, "gone-1");
    await reboot(admin, "gone-1");
    const error = await waitUntilRebooted(admin, "gone-1", before, { ...FAST_WAIT, timeoutMs: 400, callTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TalosApiError);
    expect((error as Error).message).toMatch(/^wait for reboot on gone-1: not back after 400 ms \(last: read \/proc\/sys\/kernel\/random\/boot_id on gone-1: (UNAVAILABLE|DEADLINE_EXCEEDED)/);
  });
});

describe("etcd and services", () => {
  test("member ids above 2^53 keep every digit", async () => {
    const members = await etcdMemberList(admin, "cp-1");
    expect(members.map((m) => m.id)).toEqual(["18000000000000000001", "18000000000000000002", "18000000000000000003"]);
    expect(members[0]).toMatchObject({ hostname: "cp-1", peer_urls: ["https://192.0.2.11:2380"], is_learner: false });
    const status = await etcdStatus(admin, "cp-1");
    expect(status).toMatchObject({ member_id: "18000000000000000001", leader: "18000000000000000001", errors: [] });
  });

  test("etcd is Running and healthy in the service list", async () => {
    expect(serviceProblem(await listServices(admin, "cp-1"), "etcd")).toBeUndefined();
    expect(serviceProblem(await listServices(admin, "new-1"), "etcd")).toBe("service etcd not found");
  });

  test("forfeit leadership, remove a member by id (unknown id = NOT_FOUND)", async () => {
    await expect(etcdForfeitLeadership(admin, "cp-1")).resolves.toBe("cp-2");
    expect(fake.leaderId).toBe("18000000000000000002");
    await etcdRemoveMemberById(admin, "cp-1", "18000000000000000003");
    expect(fake.members.map((m) => m.hostname)).toEqual(["cp-1", "cp-2"]);
    await expect(etcdRemoveMemberById(admin, "cp-1", "18000000000000000003")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(etcdRemoveMemberById(admin, "cp-1", "1e3")).rejects.toThrow("member id must be a decimal uint64");
  });

  test("etcd calls on a worker fail with the node's error", async () => {
    await expect(etcdMemberList(admin, "new-1")).rejects.toThrow("etcd member list on new-1: FAILED_PRECONDITION: etcd is not available on worker nodes");
  });
});

describe("reset, kubeconfig, configuration", () => {
  test("graceful reset wipes STATE and EPHEMERAL without reboot, then the node goes down", async () => {
    await resetGraceful(admin, "bad-1");
    expect(fake.node("bad-1").resetRequest).toEqual({
      graceful: true,
      reboot: false,
      system_partitions_to_wipe: [
        { label: "STATE", wipe: true },
        { label: "EPHEMERAL", wipe: true },
      ],
      user_disks_to_wipe: [],
      mode: "ALL",
    });
    await waitUntilDown(admin, "bad-1", FAST_WAIT);
  });

  test("the kubeconfig stream is untarred (Talos leaves the tar unterminated)", async () => {
    fake.kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n";
    await expect(getKubeconfig(admin, "cp-1")).resolves.toBe(fake.kubeconfig);
  });

  test("configuration is applied with NO_REBOOT by default", async () => {
    const reply = await applyConfiguration(admin, "cp-1", "version: v1alpha1\n");
    expect(reply).toMatchObject({ mode: "NO_REBOOT", mode_details: "Applied configuration without a reboot" });
    expect(fake.node("cp-1").appliedModes).toEqual(["NO_REBOOT"]);
  });
});
