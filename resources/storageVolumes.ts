import * as pulumi from "@pulumi/pulumi";
import type * as talos from "../sdk/talos";
import { ClusterSpec, controlPlanes } from "../config/domain";
import { PackagedDynamicResource, type ProviderModule } from "./dynamicResource";
import { loadTasks, requireBuiltTasks } from "./taskModule";

/**
 * Guards a CSI driver's removal: a resource that depends on everything the driver is made of (its
 * Helm release, StorageClass, credentials), so the engine deletes it first, and whose delete
 * refuses while PersistentVolumes of the driver exist (engines/volumes.ts). The update then stops
 * before the driver goes. Creating or updating it reaches nothing. With `deletedWith` the
 * cluster's machine secrets, a `pulumi destroy` of the whole cluster skips the check
 * (pulumi/pulumi v3.208.0 pkg/resource/deploy/step.go isDeletedWith), as it skips a member's leave.
 */

/** The guard's inputs, as its provider receives them. */
export interface VolumesGuardState {
  /** The config key that installs the driver, named in the refusal. */
  key: string;
  /** The CSI driver name. */
  driver: string;
  /** The control planes as of the last update: the Talos endpoints and the kubeconfig's source. */
  controlPlanes: { name: string; ip: string; role: "controlplane" | "worker" }[];
  clientConfiguration: talos.ClientConfiguration;
  /** The Talos OS CA (secret): a delete that finds the client certificate lapsed issues a fresh one. */
  osCa: { cert: string; key: string };
}

const PROVIDER: pulumi.dynamic.ResourceProvider = {
  async create(inputs: VolumesGuardState) {
    return { id: `volumes-${inputs.driver}`, outs: inputs };
  },
  async diff(_id: string, olds: VolumesGuardState, news: VolumesGuardState) {
    return { changes: JSON.stringify(olds) !== JSON.stringify(news), replaces: [] };
  },
  async update(_id: string, _olds: VolumesGuardState, news: VolumesGuardState) {
    return { outs: news };
  },
  async delete(_id: string, props: VolumesGuardState) {
    const task = loadTasks();
    const clientConfiguration = await task.usableClientConfiguration(props.clientConfiguration, props.osCa, new Date());
    const endpoints = props.controlPlanes.map((n) => n.ip);
    await task.runVolumesCheck({ key: props.key, driver: props.driver, nodes: props.controlPlanes, endpoints, clientConfiguration });
  },
};

export interface VolumesGuardArgs {
  spec: ClusterSpec;
  /** The config key that installs the driver, e.g. `storage.proxmoxCsi`. */
  key: string;
  /** The CSI driver name, e.g. `csi.proxmox.sinextra.dev`. */
  driver: string;
  clientConfiguration: pulumi.Input<talos.ClientConfiguration>;
  osCa: pulumi.Input<{ cert: string; key: string }>;
}

/** Where the provider host finds volumesGuardProvider (resources/dynamicResource.ts): states name this export, so it keeps its name. */
const PROVIDER_MODULE: ProviderModule = { file: "resources/storageVolumes.js", exportName: "volumesGuardProvider" };

/** See the module comment. Give it `dependsOn` the driver's resources and `deletedWith` the machine secrets. */
export class VolumesGuard extends PackagedDynamicResource {
  constructor(name: string, args: VolumesGuardArgs, opts?: pulumi.CustomResourceOptions) {
    requireBuiltTasks("VolumesGuard");
    super(
      PROVIDER_MODULE,
      name,
      {
        key: args.key,
        driver: args.driver,
        controlPlanes: controlPlanes(args.spec).map((n) => ({ name: n.name, ip: n.ip, role: n.role })),
        clientConfiguration: pulumi.secret(args.clientConfiguration),
        osCa: pulumi.secret(args.osCa),
      },
      { ...opts, additionalSecretOutputs: ["clientConfiguration", "osCa"] },
    );
  }
}

/** The provider's methods, for tests. */
export const volumesGuardProvider = PROVIDER;
