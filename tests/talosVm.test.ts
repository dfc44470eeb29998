import { vmIdOffset } from "../config/network";
import { validateConfig } from "../config/validate";
import { TalosVm, cloudInit, vmArgs } from "../components/talosVm";
import { STATIC, base, node, talosVmArgs } from "./helpers/configCases";
import { RecordingMocks, settle, unwrap, useMocks, valueOf } from "../testkit/mocks";

const spec = validateConfig({ ...base(), cores: 8, memory: 16384, diskSize: 32 }).spec;
const argsFor = (i: number, extra: Partial<Parameters<typeof vmArgs>[0]> = {}) => ({ ...talosVmArgs(spec, i), ...extra });

describe("TalosVm", () => {
  test("the walk-through's VM: CPU host, 8 cores, 16 GiB, 32 GiB scsi0, ISO on ide2, disk first", () => {
    const args = vmArgs(argsFor(0));
    expect(args).toMatchObject({
      nodeName: "pve",
      name: "talos-demo-01",
      operatingSystem: { type: "l26" },
      cpu: { type: "host", cores: 8 },
      memory: { dedicated: 16384 },
      disks: [{ interface: "scsi0", datastoreId: "local-lvm", size: 32 }],
      cdrom: { fileId: "local:iso/talos.iso", interface: "ide2" },
      bootOrders: ["scsi0", "ide2"],
      tags: ["controlplane", "demo-cluster", "talos"],
    });
    expect(args.vmId).toBeUndefined();
  });

  test("virtio NIC on the bridge with the node's fixed MAC and optional VLAN", () => {
    expect(vmArgs(argsFor(1, { vlanId: 20 })).networkDevices).toEqual([
      { bridge: "vmbr0", model: "virtio", macAddress: spec.nodes[1].mac, vlanId: 20 },
    ]);
  });

  test("guest agent only with its extension; never waits for an agent IP", () => {
    expect(vmArgs(argsFor(0)).agent).toEqual({ enabled: true, trim: true, waitForIp: { disabled: true } });
    expect(vmArgs(argsFor(0, { guestAgent: false })).agent).toEqual({
      enabled: false,
      trim: false,
      waitForIp: { disabled: true },
    });
  });

  test("destroy stops the VM hard instead of waiting on ACPI, and removes its disks", () => {
    expect(vmArgs(argsFor(0))).toMatchObject({
      stopOnDestroy: true,
      purgeOnDestroy: true,
      deleteUnreferencedDisksOnDestroy: true,
    });
  });

  test("tags are sorted (Proxmox sorts them)", () => {
    const worker = validateConfig({ ...base(), clusterName: "alpha", nodes: [node(1), node(2, { role: "worker" })] })
      .spec.nodes[1];
    const tags = vmArgs({ ...argsFor(0), node: worker, clusterName: "alpha" }).tags as string[];
    expect(tags).toEqual([...tags].sort());
    expect(tags).toEqual(["alpha", "talos", "worker"]);
  });

  test("registers one VmLegacy under the component with the configured VM ID", async () => {
    const mocks = new RecordingMocks();
    useMocks(mocks);
    const withId = validateConfig({ ...base(), vmIdBase: 1011 }).spec.nodes[2];
    const vm = new TalosVm("talos-demo-03", { ...argsFor(2), node: withId });
    expect(await valueOf(vm.vmId)).toBe(1011 + vmIdOffset("talos-demo-03", 1000));
    await settle();
    const vms = mocks.ofType("proxmoxve:index/vmLegacy:VmLegacy");
    expect(vms).toHaveLength(1);
    expect(unwrap(vms[0].inputs)).toMatchObject({ vmId: 1011 + vmIdOffset("talos-demo-03", 1000), name: "talos-demo-03" });
    expect(mocks.ofType("talos-proxmox:vm:TalosVm")).toHaveLength(1);
  });
});

describe("TalosVm with static addressing: a cloud-init drive with the node's address", () => {
  const fixed = validateConfig({ ...base(), network: STATIC }).spec;
  const staticArgs = (i: number) => ({
    ...argsFor(i),
    node: fixed.nodes[i],
    diskDatastore: "ssd",
    staticAddress: { network: fixed.network.static!, nameservers: ["10.0.10.1", "1.1.1.1"] },
  });

  test("address in CIDR form, gateway and DNS servers on ide0 of the disk datastore", () => {
    expect(vmArgs(staticArgs(1)).initialization).toEqual({
      datastoreId: "ssd",
      interface: "ide0",
      ipConfigs: [{ ipv4: { address: "10.0.10.12/24", gateway: "10.0.10.1" } }],
      dns: { servers: ["10.0.10.1", "1.1.1.1"] },
    });
    expect(cloudInit(staticArgs(1))).toEqual(vmArgs(staticArgs(1)).initialization);
  });

  test("the drive never takes the ISO's slot, the boot order or a disk's interface; its format is Proxmox's default (nocloud)", () => {
    const args = vmArgs(staticArgs(0));
    const init = args.initialization as { interface: string; type?: string };
    const cdrom = args.cdrom as { interface: string };
    const disks = args.disks as { interface: string }[];
    expect(init.interface).not.toBe(cdrom.interface);
    expect(args.bootOrders).not.toContain(init.interface);
    expect(disks.map((d) => d.interface)).not.toContain(init.interface);
    // `type` is ForceNew in the provider: left unset so adding the drive never means a new VM.
    expect(init.type).toBeUndefined();
  });

  test("DHCP: no cloud-init drive at all", () => {
    expect(vmArgs(argsFor(0)).initialization).toBeUndefined();
    expect(cloudInit(argsFor(0))).toBeUndefined();
  });
});
