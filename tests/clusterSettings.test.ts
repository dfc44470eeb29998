import * as YAML from "yaml";
import { configPatches, nodePatches, rolePatches } from "../config/patches";
import { bootHardware } from "../resources/talosReboots";
import { validateTalosPatch } from "../config/talosSchema/checkDocuments";
import { vmArgs } from "../components/talosVm";
import { validateConfig } from "../config/validate";
import { pciIdCredentialProblems } from "../stack/proxmoxConnection";
import { base, node } from "./helpers/configCases";

const INSTALLER = "factory.talos.dev/metal-installer/abc123:v1.13.9";
const worker = (i: number, extra: Record<string, unknown> = {}) => node(i, { role: "worker", ...extra });
const specOf = (extra: Record<string, unknown>) => validateConfig({ ...base(), ...extra }).spec;
const nodeNamed = (spec: ReturnType<typeof specOf>, name: string) => spec.nodes.find((n) => n.name === name)!;

describe("role defaults: one rule, a node's own value, else its role's, else the cluster-wide key", () => {
  const spec = specOf({
    cores: 2,
    memory: 4096,
    controlPlane: { cores: 4 },
    worker: { cores: 8, memory: 32768, diskSize: 64, extraDisks: [{ size: 200 }] },
    nodes: [node(1), node(2, { cores: 6 }), node(3), worker(4), worker(5, { memory: 8192, extraDisks: [] })],
  });

  test.each([
    ["talos-demo-01", 4, 4096, 32],
    ["talos-demo-02", 6, 4096, 32],
    ["talos-demo-04", 8, 32768, 64],
    ["talos-demo-05", 8, 8192, 64],
  ])("%s: cores %d, memory %d, disk %d", (name, cores, memory, diskSize) => {
    expect(nodeNamed(spec, name)).toMatchObject({ cores, memory, diskSize });
  });

  test("a role's extra disks go to each of its nodes on diskDatastore; a node's own list (even empty) wins", () => {
    expect(nodeNamed(spec, "talos-demo-04").extraDisks).toEqual([{ size: 200, datastore: "local-lvm" }]);
    expect(nodeNamed(spec, "talos-demo-05").extraDisks).toEqual([]);
    expect(nodeNamed(spec, "talos-demo-01").extraDisks).toEqual([]);
  });
});

describe("the user's patches add up: cluster, then role, then node, after the program's own", () => {
  const spec = specOf({
    patches: ["machine:\n  sysctls:\n    a: '1'\n"],
    controlPlane: { patches: ["machine:\n  sysctls:\n    b: '2'\n"] },
    worker: { patches: ["machine:\n  sysctls:\n    c: '3'\n"] },
    nodes: [node(1, { patches: ["machine:\n  sysctls:\n    a: '9'\n"] }), node(2), node(3), worker(4)],
  });

  test("each node gets the cluster's, its role's and its own, in that order", () => {
    expect(nodeNamed(spec, "talos-demo-01").patches.map((p) => p.source)).toEqual(["patches[0]", "controlPlane.patches[0]", "nodes[0].patches[0]"]);
    expect(nodeNamed(spec, "talos-demo-04").patches.map((p) => p.source)).toEqual(["patches[0]", "worker.patches[0]"]);
  });

  test("they come last in the node's config patches, so a node's patch wins over everything", () => {
    const node1 = nodeNamed(spec, "talos-demo-01");
    const all = configPatches(spec, node1, INSTALLER);
    const own = [...rolePatches(spec, "controlplane"), ...nodePatches(spec, node1, INSTALLER)];
    expect(all.slice(0, own.length)).toEqual(own);
    expect(all.slice(own.length)).toEqual(node1.patches.map((p) => p.text));
  });
});

describe("DNS, NTP and manifests are rendered as Talos 1.13 config, valid against its schema", () => {
  const spec = specOf({
    network: { nameservers: ["1.1.1.1", "2606:4700:4700::1111"], timeServers: ["time.cloudflare.com", "10.0.10.1"] },
    extraManifests: ["https://github.com/org/app/releases/download/v1.2.3/app.yaml"],
    inlineManifests: [{ name: "ns", contents: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n" }],
    nodes: [node(1), node(2), node(3), worker(4)],
  });
  const docs = (name: string) => configPatches(spec, nodeNamed(spec, name), INSTALLER).flatMap((p) => YAML.parseAllDocuments(p).map((d) => d.toJS()));

  test("every node gets a ResolverConfig and a TimeSyncConfig document", () => {
    for (const name of ["talos-demo-01", "talos-demo-04"]) {
      expect(docs(name)).toContainEqual({ apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: [{ address: "1.1.1.1" }, { address: "2606:4700:4700::1111" }] });
      expect(docs(name)).toContainEqual({ apiVersion: "v1alpha1", kind: "TimeSyncConfig", ntp: { servers: ["time.cloudflare.com", "10.0.10.1"] } });
    }
  });

  test("manifests go to control planes only, so a manifest change never touches a worker's config", () => {
    const manifests = { cluster: { extraManifests: spec.talos.extraManifests, inlineManifests: spec.talos.inlineManifests } };
    expect(docs("talos-demo-01")).toContainEqual(manifests);
    expect(docs("talos-demo-04").some((d) => d.cluster?.inlineManifests || d.cluster?.extraManifests?.includes(spec.talos.extraManifests[0]))).toBe(false);
  });

  test("every patch the program renders passes the Talos v1.13 schema", () => {
    for (const n of spec.nodes) {
      for (const patch of configPatches(spec, n, INSTALLER)) expect([n.name, validateTalosPatch(patch).problems]).toEqual([n.name, []]);
    }
  });

  test("nothing without the keys: no resolver, time or extra manifest documents", () => {
    const plain = specOf({});
    const text = configPatches(plain, plain.nodes[0], INSTALLER).join("\n");
    expect(text).not.toMatch(/ResolverConfig|TimeSyncConfig|inlineManifests/);
  });
});

describe("extra disks and PCI passthrough on the VM", () => {
  const spec = specOf({
    nodes: [
      node(1, { extraDisks: [{ size: 100 }, { size: 500, datastore: "tank" }] }),
      node(2, { pci: [{ mapping: "gpu", pcie: true }, { id: "0000:02:00.0" }] }),
      node(3),
    ],
  });
  const argsOf = (name: string) =>
    vmArgs({ node: nodeNamed(spec, name), clusterName: "demo-cluster", isoFileId: "local:iso/t.iso", cpuType: "host", diskDatastore: "local-lvm", bridge: "vmbr0", guestAgent: true });

  test("extra disks follow the system disk as scsi1, scsi2 on their datastores", () => {
    expect(argsOf("talos-demo-01").disks).toEqual([
      expect.objectContaining({ interface: "scsi0", size: 32, datastoreId: "local-lvm" }),
      expect.objectContaining({ interface: "scsi1", size: 100, datastoreId: "local-lvm", fileFormat: "raw" }),
      expect.objectContaining({ interface: "scsi2", size: 500, datastoreId: "tank" }),
    ]);
  });

  test("devices become hostpci0, hostpci1 with the ROM on by default; a PCIe device switches the VM to q35", () => {
    const args = argsOf("talos-demo-02");
    expect(args.hostpcis).toEqual([
      { device: "hostpci0", mapping: "gpu", pcie: true, rombar: true, xvga: false },
      { device: "hostpci1", id: "0000:02:00.0", pcie: false, rombar: true, xvga: false },
    ]);
    expect(args.machine).toBe("q35");
    expect(argsOf("talos-demo-03")).toMatchObject({ hostpcis: undefined, machine: undefined });
  });

  test("a VM's passthrough devices are part of what it boots with (a change is rebooted into effect)", () => {
    expect(bootHardware(nodeNamed(spec, "talos-demo-02"))).toHaveProperty("pci");
    expect(bootHardware(nodeNamed(spec, "talos-demo-03"))).toEqual({ cores: 4, memory: 8192 });
  });
});

describe("raw PCI IDs and the Proxmox login", () => {
  const nodes = [node(1, { pci: [{ id: "0000:01:00.0" }] }), node(2, { pci: [{ mapping: "gpu" }] })];
  test("an API token (even root's) is refused for a raw ID, naming the key and both ways out", () => {
    const problems = pciIdCredentialProblems(nodes, { "proxmoxve:apiToken": "root@pam!t=1" }, {});
    expect(problems).toEqual([expect.stringMatching(/^nodes\[0\]\.pci\[0\]\.id: a raw PCI device needs the Proxmox login root@pam with a password .*an API token; or use a resource mapping/)]);
  });
  test("root@pam with a password may pass raw IDs; mappings never need it", () => {
    expect(pciIdCredentialProblems(nodes, { "proxmoxve:username": "root@pam", "proxmoxve:password": "x" }, {})).toEqual([]);
    expect(pciIdCredentialProblems([nodes[1]], { "proxmoxve:apiToken": "u@pve!t=1" }, {})).toEqual([]);
  });
  test("another user with a password is refused too", () => {
    expect(pciIdCredentialProblems(nodes, {}, { PROXMOX_VE_USERNAME: "admin@pve", PROXMOX_VE_PASSWORD: "x" })).toEqual([
      expect.stringContaining("logs in with user admin@pve"),
    ]);
  });
});
