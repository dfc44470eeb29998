/**
 * The PersistentVolumes a CSI driver provisioned, and the refusal to take the driver away while
 * any exist: their pods could no longer attach or detach them, and their disks would be left
 * without an owner the cluster knows of.
 */
import type { KubeApi, KubeObject } from "./kube";

/** A PersistentVolume as the list answers it (kubernetes/api v0.35.7 core/v1 types.go PersistentVolumeSpec.CSI, CSIPersistentVolumeSource.Driver). */
type PersistentVolume = KubeObject & { spec?: { csi?: { driver?: string }; claimRef?: { namespace?: string; name?: string } }; status?: { phase?: string } };

/** A volume of the driver: its name, its claim (`namespace/name`, if any) and its phase. */
export interface DriverVolume {
  name: string;
  claim?: string;
  phase?: string;
}

/** The PersistentVolumes whose `spec.csi.driver` is `driver` (one unpaged list of the cluster-scoped collection). */
export async function volumesOfDriver(kube: Pick<KubeApi, "getObject">, driver: string): Promise<DriverVolume[]> {
  const list = await kube.getObject("/api/v1/persistentvolumes");
  const items = ((list?.items as PersistentVolume[] | undefined) ?? []).filter((pv) => pv.spec?.csi?.driver === driver);
  return items.map((pv) => {
    const ref = pv.spec?.claimRef;
    return { name: pv.metadata?.name ?? "?", claim: ref?.name ? `${ref.namespace ?? "default"}/${ref.name}` : undefined, phase: pv.status?.phase };
  });
}

/** Why `key` may not be removed while `volumes` exist, naming what to delete first; undefined when none exist. Pure. */
export function volumesRemovalProblem(key: string, driver: string, volumes: DriverVolume[]): string | undefined {
  if (volumes.length === 0) return undefined;
  const shown = volumes.slice(0, 5).map((v) => (v.claim ? `${v.name} (claim ${v.claim}, ${v.phase ?? "unknown"})` : `${v.name} (${v.phase ?? "unknown"})`));
  const more = volumes.length > shown.length ? ` and ${volumes.length - shown.length} more` : "";
  return (
    `removing ${key} is refused: ${volumes.length} PersistentVolume(s) of ${driver} still exist: ${shown.join(", ")}${more}. ` +
    `Their pods could no longer attach them. Delete the PersistentVolumeClaims that use them, then the PersistentVolumes a Retain policy keeps ` +
    `(kubectl delete pv <name>; their Proxmox disks stay: docs/storage.md), and run pulumi up again; or keep ${key}. ` +
    `pulumi destroy removes the whole cluster without this check.`
  );
}
