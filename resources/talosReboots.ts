import * as pulumi from "@pulumi/pulumi";
import type * as talos from "../sdk/talos";
import { ClusterSpec, NodeSpec } from "../config/domain";
import { taskTimeouts, type TaskTimeouts } from "../config/duration";
import type { ProxmoxApiConnection, VmRef } from "../proxmoxapi";
import { PackagedDynamicResource, type ProviderModule } from "./dynamicResource";
import { loadTasks, PROVIDER_KEY, requireBuiltTasks, type WithProvider } from "./taskModule";
import { backupSettings, type BackupSettings } from "./backupSettings";

/**
 * Rolled reboots as a resource. VM changes that only a new QEMU process brings into effect (cores,
 * memory, passthrough devices: the VMs are updated with `rebootAfterUpdate: false`, so Proxmox keeps
 * them pending) and configs the provider staged for the next reboot are recorded per node; when
 * they differ from what the node last booted with, its update reboots those nodes one control plane
 * at a time, then workers in batches, with the same gates as an upgrade (engines/rollout.ts
 * rolledReboot), and records the new state. A node whose hardware changed reboots through the
 * Proxmox API (stop and start); a Talos reboot keeps the QEMU process and would apply nothing
 * (engines/proxmoxReboot.ts). A node with only a staged config reboots through Talos. A new VM boots
 * with what it has, so it never waits. A failed reboot fails the update and keeps the old records:
 * the next `pulumi up` reboots what still waits. `pulumi refresh` reads what Proxmox holds pending.
 */

/** What a node runs with: its VM (a new one boots fresh), hardware, and a staged config's hash. */
export interface BootState {
  vm: string;
  hardware: Record<string, unknown>;
  /** The hash of a config the provider staged for the next reboot; "" when none is staged. */
  staged: string;
}

export interface RebootsState {
  nodes: { name: string; ip: string; role: "controlplane" | "worker" }[];
  workerBatchSize: number;
  wanted: Record<string, BootState>;
  clientConfiguration: talos.ClientConfiguration;
  /** The config's rebootTimeout and drainTimeout (absent in a state written before them: the engine's defaults). */
  timeouts?: TaskTimeouts;
  /** What each node last booted with. */
  booted?: Record<string, BootState>;
  /** Each node's VM (Proxmox host and VM ID), when the VM IDs were given. */
  vms?: Record<string, VmRef>;
  /** How to reach the Proxmox API (secret); without it a hardware reboot is refused. */
  proxmoxConnection?: ProxmoxApiConnection;
  /** The config keys Proxmox holds pending per node, as `pulumi refresh` last read them. */
  pending?: Record<string, string[]>;
  /** Where the etcd snapshot before control planes reboot goes (absent in older states: none). */
  backups?: BackupSettings;
}

/** Marks, in `booted`, hardware Proxmox still holds pending (so the node waits for a reboot). */
const PENDING_MARK = "pendingInProxmox";

/** The nodes whose wanted state needs a reboot to take effect, in the cluster's order. Pure. */
export function nodesToReboot(booted: Record<string, BootState> | undefined, wanted: Record<string, BootState>): string[] {
  return Object.keys(wanted).filter((name) => {
    const was = booted?.[name];
    if (!was || was.vm !== wanted[name].vm) return false; // a new node or VM: it boots with what it has
    const hardware = JSON.stringify(was.hardware) !== JSON.stringify(wanted[name].hardware);
    return hardware || (wanted[name].staged !== "" && wanted[name].staged !== was.staged);
  });
}

/**
 * Why each waiting node waits: `hardware` (its VM hardware changed or Proxmox holds changes pending:
 * only a Proxmox reboot applies them) or only a staged config (a Talos reboot is enough). Pure.
 */
export function rebootReasons(booted: Record<string, BootState> | undefined, wanted: Record<string, BootState>): { hardware: string[]; staged: string[] } {
  const waiting = nodesToReboot(booted, wanted);
  const hardware = waiting.filter((name) => JSON.stringify(booted?.[name]?.hardware) !== JSON.stringify(wanted[name].hardware));
  return { hardware, staged: waiting.filter((name) => !hardware.includes(name)) };
}

/** The refusal when hardware must be applied and the resource has no Proxmox connection. Pure. */
export function missingConnectionProblem(hardware: string[]): string {
  return (
    `nodes ${hardware.join(", ")}: cores, memory or PCI devices changed (or Proxmox holds changes pending); they apply only ` +
    `when Proxmox starts the VM again, and a reboot from inside Talos keeps the same VM process. Give the component ` +
    `the Proxmox connection (TalosProxmoxCluster args \`proxmox: { endpoint, apiToken }\`) so it reboots them through ` +
    `the Proxmox API, or revert the change`
  );
}

/** `booted` with Proxmox's pending keys recorded per node (marked when some wait, unmarked when none). Pure. */
export function withPendingMarks(booted: Record<string, BootState> | undefined, pending: Record<string, string[]>): Record<string, BootState> | undefined {
  if (!booted) return booted;
  return Object.fromEntries(
    Object.entries(booted).map(([name, state]) => {
      const { [PENDING_MARK]: _old, ...hardware } = state.hardware;
      void _old;
      const keys = pending[name] ?? [];
      return [name, { ...state, hardware: keys.length > 0 ? { ...hardware, [PENDING_MARK]: keys } : hardware }];
    }),
  );
}

/** The task's Proxmox part: the connection and the VMs of the hardware nodes. */
function proxmoxFor(news: RebootsState, hardware: string[]): { connection: ProxmoxApiConnection; throughProxmox: Record<string, VmRef> } | undefined {
  if (hardware.length === 0) return undefined;
  if (!news.proxmoxConnection) throw new Error(missingConnectionProblem(hardware));
  const missing = hardware.filter((name) => !news.vms?.[name]);
  if (missing.length > 0) throw new Error(`nodes ${missing.join(", ")}: no VM ID known, so they can't be rebooted through the Proxmox API`);
  return { connection: news.proxmoxConnection, throughProxmox: Object.fromEntries(hardware.map((name) => [name, news.vms![name]])) };
}

const PROVIDER: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RebootsState) {
    return { id: "talos-reboots", outs: { ...inputs, booted: inputs.wanted } };
  },
  // Runs at preview: a hardware reboot without a Proxmox connection is refused here, not downgraded.
  async diff(_id: string, olds: RebootsState, news: RebootsState) {
    const { hardware, staged } = rebootReasons(olds.booted, news.wanted);
    if (hardware.length > 0 && !news.proxmoxConnection) throw new Error(missingConnectionProblem(hardware));
    const keys = ["nodes", "workerBatchSize", "wanted", "clientConfiguration", "vms", "proxmoxConnection", "timeouts", "backups", PROVIDER_KEY] as const;
    const stored = (state: RebootsState) => state as WithProvider<RebootsState>;
    // A refresh that found pending hardware changes no input, yet the node waits.
    const waits = hardware.length + staged.length > 0;
    return { changes: waits || keys.some((k) => JSON.stringify(stored(olds)[k]) !== JSON.stringify(stored(news)[k])), replaces: [] };
  },
  async update(_id: string, olds: RebootsState, news: RebootsState) {
    const reboot = nodesToReboot(olds.booted, news.wanted);
    const { hardware } = rebootReasons(olds.booted, news.wanted);
    if (reboot.length > 0) {
      const task = loadTasks();
      const existing = news.nodes.filter((n) => olds.booted?.[n.name]);
      await task.runRolledReboot({
        nodes: existing,
        endpoints: existing.filter((n) => n.role === "controlplane").map((n) => n.ip),
        clientConfiguration: news.clientConfiguration,
        only: reboot,
        workerBatchSize: news.workerBatchSize,
        timeouts: news.timeouts,
        proxmox: proxmoxFor(news, hardware),
        backups: news.backups,
      });
    }
    const pending = olds.pending && { ...olds.pending, ...Object.fromEntries(hardware.map((name) => [name, []])) };
    return { outs: { ...news, booted: news.wanted, pending } };
  },
  // `pulumi refresh`: what Proxmox still holds pending per node; such a node waits for a reboot.
  async read(id: string, props: RebootsState) {
    if (!props.proxmoxConnection || !props.vms) return { id, props };
    const pending = await loadTasks().readPendingChanges(props.proxmoxConnection, props.vms);
    return { id, props: { ...props, pending, booted: withPendingMarks(props.booted, pending) } };
  },
  async delete() {
    // Nothing to undo.
  },
};

/**
 * How to reach the Proxmox API for hardware reboots: the values of the `proxmoxve` provider
 * (endpoint `https://pve.example.com:8006/`, an API token `user@realm!tokenid=secret`, or a
 * username and password; `insecure` for a self-signed certificate). The token needs VM.PowerMgmt
 * and VM.Audit on the cluster's VMs.
 */
export interface ProxmoxConnectionArgs {
  endpoint: pulumi.Input<string>;
  apiToken?: pulumi.Input<string>;
  username?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  insecure?: pulumi.Input<boolean>;
}

export interface TalosRebootsArgs {
  spec: ClusterSpec;
  vms: Record<string, pulumi.CustomResource>;
  applies: Record<string, talos.machine.ConfigurationApply>;
  clientConfiguration: pulumi.Input<talos.ClientConfiguration>;
  /** Each node's Proxmox VM ID, by node name (its host comes from the spec). */
  vmIds?: Record<string, pulumi.Input<number>>;
  /** Without it, a change of cores, memory or PCI devices is refused at preview. */
  proxmox?: ProxmoxConnectionArgs;
}

/**
 * What a VM's running hardware depends on: cores, memory and passthrough devices (updated in place
 * without a reboot, so they take effect at the next one). Pure.
 */
export function bootHardware(node: NodeSpec): Record<string, unknown> {
  return node.pci.length > 0 ? { cores: node.cores, memory: node.memory, pci: node.pci } : { cores: node.cores, memory: node.memory };
}

/** Where the provider host finds rebootsProvider (resources/dynamicResource.ts): states name this export, so it keeps its name. */
const PROVIDER_MODULE: ProviderModule = { file: "resources/talosReboots.js", exportName: "rebootsProvider" };

/** See the module comment. */
export class TalosReboots extends PackagedDynamicResource {
  /** What each node last booted with. */
  declare readonly booted: pulumi.Output<Record<string, BootState>>;
  /** What each node should run with. */
  declare readonly wanted: pulumi.Output<Record<string, BootState>>;
  /** The config keys Proxmox holds pending per node (read by `pulumi refresh`; undefined before one). */
  declare readonly pending: pulumi.Output<Record<string, string[]> | undefined>;

  constructor(name: string, args: TalosRebootsArgs, opts?: pulumi.CustomResourceOptions) {
    requireBuiltTasks("TalosReboots");
    const { spec } = args;
    const wanted = Object.fromEntries(
      spec.nodes.map((node) => {
        const apply = args.applies[node.name];
        const staged = pulumi.all([apply.resolvedApplyMode, apply.machineConfigurationHash]).apply(([mode, hash]) => (mode === "staged" ? hash : ""));
        return [node.name, { vm: args.vms[node.name].id, hardware: bootHardware(node), staged }];
      }),
    );
    super(
      PROVIDER_MODULE,
      name,
      {
        nodes: spec.nodes.map((n) => ({ name: n.name, ip: n.ip, role: n.role })),
        workerBatchSize: spec.talos.upgradeBatchSize,
        wanted,
        clientConfiguration: pulumi.secret(args.clientConfiguration),
        timeouts: taskTimeouts(spec.talos),
        booted: undefined,
        vms: args.vmIds && Object.fromEntries(spec.nodes.map((node) => [node.name, { host: node.host, vmId: args.vmIds![node.name] }])),
        // The whole connection is one secret: token or password inside, and never in a plain output.
        proxmoxConnection: args.proxmox && pulumi.secret(args.proxmox),
        pending: undefined,
        backups: backupSettings(spec),
      },
      {
        ...opts,
        dependsOn: [...Object.values(args.vms), ...Object.values(args.applies)],
        additionalSecretOutputs: ["clientConfiguration", "proxmoxConnection"],
      },
    );
  }
}

/** The provider's methods, for tests. */
export const rebootsProvider = PROVIDER;
