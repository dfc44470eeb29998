import * as pulumi from "@pulumi/pulumi";
import type * as talos from "../sdk/talos";
import { ClusterSpec, NodeSpec, controlPlanes } from "../config/domain";
import { taskTimeouts, type TaskTimeouts } from "../config/duration";
import { PackagedDynamicResource, type ProviderModule } from "./dynamicResource";
import { loadTasks, requireBuiltTasks } from "./taskModule";
import { backupSettings, type BackupSettings } from "./backupSettings";

/**
 * A node's membership in the cluster, as a resource whose delete takes the node out gracefully
 * before its config apply and VM are deleted (it depends on them, so it goes first): drain, leave
 * etcd (or remove a dead node's member through another control plane), reset, delete the
 * Kubernetes Node. Creating or updating it reaches no node. With `deletedWith` the cluster's
 * machine secrets, a `pulumi destroy` of the whole cluster skips these deletes (the engine does
 * not call a provider's delete for a resource whose `deletedWith` target goes in the same
 * operation: pulumi/pulumi v3.208.0 pkg/resource/deploy/step.go isDeletedWith), so teardown stays
 * fast and never asks the last etcd member to leave.
 */

/** The membership's inputs, as its provider receives them. */
export interface MemberState {
  /** The ID of the node's VM: a new VM is a new node, so the membership is replaced, and the engine deletes it before it deletes the old VM. */
  vm: string;
  node: { name: string; ip: string; role: "controlplane" | "worker" };
  /**
   * The control planes as of the last update (this node included if it is one): the etcd checks
   * and the routes to the node. Workers are not listed, so adding or removing one changes no
   * other node's membership.
   */
  controlPlanes: { name: string; ip: string; role: "controlplane" | "worker" }[];
  clientConfiguration: talos.ClientConfiguration;
  /** The config's rebootTimeout and drainTimeout (absent in a state written before them: the engine's defaults). */
  timeouts?: TaskTimeouts;
  /** Where the etcd snapshot before a control plane leaves goes (absent in older states: none). */
  backups?: BackupSettings;
  /**
   * The Talos OS CA (secret; absent in states of earlier releases). A removed node's membership is
   * deleted with the inputs it last had: if their client certificate has lapsed by then, the delete
   * issues a fresh one from this CA (engines/credentials.ts usableClientConfiguration).
   */
  osCa?: { cert: string; key: string };
}

const PROVIDER: pulumi.dynamic.ResourceProvider = {
  async create(inputs: MemberState) {
    return { id: `member-${inputs.node.name}`, outs: inputs };
  },
  // A VM ID that changes (or is not known yet because the VM is being replaced) replaces the
  // membership. The engine then deletes it before the old VM (a delete-before-replace VM's
  // dependents whose inputs come from it: pulumi/pulumi v3.208.0 step_generator.go
  // calculateDependentReplacements), so the old node leaves while it still runs.
  async diff(_id: string, olds: MemberState, news: MemberState) {
    const replaces = olds.vm === news.vm ? [] : ["vm"];
    return { changes: JSON.stringify(olds) !== JSON.stringify(news), replaces, deleteBeforeReplace: true };
  },
  async update(_id: string, _olds: MemberState, news: MemberState) {
    return { outs: news };
  },
  async delete(_id: string, props: MemberState) {
    const task = loadTasks();
    const nodes = [...props.controlPlanes.filter((n) => n.name !== props.node.name), props.node];
    const endpoints = props.controlPlanes.map((n) => n.ip);
    const clientConfiguration = props.osCa ? await task.usableClientConfiguration(props.clientConfiguration, props.osCa, new Date()) : props.clientConfiguration;
    await task.runRemoveNode({ nodes, node: props.node.name, endpoints, clientConfiguration, timeouts: props.timeouts, backups: props.backups });
  },
};

export interface TalosMemberArgs {
  /** The node's VM. */
  vm: pulumi.CustomResource;
  spec: ClusterSpec;
  node: NodeSpec;
  clientConfiguration: pulumi.Input<talos.ClientConfiguration>;
  /** The Talos OS CA from the machine secrets, for a delete that finds the client certificate lapsed. */
  osCa?: pulumi.Input<{ cert: string; key: string }>;
}

/** Where the provider host finds memberProvider (resources/dynamicResource.ts): states name this export, so it keeps its name. */
const PROVIDER_MODULE: ProviderModule = { file: "resources/talosMember.js", exportName: "memberProvider" };

/** See the module comment. */
export class TalosMember extends PackagedDynamicResource {
  constructor(name: string, args: TalosMemberArgs, opts?: pulumi.CustomResourceOptions) {
    requireBuiltTasks("TalosMember");
    const ref = (n: NodeSpec) => ({ name: n.name, ip: n.ip, role: n.role });
    super(
      PROVIDER_MODULE,
      name,
      {
        vm: args.vm.id,
        node: ref(args.node),
        controlPlanes: controlPlanes(args.spec).map(ref),
        clientConfiguration: pulumi.secret(args.clientConfiguration),
        timeouts: taskTimeouts(args.spec.talos),
        backups: backupSettings(args.spec),
        osCa: args.osCa === undefined ? undefined : pulumi.secret(args.osCa),
      },
      { ...opts, deleteBeforeReplace: true, additionalSecretOutputs: ["clientConfiguration", "osCa"] },
    );
  }
}

/** The provider's methods, for tests. */
export const memberProvider = PROVIDER;
