import { taskModulePath } from "../components/taskModule";
import { needsRollout, upgradePlan, upgradeProvider, type UpgradeState } from "../components/talosUpgrade";
import { validateConfig } from "../components/validate";
import { base, node } from "./helpers/configCases";

const IMAGE_A = "factory.talos.dev/metal-installer/aaa:v1.12.11";
const IMAGE_B = "factory.talos.dev/metal-installer/aaa:v1.13.9";
const spec = validateConfig({
  ...base(),
  talosVersion: "v1.13.9",
  nodes: [node(1), node(2), node(3), node(4, { role: "worker" }), node(5, { role: "worker" }), node(6, { role: "worker" })],
}).spec;

const state = (extra: Partial<UpgradeState> = {}): UpgradeState => ({
  nodes: spec.nodes.map((n) => ({ name: n.name, ip: n.ip, role: n.role })),
  image: IMAGE_A,
  targetVersion: "v1.12.11",
  workerBatchSize: 1,
  plan: [],
  clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" },
  ...extra,
});

/** The task module the provider loads, replaced by a recorder. */
const runUpgrade = jest.fn(async (input: { nodes: { name: string }[]; targetVersion: string }) => ({
  versions: Object.fromEntries(input.nodes.map((n) => [n.name, input.targetVersion])),
  upgraded: input.nodes.map((n) => n.name),
  skipped: [],
}));
const readVersions = jest.fn(async () => ({ "talos-demo-01": "v1.13.9" }));
jest.doMock(taskModulePath(), () => ({ runUpgrade, readVersions }));
beforeEach(() => jest.clearAllMocks());

describe("the rollout plan the preview shows", () => {
  test("control planes one per step, then workers in batches, each with the target and image", () => {
    expect(upgradePlan(spec, 2, IMAGE_B)).toEqual([
      `1. talos-demo-01 → v1.13.9 (${IMAGE_B})`,
      `2. talos-demo-02 → v1.13.9 (${IMAGE_B})`,
      `3. talos-demo-03 → v1.13.9 (${IMAGE_B})`,
      `4. talos-demo-04, talos-demo-05 → v1.13.9 (${IMAGE_B})`,
      `5. talos-demo-06 → v1.13.9 (${IMAGE_B})`,
    ]);
  });

  test("only an image or version change means a rollout", () => {
    expect(needsRollout(state(), state({ image: IMAGE_B, targetVersion: "v1.13.9" }))).toBe(true);
    expect(needsRollout(state(), state({ image: "factory.talos.dev/metal-installer/bbb:v1.12.11" }))).toBe(true);
    expect(needsRollout(state(), state({ workerBatchSize: 3 }))).toBe(false);
  });
});

describe("the upgrade resource's provider", () => {
  test("create records every node at the target and reaches no node", async () => {
    const created = await upgradeProvider.create!(state());
    expect(created.outs.versions).toEqual(Object.fromEntries(spec.nodes.map((n) => [n.name, "v1.12.11"])));
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(readVersions).not.toHaveBeenCalled();
  });

  test("diff (what preview runs) reports the change without reaching a node", async () => {
    expect(await upgradeProvider.diff!("id", state(), state({ image: IMAGE_B, targetVersion: "v1.13.9" }))).toMatchObject({ changes: true, replaces: [] });
    expect(await upgradeProvider.diff!("id", state(), state())).toMatchObject({ changes: false });
    expect(runUpgrade).not.toHaveBeenCalled();
  });

  test("a new version rolls over the nodes that existed; nodes added in the same update are installed fresh", async () => {
    const olds = state({ nodes: state().nodes.filter((n) => n.name !== "talos-demo-06"), versions: {} });
    const news = state({ image: IMAGE_B, targetVersion: "v1.13.9" });
    const updated = await upgradeProvider.update!("id", olds, news);
    expect(runUpgrade).toHaveBeenCalledTimes(1);
    expect(runUpgrade.mock.calls[0][0]).toMatchObject({
      nodes: olds.nodes,
      endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"],
      image: IMAGE_B,
      targetVersion: "v1.13.9",
      reinstall: false,
      clientConfiguration: { clientKey: "KEY" },
    });
    expect(updated.outs.versions).toEqual(Object.fromEntries(spec.nodes.map((n) => [n.name, "v1.13.9"])));
  });

  test("a new image at the same version (extensions, kernel args) reinstalls every node", async () => {
    await upgradeProvider.update!("id", state(), state({ image: "factory.talos.dev/metal-installer/bbb:v1.12.11" }));
    expect(runUpgrade.mock.calls[0][0]).toMatchObject({ reinstall: true });
  });

  test("anything else (nodes, batch size) is bookkeeping: no node is reached", async () => {
    const updated = await upgradeProvider.update!("id", state({ versions: { "talos-demo-01": "v1.12.11" } }), state({ workerBatchSize: 2 }));
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(updated.outs).toMatchObject({ workerBatchSize: 2, versions: { "talos-demo-01": "v1.12.11" } });
  });

  test("a failed rollout fails the update, so the state keeps the old inputs and the next up resumes", async () => {
    runUpgrade.mockRejectedValueOnce(new Error("version after reboot on talos-demo-02: expected v1.13.9, saw v1.12.11"));
    await expect(upgradeProvider.update!("id", state(), state({ image: IMAGE_B, targetVersion: "v1.13.9" }))).rejects.toThrow(/talos-demo-02/);
  });

  test("refresh reads what each node runs", async () => {
    const read = await upgradeProvider.read!("id", state());
    expect(readVersions).toHaveBeenCalledWith(expect.objectContaining({ endpoints: ["10.0.10.11", "10.0.10.12", "10.0.10.13"], nodes: state().nodes }));
    expect(read.props).toMatchObject({ versions: { "talos-demo-01": "v1.13.9" } });
  });

  test("delete reaches no node", async () => {
    await upgradeProvider.delete!("id", state());
    expect(runUpgrade).not.toHaveBeenCalled();
    expect(readVersions).not.toHaveBeenCalled();
  });
});
