import { missingConnectionProblem, nodesToReboot, rebootReasons, rebootsProvider, withPendingMarks, type BootState, type RebootsState } from "../resources/talosReboots";
import { taskModulePath } from "../resources/taskModule";
import { readPendingChanges } from "../engines/proxmoxReboot";
import { startFakeProxmox } from "./helpers/fakeProxmox";

const runRolledReboot = jest.fn(async (input: { only: string[] }) => input.only);
// The refresh path reads the fake Proxmox over HTTPS with the real engine function.
const readPending = jest.fn(readPendingChanges);
jest.doMock(taskModulePath(), () => ({ runRolledReboot, readPendingChanges: readPending }));
beforeEach(() => jest.clearAllMocks());

const TOKEN = "pulumi@pve!reboots=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const CONNECTION = { endpoint: "https://pve.example.test:8006/", apiToken: TOKEN };
const VMS = { "cp-1": { host: "pve1", vmId: 101 }, "w-1": { host: "pve2", vmId: 102 } };

const boot = (extra: Partial<BootState> = {}): BootState => ({ vm: "pve/101", hardware: { cores: 4, memory: 8192 }, staged: "", ...extra });
const state = (wanted: Record<string, BootState>, booted?: Record<string, BootState>, extra: Partial<RebootsState> = {}): RebootsState => ({
  nodes: [
    { name: "cp-1", ip: "10.0.0.11", role: "controlplane" },
    { name: "w-1", ip: "10.0.0.21", role: "worker" },
  ],
  workerBatchSize: 1,
  wanted,
  clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" },
  booted,
  vms: VMS,
  proxmoxConnection: CONNECTION,
  ...extra,
});
const booted = { "cp-1": boot(), "w-1": boot() };
const moreMemory = boot({ hardware: { cores: 4, memory: 16384 } });

describe("which nodes wait for a reboot, and why", () => {
  test("new hardware on the same VM, or a newly staged config", () => {
    expect(nodesToReboot(booted, { "cp-1": boot({ hardware: { cores: 8, memory: 8192 } }), "w-1": boot() })).toEqual(["cp-1"]);
    expect(nodesToReboot(booted, { "cp-1": boot(), "w-1": boot({ staged: "abc" }) })).toEqual(["w-1"]);
  });
  test("not a new node, not a new VM (it boots with what it has), not a staged config already rebooted into", () => {
    expect(nodesToReboot({}, { "cp-1": boot({ hardware: { cores: 8 } }) })).toEqual([]);
    expect(nodesToReboot({ "cp-1": boot() }, { "cp-1": boot({ vm: "pve2/101", hardware: { cores: 8 } }) })).toEqual([]);
    expect(nodesToReboot({ "cp-1": boot({ staged: "abc" }) }, { "cp-1": boot({ staged: "abc" }) })).toEqual([]);
  });
  test("hardware (also with a staged config) needs Proxmox; a staged config alone needs Talos", () => {
    const wanted = { "cp-1": boot({ hardware: { cores: 8, memory: 8192 }, staged: "abc" }), "w-1": boot({ staged: "abc" }) };
    expect(rebootReasons(booted, wanted)).toEqual({ hardware: ["cp-1"], staged: ["w-1"] });
  });
  test("what Proxmox holds pending marks the node as waiting for hardware; nothing pending unmarks it", () => {
    const marked = withPendingMarks(booted, { "w-1": ["memory"] });
    expect(rebootReasons(marked, booted)).toEqual({ hardware: ["w-1"], staged: [] });
    expect(withPendingMarks(marked, { "w-1": [] })).toEqual(booted);
  });
});

describe("the reboot resource's provider", () => {
  test("create records what every node booted with and reaches no node", async () => {
    const created = await rebootsProvider.create!(state(booted));
    expect(created.outs.booted).toEqual(booted);
    expect(runRolledReboot).not.toHaveBeenCalled();
  });

  test("a hardware change reboots that node through the Proxmox API with the connection and its VM", async () => {
    const wanted = { "cp-1": boot(), "w-1": moreMemory };
    const updated = await rebootsProvider.update!("id", state(booted, booted), state(wanted));
    expect(runRolledReboot).toHaveBeenCalledWith(
      expect.objectContaining({ only: ["w-1"], endpoints: ["10.0.0.11"], workerBatchSize: 1, proxmox: { connection: CONNECTION, throughProxmox: { "w-1": VMS["w-1"] } } }),
    );
    expect(updated.outs.booted).toEqual(wanted);
  });

  test("a staged-config-only reboot goes through Talos (no Proxmox part)", async () => {
    await rebootsProvider.update!("id", state(booted, booted), state({ ...booted, "w-1": boot({ staged: "abc" }) }));
    expect(runRolledReboot).toHaveBeenCalledWith(expect.objectContaining({ only: ["w-1"], proxmox: undefined }));
  });

  test("preview refuses a hardware change without a Proxmox connection, naming the fix; a staged config passes", async () => {
    const noConnection = (wanted: Record<string, BootState>) => state(wanted, undefined, { proxmoxConnection: undefined });
    await expect(rebootsProvider.diff!("id", state(booted, booted), noConnection({ ...booted, "w-1": moreMemory }))).rejects.toThrow(missingConnectionProblem(["w-1"]));
    expect(missingConnectionProblem(["w-1"])).toMatch(/^nodes w-1: cores, memory or PCI devices changed .*\(TalosProxmoxCluster args `proxmox: \{ endpoint, apiToken \}`/);
    await expect(rebootsProvider.diff!("id", state(booted, booted), noConnection({ ...booted, "w-1": boot({ staged: "abc" }) }))).resolves.toMatchObject({ changes: true });
    await expect(rebootsProvider.update!("id", state(booted, booted), noConnection({ ...booted, "w-1": moreMemory }))).rejects.toThrow("nodes w-1: cores, memory");
    expect(runRolledReboot).not.toHaveBeenCalled();
  });

  test("nothing waits: no node is reached", async () => {
    await rebootsProvider.update!("id", state(booted, booted), { ...state(booted), workerBatchSize: 3 });
    expect(runRolledReboot).not.toHaveBeenCalled();
  });

  test("a failed reboot fails the update, so the records stay and the next up reboots what still waits", async () => {
    runRolledReboot.mockRejectedValueOnce(new Error("wait for reboot on w-1: expected the node back with a new boot id"));
    await expect(rebootsProvider.update!("id", state(booted, booted), state({ ...booted, "w-1": boot({ staged: "abc" }) }))).rejects.toThrow(/w-1/);
  });
});

describe("pulumi refresh", () => {
  test("shows what Proxmox holds pending per node; such a node then waits and the next up reboots it through Proxmox", async () => {
    const pve = await startFakeProxmox({ apiToken: TOKEN, vms: Object.values(VMS).map((vm) => ({ ...vm, config: { cores: 4, memory: 8192 } })) });
    try {
      pve.setConfig(102, { memory: 16384 });
      const old = state(booted, booted, { proxmoxConnection: { endpoint: pve.endpoint, apiToken: TOKEN, insecure: true } });
      const read = await rebootsProvider.read!("id", old);
      expect(read.props.pending).toEqual({ "cp-1": [], "w-1": ["memory"] });
      expect(nodesToReboot(read.props.booted, read.props.wanted)).toEqual(["w-1"]);

      await expect(rebootsProvider.diff!("id", read.props, old)).resolves.toMatchObject({ changes: true });
      const updated = await rebootsProvider.update!("id", read.props, old);
      expect(runRolledReboot).toHaveBeenCalledWith(expect.objectContaining({ only: ["w-1"], proxmox: expect.objectContaining({ throughProxmox: { "w-1": VMS["w-1"] } }) }));
      expect(updated.outs.pending).toEqual({ "cp-1": [], "w-1": [] });
    } finally {
      await pve.stop();
    }
  });

  test("without a Proxmox connection it reads nothing", async () => {
    const old = state(booted, booted, { proxmoxConnection: undefined });
    await expect(rebootsProvider.read!("id", old)).resolves.toEqual({ id: "id", props: old });
    expect(readPending).not.toHaveBeenCalled();
  });
});
