// etcd snapshots before risky steps, over the fake apid's EtcdSnapshot stream (real client, mutual
// TLS): the file as `talosctl bootstrap --recover-from` reads it, modes, retention, temp-then-rename,
// the snapshot source, a failure that stops the step before any node is touched, and
// `backups.required: false`. The clock is injected; nothing waits on wall time.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RolloutError } from "../talosapi";
import { SnapshotIntegrity } from "../talosapi/snapshot";
import { etcdBackup, removeNode, upgradeKubernetes, rolledReboot, rollout, snapshotFileName, snapshotFiles, snapshotsToPrune, type RolloutEvent } from "../engines";
import { fakeSnapshotBytes } from "./helpers/fakeTalos";
import { FAST_TIMEOUTS, fakeControlPlane, fakeWorker, milestones, useFakeClusters, type FakeCluster } from "./helpers/fakeCluster";

const cp = fakeControlPlane;
const worker = fakeWorker;
const start = useFakeClusters();

const TARGET = "v1.13.10";
const IMAGE = `factory.talos.dev/installer/abc123:${TARGET}`;
const AT = new Date(Date.UTC(2026, 11, 2, 14, 30, 0));

/** A clock that advances one minute per reading, from AT. */
function minuteClock(): () => Date {
  let minutes = 0;
  return () => new Date(AT.getTime() + 60_000 * minutes++);
}

let dir: string;
beforeEach(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "snapshots-")), "backups", "dev");
});

const settings = (extra: Partial<{ keep: number; required: boolean }> = {}) => ({ dir, stack: "dev", keep: 10, required: true, ...extra });
/** What the backup told the user (stderr in the provider host). */
let notices: string[];
beforeEach(() => {
  notices = [];
});
const withBackup = (c: FakeCluster, extra: Partial<{ keep: number; required: boolean }> = {}, now = minuteClock()) => ({
  ...c.deps,
  backup: etcdBackup(settings(extra), now, (m) => notices.push(m)),
});
const files = () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
const mode = (p: string) => fs.statSync(p).mode & 0o777;
const upgrade = (c: FakeCluster) => ({ nodes: c.nodes, image: IMAGE, targetVersion: TARGET, timeouts: FAST_TIMEOUTS });

describe("the snapshot file", () => {
  test("names: stack, sortable UTC time, reason; unsafe characters replaced", () => {
    expect(snapshotFileName("dev", AT, "upgrade-cp-1")).toBe("dev-20261202T143000Z-upgrade-cp-1.db");
    expect(snapshotFileName("dev", AT, "../x y")).toBe("dev-20261202T143000Z-x-y.db");
  });

  test("retention keeps the newest of the stack's snapshots and leaves other files alone", () => {
    const names = ["dev-20261202T143200Z-b.db", "dev-20261202T143000Z-a.db", "prod-20261101T000000Z-a.db", "notes.txt", "dev-20261202T143100Z-c.db"];
    expect(snapshotsToPrune(names, "dev", 2)).toEqual(["dev-20261202T143000Z-a.db"]);
  });

  test("etcd's integrity rule: size % 512 == 32 and the last 32 bytes the SHA-256 of the rest", () => {
    const check = (bytes: Buffer) => {
      const integrity = new SnapshotIntegrity();
      for (let at = 0; at < bytes.length; at += 777) integrity.update(bytes.subarray(at, at + 777));
      return integrity.problem();
    };
    const good = fakeSnapshotBytes("cp-1");
    expect(check(good)).toBeUndefined();
    expect(check(good.subarray(0, 4096))).toMatch(/no etcd integrity hash at the end \(size 4096 bytes/);
    const bad = Buffer.from(good);
    bad[5] ^= 1;
    expect(check(bad)).toMatch(/does not match the data: the snapshot is corrupt/);
  });

  test("written to a hidden .part file, renamed only when complete; directory 0700, file 0600", async () => {
    const store = snapshotFiles({ dir, stack: "dev", keep: 10, now: () => AT });
    const bytes = fakeSnapshotBytes("cp-2");
    let during: string[] = [];
    const saved = await store.save("upgrade-cp-1", async (write) => {
      write(bytes.subarray(0, 5000));
      during = files();
      write(bytes.subarray(5000));
    });
    expect(during).toEqual([".dev-20261202T143000Z-upgrade-cp-1.db.part"]);
    expect(saved).toEqual({ path: path.join(dir, "dev-20261202T143000Z-upgrade-cp-1.db"), bytes: bytes.length });
    expect(files()).toEqual(["dev-20261202T143000Z-upgrade-cp-1.db"]);
    expect(fs.readFileSync(saved.path).equals(bytes)).toBe(true);
    expect(mode(dir)).toBe(0o700);
    expect(mode(saved.path)).toBe(0o600);
  });

  test("an incomplete stream leaves no file, neither the snapshot nor its .part", async () => {
    const store = snapshotFiles({ dir, stack: "dev", keep: 10, now: () => AT });
    const failing = store.save("x", async (write) => {
      write(fakeSnapshotBytes("cp-1").subarray(0, 4096));
      throw new Error("stream dropped");
    });
    await expect(failing).rejects.toThrow("stream dropped");
    const truncated = store.save("x", async (write) => write(fakeSnapshotBytes("cp-1").subarray(0, 4096)));
    await expect(truncated).rejects.toThrow(/no etcd integrity hash/);
    expect(files()).toEqual([]);
  });
});

describe("before risky steps, over the fake apid", () => {
  test("a rollout snapshots from another control plane before the first node is touched; the file is the stream's bytes", async () => {
    const c = await start([cp(1), cp(2), cp(3), worker(1)]);
    const events: RolloutEvent[] = [];
    await rollout(upgrade(c), { ...withBackup(c), onEvent: (e) => events.push(e) });
    // Taken from cp-2, not cp-1 (the first to change), before cp-1's first step.
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-2"]);
    const first = c.timeline.indexOf("MachineService/EtcdSnapshot cp-2");
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(c.timeline.indexOf("ImageService/Pull cp-1"));
    expect(files()).toEqual(["dev-20261202T143000Z-upgrade-cp-1.db"]);
    expect(fs.readFileSync(path.join(dir, files()[0])).equals(fakeSnapshotBytes("cp-2"))).toBe(true);
    expect(events.find((e) => e.step === "etcd snapshot saved")).toMatchObject({ node: "cp-1", detail: expect.stringContaining("from cp-2") });
    expect(notices).toEqual([`etcd snapshot before upgrade-cp-1 written to ${path.join(dir, files()[0])} (from cp-2)`]);
  });

  test("a failed snapshot stops the rollout before any node is touched, and the error says how to go on", async () => {
    const c = await start([cp(1), cp(2, { snapshotFault: "fails" }), cp(3), worker(1)]);
    const error = await rollout(upgrade(c), withBackup(c)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolloutError);
    expect((error as Error).message).toMatch(/^etcd snapshot before the change on cp-1: expected a complete snapshot written to backups\.dir, saw .*request timed out\. Nothing was changed; .*set backups\.required: false/);
    expect(milestones(c.timeline)).toEqual([]);
    expect(c.talos.nodes.map((n) => n.version)).toEqual(Array(4).fill("v1.13.9"));
    expect(files()).toEqual([]);
  });

  test("a corrupt snapshot (hash mismatch) counts as failed", async () => {
    const c = await start([cp(1), cp(2, { snapshotFault: "corrupt" }), cp(3)]);
    await expect(rollout(upgrade(c), withBackup(c))).rejects.toThrow(/snapshot is corrupt/);
    expect(milestones(c.timeline)).toEqual([]);
  });

  test("with required: false a failed snapshot is a warning and the rollout goes on", async () => {
    const c = await start([cp(1), cp(2, { snapshotFault: "truncated" }), cp(3)]);
    const events: RolloutEvent[] = [];
    const result = await rollout(upgrade(c), { ...withBackup(c, { required: false }), onEvent: (e) => events.push(e) });
    expect(result.upgraded).toEqual(["cp-1", "cp-2", "cp-3"]);
    expect(events.filter((e) => e.step.startsWith("warning"))).toEqual([
      { node: "cp-1", step: "warning: no etcd snapshot", detail: expect.stringMatching(/no etcd integrity hash .*\(backups\.required is false: going on without one\)$/) },
    ]);
    expect(files()).toEqual([]);
    expect(notices).toEqual([expect.stringMatching(/^warning: no etcd snapshot before upgrade-cp-1: no etcd integrity hash/)]);
  });

  test("retention across operations: only the newest `keep` stay", async () => {
    const c = await start([cp(1), cp(2), cp(3)]);
    const deps = withBackup(c, { keep: 2 });
    for (const node of ["cp-1", "cp-3", "cp-2"]) await rolledReboot({ nodes: c.nodes, only: [node], timeouts: FAST_TIMEOUTS }, deps);
    expect(files()).toEqual(["dev-20261202T143100Z-reboot-cp-3.db", "dev-20261202T143200Z-reboot-cp-2.db"]);
    // Each from the first healthy control plane other than the one rebooting.
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-2", "cp-1", "cp-1"]);
  });

  test("workers only: no control plane changes, no snapshot", async () => {
    const c = await start([cp(1), worker(1)]);
    await rolledReboot({ nodes: c.nodes, only: ["w-1"], timeouts: FAST_TIMEOUTS }, withBackup(c));
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual([]);
    expect(files()).toEqual([]);
  });

  test("removing a control plane snapshots from a remaining one first; a dead one too", async () => {
    const c = await start([cp(1), cp(2), cp(3, { down: true }), worker(1)]);
    await removeNode({ nodes: c.nodes, node: "cp-3" }, withBackup(c));
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-1"]);
    expect(c.timeline.indexOf("MachineService/EtcdSnapshot cp-1")).toBeLessThan(c.timeline.indexOf("MachineService/EtcdRemoveMemberByID cp-1"));
    expect(files()).toEqual(["dev-20261202T143000Z-remove-cp-3.db"]);
  });

  test("a failed snapshot stops a control plane's removal before the drain", async () => {
    const c = await start([cp(1, { snapshotFault: "fails" }), cp(2), cp(3)]);
    await expect(removeNode({ nodes: c.nodes, node: "cp-2" }, withBackup(c))).rejects.toThrow(/^etcd snapshot before the change on cp-2/);
    expect(milestones(c.timeline)).toEqual([]);
    expect(c.talos.members).toHaveLength(3);
  });

  test("a single control plane is snapshotted itself, before it changes", async () => {
    const c = await start([cp(1), worker(1)]);
    await rolledReboot({ nodes: c.nodes, only: ["cp-1"], timeouts: FAST_TIMEOUTS }, withBackup(c));
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-1"]);
    expect(c.timeline.indexOf("MachineService/EtcdSnapshot cp-1")).toBeLessThan(c.timeline.indexOf("MachineService/Reboot cp-1"));
  });

  test("a Kubernetes upgrade snapshots before its first pull or apply; a failure stops it there", async () => {
    const c = await start([cp(1), cp(2), cp(3)]);
    const cpImages = { kubelet: "ghcr.io/siderolabs/kubelet:v1.36.4", apiServer: "registry.k8s.io/kube-apiserver:v1.36.4", controllerManager: "registry.k8s.io/kube-controller-manager:v1.36.4", scheduler: "registry.k8s.io/kube-scheduler:v1.36.4" };
    const input = { nodes: c.nodes, targetVersion: "1.36.4", images: Object.fromEntries(c.nodes.map((n) => [n.name, cpImages])), timeouts: FAST_TIMEOUTS };
    c.talos.node("cp-2").snapshotFault = "fails";
    await expect(upgradeKubernetes(input, withBackup(c))).rejects.toThrow(/^etcd snapshot before the change on cp-1/);
    expect(milestones(c.timeline)).toEqual([]);
    c.talos.node("cp-2").snapshotFault = undefined;
    await upgradeKubernetes(input, withBackup(c));
    expect(c.talos.callsTo("MachineService/EtcdSnapshot")).toEqual(["cp-2", "cp-2"]);
    expect(c.timeline.lastIndexOf("MachineService/EtcdSnapshot cp-2")).toBeLessThan(c.timeline.findIndex((e) => e.startsWith("ImageService/Pull")));
    expect(files()).toEqual(["dev-20261202T143000Z-kubernetes-cp-1.db"]);
  });
});
