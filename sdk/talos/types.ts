import * as pulumi from "@pulumi/pulumi";

/** Talos API client credentials (CA, client certificate and key). `clientKey` is secret. */
export interface ClientConfiguration {
  caCertificate: string;
  clientCertificate: string;
  clientKey: string;
}

export interface ClientConfigurationArgs {
  caCertificate: pulumi.Input<string>;
  clientCertificate: pulumi.Input<string>;
  clientKey: pulumi.Input<string>;
}

export interface Certificate {
  cert: string;
  key: string;
}

/** Machine secrets bundle (`talosctl gen secrets`); every key and token in it is secret. */
export interface MachineSecrets {
  certs: {
    etcd: Certificate;
    k8s: Certificate;
    k8sAggregator: Certificate;
    k8sServiceaccount: { key: string };
    os: Certificate;
  };
  cluster: { id: string; secret: string };
  secrets: { bootstrapToken: string; secretboxEncryptionSecret: string; aescbcEncryptionSecret?: string };
  trustdinfo: { token: string };
}

/** Go duration strings such as "30s", "10m", "2h45m". */
export interface ApplyTimeouts {
  create?: pulumi.Input<string>;
  update?: pulumi.Input<string>;
  delete?: pulumi.Input<string>;
}

/** What a ConfigurationApply does when destroyed; without `reset` it is a no-op. */
export interface ConfigurationApplyOnDestroy {
  graceful?: pulumi.Input<boolean>;
  reboot?: pulumi.Input<boolean>;
  reset?: pulumi.Input<boolean>;
}

export interface KubernetesClientConfiguration {
  caCertificate: string;
  clientCertificate: string;
  clientKey: string;
  host: string;
}

/** URLs the Image Factory serves for one schematic, version, platform and architecture. */
export interface ImageFactoryUrls {
  diskImage: string;
  diskImageSecureboot: string;
  initramfs: string;
  installer: string;
  installerSecureboot: string;
  iso: string;
  isoSecureboot: string;
  kernel: string;
  kernelCommandLine: string;
  pxe: string;
  uki: string;
}
