import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  GUEST_AGENT_EXTENSION,
  NODE_KEYS,
  REQUIRED_KERNEL_ARGS,
  STRUCTURED_KEYS,
  TOP_LEVEL_KEYS,
  describe,
  nodeSchema,
  settingsSchema,
} from "./configSchema";
import { deriveMac, isHostIPv4, isMacAddress, isMulticastMac } from "./network";
import { ProxmoxConnection, readProxmoxConnection } from "./proxmox";

export const CONFIG_NAMESPACE = "talos-proxmox";

export type Role = "controlplane" | "worker";

/** One VM and Talos node, with every default applied. */
export interface NodeSpec {
  name: string;
  ip: string;
  role: Role;
  /** Proxmox node that runs the VM. */
  host: string;
  /** Fixed VM ID; undefined lets Proxmox choose. */
  vmId?: number;
  /** Upper-case MAC, configured or derived from cluster and node name. */
  mac: string;
  cores: number;
  /** MiB. */
  memory: number;
  /** GiB. */
  diskSize: number;
}

export type CniSpec = { name: "flannel" } | { name: "none" } | { name: "custom"; urls: string[] };

/** The validated, defaulted and derived config: plain data, no Outputs. */
export interface ClusterSpec {
  clusterName: string;
  talosVersion: string;
  kubernetesVersion?: string;
  vip?: string;
  /** `https://<vip, else first control-plane IP>:6443`. */
  endpoint: string;
  nodes: NodeSpec[];
  proxmox: { isoDatastore: string; diskDatastore: string; bridge: string; vlanId?: number; cpuType: string };
  image: { kernelArgs: string[]; extensions: string[]; guestAgent: boolean };
  talos: {
    allowSchedulingOnControlPlanes: boolean;
    cni: CniSpec;
    /** `scsi0` on Proxmox is `/dev/sda` in the guest. */
    installDisk: string;
    /** NIC name; `net.ifnames=0` makes it `eth0`. */
    link: string;
    healthTimeout: string;
  };
  workload: { enabled: boolean; replicas: number; image: string; nodePort?: number };
}

/** Every problem found in the stack config, each naming its key. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(
      `Invalid stack configuration (namespace ${CONFIG_NAMESPACE}), ${problems.length} problem(s):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface ValidatedConfig {
  spec: ClusterSpec;
  warnings: string[];
}

/**
 * Raw config (keys without namespace, structured values already parsed) to a `ClusterSpec`.
 * Pure: throws a `ConfigError` listing every problem at once (with `otherProblems`, found by the
 * caller elsewhere), before anything is registered.
 */
export function validateConfig(raw: Record<string, unknown>, otherProblems: string[] = []): ValidatedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];

  const settingsResult = settingsSchema.safeParse(raw);
  problems.push(...formatIssues(settingsResult.error?.issues ?? [], "", TOP_LEVEL_KEYS));
  const settings = settingsResult.data;

  const rawNodes = raw.nodes;
  const parsedNodes: { index: number; node: z.infer<typeof nodeSchema> }[] = [];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) {
    problems.push(
      `nodes: ${rawNodes === undefined ? "is required" : `must be a non-empty list, got ${describe(rawNodes)}`}` +
        `: one entry per VM with name, ip and role (controlplane or worker)`,
    );
  } else {
    rawNodes.forEach((entry, index) => {
      const result = nodeSchema.safeParse(entry);
      if (result.success) parsedNodes.push({ index, node: result.data });
      else problems.push(...formatIssues(result.error.issues, `nodes[${index}]`, NODE_KEYS));
    });
  }

  const clusterName = settings?.clusterName ?? (typeof raw.clusterName === "string" ? raw.clusterName : "");
  const nodes: { index: number; spec: NodeSpec; macConfigured: boolean }[] = [];
  for (const { index, node } of parsedNodes) {
    const path = `nodes[${index}]`;
    if (!isHostIPv4(node.ip)) {
      problems.push(`${path}.ip: must be an IPv4 host address such as 10.0.10.11, got ${describe(node.ip)}`);
    }
    let mac = node.mac?.toUpperCase();
    if (mac !== undefined && !isMacAddress(mac)) {
      problems.push(`${path}.mac: must be a MAC address such as 02:AB:CD:EF:01:23, got ${describe(node.mac)}`);
    } else if (mac !== undefined && isMulticastMac(mac)) {
      problems.push(
        `${path}.mac: ${mac} is a multicast address (lowest bit of the first octet set); ` +
          `use a unicast one such as 02:AB:CD:EF:01:23, or leave mac out to derive one`,
      );
    }
    mac ??= deriveMac(clusterName, node.name);
    const vmId = node.vmId ?? (settings?.vmIdBase !== undefined ? settings.vmIdBase + index : undefined);
    nodes.push({
      index,
      macConfigured: node.mac !== undefined,
      spec: {
        name: node.name,
        ip: node.ip,
        role: node.role,
        host: node.host ?? settings?.proxmoxNode ?? "pve",
        vmId,
        mac,
        cores: node.cores ?? settings?.cores ?? 0,
        memory: node.memory ?? settings?.memory ?? 0,
        diskSize: node.diskSize ?? settings?.diskSize ?? 0,
      },
    });
  }

  problems.push(...duplicates(nodes, "name", (n) => n.name));
  problems.push(...duplicates(nodes, "ip", (n) => n.ip));
  // A derived MAC repeats only with its node name, which is reported already.
  const seenNames = new Set<string>();
  const macOwners = nodes.filter((n) => {
    const repeatedName = seenNames.has(n.spec.name);
    seenNames.add(n.spec.name);
    return n.macConfigured || !repeatedName;
  });
  problems.push(...duplicates(macOwners, "mac", (n) => n.mac));
  problems.push(...duplicates(nodes, "vmId", (n) => (n.vmId === undefined ? undefined : String(n.vmId))));

  const controlPlanes = nodes.filter((n) => n.spec.role === "controlplane");
  if (Array.isArray(rawNodes) && rawNodes.length > 0 && parsedNodes.length === rawNodes.length) {
    if (controlPlanes.length === 0) {
      problems.push(`nodes: at least one node needs role controlplane (the walk-through uses three)`);
    } else if (controlPlanes.length % 2 === 0) {
      warnings.push(
        `nodes: ${controlPlanes.length} control planes is an even number; etcd tolerates no more failures ` +
          `than with ${controlPlanes.length - 1}. Use an odd number (3 or 5) for quorum.`,
      );
    }
  }

  const vip = settings?.vip;
  if (settings && vip === undefined && controlPlanes.length > 1) {
    warnings.push(
      `vip: not set, so the Kubernetes endpoint is ${controlPlanes[0].spec.name} alone and fails with it; ` +
        `set vip to a free address in the nodes' subnet for a highly available endpoint`,
    );
  }
  if (vip !== undefined) {
    if (!isHostIPv4(vip)) {
      problems.push(`vip: must be an IPv4 host address such as 10.0.10.10, got ${describe(vip)}`);
    }
    const clash = nodes.find((n) => n.spec.ip === vip);
    if (clash) {
      problems.push(
        `vip: ${vip} is also nodes[${clash.index}].ip (${clash.spec.name}); ` +
          `the VIP must be a free address in the nodes' subnet`,
      );
    }
  }

  if (settings?.cni === "custom" && settings.cniUrls.length === 0) {
    problems.push(`cniUrls: cni is custom, so list the CNI manifest URLs (https://..., pinned to a release)`);
  }
  if (settings && settings.cni !== "custom" && settings.cniUrls.length > 0) {
    problems.push(`cniUrls: only used with cni: custom (cni is ${settings.cni}); remove cniUrls or set cni: custom`);
  }
  if (settings?.cni === "none" && settings.workloadEnabled) {
    problems.push(
      `cni: none leaves pods without a network until you install a CNI, so the NGINX workload can't ` +
        `become ready; set workloadEnabled: false or choose cni: flannel`,
    );
  }

  problems.push(...otherProblems);
  if (problems.length > 0 || !settings) throw new ConfigError(problems);

  const firstControlPlane = controlPlanes[0].spec;
  const cni =
    settings.cni === "custom" ? { name: "custom" as const, urls: settings.cniUrls } : { name: settings.cni };
  return {
    warnings,
    spec: {
      clusterName: settings.clusterName,
      talosVersion: settings.talosVersion,
      // Talos builds image tags as `v<version>`; accept a leading v and drop it.
      kubernetesVersion: settings.kubernetesVersion?.replace(/^v/, ""),
      vip,
      endpoint: `https://${vip ?? firstControlPlane.ip}:6443`,
      nodes: nodes.map((n) => n.spec),
      proxmox: {
        isoDatastore: settings.isoDatastore,
        diskDatastore: settings.diskDatastore,
        bridge: settings.bridge,
        vlanId: settings.vlanId,
        cpuType: settings.cpuType,
      },
      image: {
        kernelArgs: unique([...REQUIRED_KERNEL_ARGS, ...settings.kernelArgs]),
        extensions: unique(settings.extensions),
        guestAgent: settings.extensions.includes(GUEST_AGENT_EXTENSION),
      },
      talos: {
        allowSchedulingOnControlPlanes: settings.allowSchedulingOnControlPlanes,
        cni,
        installDisk: "/dev/sda",
        link: "eth0",
        healthTimeout: settings.healthTimeout,
      },
      workload: {
        enabled: settings.workloadEnabled,
        replicas: settings.nginxReplicas,
        image: settings.nginxImage,
        nodePort: settings.nginxNodePort,
      },
    },
  };
}

/**
 * Reads this stack's `talos-proxmox:*` and `proxmoxve:*` config, validates both (one error listing
 * every problem) and logs warnings. The one place that reads config; components get plain data.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): LoadedConfig {
  const all = pulumi.runtime.allConfig();
  const { connection, problems } = readProxmoxConnection(all, env);
  const { spec, warnings } = validateConfig(parseConfigValues(all), problems);
  for (const warning of warnings) void pulumi.log.warn(warning);
  return { spec, proxmox: connection };
}

export interface LoadedConfig {
  spec: ClusterSpec;
  proxmox: ProxmoxConnection;
}

/** Strips the namespace and parses the JSON text Pulumi uses for structured values. */
export function parseConfigValues(all: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    raw[key] = STRUCTURED_KEYS.includes(key) ? parseJson(text) : text;
  }
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // the schema then reports it as "must be a list ..., got <text>"
  }
}

function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: string, validKeys: readonly string[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = joinPath(prefix, issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const near = closest(key, validKeys);
        out.push(
          `${joinPath(at, [key])}: unknown key${near ? `; did you mean ${near}?` : "."} ` +
            `Valid keys: ${validKeys.join(", ")}`,
        );
      }
    } else if (issue.code === "invalid_type" && issue.path.length === 0) {
      out.push(`${at || "config"}: must be an object with keys ${validKeys.join(", ")}, got ${describe(issue.input)}`);
    } else {
      out.push(`${at}: ${issue.message}`);
    }
  }
  return out;
}

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function duplicates(
  nodes: { index: number; spec: NodeSpec }[],
  key: string,
  value: (n: NodeSpec) => string | undefined,
): string[] {
  const seen = new Map<string, { index: number; spec: NodeSpec }>();
  const out: string[] = [];
  for (const node of nodes) {
    const v = value(node.spec);
    if (v === undefined) continue;
    const first = seen.get(v);
    if (first) {
      out.push(
        `nodes[${node.index}].${key}: ${v} is already used by nodes[${first.index}] (${first.spec.name}); ` +
          `each node needs its own ${key}`,
      );
    } else {
      seen.set(v, node);
    }
  }
  return out;
}

/** The valid key a typo most likely meant (edit distance at most 2, or case-insensitive match). */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
