/**
 * The Talos v1.13 multi-document config kinds (`apiVersion: v1alpha1` + `kind`): our own
 * description, written by hand, not a copy of Talos files.
 *
 * Source: siderolabs/talos tag v1.13.9, read for facts only (kind names, field names, Go types,
 * enum values, what `Validate` requires):
 *   pkg/machinery/config/types/{network,block,cri,runtime,runtime/extensions,security,siderolink,hardware}/*.go
 *   (the `registry.Register` kind constants, struct yaml tags, `Validate` methods),
 *   pkg/machinery/nethelpers/*.go (enum texts), pkg/machinery/resources/block/*.go (volume enums),
 *   pkg/machinery/config/schemas/config.schema.json (the 44 `oneOf` document definitions),
 *   pkg/machinery/config/configloader/internal/decoder/{decoder,delete}.go (how documents are told
 *   apart, `$patch: delete`), pkg/machinery/config/configpatcher/{load,json6902}.go (patch forms).
 *
 * Transcription: one line per yaml tag of each Go struct, in the struct's order; `required` lists
 * what `Validate` rejects when missing (the document's `name` is also its identity when patches merge).
 *
 * Totals (kept true by tests/talosSchema.test.ts): 45 kinds (v1alpha1 + 44 documents);
 * 400 v1alpha1 field names (20 of them deprecated) and 408 document field names, 808 in all, not
 * counting apiVersion/kind; a field name counts once for each place it can appear.
 *
 * Verified: every kind and field name of all 45 kinds was compared by a throwaway script (not
 * committed) against the yaml tags of the Go structs at v1.13.9 and against the JSON schema; enum
 * values against the nethelpers/block enum texts and the schema; `required` and the rules below
 * against each kind's `Validate`. Where the JSON schema and the Go types disagree, the Go types win:
 *   - KubeSpan endpoints register as kind `KubeSpanEndpointsConfig` (the schema says `KubeSpanEndpoints`);
 *   - `ImageVerificationConfig` is registered in 1.13.9 but missing from the schema;
 *   - RegistryTLSConfig `clientIdentity` has `cert`/`key` (the schema says `crt`/`key`);
 *   - RoutingRuleConfig `action` is an enum text (`blackhole`...), not an integer;
 *   - BridgeConfig needs only `name`, VRFConfig `name` and `table` (the schema also lists `links` for both).
 * Then the validator ran over the 182 YAML files of the testdata folders of pkg/machinery/config and
 * hack/test/patches at v1.13.9 (configs, patches, documents, Longhorn/Cilium/volume patches): all
 * pass but 7, none of them a valid machine config (secrets bundles, decoder fixtures built to fail,
 * a kmsg marshal fixture with an https:// URL that Validate rejects).
 */
import {
  Fields,
  IP,
  IP_PORT,
  MAC,
  PREFIX,
  ROUTING_TABLE,
  Spec,
  bool,
  duration,
  either,
  enumText,
  i64,
  int,
  list,
  mapOf,
  obj,
  oneOf,
  str,
  strings,
  u16,
  u32,
  u64,
  u8,
  url,
} from "./types";
import { dig } from "./v1alpha1";

export interface Finding {
  path: string;
  message: string;
  /** Valid on its own, but known to fail once merged into what Talos generates. */
  warning?: boolean;
}

export interface DocumentKind {
  /** Every key besides `apiVersion` and `kind`. */
  fields: Fields;
  /** Keys that must be set (not empty). */
  required?: readonly string[];
  /** Cross-field checks from the kind's `Validate`. */
  rules?: (doc: Record<string, unknown>) => Finding[];
}

// --- shared pieces ---------------------------------------------------------------------------

const address = obj({ address: str(PREFIX), routePriority: u32 }, ["address"]);
const route = obj({
  destination: str(PREFIX),
  gateway: str(IP),
  source: str(IP),
  metric: u32,
  mtu: u32,
  table: str(ROUTING_TABLE),
});
/** Fields every link document carries (Go `CommonLinkConfig`, inlined). */
const commonLink: Fields = { up: bool, mtu: u32, addresses: list(address), routes: list(route), multicast: bool };

const dhcp: DocumentKind = {
  fields: {
    name: str(),
    routeMetric: u32,
    ignoreHostname: bool,
    clientIdentifier: enumText("none", "mac", "duid"),
    duidRaw: str(MAC),
  },
  required: ["name"],
  rules: (doc) => {
    const duid = String(doc.clientIdentifier ?? "").toLowerCase() === "duid";
    if (set(doc.duidRaw) && !duid) return [{ path: "duidRaw", message: "can only be set with clientIdentifier: duid" }];
    if (duid && !set(doc.duidRaw)) return [{ path: "duidRaw", message: "is required with clientIdentifier: duid" }];
    return [];
  },
};

const provisioning = obj({ diskSelector: obj({ match: str() }), grow: bool, minSize: str(), maxSize: str() });
const encryption = obj({
  provider: enumText("luks2"),
  keys: list(
    obj({
      slot: i64,
      static: obj({ passphrase: str() }),
      nodeID: obj({}),
      kms: obj({ endpoint: str() }),
      tpm: obj({ options: obj({ pcrs: list(int(0, 23)) }), checkSecurebootStatusOnEnroll: bool }),
      lockToState: bool,
    }),
  ),
  cipher: oneOf("aes-xts-plain64", "xchacha12,aes-adiantum-plain64", "xchacha20,aes-adiantum-plain64"),
  keySize: u64,
  blockSize: u64,
  options: strings,
});

const ROUTE_TABLE = str(ROUTING_TABLE);

// --- the kinds, grouped as Talos groups them -----------------------------------------------------

export const DOCUMENT_KINDS: Readonly<Record<string, DocumentKind>> = {
  // network: identity and names
  HostnameConfig: {
    fields: { auto: enumText("stable", "off"), hostname: str() },
    rules: (doc) => {
      const auto = set(doc.auto) ? String(doc.auto).toLowerCase() : undefined;
      if (auto === undefined && !set(doc.hostname))
        return [{ path: "", message: "set either auto (stable or off) or hostname" }];
      if (set(doc.hostname) && auto !== undefined && auto !== "off") {
        return [{ path: "auto", message: `must be off (or unset) when hostname is set, got "${String(doc.auto)}"` }];
      }
      if (set(doc.hostname) && auto === undefined) {
        return [
          {
            path: "auto",
            warning: true,
            message:
              "set auto: off next to hostname: Talos 1.13 generates HostnameConfig auto: stable, and the merged document would set both",
          },
        ];
      }
      return [];
    },
  },
  LinkAliasConfig: {
    fields: { name: str(), selector: obj({ match: str() }) },
    required: ["name"],
    rules: (doc) =>
      need(
        doc,
        "selector",
        "match",
        'a CEL expression choosing exactly one link, e.g. mac(link.permanent_addr) == "02:00:00:00:00:01"',
      ),
  },
  StaticHostConfig: {
    fields: { name: str(IP), hostnames: strings },
    required: ["name"],
    rules: (doc) =>
      nonEmptyList(doc.hostnames) ? [] : [{ path: "hostnames", message: "needs at least one hostname" }],
  },
  ResolverConfig: {
    fields: {
      nameservers: list(obj({ address: str(IP) })),
      searchDomains: obj({ domains: strings, disableDefault: bool }),
    },
  },
  TimeSyncConfig: {
    fields: { enabled: bool, bootTimeout: duration, ntp: obj({ servers: strings }), ptp: obj({ devices: strings }) },
    rules: (doc) =>
      set(doc.ntp) && set(doc.ptp) ? [{ path: "ptp", message: "only one of ntp or ptp can be set" }] : [],
  },

  // network: links
  LinkConfig: { fields: { name: str(), ...commonLink }, required: ["name"] },
  DummyLinkConfig: { fields: { name: str(), hardwareAddr: str(MAC), ...commonLink }, required: ["name"] },
  VLANConfig: {
    fields: {
      name: str(),
      vlanID: int(1, 4094),
      vlanMode: enumText("802.1q", "802.1ad"),
      parent: str(),
      ...commonLink,
    },
    required: ["name", "vlanID", "parent"],
  },
  BondConfig: {
    fields: {
      name: str(),
      hardwareAddr: str(MAC),
      links: strings,
      bondMode: enumText(
        "balance-rr",
        "active-backup",
        "balance-xor",
        "broadcast",
        "802.3ad",
        "balance-tlb",
        "balance-alb",
      ),
      miimon: u32,
      updelay: u32,
      downdelay: u32,
      useCarrier: bool,
      xmitHashPolicy: enumText("layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4"),
      arpInterval: u32,
      arpIpTargets: list(str(IP)),
      nsIp6Targets: list(str(IP)),
      arpValidate: enumText("none", "active", "backup", "all", "filter", "filter-active", "filter-backup"),
      arpAllTargets: enumText("any", "all"),
      lacpRate: enumText("slow", "fast"),
      failOverMac: enumText("none", "active", "follow"),
      adSelect: enumText("stable", "bandwidth", "count"),
      adActorSysPrio: u16,
      adUserPortKey: u16,
      adLACPActive: enumText("off", "on"),
      primaryReselect: enumText("always", "better", "failure"),
      resendIGMP: u32,
      minLinks: u32,
      lpInterval: u32,
      packetsPerSlave: u32,
      numPeerNotif: u8,
      tlbLogicalLb: u8,
      allSlavesActive: u8,
      peerNotifDelay: u32,
      missedMax: u8,
      ...commonLink,
    },
    required: ["name", "bondMode"],
    rules: (doc) => (nonEmptyList(doc.links) ? [] : [{ path: "links", message: "needs at least one link" }]),
  },
  BridgeConfig: {
    fields: {
      name: str(),
      hardwareAddr: str(MAC),
      links: strings,
      stp: obj({ enabled: bool }),
      vlan: obj({ filtering: bool }),
      ...commonLink,
    },
    required: ["name"],
  },
  VRFConfig: {
    fields: {
      name: str(),
      hardwareAddr: str(MAC),
      links: strings,
      table: str({
        what: "a routing table number from 1 to 252 (main, local and default are reserved)",
        test: (t) => /^[1-9]\d{0,2}$/.test(t) && +t <= 252,
      }),
      ...commonLink,
    },
    required: ["name", "table"],
  },
  WireguardConfig: {
    fields: {
      name: str(),
      privateKey: str(),
      listenPort: int(0, 65535),
      firewallMark: i64,
      peers: list(
        obj(
          {
            publicKey: str(),
            presharedKey: str(),
            endpoint: str(IP_PORT),
            persistentKeepaliveInterval: duration,
            allowedIPs: list(str(PREFIX)),
          },
          ["publicKey"],
        ),
      ),
      ...commonLink,
    },
    required: ["name", "privateKey"],
  },
  EthernetConfig: {
    fields: {
      name: str(),
      features: mapOf(bool),
      rings: obj({
        rx: u32,
        tx: u32,
        "rx-mini": u32,
        "rx-jumbo": u32,
        "rx-buf-len": u32,
        "cqe-size": u32,
        "tx-push": bool,
        "rx-push": bool,
        "tx-push-buf-len": u32,
        "tcp-data-split": bool,
      }),
      channels: obj({ rx: u32, tx: u32, other: u32, combined: u32 }),
      wakeOnLan: list(enumText("phy", "unicast", "multicast", "broadcast", "magic", "magicsecure", "filter")),
    },
    required: ["name"],
  },

  // network: addressing, VIPs, routing
  DHCPv4Config: dhcp,
  DHCPv6Config: dhcp,
  Layer2VIPConfig: { fields: { name: str(IP), link: str() }, required: ["name", "link"] },
  HCloudVIPConfig: { fields: { name: str(IP), link: str(), apiToken: str() }, required: ["name", "link", "apiToken"] },
  BlackholeRouteConfig: { fields: { name: str(PREFIX), metric: u32 }, required: ["name"] },
  RoutingRuleConfig: {
    fields: {
      name: str({
        what: "a rule priority from 1 to 32765 (not 0, 32766 or 32767)",
        test: (t) => /^\d+$/.test(t) && +t >= 1 && +t <= 32765,
      }),
      src: str(PREFIX),
      dst: str(PREFIX),
      table: ROUTE_TABLE,
      action: enumText("unspec", "unicast", "blackhole", "unreachable", "prohibit"),
      iifName: str(),
      oifName: str(),
      fwMark: u32,
      fwMask: u32,
    },
    required: ["name"],
    rules: (doc) => {
      const out: Finding[] = [];
      const action = String(doc.action ?? "unspec").toLowerCase();
      if (!set(doc.table) && (action === "unspec" || action === "unicast")) {
        out.push({ path: "table", message: "is required unless action is blackhole, unreachable or prohibit" });
      }
      if (set(doc.fwMask) && doc.fwMask !== 0 && !set(doc.fwMark))
        out.push({ path: "fwMask", message: "needs fwMark" });
      return out;
    },
  },
  TCPProbeConfig: {
    fields: { name: str(), interval: duration, failureThreshold: i64, endpoint: str(), timeout: duration },
    required: ["name", "endpoint"],
  },

  // network: firewall
  NetworkDefaultActionConfig: { fields: { ingress: enumText("accept", "block") } },
  NetworkRuleConfig: {
    fields: {
      name: str(),
      portSelector: obj({
        ports: list(
          either(
            "a port (0-65535) or a range such as 30000-32767",
            u16,
            str({ what: "a range", test: (t) => /^\d+-\d+$/.test(t) }),
          ),
        ),
        protocol: enumText("tcp", "udp", "icmp", "icmpv6"),
      }),
      ingress: list(obj({ subnet: str(PREFIX), except: str(PREFIX) })),
    },
    required: ["name"],
    rules: (doc) => need(doc, "portSelector", "ports", "a list of ports or port ranges"),
  },

  // network: KubeSpan
  KubeSpanConfig: {
    fields: {
      enabled: bool,
      advertiseKubernetesNetworks: bool,
      allowDownPeerBypass: bool,
      harvestExtraEndpoints: bool,
      mtu: int(1280, 2 ** 32 - 1),
      filters: obj({ endpoints: strings, excludeAdvertisedNetworks: list(str(PREFIX)) }),
    },
  },
  KubeSpanEndpointsConfig: { fields: { extraAnnouncedEndpoints: list(str(IP_PORT)) } },

  // block: volumes
  VolumeConfig: {
    fields: { name: oneOf("STATE", "EPHEMERAL", "IMAGECACHE"), provisioning, encryption, mount: obj({ secure: bool }) },
    required: ["name"],
    rules: (doc) =>
      doc.name === "STATE" && set(doc.provisioning)
        ? [{ path: "provisioning", message: "is not allowed for the STATE volume" }]
        : [],
  },
  UserVolumeConfig: {
    fields: {
      name: str(volumeName(34)),
      volumeType: enumText("partition", "disk", "directory"),
      provisioning,
      filesystem: obj({ type: enumText("xfs", "ext4"), projectQuotaSupport: bool }),
      encryption,
      mount: obj({ disableAccessTime: bool, secure: bool }),
    },
    required: ["name"],
    rules: (doc) => {
      const type = String(doc.volumeType ?? "partition").toLowerCase();
      const out: Finding[] = [];
      if (type === "directory") {
        for (const key of ["provisioning", "encryption", "filesystem", "mount"]) {
          if (set(doc[key])) out.push({ path: key, message: "is not allowed with volumeType: directory" });
        }
        return out;
      }
      out.push(...diskVolume(doc, type === "partition"));
      const fs = dig(doc, "filesystem");
      if (fs?.projectQuotaSupport === true && String(fs.type ?? "xfs").toLowerCase() !== "xfs") {
        out.push({ path: "filesystem.projectQuotaSupport", message: "needs filesystem type xfs" });
      }
      return out;
    },
  },
  RawVolumeConfig: {
    fields: { name: str(volumeName(34)), provisioning, encryption },
    required: ["name"],
    rules: (doc) => diskVolume(doc, true),
  },
  SwapVolumeConfig: {
    fields: { name: str(volumeName(34)), provisioning, encryption },
    required: ["name"],
    rules: (doc) => diskVolume(doc, true),
  },
  ExistingVolumeConfig: {
    fields: {
      name: str(volumeName()),
      discovery: obj({ volumeSelector: obj({ match: str() }) }),
      mount: obj({ readOnly: bool, disableAccessTime: bool, secure: bool }),
    },
    required: ["name"],
    rules: (doc) => need(doc, "discovery", "volumeSelector", "match", "a CEL expression choosing the volume"),
  },
  ExternalVolumeConfig: {
    fields: {
      name: str(volumeName(34)),
      filesystemType: enumText("virtiofs"),
      mount: obj({ readOnly: bool, disableAccessTime: bool, secure: bool, virtiofs: obj({ tag: str() }, ["tag"]) }),
    },
    required: ["name", "filesystemType"],
  },
  ZswapConfig: { fields: { maxPoolPercent: int(0, 100), shrinkerEnabled: bool } },

  // cri: image registries
  RegistryMirrorConfig: {
    fields: {
      name: str(),
      endpoints: list(obj({ url: str(url("http", "https")), overridePath: bool }, ["url"])),
      skipFallback: bool,
    },
    required: ["name"],
  },
  RegistryAuthConfig: {
    fields: { name: str(), username: str(), password: str(), auth: str(), identityToken: str() },
    required: ["name"],
    rules: (doc) => {
      const basic = set(doc.username) || set(doc.password);
      const ways = [basic, set(doc.auth), set(doc.identityToken)].filter(Boolean).length;
      return ways > 1 ? [{ path: "", message: "set only one of username/password, auth or identityToken" }] : [];
    },
  },
  RegistryTLSConfig: {
    fields: { name: str(), clientIdentity: obj({ cert: str(), key: str() }), ca: str(), insecureSkipVerify: bool },
    required: ["name"],
  },

  // runtime
  EnvironmentConfig: { fields: { variables: mapOf(str()) } },
  EventSinkConfig: { fields: { endpoint: str() }, required: ["endpoint"] },
  KmsgLogConfig: {
    fields: {
      name: str(),
      url: str({
        what: "a tcp:// or udp:// URL with a port and no path, e.g. udp://10.0.10.5:514",
        test: (t) => /^(tcp|udp):\/\/[^/\s]+:\d+\/?$/i.test(t),
      }),
    },
    required: ["name", "url"],
  },
  WatchdogTimerConfig: { fields: { device: str(), timeout: duration }, required: ["device"] },
  OOMConfig: {
    fields: {
      triggerExpression: str(),
      cgroupRankingExpression: str(),
      strictCgroupClassOrdering: bool,
      sampleInterval: duration,
    },
  },
  ExtensionServiceConfig: {
    fields: {
      name: str(),
      configFiles: list(obj({ content: str(), mountPath: str() }, ["content", "mountPath"])),
      environment: strings,
    },
    required: ["name"],
  },

  // security, SideroLink, hardware
  TrustedRootsConfig: { fields: { name: str(), certificates: str() }, required: ["name"] },
  ImageVerificationConfig: {
    fields: {
      rules: list(
        obj(
          {
            image: str(),
            skip: bool,
            deny: bool,
            keyless: obj({ issuer: str(), subject: str(), subjectRegex: str() }),
            publicKey: obj({ certificate: str() }),
          },
          ["image"],
        ),
      ),
    },
  },
  SideroLinkConfig: { fields: { apiUrl: str(url("https", "grpc")), uniqueToken: str() }, required: ["apiUrl"] },
  PCIDriverRebindConfig: { fields: { name: str(), targetDriver: str() }, required: ["name", "targetDriver"] },
};

// --- helpers for the rules -------------------------------------------------------------------

/** Set: present and not null or "" (what Go sees as a zero value in these fields). */
function set(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

function nonEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/** `a.b.c` must be set: "needs <what>" at the path. */
function need(doc: Record<string, unknown>, ...pathAndWhat: string[]): Finding[] {
  const what = pathAndWhat.pop() as string;
  const last = pathAndWhat.pop() as string;
  const parent = pathAndWhat.length === 0 ? doc : dig(doc, ...pathAndWhat);
  return set(parent?.[last]) ? [] : [{ path: [...pathAndWhat, last].join("."), message: `is required: ${what}` }];
}

/** A volume on a disk: a disk selector, and for a partition a size. */
function diskVolume(doc: Record<string, unknown>, partition: boolean): Finding[] {
  const out = need(
    doc,
    "provisioning",
    "diskSelector",
    "match",
    "a CEL expression choosing the disk, e.g. disk.dev_path == '/dev/sdb'",
  );
  const p = dig(doc, "provisioning");
  if (partition && !set(p?.minSize) && !set(p?.maxSize)) {
    out.push({ path: "provisioning", message: "needs minSize or maxSize" });
  }
  if (!partition) {
    for (const key of ["minSize", "maxSize", "grow"]) {
      if (set(p?.[key])) out.push({ path: `provisioning.${key}`, message: "is not supported with volumeType: disk" });
    }
  }
  return out;
}

function volumeName(max?: number) {
  const length = max === undefined ? "" : `, at most ${max} characters`;
  return {
    what: `ASCII letters, digits and '-'${length}`,
    test: (text: string) => /^[A-Za-z0-9-]+$/.test(text) && (max === undefined || text.length <= max),
  };
}

/** The spec of a whole document of this kind, `apiVersion` and `kind` included. */
export function documentSpec(kind: string, def: DocumentKind): Spec {
  return obj({ apiVersion: oneOf("v1alpha1"), kind: oneOf(kind), ...def.fields }, def.required ?? []);
}
