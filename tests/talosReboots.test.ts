import { nodesToReboot, rebootsProvider, type BootState, type RebootsState } from "../resources/talosReboots";
import { taskModulePath } from "../resources/taskModule";

const runRolledReboot = jest.fn(async (input: { only: string[] }) => input.only);
jest.doMock(taskModulePath(), () => ({ runRolledReboot }));
beforeEach(() => jest.clearAllMocks());

const boot = (extra: Partial<BootState> = {}): BootState => ({ vm: "pve/101", hardware: { cores: 4, memory: 8192 }, staged: "", ...extra });
const state = (wanted: Record<string, BootState>, booted?: Record<string, BootState>): RebootsState => ({
  nodes: [
    { name: "cp-1", ip: "10.0.0.11", role: "controlplane" },
    { name: "w-1", ip: "10.0.0.21", role: "worker" },
  ],
  workerBatchSize: 1,
  wanted,
  clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" },
  booted,
});

describe("which nodes wait for a reboot", () => {
  test("new hardware on the same VM, or a newly staged config", () => {
    const booted = { "cp-1": boot(), "w-1": boot() };
    expect(nodesToReboot(booted, { "cp-1": boot({ hardware: { cores: 8, memory: 8192 } }), "w-1": boot() })).toEqual(["cp-1"]);
    expect(nodesToReboot(booted, { "cp-1": boot(), "w-1": boot({ staged: "abc" }) })).toEqual(["w-1"]);
  });
  test("not a new node, not a new VM (it boots with what it has), not a staged config already rebooted into", () => {
    expect(nodesToReboot({}, { "cp-1": boot({ hardware: { cores: 8 } }) })).toEqual([]);
    expect(nodesToReboot({ "cp-1": boot() }, { "cp-1": boot({ vm: "pve2/101", hardware: { cores: 8 } }) })).toEqual([]);
    expect(nodesToReboot({ "cp-1": boot({ staged: "abc" }) }, { "cp-1": boot({ staged: "abc" }) })).toEqual([]);
  });
});

describe("the reboot resource's provider", () => {
  test("create records what every node booted with and reaches no node", async () => {
    const created = await rebootsProvider.create!(state({ "cp-1": boot(), "w-1": boot() }));
    expect(created.outs.booted).toEqual({ "cp-1": boot(), "w-1": boot() });
    expect(runRolledReboot).not.toHaveBeenCalled();
  });

  test("update reboots only the nodes that wait, through the control planes, then records them as booted", async () => {
    const booted = { "cp-1": boot(), "w-1": boot() };
    const wanted = { "cp-1": boot(), "w-1": boot({ hardware: { cores: 4, memory: 16384 } }) };
    const updated = await rebootsProvider.update!("id", state(booted, booted), state(wanted));
    expect(runRolledReboot).toHaveBeenCalledWith(expect.objectContaining({ only: ["w-1"], endpoints: ["10.0.0.11"], workerBatchSize: 1 }));
    expect(updated.outs.booted).toEqual(wanted);
  });

  test("nothing waits: no node is reached", async () => {
    const booted = { "cp-1": boot(), "w-1": boot() };
    await rebootsProvider.update!("id", state(booted, booted), { ...state(booted), workerBatchSize: 3 });
    expect(runRolledReboot).not.toHaveBeenCalled();
  });

  test("a failed reboot fails the update, so the records stay and the next up reboots what still waits", async () => {
    runRolledReboot.mockRejectedValueOnce(new Error("wait for reboot on w-1: expected the node back with a new boot id"));
    const booted = { "cp-1": boot(), "w-1": boot() };
    await expect(rebootsProvider.update!("id", state(booted, booted), state({ ...booted, "w-1": boot({ staged: "abc" }) }))).rejects.toThrow(/w-1/);
  });
});
