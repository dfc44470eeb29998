import { z } from "zod";
import {
  ClusterSpec,
  CniSpec,
  DEFAULT_KUBERNETES_VERSIONS,
  GUEST_AGENT_EXTENSION,
  NodeSpec,
  REQUIRED_KERNEL_ARGS,
  UserPatch,
  VM_ID_SPAN,
  talosMinor,
} from "./domain";
import {
  CILIUM_KEYS,
  PROXMOX_CSI_KEYS,
  STORAGE_KEYS,
  NETWORK_KEYS,
  NODE_KEYS,
  ROLE_KEYS,
  RawNode,
  Settings,
  TOP_LEVEL_KEYS,
  describe,
  extraDiskSchema,
  nodeSchema,
  pciSchema,
  settingsSchema,
} from "./schema";
import { configPatches } from "./patches";
import { installerPlaceholder } from "./nodePlan";
import { ReadFile, checkMergedConfig, readProjectFile, resolvePatches } from "./userPatches";
import { CheckedNode, RULES } from "./rules";
import { deriveMac, vmIdOffset } from "./network";
import { closest } from "./suggest";

/** The namespace of the stack config keys, and the one error every config problem is reported in. */
export const CONFIG_NAMESPACE = "talos-proxmox";

/** Every problem found in the config, each naming its key. */
export class ConfigError extends Error {
  /**
   * Marks this as a `pulumi.RunError` without importing the SDK into the pure config room: the
   * Node.js language host prints such an error's message alone, without a stack trace. The SDK
   * recognises a RunError by this member (pulumi/pulumi v3.248.0 sdk/nodejs/errors.ts
   * RunError.isInstance → utils.ts isInstance; cmd/run/run.ts uncaughtHandler).
   */
  readonly __pulumiRunError = true;

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

export interface ValidateOptions {
  /** Problems the caller found elsewhere (e.g. the Proxmox connection), reported in the same error. */
  otherProblems?: string[];
  /** Names the source in the error, e.g. `TalosProxmoxCluster "lab" arguments`. */
  what?: string;
  /** Reads `@<path>` patch files. Default: relative to the working directory (the project). */
  readFile?: ReadFile;
}

/**
 * Raw config (keys without namespace, structured values already parsed) to a `ClusterSpec`.
 * Pure but for reading patch files: throws a `ConfigError` listing every problem at once, before
 * anything is registered. Each node's merged Talos config is checked once the rest is valid.
 */
export function validateConfig(raw: Record<string, unknown>, options: ValidateOptions = {}): ValidatedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const readFile = options.readFile ?? readProjectFile;

  const parsed = settingsSchema.safeParse(raw);
  problems.push(...formatIssues(parsed.error?.issues ?? [], "", TOP_LEVEL_KEYS));
  const settings = parsed.data;
  const patches = settings ? clusterPatches(settings, readFile) : undefined;

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
      if (!result.success) {
        problems.push(...formatIssues(result.error.issues, `nodes[${index}]`, NODE_KEYS));
        return;
      }
      const own = resolvePatches(`nodes[${index}].patches`, result.data.patches, readFile);
      nodes.push(buildNode(result.data, index, clusterName, settings, [...(patches?.[result.data.role] ?? []), ...own.patches]));
      problems.push(...own.problems);
      warnings.push(...own.warnings);
    });
    nodesComplete = nodes.length === rawNodes.length;
  }
  problems.push(...(patches?.problems ?? []));
  warnings.push(...(patches?.warnings ?? []));

  for (const rule of RULES) {
    const found = rule({ settings, nodes, nodesComplete });
    problems.push(...(found.problems ?? []));
    warnings.push(...(found.warnings ?? []));
  }
  problems.push(...(options.otherProblems ?? []));
  if (problems.length > 0 || !settings) throw new ConfigError(problems, options.what);
  const spec = buildSpec(settings, nodes.map((n) => n.spec));
  // The installer image stands in by name: its schematic ID comes from the Image Factory later.
  const installer = installerPlaceholder(spec);
  const merged = nodes.flatMap((n) => checkMergedConfig(`nodes[${n.index}] (${n.spec.name})`, configPatches(spec, n.spec, installer)));
  if (merged.length > 0) throw new ConfigError(merged, options.what);
  return { warnings, spec };
}

/** The cluster's and each role's patches, read and checked: a node gets `patches`, then its role's. */
function clusterPatches(settings: Settings, readFile: ReadFile) {
  const cluster = resolvePatches("patches", settings.patches, readFile);
  const controlPlane = resolvePatches("controlPlane.patches", settings.controlPlane.patches, readFile);
  const worker = resolvePatches("worker.patches", settings.worker.patches, readFile);
  return {
    controlplane: [...cluster.patches, ...controlPlane.patches],
    worker: [...cluster.patches, ...worker.patches],
    problems: [cluster, controlPlane, worker].flatMap((f) => f.problems),
    warnings: [cluster, controlPlane, worker].flatMap((f) => f.warnings),
  };
}

/**
 * A node with every default filled in, by one rule: the node's own value, else its role's
 * (`controlPlane`/`worker`), else the cluster-wide one. Patches add up instead: cluster, role, node.
 */
function buildNode(
  node: RawNode,
  index: number,
  clusterName: string,
  settings: Settings | undefined,
  patches: UserPatch[],
): CheckedNode {
  const vmIdBase = settings?.vmIdBase;
  const role = node.role === "controlplane" ? settings?.controlPlane : settings?.worker;
  const diskDatastore = settings?.diskDatastore ?? "local-lvm";
  return {
    index,
    macConfigured: node.mac !== undefined,
    vmIdConfigured: node.vmId !== undefined,
    spec: {
      name: node.name,
      ip: node.ip,
      role: node.role,
      host: node.host ?? settings?.proxmoxNode ?? "pve",
      vmId: node.vmId ?? (vmIdBase === undefined ? undefined : vmIdBase + vmIdOffset(node.name, VM_ID_SPAN)),
      mac: node.mac?.toUpperCase() ?? deriveMac(clusterName, node.name),
      cores: node.cores ?? role?.cores ?? settings?.cores ?? 0,
      memory: node.memory ?? role?.memory ?? settings?.memory ?? 0,
      diskSize: node.diskSize ?? role?.diskSize ?? settings?.diskSize ?? 0,
      extraDisks: (node.extraDisks ?? role?.extraDisks ?? []).map((d) => ({ size: d.size, datastore: d.datastore ?? diskDatastore })),
      pci: node.pci,
      patches,
    },
  };
}

function buildSpec(settings: Settings, nodes: NodeSpec[]): ClusterSpec {
  const sorted = [...nodes].sort((a, b) => a.name.localeCompare(b.name));
  const bootstrap = sorted.find((n) => n.role === "controlplane")!;
  const cni: CniSpec =
    settings.cni === "custom"
      ? { name: "custom", urls: settings.cniUrls }
      : settings.cni === "cilium"
        ? { name: "cilium", ...settings.cilium }
        : { name: settings.cni };
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
      rebootTimeout: settings.rebootTimeout,
      drainTimeout: settings.drainTimeout,
      credentialRenewal: settings.credentialRenewal,
      upgradeBatchSize: settings.upgradeBatchSize,
      extraManifests: settings.extraManifests,
      inlineManifests: settings.inlineManifests,
    },
    network: networkSpec(settings.network),
    workload: {
      enabled: settings.workloadEnabled,
      replicas: settings.nginxReplicas,
      image: settings.nginxImage,
      nodePort: settings.nginxNodePort,
    },
    backups: settings.backups,
    storage: settings.storage,
  };
}

/** DNS and NTP servers, and with `addressing: static` the network every node's address lies in. */
function networkSpec(network: Settings["network"]): ClusterSpec["network"] {
  const { nameservers, timeServers } = network;
  if (network.addressing === "dhcp") return { nameservers, timeServers };
  // The rules guarantee both for a static network; the spec is built only when they passed.
  const cidr = network.cidr!;
  return { nameservers, timeServers, static: { cidr, prefixLength: Number(cidr.split("/")[1]), gateway: network.gateway! } };
}

function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: string, validKeys: readonly string[]): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    const at = joinPath(prefix, issue.path);
    if (issue.code === "unrecognized_keys") {
      const valid = keysAt(issue.path, validKeys);
      for (const key of issue.keys) {
        const near = closest(key, valid);
        out.push(
          `${joinPath(at, [key])}: unknown key${near ? `; did you mean ${near}?` : "."} ` +
            `Valid keys: ${valid.join(", ")}`,
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

/** The keys valid in the object at `path`, named by the last key on the path. */
function keysAt(path: readonly PropertyKey[], rootKeys: readonly string[]): readonly string[] {
  const last = [...path].reverse().find((p) => typeof p === "string");
  return last === undefined ? rootKeys : (NESTED_KEYS[String(last)] ?? rootKeys);
}

const NESTED_KEYS: Record<string, readonly string[]> = {
  controlPlane: ROLE_KEYS,
  worker: ROLE_KEYS,
  network: NETWORK_KEYS,
  cilium: CILIUM_KEYS,
  storage: STORAGE_KEYS,
  proxmoxCsi: PROXMOX_CSI_KEYS,
  extraDisks: Object.keys(extraDiskSchema.shape),
  pci: Object.keys(pciSchema.shape),
  inlineManifests: ["name", "contents"],
};

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
