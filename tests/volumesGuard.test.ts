import { diskChangeProblem, vmDisksChange, volumesAttachedTo, volumesOfDriver, volumesRemovalProblem } from "../engines/volumes";
import { FakeKube } from "./helpers/fakeKube";

const DRIVER = "csi.proxmox.sinextra.dev";
const pv = (name: string, driver: string, claim?: string, phase = "Bound") => ({
  metadata: { name },
  spec: { csi: { driver, volumeHandle: `proxmox/pve1/local-lvm/vm-9999-${name}` }, ...(claim ? { claimRef: { namespace: "apps", name: claim } } : {}) },
  status: { phase },
});

describe("the volumes of a CSI driver", () => {
  test("are the PersistentVolumes whose spec.csi.driver is the driver, with their claim and phase", async () => {
    const kube = new FakeKube([]);
    kube.collections.set("/api/v1/persistentvolumes", [pv("pvc-1", DRIVER, "data-db-0"), pv("pvc-2", "other.csi.example"), pv("pvc-3", DRIVER, undefined, "Released"), { metadata: { name: "nfs" }, spec: {} }]);
    expect(await volumesOfDriver(kube, DRIVER)).toEqual([
      { name: "pvc-1", claim: "apps/data-db-0", phase: "Bound" },
      { name: "pvc-3", claim: undefined, phase: "Released" },
    ]);
  });

  test("none when the cluster has no PersistentVolumes", async () => {
    expect(await volumesOfDriver(new FakeKube([]), DRIVER)).toEqual([]);
  });
});

describe("a VM's disks change while the driver has volumes attached to it", () => {
  // The plugin attaches a volume as the VM's first free scsi1-scsi29 (proxmox-csi-plugin v0.19.1
  // pkg/csi/utils.go:398-401); when a VM's disk list changes, bpg removes every disk the VM has
  // that the plan does not list, CD-ROMs and cloud-init drives aside (bpg v0.111.1
  // proxmoxtf/resource/vm/vm.go:6487-6523). So any change of the disks would pull those volumes.
  const attachment = (pv: string, node: string, attacher = DRIVER) => ({ metadata: { name: `csi-${pv}` }, spec: { attacher, nodeName: node, source: { persistentVolumeName: pv } }, status: { attached: true } });
  const disks = (size: number, extra: object[] = []) => ({ disks: [{ interface: "scsi0", size, datastoreId: "local-lvm" }, ...extra] });

  test("the volumes attached to a node are its VolumeAttachments of the driver", async () => {
    const kube = new FakeKube([]);
    kube.collections.set("/apis/storage.k8s.io/v1/volumeattachments", [attachment("pvc-1", "w-1"), attachment("pvc-2", "w-2"), attachment("nfs-1", "w-1", "nfs.csi.k8s.io"), attachment("pvc-3", "w-1")]);
    expect(await volumesAttachedTo(kube, DRIVER, "w-1")).toEqual(["pvc-1", "pvc-3"]);
    expect(await volumesAttachedTo(new FakeKube([]), DRIVER, "w-1")).toEqual([]);
  });

  test("a grown install disk, an added extra disk or another datastore is a change of the disks", () => {
    expect(vmDisksChange(disks(32), disks(32), disks(40))).toBe(true);
    expect(vmDisksChange(disks(32), disks(32), disks(32, [{ interface: "scsi1", size: 100 }]))).toBe(true);
    expect(vmDisksChange(disks(32), disks(32), { disks: [{ interface: "scsi0", size: 32, datastoreId: "ssd" }] })).toBe(true);
  });

  test("cores, memory or any other input, or a VM being created, is not", () => {
    expect(vmDisksChange({ ...disks(32), cpu: { cores: 4 } }, disks(32), { ...disks(32), cpu: { cores: 8 } })).toBe(false);
    expect(vmDisksChange(undefined, undefined, disks(32))).toBe(false);
  });

  test("unchanged inputs over a disk that drifted (refreshed into the state) is a change: bpg plans from the state", () => {
    // bpg's update compares the plan with the prior state, not with the old inputs (d.HasChange),
    // and the bridge builds that prior state from the stored outputs (pulumi-terraform-bridge
    // v3.135.0 pkg/tfbridge/provider.go:1184): a refreshed drift on a disk the program configures
    // makes the update touch the disks, and so remove the plugin's.
    const drifted = { disks: [{ interface: "scsi0", size: 32, datastoreId: "local-lvm", speed: [], __defaults: [] }] };
    expect(vmDisksChange(disks(32), { disks: [{ ...drifted.disks[0], datastoreId: "ssd" }] }, disks(32))).toBe(true);
    expect(vmDisksChange(disks(32), { disks: [] }, disks(32))).toBe(true);
    // What the provider reads back beyond the program's fields (speed, defaults) is not a change.
    expect(vmDisksChange(disks(32), drifted, disks(32))).toBe(false);
  });

  test("the refusal names the node, the volumes and the way through: drain, up, uncordon, one node at a time", () => {
    const problem = diskChangeProblem("w-1", DRIVER, ["pvc-1", "pvc-3"]);
    expect(problem).toMatch(/^changing the disks of w-1's VM is refused while 2 volume\(s\) of csi\.proxmox\.sinextra\.dev are attached to it \(pvc-1, pvc-3\)/);
    expect(problem).toMatch(/kubectl drain w-1 --ignore-daemonsets --delete-emptydir-data\), run pulumi up again once kubectl get volumeattachments lists none on w-1, then kubectl uncordon w-1\./);
    expect(problem).toMatch(/one node at a time with nodes\[\]\.diskSize or nodes\[\]\.extraDisks$/);
    expect(diskChangeProblem("w-1", DRIVER, [])).toBeUndefined();
  });
});

describe("the refusal to remove the driver", () => {
  test("names the key, the driver, each volume with its claim, and what to delete first", () => {
    const problem = volumesRemovalProblem("storage.proxmoxCsi", DRIVER, [{ name: "pvc-1", claim: "apps/data-db-0", phase: "Bound" }, { name: "pvc-3", phase: "Released" }]);
    expect(problem).toMatch(/^removing storage\.proxmoxCsi is refused: 2 PersistentVolume\(s\) of csi\.proxmox\.sinextra\.dev still exist: pvc-1 \(claim apps\/data-db-0, Bound\), pvc-3 \(Released\)\./);
    expect(problem).toMatch(/Delete the PersistentVolumeClaims that use them, then the PersistentVolumes a Retain policy keeps \(kubectl delete pv <name>/);
    expect(problem).toMatch(/or keep storage\.proxmoxCsi\. pulumi destroy removes the whole cluster without this check\.$/);
  });

  test("lists five volumes and counts the rest", () => {
    const volumes = Array.from({ length: 7 }, (_, i) => ({ name: `pvc-${i}`, phase: "Bound" }));
    expect(volumesRemovalProblem("storage.proxmoxCsi", DRIVER, volumes)).toMatch(/pvc-4 \(Bound\) and 2 more\./);
  });

  test("is none without volumes", () => {
    expect(volumesRemovalProblem("storage.proxmoxCsi", DRIVER, [])).toBeUndefined();
  });
});

describe("the guard resource's provider", () => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const runVolumesCheck = jest.fn(async () => undefined);
  const usableClientConfiguration = jest.fn(async (config: unknown) => config);
  const load = () => {
    jest.resetModules();
    jest.doMock(require("../resources/taskModule").taskModulePath(), () => ({ runVolumesCheck, usableClientConfiguration }));
    return (require("../resources/storageVolumes") as typeof import("../resources/storageVolumes")).volumesGuardProvider;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const state = {
    key: "storage.proxmoxCsi",
    driver: DRIVER,
    controlPlanes: [{ name: "cp-1", ip: "10.0.0.11", role: "controlplane" as const }, { name: "cp-2", ip: "10.0.0.12", role: "controlplane" as const }],
    clientConfiguration: { caCertificate: "ca", clientCertificate: "crt", clientKey: "KEY" },
    osCa: { cert: "osca", key: "oskey" },
  };
  beforeEach(() => jest.clearAllMocks());

  test("create, diff and update reach nothing and never replace it", async () => {
    const provider = load();
    await provider.create!(state);
    expect(await provider.diff!("id", state, { ...state, controlPlanes: state.controlPlanes.slice(0, 1) })).toEqual({ changes: true, replaces: [] });
    await provider.update!("id", state, state);
    expect(runVolumesCheck).not.toHaveBeenCalled();
  });

  test("delete checks the driver's volumes through the control planes, with credentials renewed from the OS CA if they lapsed", async () => {
    await load().delete!("id", state);
    expect(usableClientConfiguration).toHaveBeenCalledWith(state.clientConfiguration, state.osCa, expect.any(Date));
    expect(runVolumesCheck).toHaveBeenCalledWith({ key: "storage.proxmoxCsi", driver: DRIVER, nodes: state.controlPlanes, endpoints: ["10.0.0.11", "10.0.0.12"], clientConfiguration: state.clientConfiguration });
  });

  test("a refusal fails the delete, so what it depends on is not deleted after it", async () => {
    runVolumesCheck.mockRejectedValueOnce(new Error("removing storage.proxmoxCsi is refused: 1 PersistentVolume(s)"));
    await expect(load().delete!("id", state)).rejects.toThrow(/removing storage\.proxmoxCsi is refused/);
  });
});
