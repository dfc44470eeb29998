import * as YAML from "yaml";
import { validateTalosPatch } from "../config/talosSchema/checkDocuments";
import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, runProgram, stackConfig } from "./helpers/program";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const ISO = "proxmoxve:download/file:File";
const MACHINE_CONFIG = "talos:machine/getConfiguration:getConfiguration";
const UPGRADE = "pulumi-nodejs:dynamic:Resource";

const NODES: [string, string, "controlplane" | "worker"][] = [
  ["cp-1", "10.0.40.11", "controlplane"],
  ["cp-2", "10.0.40.12", "controlplane"],
  ["cp-3", "10.0.40.13", "controlplane"],
  ["worker-1", "10.0.40.21", "worker"],
  ["worker-2", "10.0.40.22", "worker"],
];

/** The example of static addressing: nocloud image and installer, cloud-init drives, LinkConfig, no DHCP. */
describe("program with Pulumi.static.yaml", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...stackConfig("static"), ...PROXMOX_CONFIG }, { stack: "static" });
  });

  const vm = (name: string) => unwrap(run.mocks.ofType(VM).find((r) => r.name === `cluster-${name}`)!.inputs) as Record<string, unknown>;
  const patches = (node: string) => {
    const call = run.mocks
      .callsOf(MACHINE_CONFIG)
      .find((c) => (unwrap(c.inputs) as { configPatches: string[] }).configPatches.some((p) => p.includes(`hostname: "${node}"`)))!;
    return (unwrap(call.inputs) as { configPatches: string[] }).configPatches;
  };
  const docs = (node: string) => patches(node).flatMap((p) => YAML.parseAllDocuments(p).map((d) => d.toJS() as Record<string, unknown>));
  const byKind = (node: string, kind: string) => docs(node).filter((d) => d.kind === kind);

  test("its persistent volumes: every node labelled with the default region and its host, the StorageClass on local-lvm", () => {
    for (const [name] of NODES) {
      const labels = docs(name).map((d) => (d.machine as { nodeLabels?: Record<string, string> } | undefined)?.nodeLabels).filter(Boolean);
      expect(labels).toEqual([{ "topology.kubernetes.io/region": "proxmox", "topology.kubernetes.io/zone": "pve" }]);
    }
    expect(run.values.storage).toEqual({ storageClass: "proxmox", provisioner: "csi.proxmox.sinextra.dev", datastore: "local-lvm", default: true });
    expect(run.mocks.ofType("kubernetes:helm.sh/v3:Release").map((r) => r.name)).toEqual(["cluster-csi-release"]);
  });

  test("the ISO is the nocloud one, and so is the installer every machine config installs", () => {
    const downloads = run.mocks.ofType(ISO).map((r) => unwrap(r.inputs) as { url: string; fileName: string });
    expect(downloads.map((d) => [d.url.split("/").pop(), d.fileName.endsWith("-nocloud-amd64.iso")])).toEqual([["nocloud-amd64.iso", true]]);
    expect(String(run.values.installerImage)).toMatch(/^factory\.talos\.dev\/nocloud-installer\/[0-9a-f]+:v1\.13\.9$/);
    for (const [name] of NODES) {
      expect(docs(name)).toContainEqual({ machine: { install: { disk: "/dev/sda", image: run.values.installerImage } } });
    }
  });

  test("every VM gets a cloud-init drive with its own address, the gateway and the DNS servers", () => {
    for (const [name, ip] of NODES) {
      expect([name, vm(name).initialization]).toEqual([
        name,
        {
          datastoreId: "local-lvm",
          interface: "ide0",
          ipConfigs: [{ ipv4: { address: `${ip}/24`, gateway: "10.0.40.1" } }],
          dns: { servers: ["10.0.40.1", "1.1.1.1"] },
        },
      ]);
      expect(vm(name).cdrom).toMatchObject({ interface: "ide2" });
    }
  });

  test("every Talos config carries the same address and default route, the resolvers, and no DHCP", () => {
    for (const [name, ip] of NODES) {
      expect([name, byKind(name, "LinkConfig")]).toEqual([
        name,
        [{ apiVersion: "v1alpha1", kind: "LinkConfig", name: "eth0", addresses: [{ address: `${ip}/24` }], routes: [{ gateway: "10.0.40.1" }] }],
      ]);
      expect([name, byKind(name, "DHCPv4Config")]).toEqual([name, []]);
      expect(byKind(name, "ResolverConfig")).toEqual([
        { apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: [{ address: "10.0.40.1" }, { address: "1.1.1.1" }] },
      ]);
    }
  });

  test("the VIP on the control planes' eth0, none on the workers", () => {
    for (const [name, , role] of NODES) {
      const vip = role === "controlplane" ? [{ apiVersion: "v1alpha1", kind: "Layer2VIPConfig", name: "10.0.40.10", link: "eth0" }] : [];
      expect([name, byKind(name, "Layer2VIPConfig")]).toEqual([name, vip]);
    }
    expect(run.values.endpoint).toBe("https://10.0.40.10:6443");
  });

  test("every node's patches are valid Talos 1.13 config", () => {
    for (const [name] of NODES) {
      for (const patch of patches(name)) expect([name, validateTalosPatch(patch).problems]).toEqual([name, []]);
    }
  });

  test("the config applies reach each node at its static address", () => {
    const applies = run.mocks.ofType("talos:machine/configurationApply:ConfigurationApply").map((r) => [r.name, unwrap(r.inputs.node)]);
    expect(applies.sort()).toEqual(NODES.map(([name, ip]) => [`cluster-apply-${name}`, ip]).sort());
  });

  test("the upgrade resource records the static network, so a later switch or move is refused before anything changes", () => {
    const upgrade = run.mocks.ofType(UPGRADE).find((r) => r.name === "cluster-upgrade")!;
    expect(unwrap(upgrade.inputs.addressing)).toEqual({ cidr: "10.0.40.0/24", gateway: "10.0.40.1" });
  });
});
