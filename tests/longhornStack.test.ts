import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { validateTalosPatch } from "../config/talosSchema/checkDocuments";
import { unwrap } from "../testkit/mocks";
import { PROXMOX_CONFIG, ProgramRun, ROOT, runProgram, stackConfig } from "./helpers/program";

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const MACHINE_CONFIG = "talos:machine/getConfiguration:getConfiguration";

interface VmInputs {
  name: string;
  disks: { interface: string; size: number }[];
  hostpcis?: { device: string; mapping?: string; pcie: boolean }[];
  machine?: string;
  memory: { dedicated: number };
  cpu: { cores: number };
}

/** The second example stack: patches at every level, DNS/NTP, role defaults, extra disks, a GPU, manifests. */
describe("program with Pulumi.longhorn.yaml", () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ ...stackConfig("longhorn"), ...PROXMOX_CONFIG }, { stack: "longhorn" });
  });

  const vm = (name: string) => unwrap(run.mocks.ofType(VM).find((r) => r.name === `cluster-${name}`)!.inputs) as VmInputs;
  /** Every document of the node's config patches, parsed. */
  const docs = (node: string) => {
    const call = run.mocks.callsOf(MACHINE_CONFIG).find((c) => (unwrap(c.inputs) as { configPatches: string[] }).configPatches.some((p) => p.includes(`hostname: "${node}"`)))!;
    return (unwrap(call.inputs) as { configPatches: string[] }).configPatches;
  };
  const parsed = (node: string) => docs(node).flatMap((p) => YAML.parseAllDocuments(p).map((d) => d.toJS() as Record<string, unknown>));
  const WORKERS = ["storage-1", "storage-2", "gpu-1"];
  const CONTROL_PLANES = ["cp-1", "cp-2", "cp-3"];

  test("role defaults size the VMs; a node's own memory wins", () => {
    expect(CONTROL_PLANES.map((n) => [vm(n).cpu.cores, vm(n).memory.dedicated])).toEqual(Array(3).fill([4, 8192]));
    expect(["storage-1", "storage-2"].map((n) => [vm(n).cpu.cores, vm(n).memory.dedicated])).toEqual(Array(2).fill([8, 16384]));
    expect([vm("gpu-1").cpu.cores, vm("gpu-1").memory.dedicated]).toEqual([8, 32768]);
  });

  test("every worker gets the 200 GiB extra disk as scsi1; control planes none", () => {
    for (const n of WORKERS) expect(vm(n).disks.map((d) => [d.interface, d.size])).toEqual([["scsi0", 32], ["scsi1", 200]]);
    for (const n of CONTROL_PLANES) expect(vm(n).disks).toHaveLength(1);
  });

  test("the GPU worker alone gets the mapped device as PCIe on a q35 machine", () => {
    expect(vm("gpu-1")).toMatchObject({ hostpcis: [{ device: "hostpci0", mapping: "gpu", pcie: true }], machine: "q35" });
    for (const n of [...CONTROL_PLANES, "storage-1"]) expect(vm(n).hostpcis).toBeUndefined();
  });

  test("the Longhorn patch file (kubelet mount, user volume on /dev/sdb) reaches the workers only", () => {
    const file = fs.readFileSync(path.join(ROOT, "examples", "longhorn", "longhorn.yaml"), "utf8");
    for (const n of WORKERS) {
      expect(docs(n)).toContain(file);
      expect(parsed(n)).toContainEqual(expect.objectContaining({ kind: "UserVolumeConfig", name: "longhorn" }));
    }
    for (const n of CONTROL_PLANES) expect(docs(n)).not.toContain(file);
  });

  test("the cluster patch reaches every node; the node patch only its node, last", () => {
    for (const n of [...CONTROL_PLANES, ...WORKERS]) {
      expect(parsed(n)).toContainEqual({ machine: { sysctls: { "fs.inotify.max_user_watches": "1048576" } } });
    }
    expect(parsed("gpu-1").at(-1)).toEqual({ machine: { nodeLabels: { "example.com/gpu": "true" } } });
    expect(parsed("storage-1")).not.toContainEqual({ machine: { nodeLabels: { "example.com/gpu": "true" } } });
  });

  test("DNS and NTP servers on every node; manifests on the control planes", () => {
    for (const n of [...CONTROL_PLANES, ...WORKERS]) {
      expect(parsed(n)).toContainEqual({ apiVersion: "v1alpha1", kind: "ResolverConfig", nameservers: [{ address: "10.0.30.1" }, { address: "1.1.1.1" }] });
      expect(parsed(n)).toContainEqual({ apiVersion: "v1alpha1", kind: "TimeSyncConfig", ntp: { servers: ["time.cloudflare.com"] } });
    }
    const manifests = (n: string) => parsed(n).find((d) => (d.cluster as { inlineManifests?: unknown })?.inlineManifests);
    for (const n of CONTROL_PLANES) {
      expect(manifests(n)).toMatchObject({
        cluster: {
          extraManifests: ["https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.9.0/components.yaml"],
          inlineManifests: [{ name: "longhorn-namespace" }],
        },
      });
    }
    for (const n of WORKERS) expect(manifests(n)).toBeUndefined();
  });

  test("the image carries the Longhorn extensions", () => {
    const schematic = run.mocks.ofType("talos:imageFactory/schematic:Schematic")[0];
    expect(String(unwrap(schematic.inputs.schematic))).toMatch(/siderolabs\/iscsi-tools[\s\S]*siderolabs\/util-linux-tools/);
  });

  test("every node's patches are valid Talos 1.13 config", () => {
    for (const n of [...CONTROL_PLANES, ...WORKERS]) {
      for (const patch of docs(n)) expect([n, validateTalosPatch(patch).problems]).toEqual([n, []]);
    }
  });
});
