import * as pulumi from "@pulumi/pulumi";
import type * as talos from "../sdk/talos";
import { ClusterSpec, NodeSpec } from "../config/domain";
import { backupSettings, type BackupSettings } from "./backupSettings";
import { requireBuiltTasks, taskModulePath } from "./taskModule";

/**
 * Rolled reboots as a resource. VM changes that only a reboot brings into effect (cores, memory,
 * passthrough devices: the VMs are updated with `rebootAfterUpdate: false`) and configs the
 * provider staged for the next reboot are recorded per node; when they differ from what the node
 * last booted with, its update reboots those nodes one control plane at a time, then workers in
 * batches, with the same gates as an upgrade (engines/rollout.ts rolledReboot), and records the
 * new state. A new VM boots with what it has, so it never waits. A failed reboot fails the update
 * and keeps the old records: the next `pulumi up` reboots what still waits.
 */

const TASK_MODULE = taskModulePath();

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
  /** What each node last booted with. */
  booted?: Record<string, BootState>;
  /** Where the etcd snapshot before control planes reboot goes (absent in older states: none). */
  backups?: BackupSettings;
}

/** The nodes whose wanted state needs a reboot to take effect, in the cluster's order. Pure. */
export function nodesToReboot(booted: Record<string, BootState> | undefined, wanted: Record<string, BootState>): string[] {
  return Object.keys(wanted).filter((name) => {
    const was = booted?.[name];
    if (!was || was.vm !== wanted[name].vm) return false; // a new node or VM: it boots with what it has
    const hardware = JSON.stringify(was.hardware) !== JSON.stringify(wanted[name].hardware);
    return hardware || (wanted[name].staged !== "" && wanted[name].staged !== was.staged);
  });
}

const PROVIDER: pulumi.dynamic.ResourceProvider = {
  async create(inputs: RebootsState) {
    return { id: "talos-reboots", outs: { ...inputs, booted: inputs.wanted } };
  },
  async diff(_id: string, olds: RebootsState, news: RebootsState) {
    const keys = ["nodes", "workerBatchSize", "wanted", "clientConfiguration"] as const;
    return { changes: keys.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])), replaces: [] };
  },
  async update(_id: string, olds: RebootsState, news: RebootsState) {
    const reboot = nodesToReboot(olds.booted, news.wanted);
    if (reboot.length > 0) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const task = require(TASK_MODULE) as typeof import("../engines/tasks");
      const existing = news.nodes.filter((n) => olds.booted?.[n.name]);
      await task.runRolledReboot({
        nodes: existing,
        endpoints: existing.filter((n) => n.role === "controlplane").map((n) => n.ip),
        clientConfiguration: news.clientConfiguration,
        only: reboot,
        workerBatchSize: news.workerBatchSize,
        backups: news.backups,
      });
    }
    return { outs: { ...news, booted: news.wanted } };
  },
  async delete() {
    // Nothing to undo.
  },
};

export interface TalosRebootsArgs {
  spec: ClusterSpec;
  vms: Record<string, pulumi.CustomResource>;
  applies: Record<string, talos.machine.ConfigurationApply>;
  clientConfiguration: pulumi.Input<talos.ClientConfiguration>;
}

/**
 * What a VM's running hardware depends on: cores, memory and passthrough devices (updated in place
 * without a reboot, so they take effect at the next one). Pure.
 */
export function bootHardware(node: NodeSpec): Record<string, unknown> {
  return node.pci.length > 0 ? { cores: node.cores, memory: node.memory, pci: node.pci } : { cores: node.cores, memory: node.memory };
}

/** See the module comment. */
export class TalosReboots extends pulumi.dynamic.Resource {
  /** What each node last booted with. */
  declare readonly booted: pulumi.Output<Record<string, BootState>>;
  /** What each node should run with. */
  declare readonly wanted: pulumi.Output<Record<string, BootState>>;

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
      PROVIDER,
      name,
      {
        nodes: spec.nodes.map((n) => ({ name: n.name, ip: n.ip, role: n.role })),
        workerBatchSize: spec.talos.upgradeBatchSize,
        wanted,
        clientConfiguration: pulumi.secret(args.clientConfiguration),
        booted: undefined,
        backups: backupSettings(spec),
      },
      { ...opts, dependsOn: [...Object.values(args.vms), ...Object.values(args.applies)], additionalSecretOutputs: ["clientConfiguration"] },
    );
  }
}

/** The provider's methods, for tests. */
export const rebootsProvider = PROVIDER;
