import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type * as talos from "../sdk/talos";
import type { CredentialDates, CredentialsInputs, CredentialsState } from "../engines/credentials";
import { PackagedDynamicResource, type ProviderModule } from "./dynamicResource";
import { loadTasks, requireBuiltTasks } from "./taskModule";

/**
 * The cluster's client credentials as a resource: the talosconfig client certificate (role
 * `os:admin`) and the admin kubeconfig's (`system:masters`), issued from the CAs in the machine
 * secrets the way Talos issues them (engines/credentials.ts). Its diff compares the clock with the
 * certificates' not-after: when one expires within the renewal window, or has expired, the update
 * reissues it; otherwise nothing changes and the engine keeps the outputs. Issuing a client
 * certificate changes no node: the nodes trust the CA, not a certificate.
 *
 * Like the other dynamic resources, its state holds a constant provider text that loads this
 * module's `credentialsResourceProvider` from the project's package (dynamicResource.ts); the
 * provider finds the compiled task module when it runs (taskModule.ts loadTasks; X.509 work included).
 */

/** The provider, reading the time from `clock` (tests move it). */
export function credentialsProvider(clock: () => Date): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: CredentialsInputs) {
      const task = loadTasks();
      return { id: "talos-credentials", outs: await task.renewCredentials({}, inputs, clock()) };
    },
    // Runs on every preview and update: a certificate due for renewal shows as an update.
    async diff(_id: string, olds: CredentialsState, news: CredentialsInputs) {
      const task = loadTasks();
      return { changes: task.credentialsChanged(olds, news, clock()), replaces: [], deleteBeforeReplace: false };
    },
    async update(_id: string, olds: CredentialsState, news: CredentialsInputs) {
      const task = loadTasks();
      return { outs: await task.renewCredentials(olds, news, clock()) };
    },
    async delete() {
      // Nothing to undo: an issued certificate stays valid until its not-after.
    },
  };
}

const PROVIDER = credentialsProvider(() => new Date());

export interface TalosCredentialsArgs {
  /** The machine secrets of `talos.machine.Secrets` (secret). */
  machineSecrets: pulumi.Input<talos.MachineSecrets>;
  /** Reissue a client certificate once it expires within this many milliseconds. */
  renewBeforeMs: number;
}

/** Where the provider host finds credentialsResourceProvider (resources/dynamicResource.ts): states name this export, so it keeps its name. */
const PROVIDER_MODULE: ProviderModule = { file: "resources/talosCredentials.js", exportName: "credentialsResourceProvider" };

/** See the module comment. */
export class TalosCredentials extends PackagedDynamicResource {
  /** The Talos provider's client configuration: OS CA, `os:admin` client certificate and key (secret). */
  declare readonly clientConfiguration: pulumi.Output<talos.ClientConfiguration>;
  /** The admin kubeconfig's Kubernetes CA, client certificate and key (secret). */
  declare readonly kubernetesClient: pulumi.Output<talos.ClientConfiguration>;
  /** The Talos OS CA, certificate and key (secret): lets a removal mint a client certificate if the stored one lapsed. */
  declare readonly osCa: pulumi.Output<{ cert: string; key: string }>;
  /** Not-after dates of the client certificates and CAs (ISO 8601; not secret). */
  declare readonly notAfter: pulumi.Output<CredentialDates>;

  constructor(name: string, args: TalosCredentialsArgs, opts?: pulumi.CustomResourceOptions) {
    requireBuiltTasks("TalosCredentials");
    const certs = pulumi.output(args.machineSecrets).apply((s) => s.certs);
    super(
      PROVIDER_MODULE,
      name,
      {
        osCa: pulumi.secret(certs.apply((c) => ({ cert: c.os.cert, key: c.os.key }))),
        kubernetesCa: pulumi.secret(certs.apply((c) => ({ cert: c.k8s.cert, key: c.k8s.key }))),
        etcdCaCert: pulumi.secret(certs.apply((c) => c.etcd.cert)),
        renewBeforeMs: args.renewBeforeMs,
        clientConfiguration: undefined,
        kubernetesClient: undefined,
        notAfter: undefined,
      },
      { ...opts, additionalSecretOutputs: ["osCa", "kubernetesCa", "etcdCaCert", "clientConfiguration", "kubernetesClient"] },
    );
  }
}

/** The provider the provider host loads (see PROVIDER_MODULE), reading the real clock. */
export const credentialsResourceProvider = PROVIDER;

/** One credential in the `credentials` output. */
export interface CredentialLifetime {
  /** Not-after date, ISO 8601. */
  notAfter: string;
  /** Whole days from `now` to the not-after (negative once expired). */
  daysLeft: number;
}

/** The `credentials` output: when each client certificate and CA expires. */
export interface CredentialLifetimes {
  talosconfig: CredentialLifetime;
  kubeconfig: CredentialLifetime;
  osCa: CredentialLifetime;
  kubernetesCa: CredentialLifetime;
  etcdCa: CredentialLifetime;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The dates only, rebuilt field by field from parsed dates: nothing else of the resource's outputs
 * can reach this plain output. Throws on anything that is not a date. Pure.
 */
export function credentialLifetimes(dates: CredentialDates, now: Date): CredentialLifetimes {
  const lifetime = (what: string, text: string): CredentialLifetime => {
    const at = new Date(text);
    if (typeof text !== "string" || Number.isNaN(at.getTime())) throw new Error(`credentials: ${what} has no valid not-after date`);
    return { notAfter: at.toISOString(), daysLeft: Math.floor((at.getTime() - now.getTime()) / DAY_MS) };
  };
  return {
    talosconfig: lifetime("the talosconfig client certificate", dates.talosClient),
    kubeconfig: lifetime("the kubeconfig client certificate", dates.kubernetesClient),
    osCa: lifetime("the Talos OS CA", dates.osCa),
    kubernetesCa: lifetime("the Kubernetes CA", dates.kubernetesCa),
    etcdCa: lifetime("the etcd CA", dates.etcdCa),
  };
}

/**
 * The admin kubeconfig, laid out as Talos writes it (siderolabs/talos v1.13.9
 * pkg/kubeconfig/generate.go:35-58,103-126): cluster `<clusterName>` at the endpoint with the
 * Kubernetes CA, user and context `admin@<clusterName>`, namespace `default`. Pure.
 */
export function adminKubeconfig(clusterName: string, endpoint: string, client: talos.ClientConfiguration): string {
  const user = `admin@${clusterName}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: endpoint, "certificate-authority-data": client.caCertificate } }],
    contexts: [{ name: user, context: { cluster: clusterName, namespace: "default", user } }],
    "current-context": user,
    users: [{ name: user, user: { "client-certificate-data": client.clientCertificate, "client-key-data": client.clientKey } }],
  });
}
