/**
 * The v1alpha1 machine config document (`version`, `debug`, `persist`, `machine`, `cluster`) as
 * Talos v1.13 decodes it: our own description, written by hand, not a copy of Talos files.
 *
 * Source: siderolabs/talos tag v1.13.9, read for facts only (field names, Go types, enum values):
 *   pkg/machinery/config/types/v1alpha1/v1alpha1_types.go (the Go structs and their yaml tags),
 *   pkg/machinery/config/types/v1alpha1/v1alpha1_validation.go (enum checks done in Validate),
 *   pkg/machinery/config/schemas/config.schema.json (`v1alpha1.*` definitions, for enums),
 *   pkg/machinery/config/machine/machine.go (machine types).
 * Transcribed by reading each Go struct, one line per yaml tag, in the struct's order; then every
 * name was compared by a throwaway script against the yaml tags and the JSON schema (see
 * `documents.ts` for the totals and what was verified).
 *
 * Fields the 1.13 JSON schema omits (Go `docgen:nodoc`) are still decoded by Talos and so accepted
 * here: those marked Deprecated in Go carry `deprecated(...)` (the validator warns); the three nodoc
 * fields Go does not call deprecated (`machine.features.rbac`, `machine.features.apidCheckExtKeyUsage`,
 * `cluster.apiServer.disablePodSecurityPolicy`) are plain fields.
 * Where the JSON schema and the Go types disagree, the Go types win (they are what decodes):
 * `machine.acceptedCAs` and `cluster.acceptedCAs` are lists of `{crt}` (the schema says one object);
 * `machine.logging.destinations[].endpoint` is a URL string (the schema says an empty object);
 * the control-plane components' `resources` take only `requests` and `limits` (the schema: any
 * object); `machine.type` also takes the legacy `init` and `join`.
 */
import {
  Spec,
  args,
  bool,
  cert,
  certAndKey,
  deprecated,
  duration,
  i64,
  list,
  mapOf,
  mapping,
  obj,
  oneOf,
  str,
  strings,
  u16,
  u32,
  u64,
  u8,
  enumText,
} from "./types";

const MULTIDOC_NETWORK = "deprecated since Talos 1.12: use the network documents (LinkConfig, DHCPv4Config, ...)";

// --- machine ---------------------------------------------------------------------------------

const extraMount = obj({
  destination: str(),
  type: str(),
  source: str(),
  options: strings,
  uidMappings: list(obj({ containerID: u32, hostID: u32, size: u32 })),
  gidMappings: list(obj({ containerID: u32, hostID: u32, size: u32 })),
});

const kubelet = obj({
  image: str(),
  clusterDNS: strings,
  extraArgs: args,
  extraMounts: list(extraMount),
  extraConfig: mapping,
  credentialProviderConfig: mapping,
  defaultRuntimeSeccompProfileEnabled: bool,
  registerWithFQDN: bool,
  nodeIP: obj({ validSubnets: strings }),
  skipNodeRegistration: bool,
  disableManifestsDirectory: bool,
});

const install = obj({
  disk: str(),
  diskSelector: obj({
    size: str(), // a condition such as ">= 100GB"
    name: str(),
    model: str(),
    serial: str(),
    modalias: str(),
    uuid: str(),
    wwid: str(),
    type: oneOf("ssd", "hdd", "nvme", "sd"),
    busPath: str(),
  }),
  extraKernelArgs: deprecated(strings, "removed from the 1.12+ schema: put kernel args in the Image Factory schematic"),
  image: str(),
  extensions: deprecated(list(obj({ image: str() })), "use an installer image with the extensions (Image Factory)"),
  bootloader: deprecated(bool, "never worked; Talos ignores it"),
  wipe: bool,
  legacyBIOSSupport: bool,
  grubUseUKICmdline: bool,
});

const file = obj({
  content: str(),
  permissions: u32, // file mode, e.g. 0o644
  path: str(),
  op: oneOf("create", "append", "overwrite"),
});

const features = obj({
  rbac: bool,
  stableHostname: deprecated(bool, "use a HostnameConfig document (auto: stable)"),
  kubernetesTalosAPIAccess: obj({ enabled: bool, allowedRoles: strings, allowedKubernetesNamespaces: strings }),
  apidCheckExtKeyUsage: bool,
  diskQuotaSupport: bool,
  kubePrism: obj({ enabled: bool, port: i64 }),
  hostDNS: obj({ enabled: bool, forwardKubeDNSToHost: bool, resolveMemberNames: bool }),
  imageCache: obj({ localEnabled: bool }),
  nodeAddressSortAlgorithm: enumText("v1", "v2"),
});

const logging = obj({
  destinations: list(obj({ endpoint: str(), format: oneOf("json_lines"), extraTags: mapOf(str()) })),
});

// Legacy `machine.network` (Go `NetworkConfig`, every field deprecated, absent from the 1.13 schema).
const deviceSelector = obj({
  busPath: str(),
  hardwareAddr: str(),
  permanentAddr: str(),
  pciID: str(),
  driver: str(),
  physical: bool,
});
const legacyRoute = obj({ network: str(), gateway: str(), source: str(), metric: u32, mtu: u32 });
const dhcpOptions = obj({ routeMetric: u32, ipv4: bool, ipv6: bool, duidv6: str() });
const legacyVip = obj({ ip: str(), equinixMetal: obj({ apiToken: str() }), hcloud: obj({ apiToken: str() }) });
const legacyBond = obj({
  interfaces: strings,
  deviceSelectors: list(deviceSelector),
  arpIPTarget: strings,
  mode: str(),
  xmitHashPolicy: str(),
  lacpRate: str(),
  adActorSystem: str(),
  arpValidate: str(),
  arpAllTargets: str(),
  primary: str(),
  primaryReselect: str(),
  failOverMac: str(),
  adSelect: str(),
  miimon: u32,
  updelay: u32,
  downdelay: u32,
  arpInterval: u32,
  resendIgmp: u32,
  minLinks: u32,
  lpInterval: u32,
  packetsPerSlave: u32,
  numPeerNotif: u8,
  tlbDynamicLb: u8,
  allSlavesActive: u8,
  useCarrier: bool,
  adActorSysPrio: u16,
  adUserPortKey: u16,
  peerNotifyDelay: u32,
});
const legacyDevice = obj({
  interface: str(),
  deviceSelector,
  addresses: strings,
  cidr: str(),
  routes: list(legacyRoute),
  bond: legacyBond,
  bridge: obj({ interfaces: strings, stp: obj({ enabled: bool }), vlan: obj({ vlanFiltering: bool }) }),
  bridgePort: obj({ master: str() }),
  vlans: list(
    obj({
      addresses: strings,
      cidr: str(),
      routes: list(legacyRoute),
      dhcp: bool,
      vlanId: u16,
      mtu: u32,
      vip: legacyVip,
      dhcpOptions,
    }),
  ),
  mtu: i64,
  dhcp: bool,
  ignore: bool,
  dummy: bool,
  dhcpOptions,
  wireguard: obj({
    privateKey: str(),
    listenPort: i64,
    firewallMark: i64,
    peers: list(obj({ publicKey: str(), endpoint: str(), persistentKeepaliveInterval: duration, allowedIPs: strings })),
  }),
  vip: legacyVip,
});
const legacyNetwork = obj({
  hostname: deprecated(
    str(),
    "use a HostnameConfig document (Talos 1.13 generates one: setting this fails with 'static hostname is already set')",
  ),
  interfaces: deprecated(
    list(legacyDevice),
    "use LinkConfig/BondConfig/VLANConfig/BridgeConfig, DHCPv4Config and Layer2VIPConfig documents",
  ),
  nameservers: deprecated(strings, "use a ResolverConfig document"),
  searchDomains: deprecated(strings, "use a ResolverConfig document"),
  extraHostEntries: deprecated(list(obj({ ip: str(), aliases: strings })), "use StaticHostConfig documents"),
  kubespan: deprecated(
    obj({
      enabled: bool,
      advertiseKubernetesNetworks: bool,
      allowDownPeerBypass: bool,
      harvestExtraEndpoints: bool,
      mtu: u32,
      filters: obj({ endpoints: strings, excludeAdvertisedNetworks: strings }),
    }),
    "use a KubeSpanConfig document",
  ),
  disableSearchDomain: deprecated(bool, "use a ResolverConfig document (searchDomains.disableDefault)"),
});

const legacyEncryption = obj({
  provider: str(),
  keys: list(
    obj({
      static: obj({ passphrase: str() }),
      nodeID: obj({}),
      kms: obj({ endpoint: str() }),
      slot: i64,
      tpm: obj({ checkSecurebootStatusOnEnroll: bool }),
    }),
  ),
  cipher: str(),
  keySize: u64,
  blockSize: u64,
  options: strings,
});

const legacyRegistries = obj({
  mirrors: mapOf(obj({ endpoints: strings, overridePath: bool, skipFallback: bool })),
  config: mapOf(
    obj({
      tls: obj({ clientIdentity: certAndKey, ca: str(), insecureSkipVerify: bool }),
      auth: obj({ username: str(), password: str(), auth: str(), identityToken: str() }),
    }),
  ),
});

const machine = obj({
  type: oneOf("controlplane", "worker", "init", "join"),
  token: str(),
  ca: certAndKey,
  acceptedCAs: list(cert),
  certSANs: strings,
  controlPlane: obj({ controllerManager: obj({ disabled: bool }), scheduler: obj({ disabled: bool }) }),
  kubelet,
  pods: list(mapping),
  network: deprecated(legacyNetwork, MULTIDOC_NETWORK),
  disks: deprecated(
    list(obj({ device: str(), partitions: list(obj({ size: str(), mountpoint: str() })) })),
    "use UserVolumeConfig documents",
  ),
  install,
  files: list(file),
  env: deprecated(mapOf(str()), "use an EnvironmentConfig document"),
  time: deprecated(obj({ disabled: bool, servers: strings, bootTimeout: duration }), "use a TimeSyncConfig document"),
  sysctls: mapOf(str()),
  sysfs: mapOf(str()),
  registries: deprecated(
    legacyRegistries,
    "use RegistryMirrorConfig, RegistryAuthConfig and RegistryTLSConfig documents",
  ),
  systemDiskEncryption: deprecated(
    obj({ state: legacyEncryption, ephemeral: legacyEncryption }),
    "use VolumeConfig documents (STATE, EPHEMERAL) with encryption",
  ),
  features,
  udev: obj({ rules: strings }),
  logging,
  kernel: obj({ modules: list(obj({ name: str(), parameters: strings })) }),
  seccompProfiles: list(obj({ name: str(), value: mapping })),
  baseRuntimeSpecOverrides: mapping,
  nodeLabels: mapOf(str()),
  nodeAnnotations: mapOf(str()),
  nodeTaints: mapOf(str()),
});

// --- cluster ---------------------------------------------------------------------------------

const volumeMount = obj({ hostPath: str(), mountPath: str(), readonly: bool });
const resources = obj({ requests: mapping, limits: mapping });

const apiServer = obj({
  image: str(),
  extraArgs: args,
  extraVolumes: list(volumeMount),
  env: mapOf(str()),
  certSANs: strings,
  disablePodSecurityPolicy: bool,
  admissionControl: list(obj({ name: str(), configuration: mapping })),
  auditPolicy: mapping,
  resources,
  authorizationConfig: list(obj({ type: str(), name: str(), webhook: mapping })),
});

const cluster = obj({
  id: str(),
  secret: str(),
  controlPlane: obj({ endpoint: str(), localAPIServerPort: i64 }),
  clusterName: str(),
  network: obj({
    cni: obj({
      name: oneOf("flannel", "custom", "none"),
      urls: strings,
      flannel: obj({ extraArgs: strings, kubeNetworkPoliciesEnabled: bool }),
    }),
    dnsDomain: str(),
    podSubnets: strings,
    serviceSubnets: strings,
  }),
  token: str(),
  aescbcEncryptionSecret: str(),
  secretboxEncryptionSecret: str(),
  ca: certAndKey,
  acceptedCAs: list(cert),
  aggregatorCA: certAndKey,
  serviceAccount: obj({ key: str() }),
  apiServer,
  controllerManager: obj({
    image: str(),
    extraArgs: args,
    extraVolumes: list(volumeMount),
    env: mapOf(str()),
    resources,
  }),
  proxy: obj({ disabled: bool, image: str(), mode: str(), extraArgs: args }),
  scheduler: obj({
    image: str(),
    extraArgs: args,
    extraVolumes: list(volumeMount),
    env: mapOf(str()),
    resources,
    config: mapping,
  }),
  discovery: obj({
    enabled: bool,
    registries: obj({ kubernetes: obj({ disabled: bool }), service: obj({ disabled: bool, endpoint: str() }) }),
  }),
  etcd: obj({
    image: str(),
    ca: certAndKey,
    extraArgs: args,
    subnet: deprecated(str(), "use advertisedSubnets"),
    advertisedSubnets: strings,
    listenSubnets: strings,
  }),
  coreDNS: obj({ disabled: bool, image: str() }),
  externalCloudProvider: obj({ enabled: bool, manifests: strings }),
  extraManifests: strings,
  extraManifestHeaders: mapOf(str()),
  inlineManifests: list(obj({ name: str(), contents: str() }, ["name"])),
  adminKubeconfig: obj({ certLifetime: duration }),
  allowSchedulingOnMasters: deprecated(bool, "use allowSchedulingOnControlPlanes"),
  allowSchedulingOnControlPlanes: bool,
});

/** The whole v1alpha1 document. */
export const V1ALPHA1: Spec = obj({
  version: oneOf("v1alpha1"),
  debug: bool,
  persist: deprecated(bool, "not supported any more (it must not be false)"),
  machine,
  cluster,
});

/** Keys that make a document without `kind` a v1alpha1 document (Talos's decoder, plus `version`). */
export const V1ALPHA1_MARKERS = ["version", "machine", "cluster", "debug", "persist"] as const;

/** Cross-field checks Talos makes in `Validate` that are cheap to make on a patch. */
export function v1alpha1Rules(doc: Record<string, unknown>): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const cni = dig(doc, "cluster", "network", "cni");
  if ((cni?.name === "flannel" || cni?.name === "none") && Array.isArray(cni.urls) && cni.urls.length > 0) {
    out.push({
      path: "cluster.network.cni.urls",
      message: `must be empty for the ${cni.name} CNI: set name: custom to install CNI manifests`,
    });
  }
  if (doc.persist === false)
    out.push({ path: "persist", message: "must not be false (Talos always persists its config)" });
  return out;
}

/** `obj.a.b.c` when each step is a mapping. */
export function dig(value: unknown, ...keys: string[]): Record<string, unknown> | undefined {
  let at = value;
  for (const key of keys) {
    if (at === null || typeof at !== "object" || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at !== null && typeof at === "object" && !Array.isArray(at) ? (at as Record<string, unknown>) : undefined;
}
