import { imageArgs, nodeSummaries } from "../components/talosProxmoxCluster";
import { talosconfigArgs } from "../components/talosCluster";
import { validateConfig } from "../config/validate";
import { base, node } from "./helpers/configCases";

const spec = (extra: Record<string, unknown> = {}) =>
  validateConfig({
    ...base(),
    nodes: [node(1, { host: "pve1" }), node(2, { host: "pve2" }), node(3, { host: "pve2" }), node(4, { host: "pve2", role: "worker" })],
    ...extra,
  }).spec;

describe("TalosProxmoxCluster builders", () => {
  test("the image is downloaded to each node's host, or once through proxmoxNode on shared storage", () => {
    expect(imageArgs(spec(), undefined)).toMatchObject({ hosts: ["pve1", "pve2", "pve2", "pve2"], sharedIsoHost: undefined });
    expect(imageArgs(spec({ isoDatastoreShared: true, proxmoxNode: "pve9" }), undefined)).toMatchObject({ sharedIsoHost: "pve9" });
  });

  test("the nodes output pairs each node with its own VM's ID, by name", () => {
    const ids = { "talos-demo-01": 1011, "talos-demo-02": 1012, "talos-demo-03": 1013, "talos-demo-04": 1014 };
    expect(nodeSummaries(spec(), ids).map((n) => [n.name, n.role, n.host, n.vmId])).toEqual([
      ["talos-demo-01", "controlplane", "pve1", 1011],
      ["talos-demo-02", "controlplane", "pve2", 1012],
      ["talos-demo-03", "controlplane", "pve2", 1013],
      ["talos-demo-04", "worker", "pve2", 1014],
    ]);
  });

  test("talosconfig endpoints are the control planes only, never the VIP; nodes are every node", () => {
    const args = talosconfigArgs(spec(), { caCertificate: "", clientCertificate: "", clientKey: "" });
    expect(args.endpoints).toEqual(["10.0.10.11", "10.0.10.12", "10.0.10.13"]);
    expect(args.nodes).toEqual(["10.0.10.11", "10.0.10.12", "10.0.10.13", "10.0.10.14"]);
  });
});
