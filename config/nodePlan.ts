import { createHash } from "node:crypto";
import { ClusterSpec, imagePlatform } from "./domain";
import { configPatches } from "./patches";

/** One row of `npm run plan`: what a node will be, known before anything exists. */
export interface PlannedNode {
  name: string;
  role: string;
  host: string;
  /** Undefined: Proxmox picks one. */
  vmId?: number;
  mac: string;
  ip: string;
  /** With static addresses: the node's address in CIDR form and its gateway, as its cloud-init drive and config carry them. */
  address?: string;
  gateway?: string;
  /** Short hash of everything in the node's machine config except the secrets and the schematic ID. */
  configHash: string;
}

/** The installer image stands in by name: its schematic ID comes from the Image Factory. */
export const INSTALLER_PLACEHOLDER = "factory.talos.dev/metal-installer/<schematic>";

/** The installer of the spec's platform (`nocloud-installer` for static addresses), by name. Pure. */
export function installerPlaceholder(spec: ClusterSpec): string {
  return `${INSTALLER_PLACEHOLDER.replace("metal", imagePlatform(spec))}:${spec.talosVersion}`;
}

/** Every node of a validated spec, in the order the program creates them. Pure. */
export function planNodes(spec: ClusterSpec): PlannedNode[] {
  return spec.nodes.map((node) => {
    const inputs = {
      clusterName: spec.clusterName,
      endpoint: spec.endpoint,
      role: node.role,
      talosVersion: spec.talosVersion,
      kubernetesVersion: spec.kubernetesVersion,
      patches: configPatches(spec, node, installerPlaceholder(spec)),
    };
    const configHash = createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 12);
    const row = { name: node.name, role: node.role, host: node.host, vmId: node.vmId, mac: node.mac, ip: node.ip, configHash };
    const fixed = spec.network.static;
    return fixed ? { ...row, address: `${node.ip}/${fixed.prefixLength}`, gateway: fixed.gateway } : row;
  });
}

/** The plan as a fixed-width table; with static addresses, a column of each node's address and gateway. Pure. */
export function formatPlan(rows: PlannedNode[]): string {
  const fixed = rows.some((r) => r.address !== undefined);
  const header = ["name", "role", "host", "vmId", "mac", "ip", ...(fixed ? ["address", "gateway"] : []), "config"];
  const cells = rows.map((r) => [
    r.name,
    r.role,
    r.host,
    r.vmId === undefined ? "auto" : String(r.vmId),
    r.mac,
    r.ip,
    ...(fixed ? [r.address ?? "", r.gateway ?? ""] : []),
    r.configHash,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...cells.map(line)].join("\n");
}

/** Where components record their specs for `talos-proxmox-plan`: one registry per process, whichever copy of this module recorded. */
const PLANS = Symbol.for("talos-proxmox.plans");

interface PlanRegistry {
  [PLANS]?: { component: string; spec: ClusterSpec }[];
}

/** Records a cluster's validated spec under its component name (a TalosProxmoxCluster does, as it is constructed). */
export function recordPlan(component: string, spec: ClusterSpec): void {
  const registry = globalThis as PlanRegistry;
  (registry[PLANS] ??= []).push({ component, spec });
}

/** Every spec recorded in this process so far, in the order the components were constructed. */
export function recordedPlans(): { component: string; spec: ClusterSpec }[] {
  return [...((globalThis as PlanRegistry)[PLANS] ?? [])];
}
