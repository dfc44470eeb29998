import * as fs from "node:fs";
import * as YAML from "yaml";
import { validateConfig } from "../config/validate";
import { PATCH_DIR, addressPatch, configPatches, nodePatches, rolePatches } from "../config/patches";
import { validateTalosPatch } from "../config/talosSchema/checkDocuments";
import { checkMergedConfig } from "../config/userPatches";
import { STATIC, base, node } from "./helpers/configCases";

const INSTALLER = "factory.talos.dev/metal-installer/abc123:v1.13.9";
const parse = (patches: string[]) => patches.map((p) => YAML.parse(p) as Record<string, unknown>);
const specOf = (extra: Record<string, unknown> = {}) => validateConfig({ ...base(), ...extra }).spec;
const byKind = (docs: Record<string, unknown>[], kind: string) => docs.filter((d) => d.kind === kind);

describe("static patches (one intent per file)", () => {
  test("every file is one YAML mapping with no environment addresses", () => {
    for (const file of fs.readdirSync(PATCH_DIR)) {
      const text = fs.readFileSync(`${PATCH_DIR}/${file}`, "utf8");
      expect(YAML.parseAllDocuments(text)).toHaveLength(1);
      expect([file, /\b\d{1,3}(\.\d{1,3}){3}\b/.test(text)]).toEqual([file, false]);
      expect([file, /\/(main|master)\//.test(text)]).toEqual([file, false]);
    }
  });

  test("control planes: scheduling allowed, serving-cert rotation with its approver, flannel", () => {
    const docs = parse(rolePatches(specOf(), "controlplane"));
    expect(docs).toContainEqual({ cluster: { allowSchedulingOnControlPlanes: true } });
    expect(docs).toContainEqual({ machine: { kubelet: { extraArgs: { "rotate-server-certificates": "true" } } } });
    expect(docs).toContainEqual({
      cluster: {
        extraManifests: [
          "https://raw.githubusercontent.com/alex1989hu/kubelet-serving-cert-approver/v0.11.0/deploy/standalone-install.yaml",
        ],
      },
    });
    expect(docs).toContainEqual({ cluster: { network: { cni: { name: "flannel" } } } });
  });

  test("workers: rotation and CNI only (no scheduling switch, no manifests)", () => {
    const docs = parse(rolePatches(specOf(), "worker"));
    expect(docs).toEqual([
      { machine: { kubelet: { extraArgs: { "rotate-server-certificates": "true" } } } },
      { cluster: { network: { cni: { name: "flannel" } } } },
    ]);
  });

  test("scheduling on control planes can be switched off", () => {
    const docs = parse(rolePatches(specOf({ allowSchedulingOnControlPlanes: false }), "controlplane"));
    expect(JSON.stringify(docs)).not.toContain("allowSchedulingOnControlPlanes");
  });

  test("CNI: custom carries the URLs, none disables it", () => {
    const urls = ["https://example.test/cni/v1.0.0/install.yaml"];
    expect(parse(rolePatches(specOf({ cni: "custom", cniUrls: urls }), "worker"))).toContainEqual({
      cluster: { network: { cni: { name: "custom", urls } } },
    });
    expect(parse(rolePatches(specOf({ cni: "none", workloadEnabled: false }), "worker"))).toContainEqual({
      cluster: { network: { cni: { name: "none" } } },
    });
  });
});

describe("per-node patches (Talos 1.13 documents)", () => {
  const spec = specOf();

  test("install disk and the factory installer of the schematic", () => {
    const docs = parse(nodePatches(spec, spec.nodes[0], INSTALLER));
    expect(docs).toContainEqual({ machine: { install: { disk: "/dev/sda", image: INSTALLER } } });
  });

  test("hostname, DHCP on eth0 and the VIP on control planes", () => {
    const docs = parse(nodePatches(spec, spec.nodes[1], INSTALLER));
    expect(byKind(docs, "HostnameConfig")).toEqual([
      { apiVersion: "v1alpha1", kind: "HostnameConfig", auto: "off", hostname: "talos-demo-02" },
    ]);
    expect(byKind(docs, "DHCPv4Config")).toEqual([{ apiVersion: "v1alpha1", kind: "DHCPv4Config", name: "eth0" }]);
    expect(byKind(docs, "Layer2VIPConfig")).toEqual([
      { apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: "10.0.10.10", link: "eth0" },
    ]);
  });

  test("no VIP on workers, nor without a VIP", () => {
    const withWorker = specOf({ nodes: [node(1), node(4, { role: "worker" })] });
    expect(byKind(parse(nodePatches(withWorker, withWorker.nodes[1], INSTALLER)), "Layer2VIPConfig")).toEqual([]);
    const { vip: _vip, ...noVip } = base();
    const spec2 = validateConfig(noVip).spec;
    expect(byKind(parse(nodePatches(spec2, spec2.nodes[0], INSTALLER)), "Layer2VIPConfig")).toEqual([]);
  });

  test("strings are quoted and never folded, so no YAML parser reads `off` as a boolean", () => {
    const hostname = nodePatches(spec, spec.nodes[0], INSTALLER)[1];
    expect(hostname).toContain('auto: "off"');
    for (const patch of rolePatches(spec, "controlplane")) expect(patch).not.toContain("\\\n");
  });

  test("nothing of the pre-1.12 contract: no machine.network, no install.extraKernelArgs", () => {
    const all = [...rolePatches(spec, "controlplane"), ...nodePatches(spec, spec.nodes[0], INSTALLER)];
    for (const doc of parse(all)) {
      const machine = (doc.machine ?? {}) as Record<string, Record<string, unknown>>;
      expect(machine.network).toBeUndefined();
      expect(machine.install?.extraKernelArgs).toBeUndefined();
    }
  });
});

describe("static addressing: the node's address, route and resolvers as Talos 1.13 documents, no DHCP", () => {
  const NOCLOUD = "factory.talos.dev/nocloud-installer/abc123:v1.13.9";
  const spec = specOf({
    network: { ...STATIC, nameservers: ["10.0.10.1", "1.1.1.1"] },
    nodes: [node(1), node(2), node(3), node(4, { role: "worker" })],
  });
  const docsOf = (i: number) => parse(configPatches(spec, spec.nodes[i], NOCLOUD));

  test("each node: a LinkConfig on eth0 with its address in the network's prefix and the default route", () => {
    expect(spec.nodes.map((_, i) => byKind(docsOf(i), "LinkConfig"))).toEqual(
      spec.nodes.map((n) => [
        { apiVersion: "v1alpha1", kind: "LinkConfig", name: "eth0", addresses: [{ address: `${n.ip}/24` }], routes: [{ gateway: "10.0.10.1" }] },
      ]),
    );
  });

  test("no DHCP document (a link document already stops Talos's default DHCP); resolvers from network.nameservers", () => {
    for (const i of [0, 3]) {
      expect(byKind(docsOf(i), "DHCPv4Config")).toEqual([]);
      expect(byKind(docsOf(i), "ResolverConfig")).toEqual([
        { apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: [{ address: "10.0.10.1" }, { address: "1.1.1.1" }] },
      ]);
    }
  });

  test("the VIP still rides on eth0 of the control planes only", () => {
    expect(byKind(docsOf(0), "Layer2VIPConfig")).toEqual([{ apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: "10.0.10.10", link: "eth0" }]);
    expect(byKind(docsOf(3), "Layer2VIPConfig")).toEqual([]);
  });

  test("every patch passes the Talos v1.13 schema, and the merged config of each node too", () => {
    for (const n of spec.nodes) {
      const patches = configPatches(spec, n, NOCLOUD);
      for (const patch of patches) expect([n.name, validateTalosPatch(patch).problems]).toEqual([n.name, []]);
      expect(checkMergedConfig(n.name, patches)).toEqual([]);
    }
  });

  test("a DHCP stack keeps its DHCPv4Config and has no LinkConfig", () => {
    const dhcp = specOf();
    expect(addressPatch(dhcp, dhcp.nodes[0])).toBe(nodePatches(dhcp, dhcp.nodes[0], INSTALLER)[2]);
    expect(parse([addressPatch(dhcp, dhcp.nodes[0])])).toEqual([{ apiVersion: "v1alpha1", kind: "DHCPv4Config", name: "eth0" }]);
  });
});
