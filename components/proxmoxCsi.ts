import type * as k8s from "@pulumi/kubernetes";
// Each class from its own module, as the other components do: the packages' indexes load every module (docs/performance.md).
import { Acl } from "@muhlba91/pulumi-proxmoxve/acl";
import { RoleLegacy } from "@muhlba91/pulumi-proxmoxve/roleLegacy";
import { UserLegacy } from "@muhlba91/pulumi-proxmoxve/userLegacy";
import { Token } from "@muhlba91/pulumi-proxmoxve/user/token";
import { Release } from "@pulumi/kubernetes/helm/v3/release";
import { Namespace } from "@pulumi/kubernetes/core/v1/namespace";
import { Secret } from "@pulumi/kubernetes/core/v1/secret";
import { StorageClass } from "@pulumi/kubernetes/storage/v1/storageClass";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as YAML from "yaml";
import { PROXMOX_CSI_CHART, PROXMOX_CSI_DRIVER, type ProxmoxCsiSpec } from "../config/domain";
import type { TaskTimeouts } from "../config/duration";
import type { NodeRef } from "../engines/operations";
import { vmDisksChange } from "../engines/volumes";
import type { TalosClientConfiguration } from "../talosapi/credentials";

/**
 * The Proxmox privileges the plugin documents for its role (sergelogvinov/proxmox-csi-plugin v0.19.1
 * docs/install.md:16-22): read VMs, attach disks to them, create and delete disks on datastores.
 */
export const PROXMOX_CSI_PRIVILEGES = ["Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit", "VM.Audit", "VM.Config.Disk"];

/** Where the plugin runs; the chart's docs put it in this namespace (docs/install.md:96-101). */
export const PROXMOX_CSI_NAMESPACE = "csi-proxmox";
export const PROXMOX_CSI_CONFIG_SECRET = "proxmox-csi-config";

/** The `storage` output: what a PersistentVolumeClaim names. */
export interface StorageSummary {
  storageClass: string;
  provisioner: string;
  datastore: string;
  default: boolean;
}

export interface ProxmoxCsiArgs {
  clusterName: string;
  csi: ProxmoxCsiSpec;
  /** The Proxmox API endpoint of the program's provider, e.g. `https://pve.example:8006/`; the plugin's pods must reach it too. */
  proxmoxEndpoint: pulumi.Input<string>;
  /** Skip TLS verification of the Proxmox API, as the program's provider does. */
  insecure?: pulumi.Input<boolean | undefined>;
  /** The cluster's Kubernetes provider: ready after the health gate and the CNI. */
  provider: k8s.Provider;
}

/**
 * The Proxmox names of the plugin's role, user and token. The role begins with `csi-`: Proxmox
 * refuses role IDs that begin with "PVE" in any case (pve-access-control 9.1.1
 * src/PVE/API2/Role.pm:96-101), which a clusterName may. A user name is at most 64 characters
 * (Auth/Plugin.pm:121-133; rules.ts proxmoxCsiUserNameFits). Pure.
 */
export function proxmoxCsiIdentity(clusterName: string): { roleId: string; userId: string; tokenName: string } {
  return { roleId: `csi-${clusterName}`, userId: `${clusterName}-csi@pve`, tokenName: "csi" };
}

/** `https://host:8006/` (with or without `/api2/json`) as the plugin's `url` (docs/install.md:123). Pure. */
export function proxmoxApiUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "").replace(/\/api2\/json$/, "")}/api2/json`;
}

/**
 * The secret of a token from the provider's `value`, `<user>@<realm>!<name>=<secret>`
 * (bpg/terraform-provider-proxmox v0.111.1 proxmox/access/user_token.go:40): the text after the last
 * `=`, as a user name may hold one (pve-access-control Auth/Plugin.pm:35). Proxmox returns the
 * secret only when the token is created (the provider's docs of `value`), so a token imported into
 * the state has none: that is an error naming the way out, never an empty secret for the plugin. Pure.
 */
export function tokenSecretOf(value: string | undefined): string {
  const secret = value?.includes("=") ? value.slice(value.lastIndexOf("=") + 1) : "";
  if (secret === "") {
    throw new Error(
      "storage.proxmoxCsi: the state holds no secret of the plugin's Proxmox API token (Proxmox returns it only when the token is created); " +
        "create a new one with pulumi up --replace <the URN of the proxmoxve:user/token:Token resource>",
    );
  }
  return secret;
}

/** The plugin's config file (pkg/proxmoxpool/pool.go:38-48; config.go:88-117 requires the region and an http URL). Pure. */
export function pluginConfig(csi: ProxmoxCsiSpec, cluster: { url: string; insecure: boolean; tokenId: string; tokenSecret: string }): string {
  return YAML.stringify({ clusters: [{ url: cluster.url, insecure: cluster.insecure, token_id: cluster.tokenId, token_secret: cluster.tokenSecret, region: csi.region }] });
}

/**
 * The chart's values. The config comes from our Secret, whose change the chart's own checksum
 * would not see (charts/proxmox-csi-plugin/templates/controller-deployment.yaml:19-20 hashes
 * `.Values.config` only), so the controller carries the config's hash as a pod annotation. The
 * controller, the only part that reads the token (controller-deployment.yaml:56,71-72), runs on
 * control planes. The StorageClass is ours, not the chart's. Pure.
 */
export function proxmoxCsiValues(configHash: string): Record<string, unknown> {
  return {
    createNamespace: false,
    existingConfigSecret: PROXMOX_CSI_CONFIG_SECRET,
    existingConfigSecretKey: "config.yaml",
    // The controller's pod annotations (controller-deployment.yaml:21); the top-level podAnnotations would restart the node plugins too.
    controller: { podAnnotations: { "talos-proxmox/config-sha256": configHash } },
    nodeSelector: { "node-role.kubernetes.io/control-plane": "" },
    tolerations: [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }],
    storageClass: [],
  };
}

/** The StorageClass (as the chart would render it: templates/storageclass.yaml, _storage.tpl). Pure. */
export function storageClassArgs(csi: ProxmoxCsiSpec): k8s.storage.v1.StorageClassArgs {
  return {
    metadata: { name: csi.storageClass, annotations: csi.default ? { "storageclass.kubernetes.io/is-default-class": "true" } : undefined },
    provisioner: PROXMOX_CSI_DRIVER,
    parameters: { storage: csi.datastore, "csi.storage.k8s.io/fstype": csi.fsType },
    reclaimPolicy: csi.reclaimPolicy,
    // Wait for the pod: the disk is made on its node's Proxmox host.
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
  };
}

/** The `storage` output. Pure. */
export function storageSummary(csi: ProxmoxCsiSpec): StorageSummary {
  return { storageClass: csi.storageClass, provisioner: PROXMOX_CSI_DRIVER, datastore: csi.datastore, default: csi.default };
}

/**
 * Persistent volumes as Proxmox disks (`storage.proxmoxCsi`): the plugin's Proxmox role, user, ACL
 * and API token (through the program's Proxmox provider), then, on the cluster once it is healthy
 * and has its CNI, a privileged namespace, the token as a Secret, the pinned chart, and the
 * StorageClass. The token is a Pulumi secret from the provider's output to the Secret.
 */
export class ProxmoxCsi extends pulumi.ComponentResource {
  /** The StorageClass, provisioner and datastore. */
  public readonly storage: StorageSummary;
  /** The plugin's Helm release. */
  public readonly release: Release;
  public readonly storageClass: StorageClass;

  constructor(name: string, args: ProxmoxCsiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("talos-proxmox:storage:ProxmoxCsi", name, {}, opts);
    const token = this.proxmoxToken(name, args.clusterName);
    const config = pulumi
      .all([args.proxmoxEndpoint, args.insecure, token.id, token.value])
      .apply(([endpoint, insecure, tokenId, value]) =>
        pluginConfig(args.csi, { url: proxmoxApiUrl(endpoint), insecure: insecure ?? false, tokenId, tokenSecret: tokenSecretOf(value) }),
      );
    const onCluster = { parent: this, provider: args.provider };
    const namespace = new Namespace(
      `${name}-namespace`,
      {
        // The node plugin is privileged (charts/proxmox-csi-plugin/templates/node-deployment.yaml); Talos enforces baseline elsewhere (talos v1.13.9 pkg/machinery/config/generate/init.go:106-126).
        metadata: { name: PROXMOX_CSI_NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/audit": "baseline", "pod-security.kubernetes.io/warn": "baseline" } },
      },
      { ...onCluster, deleteBeforeReplace: true },
    );
    const secret = new Secret(
      `${name}-config`,
      { metadata: { name: PROXMOX_CSI_CONFIG_SECRET, namespace: namespace.metadata.name }, stringData: { "config.yaml": pulumi.secret(config) } },
      { ...onCluster, deleteBeforeReplace: true },
    );
    const configHash = pulumi.secret(config).apply((text) => createHash("sha256").update(text).digest("hex"));
    this.release = new Release(
      `${name}-release`,
      {
        name: "proxmox-csi-plugin",
        chart: PROXMOX_CSI_CHART,
        version: args.csi.version,
        namespace: namespace.metadata.name,
        createNamespace: false,
        values: configHash.apply(proxmoxCsiValues),
        // Wait until the controller and the node plugins run: the StorageClass comes after them.
        skipAwait: false,
        timeout: 600,
      },
      { ...onCluster, dependsOn: [secret] },
    );
    // Kubernetes refuses any update of parameters, provisioner, reclaimPolicy or volumeBindingMode
    // (pkg/apis/storage/validation ValidateStorageClassUpdate); pulumi-kubernetes replaces on the
    // first two only (v4.32.0 provider/pkg/provider/diff.go:70-77). Same name: delete first.
    this.storageClass = new StorageClass(`${name}-class`, storageClassArgs(args.csi), {
      ...onCluster,
      dependsOn: [this.release],
      replaceOnChanges: ["reclaimPolicy", "volumeBindingMode"],
      deleteBeforeReplace: true,
    });
    this.storage = storageSummary(args.csi);
    this.registerOutputs({ storage: this.storage });
  }

  /** The plugin's role (its documented privileges only), user, ACL at `/` (docs/install.md:26-30) and token. */
  private proxmoxToken(name: string, clusterName: string): Token {
    const id = proxmoxCsiIdentity(clusterName);
    const role = new RoleLegacy(`${name}-role`, { roleId: id.roleId, privileges: PROXMOX_CSI_PRIVILEGES }, { parent: this });
    const user = new UserLegacy(`${name}-user`, { userId: id.userId, comment: `Proxmox CSI plugin of the Talos cluster ${clusterName} (talos-proxmox)` }, { parent: this });
    const acl = new Acl(`${name}-acl`, { path: "/", roleId: role.roleId, userId: user.userId, propagate: true }, { parent: this });
    // Without privilege separation the token has its user's privileges, which are the role's alone
    // (pve-access-control 9.1.1 RPCEnvironment.pm:131-135), so one ACL serves both.
    return new Token(
      `${name}-token`,
      { userId: user.userId, tokenName: id.tokenName, privilegesSeparation: false, comment: `Proxmox CSI plugin of ${clusterName}` },
      { parent: this, dependsOn: [acl], additionalSecretOutputs: ["value"] },
    );
  }
}

export interface AttachedVolumesHookArgs {
  /** The control planes: the Talos endpoints and the kubeconfig's source. */
  controlPlanes: NodeRef[];
  /** The cluster's client configuration (a deferred Output: the VMs bind the hook before the cluster exists). */
  clientConfiguration: pulumi.Output<TalosClientConfiguration>;
  timeouts?: TaskTimeouts;
}

/**
 * The hook a VM's update runs first while `storage.proxmoxCsi` is on: an update that changes the
 * VM's disks (its inputs, or a drift in the state the provider plans from) is refused while the
 * plugin has volumes attached to that node, before the provider would pull them
 * (engines/volumes.ts). The engine runs it just before the provider's Update, with the old inputs
 * and outputs and the new inputs (pulumi/pulumi v3.248.0 pkg/resource/deploy/step.go:933-947);
 * never on preview (`onDryRun` defaults to false), and a new VM has no volumes.
 */
export function attachedVolumesHook(name: string, args: AttachedVolumesHookArgs): pulumi.ResourceHook {
  return new pulumi.ResourceHook(name, async (hook) => {
    if (!vmDisksChange(hook.oldInputs, hook.oldOutputs, hook.newInputs)) return;
    // Known by now: the VM depends on the credentials resource (TalosVmArgs.beforeUpdate.after), so
    // the engine ran its step before this one; a hook waiting on a step not yet started could fill
    // the engine's fixed pool of step workers (pulumi/pulumi v3.248.0 step_executor.go:731,749-767).
    const clientConfiguration = await new Promise<TalosClientConfiguration>((resolve) => args.clientConfiguration.apply(resolve));
    // Loaded when it runs, as the health gate's: the Talos client is no part of the program's start-up.
    const { runDiskChangeCheck } = await import("../engines/tasks");
    const { controlPlanes, timeouts } = args;
    const node = String(hook.newInputs?.name);
    await runDiskChangeCheck({ node, driver: PROXMOX_CSI_DRIVER, nodes: controlPlanes, endpoints: controlPlanes.map((n) => n.ip), clientConfiguration, timeouts });
  });
}
