// Scale-down over the fake apid and in-memory Kubernetes: workers, control planes that leave etcd
// themselves, dead control planes removed by member id through another one, and quorum refusals.
import { RolloutError } from "../talosapi";
import { removeNode } from "../engines";
import { fakeControlPlane, fakeWorker, milestones, useFakeClusters } from "./helpers/fakeCluster";

const cp = fakeControlPlane;
const worker = fakeWorker;

const start = useFakeClusters();

test("worker: drain, graceful reset (STATE + EPHEMERAL, no reboot), delete the Node", async () => {
  const c = await start([cp(1), worker(1), worker(2)]);
  c.kube.addPod("w-1", "web");
  await expect(removeNode({ nodes: c.nodes, node: "w-1" }, c.deps)).resolves.toEqual({ node: "w-1", reachable: true, removedMemberId: undefined });
  expect(milestones(c.timeline)).toEqual(["kube cordon w-1", "kube evict default/web", "MachineService/Reset w-1", "kube delete w-1"]);
  expect(c.talos.node("w-1")).toMatchObject({ up: false, resetRequest: { graceful: true, reboot: false } });
});

test("unreachable worker: no drain or reset, the Node is deleted", async () => {
  const c = await start([cp(1), worker(1, { down: true })]);
  await expect(removeNode({ nodes: c.nodes, node: "w-1" }, c.deps)).resolves.toMatchObject({ reachable: false });
  expect(milestones(c.timeline)).toEqual(["kube delete w-1"]);
});

test("control plane (etcd leader): drain, forfeit leadership, leave etcd, reset, delete; members shrink to two", async () => {
  const c = await start([cp(1), cp(2), cp(3), worker(1)]);
  await removeNode({ nodes: c.nodes, node: "cp-1" }, c.deps);
  expect(milestones(c.timeline)).toEqual([
    "kube cordon cp-1",
    "MachineService/EtcdForfeitLeadership cp-1",
    "MachineService/EtcdLeaveCluster cp-1",
    "MachineService/Reset cp-1",
    "kube delete cp-1",
  ]);
  expect(c.talos.members.map((m) => m.hostname)).toEqual(["cp-2", "cp-3"]);
});

test("dead control plane: its member is removed by id through another control plane", async () => {
  const c = await start([cp(1), cp(2), cp(3, { down: true })]);
  const result = await removeNode({ nodes: c.nodes, node: "cp-3" }, c.deps);
  expect(result).toEqual({ node: "cp-3", reachable: false, removedMemberId: "18000000000000000003" });
  expect(milestones(c.timeline)).toEqual(["MachineService/EtcdRemoveMemberByID cp-1", "kube delete cp-3"]);
  expect(c.talos.members.map((m) => m.hostname)).toEqual(["cp-1", "cp-2"]);
});

test("assumeUnreachable takes the remove-by-id path for a node that answers but is broken", async () => {
  const c = await start([cp(1), cp(2), cp(3)]);
  await expect(removeNode({ nodes: c.nodes, node: "cp-2", assumeUnreachable: true }, c.deps)).resolves.toMatchObject({ removedMemberId: "18000000000000000002" });
  expect(c.talos.callsTo("MachineService/Reset")).toEqual([]);
});

test("quorum refusals: last control plane, two members with one dead, an unhealthy member", async () => {
  const last = await start([cp(1), worker(1)]);
  await expect(removeNode({ nodes: last.nodes, node: "cp-1" }, last.deps)).rejects.toThrow("remove control plane on cp-1: expected at least one other control plane, saw none (it is the last)");
  await last.stop();

  const pair = await start([cp(1), cp(2, { down: true })]);
  const error = await removeNode({ nodes: pair.nodes, node: "cp-2" }, pair.deps).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RolloutError);
  expect(error).toMatchObject({ node: "cp-2", expected: "at least 2 live etcd members", seen: "1 of 2" });
  expect(milestones(pair.timeline)).toEqual([]);
  await pair.stop();

  const sick = await start([cp(1), cp(2, { etcdUnhealthy: true }), cp(3)]);
  await expect(removeNode({ nodes: sick.nodes, node: "cp-3" }, sick.deps)).rejects.toMatchObject({
    step: "remove control plane",
    seen: "cp-2: etcd reports etcdserver: request timed out; cp-2: service etcd is not healthy: context deadline exceeded",
  });
  expect(milestones(sick.timeline)).toEqual([]);
});

test("a second control-plane removal in one update must keep the quorum of the etcd the update started with", async () => {
  const c = await start([cp(1), cp(2), cp(3)]);
  // What the task module remembers for the process: the count at the first removal.
  let first: number | undefined;
  const membersAtFirstRemoval = (now: number) => {
    const seen = first;
    first ??= now;
    return seen;
  };
  await removeNode({ nodes: c.nodes, node: "cp-2", membersAtFirstRemoval }, c.deps);
  expect(first).toBe(3);
  // Even with a node list that no longer names cp-2 (so every listed member is healthy), 2 → 1 is refused.
  const remaining = c.nodes.filter((n) => n.name !== "cp-2");
  await expect(removeNode({ nodes: remaining, node: "cp-3", membersAtFirstRemoval }, c.deps)).rejects.toMatchObject({
    expected: "at least 2 etcd members left (the quorum of the 3 this update started with)",
    seen: expect.stringMatching(/^1 after this removal/),
  });
  expect(c.talos.members.map((m) => m.hostname)).toEqual(["cp-1", "cp-3"]);
});
