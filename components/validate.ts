import { z } from "zod";
import { ClusterSpec, DEFAULT_KUBERNETES_VERSIONS, GUEST_AGENT_EXTENSION, NodeSpec, REQUIRED_KERNEL_ARGS, VM_ID_SPAN, talosMinor } from "./domain";
import { NODE_KEYS, Settings, TOP_LEVEL_KEYS, describe, nodeSchema, settingsSchema } from "./configSchema";
import { CheckedNode, RULES } from "./configRules";
import { deriveMac, vmIdOffset } from "./network";
import { closest } from "./suggest";

/** The namespace of the stack config keys, and the one error every config problem is reported in. */
export const CONFIG_NAMESPACE = "talos-proxmox";

/** Every problem found in the config, each naming its key. */
export class ConfigError extends Error {
  constructor(
    public readonly problems: string[],
    what = `stack configuration (namespace ${CONFIG_NAMESPACE})`,
  ) {
    super(`Invalid ${what}, ${problems.length} problem(s):\n` + problems.map((p) => `  - ${p}`).join("\n"));
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
 * caller elsewhere), before anything is registered. `what` names the source in the error.
 */
export function validateConfig(
  raw: Record<string, unknown>,
  otherProblems: string[] = [],
  what?: string,
): ValidatedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];

  const parsed = settingsSchema.safeParse(raw);
  problems.push(...formatIssues(parsed.error?.issues ?? [], "", TOP_LEVEL_KEYS));
  const settings = parsed.data;

  const rawNodes = raw.nodes;
  const nodes: CheckedNode[] = [];
  let nodesComplete = false;
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) {
    problems.push(
      `nodes: ${rawNodes === undefined ? "is required" : `must be a non-empty list, got ${describe(rawNodes)}`}` +
        `: one entry per VM with name, ip and role (controlplane or worker)`,
    );
  } else {
    const clusterName = settings?.clusterName ?? (typeof raw.clusterName === "string" ? raw.clusterName : "");
    rawNodes.forEach((entry, index) => {
      const result = nodeSchema.safeParse(entry);
      if (result.success) nodes.push(buildNode(result.data, index, clusterName, settings));
      else problems.push(...formatIssues(result.error.issues, `nodes[${index}]`, NODE_KEYS));
    });
    nodesComplete = nodes.length === rawNodes.length;
  }

  for (const rule of RULES) {
    const found = rule({ settings, nodes, nodesComplete });
    problems.push(...(found.problems ?? []));
    warnings.push(...(found.warnings ?? []));
  }
  problems.push(...otherProblems);
  if (problems.length > 0 || !settings) throw new ConfigError(problems, what);
  return { warnings, spec: buildSpec(settings, nodes.map((n) => n.spec)) };
}

/** A node with the cluster-wide values filled in and its MAC and VM ID derived when not given. */
function buildNode(node: z.infer<typeof nodeSchema>, index: number, clusterName: string, settings?: Settings): CheckedNode {
  const vmIdBase = settings?.vmIdBase;
  return {
    index,
    macConfigured: node.mac !== undefined,
    spec: {
      name: node.name,
      ip: node.ip,
      role: node.role,
      host: node.host ?? settings?.proxmoxNode ?? "pve",
      vmId: node.vmId ?? (vmIdBase === undefined ? undefined : vmIdBase + vmIdOffset(node.name, VM_ID_SPAN)),
      mac: node.mac?.toUpperCase() ?? deriveMac(clusterName, node.name),
      cores: node.cores ?? settings?.cores ?? 0,
      memory: node.memory ?? settings?.memory ?? 0,
      diskSize: node.diskSize ?? settings?.diskSize ?? 0,
    },
  };
}

function buildSpec(settings: Settings, nodes: NodeSpec[]): ClusterSpec {
  const sorted = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
  const bootstrap = sorted.find((n) => n.role === "controlplane")!;
  const cni =
    settings.cni === "custom" ? { name: "custom" as const, urls: settings.cniUrls } : { name: settings.cni };
  return {
    clusterName: settings.clusterName,
    talosVersion: settings.talosVersion,
    // Talos builds image tags as `v<version>`; accept a leading v and drop it.
    kubernetesVersion:
      settings.kubernetesVersion?.replace(/^v/, "") ?? DEFAULT_KUBERNETES_VERSIONS[talosMinor(settings.talosVersion)],
    vip: settings.vip,
    endpoint: `https://${settings.vip ?? bootstrap.ip}:6443`,
    nodes: sorted,
    bootstrapNode: bootstrap.name,
    proxmox: {
      defaultHost: settings.proxmoxNode,
      isoDatastore: settings.isoDatastore,
      isoDatastoreShared: settings.isoDatastoreShared,
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
      healthTimeout: settings.healthTimeout,
    },
    workload: {
      enabled: settings.workloadEnabled,
      replicas: settings.nginxReplicas,
      image: settings.nginxImage,
      nodePort: settings.nginxNodePort,
    },
  };
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


function unique(values: string[]): string[] {
  return [...new Set(values)];
}
