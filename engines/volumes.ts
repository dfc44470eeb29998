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

/**
 * A VolumeAttachment as the list answers it (kubernetes/api v0.35.7 storage/v1 types.go
 * VolumeAttachmentSpec: attacher, nodeName, source.persistentVolumeName).
 */
type VolumeAttachment = KubeObject & { spec?: { attacher?: string; nodeName?: string; source?: { persistentVolumeName?: string } } };

/** The PersistentVolumes `driver` has attached (or is attaching) to `node`: one unpaged list of the cluster-scoped collection. */
export async function volumesAttachedTo(kube: Pick<KubeApi, "getObject">, driver: string, node: string): Promise<string[]> {
  const list = await kube.getObject("/apis/storage.k8s.io/v1/volumeattachments");
  return ((list?.items as VolumeAttachment[] | undefined) ?? [])
    .filter((a) => a.spec?.attacher === driver && a.spec?.nodeName === node)
    .map((a) => a.spec?.source?.persistentVolumeName ?? a.metadata?.name ?? "?");
}

/**
 * Whether a VM update changes its disks. Then bpg's update removes every disk the VM has that its
 * plan does not list, CD-ROMs and cloud-init drives aside (bpg/terraform-provider-proxmox v0.111.1
 * proxmoxtf/resource/vm/vm.go:6487-6523), and the Proxmox CSI plugin attaches its volumes as such
 * disks, scsi1 to scsi29 (sergelogvinov/proxmox-csi-plugin v0.19.1 pkg/csi/utils.go:398-401).
 * bpg compares its plan with the prior state (`d.HasChange`), which the bridge builds from the
 * stored outputs (pulumi-terraform-bridge v3.135.0 pkg/tfbridge/provider.go:1184): so a change of
 * the `disks` inputs, or old outputs that differ from the new inputs in a field the program sets
 * (a drift a refresh brought into the state). Pure; takes what the engine hands a hook.
 */
export function vmDisksChange(oldInputs: VmProperties | undefined, oldOutputs: VmProperties | undefined, newInputs: VmProperties | undefined): boolean {
  if (oldInputs === undefined) return false;
  const wanted = disksOf(newInputs);
  if (JSON.stringify(disksOf(oldInputs)) !== JSON.stringify(wanted)) return true;
  if (oldOutputs === undefined) return false;
  const stored = new Map(disksOf(oldOutputs).map((d) => [String(d.interface), d]));
  return wanted.some((disk) => {
    const had = stored.get(String(disk.interface));
    return !had || PROGRAM_DISK_FIELDS.some((key) => key in disk && String(had[key]) !== String(disk[key]));
  });
}

type VmProperties = Record<string, unknown>;

/** The fields of a disk the program sets (components/talosVm.ts vmArgs); the provider reads back more (speed, defaults). */
const PROGRAM_DISK_FIELDS = ["interface", "datastoreId", "size", "fileFormat", "iothread", "discard", "ssd"];

/** The disks with the fields the program sets only: the checked inputs also carry the provider's defaults. */
function disksOf(properties: VmProperties | undefined): Record<string, unknown>[] {
  const disks = Array.isArray(properties?.disks) ? (properties.disks as Record<string, unknown>[]) : [];
  return disks.map((disk) => Object.fromEntries(PROGRAM_DISK_FIELDS.filter((key) => key in disk).map((key) => [key, disk[key]])));
}

/** Why `node`'s disks may not change while `volumes` of `driver` are attached to it, and the way through; undefined when none are. Pure. */
export function diskChangeProblem(node: string, driver: string, volumes: string[]): string | undefined {
  if (volumes.length === 0) return undefined;
  const shown = volumes.slice(0, 5).join(", ") + (volumes.length > 5 ? ` and ${volumes.length - 5} more` : "");
  return (
    `changing the disks of ${node}'s VM is refused while ${volumes.length} volume(s) of ${driver} are attached to it (${shown}): ` +
    `the Proxmox provider removes every disk of the VM that its config does not list, so they would be pulled out from under the running pods. ` +
    `Drain the node first (kubectl drain ${node} --ignore-daemonsets --delete-emptydir-data), run pulumi up again once ` +
    `kubectl get volumeattachments lists none on ${node}, then kubectl uncordon ${node}. A diskSize or extraDisks change for a whole role ` +
    `reaches every node in one update: make it one node at a time with nodes[].diskSize or nodes[].extraDisks`
  );
}
