import { volumesOfDriver, volumesRemovalProblem } from "../engines/volumes";
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
