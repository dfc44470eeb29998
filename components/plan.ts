import { createHash } from "node:crypto";
import { ClusterSpec } from "./domain";
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
  /** Short hash of everything in the node's machine config except the secrets and the schematic ID. */
  configHash: string;
}

/** The installer image stands in by name: its schematic ID comes from the Image Factory. */
export const INSTALLER_PLACEHOLDER = "factory.talos.dev/metal-installer/<schematic>";

/** Every node of a validated spec, in the order the program creates them. Pure. */
export function planNodes(spec: ClusterSpec): PlannedNode[] {
  return spec.nodes.map((node) => {
    const inputs = {
      clusterName: spec.clusterName,
      endpoint: spec.endpoint,
      role: node.role,
      talosVersion: spec.talosVersion,
      kubernetesVersion: spec.kubernetesVersion,
      patches: configPatches(spec, node, `${INSTALLER_PLACEHOLDER}:${spec.talosVersion}`),
    };
    const configHash = createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 12);
    return { name: node.name, role: node.role, host: node.host, vmId: node.vmId, mac: node.mac, ip: node.ip, configHash };
  });
}

/** The plan as a fixed-width table. Pure. */
export function formatPlan(rows: PlannedNode[]): string {
  const header = ["name", "role", "host", "vmId", "mac", "ip", "config"];
  const cells = rows.map((r) => [r.name, r.role, r.host, r.vmId === undefined ? "auto" : String(r.vmId), r.mac, r.ip, r.configHash]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...cells.map(line)].join("\n");
}
