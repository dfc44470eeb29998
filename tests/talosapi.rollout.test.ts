// The rollout engine end to end over the fake apid (real client, mutual TLS) and an in-memory
// Kubernetes: order across nodes, A/B rollback stops it, resume, unreachable node, etcd gates,
// a drain blocked by a PodDisruptionBudget, the legacy path for 1.12 nodes, rolled reboots.
import { RolloutError } from "../talosapi";
import { installerSchematic, rolledReboot, rollout, type RolloutEvent } from "../engines";
import { FAST_TIMEOUTS, NEVER_MS, fakeControlPlane, fakeWorker, milestones, timingOutOn, useFakeClusters, type FakeCluster } from "./helpers/fakeCluster";

const TARGET = "v1.13.10";
const IMAGE = `factory.talos.dev/installer/abc123:${TARGET}`;

const cp = fakeControlPlane;
const worker = fakeWorker;

const start = useFakeClusters();

const input = (c: FakeCluster, workerBatchSize = 1) => ({ nodes: c.nodes, image: IMAGE, targetVersion: TARGET, workerBatchSize, timeouts: FAST_TIMEOUTS });

/** Per-node milestones for a lifecycle (1.13) upgrade, in order. */
const upgradeSteps = (node: string) => [`ImageService/Pull ${node}`, `LifecycleService/Upgrade ${node}`, `kube cordon ${node}`, `MachineService/Reboot ${node}`, `kube uncordon ${node}`];

test("control planes one at a time, then workers in batches; a 1.12 node takes the legacy path", async () => {
  const c = await start([cp(1), cp(2), cp(3), worker(1), worker(2), worker(3, { version: "v1.12.11" })]);
  c.kube.addPod("w-1", "web-1");
  const events: RolloutEvent[] = [];
  const result = await rollout(input(c, 2), { ...c.deps, onEvent: (e) => events.push(e) });

  expect(result).toMatchObject({ upgraded: ["cp-1", "cp-2", "cp-3", "w-1", "w-2", "w-3"], skipped: [] });
  expect(c.talos.nodes.map((n) => n.version)).toEqual(Array(6).fill(TARGET));
  const steps = milestones(c.timeline);
  // Control planes strictly one after the other.
  expect(steps.slice(0, 15)).toEqual([...upgradeSteps("cp-1"), ...upgradeSteps("cp-2"), ...upgradeSteps("cp-3")]);
  // w-1 and w-2 form one batch; the legacy node w-3 is drained before its Upgrade and not rebooted by us.
  const batch = steps.slice(15, 26);
  const w1 = upgradeSteps("w-1");
  expect(batch.filter((s) => s.endsWith(" w-1") || s.endsWith("/web-1"))).toEqual([...w1.slice(0, 3), "kube evict default/web-1", ...w1.slice(3)]);
  expect(batch.filter((s) => s.endsWith(" w-2"))).toEqual(upgradeSteps("w-2"));
  expect(steps.slice(26)).toEqual(["ImageService/Pull w-3", "MachineService/ImagePull w-3", "kube cordon w-3", "MachineService/Upgrade w-3", "kube uncordon w-3"]);
  // Every control plane was gated: member list and etcd status before its upgrade.
  expect(events.filter((e) => e.step === "etcd healthy").map((e) => e.node)).toEqual(["cp-1", "cp-2", "cp-3"]);
  expect(c.kube.unschedulable.size).toBe(0);
});

test("an A/B rollback stops the rollout naming node, expected and seen; a second run resumes", async () => {
  const c = await start([cp(1), cp(2, { onUpgradeBoot: "rollback" }), cp(3), worker(1)]);
  const error = await rollout(input(c), c.deps).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RolloutError);
  expect(error).toMatchObject({ node: "cp-2", expected: TARGET, seen: "v1.13.9 (booted the previous image: A/B rollback)" });
  expect((error as Error).message).toBe(
    `version after reboot on cp-2: expected ${TARGET}, saw v1.13.9 (booted the previous image: A/B rollback); cp-2 uncordoned again, as talosctl upgrade does after a failure`,
  );
  // Nothing after cp-2 was touched; cp-2 runs its previous image and is schedulable again
  // (siderolabs/talos v1.13.9 cmd/talosctl/cmd/talos/upgrade.go:155-165 uncordons in a defer).
  expect(milestones(c.timeline).filter((s) => / (cp-3|w-1)$/.test(s))).toEqual([]);
  expect(milestones(c.timeline).filter((s) => s.endsWith(" cp-2")).slice(-2)).toEqual(["MachineService/Reboot cp-2", "kube uncordon cp-2"]);
  expect(c.kube.unschedulable.size).toBe(0);

  c.talos.node("cp-2").onUpgradeBoot = "clean";
  c.timeline.length = 0;
  const second = await rollout(input(c), c.deps);
  expect(second.skipped).toEqual(["cp-1"]);
  expect(second.upgraded).toEqual(["cp-2", "cp-3", "w-1"]);
  expect(milestones(c.timeline).filter((s) => s.endsWith(" cp-1"))).toEqual([]);
  expect(c.talos.nodes.map((n) => n.version)).toEqual(Array(4).fill(TARGET));

  c.timeline.length = 0;
  const third = await rollout(input(c), c.deps);
  expect(third).toMatchObject({ upgraded: [], skipped: ["cp-1", "cp-2", "cp-3", "w-1"] });
  expect(milestones(c.timeline)).toEqual([]);
});

// Two Image Factory schematic IDs (sha256 hex): the running image and one with other extensions.
const OLD_SCHEMATIC = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";
const NEW_SCHEMATIC = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515";

test("a fallback to the previous image with the same version is caught by its schematic; reruns skip nodes on version and schematic", async () => {
  const onOld = { version: TARGET, schematic: OLD_SCHEMATIC };
  const c = await start([cp(1, onOld), cp(2, { ...onOld, onUpgradeBoot: "rollback" }), cp(3, onOld), worker(1, onOld)]);
  const imageOnly = { ...input(c), image: `factory.talos.dev/nocloud-installer/${NEW_SCHEMATIC}:${TARGET}`, reinstall: true };
  const error = await rollout(imageOnly, c.deps).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RolloutError);
  expect(error).toMatchObject({ node: "cp-2", step: "schematic after reboot", expected: NEW_SCHEMATIC });
  expect((error as Error).message).toContain(`saw ${OLD_SCHEMATIC} (booted the previous image: A/B rollback)`);
  expect(milestones(c.timeline).filter((s) => / (cp-3|w-1)$/.test(s))).toEqual([]);

  c.talos.node("cp-2").onUpgradeBoot = "clean";
  c.timeline.length = 0;
  const second = await rollout(imageOnly, c.deps);
  expect(second).toMatchObject({ skipped: ["cp-1"], upgraded: ["cp-2", "cp-3", "w-1"] });
  expect(c.talos.nodes.map((n) => n.schematic)).toEqual(Array(4).fill(NEW_SCHEMATIC));

  c.timeline.length = 0;
  const third = await rollout(imageOnly, c.deps);
  expect(third).toMatchObject({ upgraded: [], skipped: ["cp-1", "cp-2", "cp-3", "w-1"] });
  expect(milestones(c.timeline)).toEqual([]);
});

test("extension statuses not yet published right after the boot are waited for, not taken for a rollback", async () => {
  const c = await start([cp(1, { version: TARGET, schematic: OLD_SCHEMATIC, extensionsLateReads: 2 })]);
  const image = `factory.talos.dev/nocloud-installer/${NEW_SCHEMATIC}:${TARGET}`;
  await expect(rollout({ ...input(c), image, reinstall: true }, c.deps)).resolves.toMatchObject({ upgraded: ["cp-1"] });
  expect(c.talos.node("cp-1").schematic).toBe(NEW_SCHEMATIC);
});

test("installerSchematic reads the schematic of a factory installer reference only", () => {
  expect(installerSchematic(`factory.talos.dev/metal-installer/${NEW_SCHEMATIC}:v1.13.9`)).toBe(NEW_SCHEMATIC);
  expect(installerSchematic(`factory.talos.dev/installer/${NEW_SCHEMATIC}:v1.13.9@sha256:${OLD_SCHEMATIC}`)).toBe(NEW_SCHEMATIC);
  expect(installerSchematic("ghcr.io/siderolabs/installer:v1.13.9")).toBeUndefined();
  expect(installerSchematic("factory.talos.dev/installer/abc123:v1.13.9")).toBeUndefined();
});

test("a node that never comes back stops the rollout before the next batch", async () => {
  const c = await start([cp(1, { version: TARGET }), worker(1, { onUpgradeBoot: "never-returns" }), worker(2)]);
  const error = await rollout(input(c), timingOutOn(c, "w-1")).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RolloutError);
  expect((error as Error).message).toMatch(
    new RegExp(`^wait for reboot on w-1: expected the node back on ${TARGET}, saw not back after ${NEVER_MS} ms \\(last: read /proc/sys/kernel/random/boot_id on 192.0.2.21: (UNAVAILABLE|DEADLINE_EXCEEDED)`),
  );
  expect(milestones(c.timeline).filter((s) => s.endsWith(" w-2"))).toEqual([]);
});

test("an unhealthy etcd member refuses the rollout before anything changes", async () => {
  const c = await start([cp(1), cp(2, { etcdUnhealthy: true }), cp(3), worker(1)]);
  const error = await rollout(input(c), c.deps).catch((e: unknown) => e);
  expect(error).toMatchObject({ node: "cp-1", step: "etcd gate", expected: "every etcd member started and healthy" });
  expect((error as RolloutError).seen).toBe("cp-2: etcd reports etcdserver: request timed out; cp-2: service etcd is not healthy: context deadline exceeded");
  expect(milestones(c.timeline)).toEqual([]);
});

test("two etcd members are refused (one down loses quorum); a single control plane passes", async () => {
  const two = await start([cp(1), cp(2)]);
  await expect(rollout(input(two), two.deps)).rejects.toMatchObject({ step: "etcd gate", seen: "2 members" });
  expect(milestones(two.timeline)).toEqual([]);
  await two.stop();

  const one = await start([cp(1)]);
  await expect(rollout(input(one), one.deps)).resolves.toMatchObject({ upgraded: ["cp-1"] });
});

test("a drain blocked by a PodDisruptionBudget fails naming the pod, before any reboot", async () => {
  const c = await start([cp(1, { version: TARGET }), worker(1), worker(2)]);
  c.kube.addPod("w-1", "db-0", { namespace: "data", blockedEvictions: Infinity });
  const error = await rollout(input(c), timingOutOn(c, "w-1")).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RolloutError);
  expect((error as Error).message).toBe(
    "upgrade on w-1: expected the node on v1.13.10, saw drain: eviction of pod data/db-0 still blocked by a PodDisruptionBudget (429) when the drain timed out; " +
      "w-1 uncordoned again, as talosctl upgrade does after a failure",
  );
  expect(c.talos.callsTo("MachineService/Reboot")).toEqual([]);
  expect(c.kube.unschedulable.size).toBe(0);
  expect(milestones(c.timeline).filter((s) => s.endsWith(" w-2"))).toEqual([]);
});

test("a rerun uncordons nodes already on the target that a failed run left cordoned, and only those", async () => {
  const c = await start([cp(1, { version: TARGET }), worker(1, { version: TARGET }), worker(2)]);
  // Left by a run that died after w-1's reboot (the process was killed, or the uncordon failed).
  c.kube.unschedulable.add("w-1");
  const result = await rollout(input(c), c.deps);
  expect(result).toMatchObject({ skipped: ["cp-1", "w-1"], upgraded: ["w-2"] });
  expect(milestones(c.timeline)[0]).toBe("kube uncordon w-1");
  expect(milestones(c.timeline).filter((s) => s === "kube uncordon cp-1")).toEqual([]);
  expect(c.kube.unschedulable.size).toBe(0);
});

test("a failed uncordon after a failure is reported, not hidden", async () => {
  const c = await start([cp(1, { version: TARGET }), worker(1)]);
  c.kube.addPod("w-1", "db-0", { namespace: "data", blockedEvictions: Infinity });
  const setUnschedulable = c.kube.setUnschedulable.bind(c.kube);
  c.kube.setUnschedulable = async (name, value) => (value ? setUnschedulable(name, value) : Promise.reject(new Error("PATCH node w-1: HTTP 503")));
  const error = await rollout(input(c), timingOutOn(c, "w-1")).catch((e: unknown) => e);
  expect((error as Error).message).toMatch(/; w-1 is still cordoned \(uncordon failed: PATCH node w-1: HTTP 503\): run kubectl uncordon w-1 or run the upgrade again$/);
});

test("input checks: image tag must match the target, a control plane is needed", async () => {
  const c = await start([cp(1)]);
  await expect(rollout({ ...input(c), image: "factory.talos.dev/installer/abc:v1.13.8" }, c.deps)).rejects.toThrow(
    "installer image tag v1.13.8 does not match the target version v1.13.10",
  );
  await expect(rollout({ ...input(c), nodes: [] }, c.deps)).rejects.toThrow("the node list has no control plane");
  expect(c.timeline).toEqual([]);
});

test("rolledReboot: control planes one at a time with etcd gates, then workers; boot ids change", async () => {
  const c = await start([cp(1), cp(2), cp(3), worker(1), worker(2)]);
  const bootIds = c.talos.nodes.map((n) => n.bootId);
  const rebooted = await rolledReboot({ nodes: c.nodes, only: ["w-2", "cp-3", "cp-1"], timeouts: FAST_TIMEOUTS }, c.deps);
  expect(rebooted).toEqual(["cp-1", "cp-3", "w-2"]);
  expect(milestones(c.timeline)).toEqual(["cp-1", "cp-3", "w-2"].flatMap((n) => [`kube cordon ${n}`, `MachineService/Reboot ${n}`, `kube uncordon ${n}`]));
  expect(c.talos.nodes.map((n, i) => n.bootId !== bootIds[i])).toEqual([true, false, true, false, true]);
  await expect(rolledReboot({ nodes: c.nodes, only: ["nope"] }, c.deps)).rejects.toThrow("node nope is not in the node list");
});

test("rolledReboot: a node whose drain fails is uncordoned again and the error says so", async () => {
  const c = await start([cp(1), worker(1)]);
  c.kube.addPod("w-1", "db-0", { namespace: "data", blockedEvictions: Infinity });
  const error = await rolledReboot({ nodes: c.nodes, only: ["w-1"], timeouts: FAST_TIMEOUTS }, timingOutOn(c, "w-1")).catch((e: unknown) => e);
  expect(error).toMatchObject({ node: "w-1", step: "reboot", note: "w-1 uncordoned again, as talosctl upgrade does after a failure" });
  expect(c.talos.callsTo("MachineService/Reboot")).toEqual([]);
  expect(c.kube.unschedulable.size).toBe(0);
});
