import { DEFAULT_CILIUM_VERSION, NodeSpec, PROXMOX_CSI_DISK_OWNER, SUPPORTED_KUBERNETES_MINORS, VM_ID_MAX, VM_ID_SPAN, talosMinor } from "./domain";
import { goDurationMs } from "./duration";
import { Settings, describe } from "./schema";
import { Ipv4Network, isHostIPv4, isHostName, isIpAddress, isMacAddress, isMulticastMac, parseIpv4Network, placeInNetwork } from "./network";

/**
 * The cross-field rules of the config, one concern each. A rule sees the settings that passed the
 * schema and the nodes built from them, and returns problems (errors) and warnings; the driver in
 * `validate.ts` runs them all and reports everything at once.
 */

/** A node as the rules see it: its place in the user's list and whether its MAC was configured. */
export interface CheckedNode {
  index: number;
  spec: NodeSpec;
  macConfigured: boolean;
  /** The node's own vmId was given (else it is derived from vmIdBase, or left to Proxmox). */
  vmIdConfigured: boolean;
}

export interface RuleInput {
  /** Undefined when a top-level setting failed the schema. */
  settings?: Settings;
  nodes: CheckedNode[];
  /** Every node entry passed the schema (so counts over nodes mean something). */
  nodesComplete: boolean;
}

export interface Findings {
  problems: string[];
  warnings: string[];
}

export type Rule = (input: RuleInput) => Partial<Findings>;

const at = (n: CheckedNode, key: string) => `nodes[${n.index}].${key}`;

export const nodeIpIsHostAddress: Rule = ({ nodes }) => ({
  problems: nodes
    .filter((n) => !isHostIPv4(n.spec.ip))
    .map((n) => `${at(n, "ip")}: must be an IPv4 host address such as 10.0.10.11, got ${describe(n.spec.ip)}`),
});

export const nodeMacIsUnicast: Rule = ({ nodes }) => ({
  problems: nodes
    .filter((n) => n.macConfigured)
    .flatMap((n) => {
      const mac = n.spec.mac;
      if (!isMacAddress(mac)) return [`${at(n, "mac")}: must be a MAC address such as 02:AB:CD:EF:01:23, got ${describe(mac)}`];
      if (isMulticastMac(mac)) {
        return [
          `${at(n, "mac")}: ${mac} is a multicast address (lowest bit of the first octet set); ` +
            `use a unicast one such as 02:AB:CD:EF:01:23, or leave mac out to derive one`,
        ];
      }
      return [];
    }),
});

/** Reports every node whose value repeats an earlier node's. */
function unique(key: string, value: (n: CheckedNode) => string | undefined, hint = `each node needs its own ${key}`): Rule {
  return ({ nodes }) => {
    const seen = new Map<string, CheckedNode>();
    const problems: string[] = [];
    for (const node of nodes) {
      const v = value(node);
      if (v === undefined) continue;
      const first = seen.get(v);
      if (first) problems.push(`${at(node, key)}: ${v} is already used by nodes[${first.index}] (${first.spec.name}); ${hint}`);
      else seen.set(v, node);
    }
    return { problems };
  };
}

export const uniqueNames = unique("name", (n) => n.spec.name);
export const uniqueIps = unique("ip", (n) => n.spec.ip);
/** A derived MAC repeats only with its node name, which is reported already. */
export const uniqueMacs: Rule = (input) => {
  const names = new Set<string>();
  const owners = input.nodes.filter((n) => {
    const repeated = names.has(n.spec.name);
    names.add(n.spec.name);
    return n.macConfigured || !repeated;
  });
  return unique("mac", (n) => n.spec.mac)({ ...input, nodes: owners });
};
export const uniqueVmIds = unique(
  "vmId",
  (n) => (n.spec.vmId === undefined ? undefined : String(n.spec.vmId)),
  "each node needs its own vmId (a derived one comes from vmIdBase and the node name: set vmId on one of the two)",
);

export const controlPlaneQuorum: Rule = ({ nodes, nodesComplete }) => {
  if (!nodesComplete || nodes.length === 0) return {};
  const count = nodes.filter((n) => n.spec.role === "controlplane").length;
  if (count === 0) return { problems: [`nodes: at least one node needs role controlplane (the walk-through uses three)`] };
  // etcd's majority of two is two (etcd docs, op-guide/runtime-configuration), and our etcd gate
  // never takes one of two members down (engines/gates.ts gateControlPlane).
  if (count === 2) {
    const names = nodes.filter((n) => n.spec.role === "controlplane").map((n) => n.spec.name);
    return {
      problems: [
        `nodes: 2 control planes (${names.join(", ")}) are refused: etcd needs both for quorum, so it tolerates no failure, ` +
          `and every upgrade, reboot and removal of a control plane would refuse to take one down; use 1, or 3 or more (an odd number: 3 or 5)`,
      ],
    };
  }
  if (count % 2 === 0) {
    return {
      warnings: [
        `nodes: ${count} control planes is an even number; etcd tolerates no more failures ` +
          `than with ${count - 1}. Use an odd number (3 or 5) for quorum.`,
      ],
    };
  }
  return {};
};

export const vipIsFreeHostAddress: Rule = ({ settings, nodes }) => {
  const vip = settings?.vip;
  if (vip === undefined) return {};
  const problems: string[] = [];
  if (!isHostIPv4(vip)) problems.push(`vip: must be an IPv4 host address such as 10.0.10.10, got ${describe(vip)}`);
  const clash = nodes.find((n) => n.spec.ip === vip);
  if (clash) {
    problems.push(
      `vip: ${vip} is also ${at(clash, "ip")} (${clash.spec.name}); the VIP must be a free address in the nodes' subnet`,
    );
  }
  return { problems };
};

export const vipRecommendedForHa: Rule = ({ settings, nodes }) => {
  const controlPlanes = nodes.filter((n) => n.spec.role === "controlplane");
  if (!settings || settings.vip !== undefined || controlPlanes.length < 2) return {};
  const first = [...controlPlanes].sort((a, b) => a.spec.name.localeCompare(b.spec.name))[0];
  return {
    warnings: [
      `vip: not set, so the Kubernetes endpoint is ${first.spec.name} alone and fails with it; ` +
        `set vip to a free address in the nodes' subnet for a highly available endpoint`,
    ],
  };
};

export const cniUrlsMatchCni: Rule = ({ settings }) => {
  if (!settings) return {};
  if (settings.cni === "custom" && settings.cniUrls.length === 0) {
    return { problems: [`cniUrls: cni is custom, so list the CNI manifest URLs (https://..., pinned to a release)`] };
  }
  if (settings.cni !== "custom" && settings.cniUrls.length > 0) {
    return { problems: [`cniUrls: only used with cni: custom (cni is ${settings.cni}); remove cniUrls or set cni: custom`] };
  }
  return {};
};

export const workloadNeedsCni: Rule = ({ settings }) =>
  settings?.cni === "none" && settings.workloadEnabled
    ? {
        problems: [
          `cni: none leaves pods without a network until you install a CNI, so the NGINX workload can't ` +
            `become ready; set workloadEnabled: false or choose cni: flannel`,
        ],
      }
    : {};

/** The config contract (multi-document network config) needs Talos 1.12; provider v0.8.1 knows up to 1.13. */
export const talosVersionSupported: Rule = ({ settings }) => {
  if (!settings) return {};
  const minor = talosMinor(settings.talosVersion);
  if (SUPPORTED_KUBERNETES_MINORS[minor]) return {};
  return {
    problems: [
      `talosVersion: ${settings.talosVersion} is not supported; use a v1.12.x or v1.13.x release ` +
        `(this program writes the Talos 1.12+ network documents and its Talos provider knows up to 1.13)`,
    ],
  };
};

export const kubernetesVersionSupported: Rule = ({ settings }) => {
  if (!settings?.kubernetesVersion) return {};
  const range = SUPPORTED_KUBERNETES_MINORS[talosMinor(settings.talosVersion)];
  if (!range) return {};
  const minor = Number(settings.kubernetesVersion.replace(/^v/, "").split(".")[1]);
  if (settings.kubernetesVersion.replace(/^v/, "").startsWith("1.") && minor >= range[0] && minor <= range[1]) return {};
  return {
    problems: [
      `kubernetesVersion: ${settings.kubernetesVersion} is not supported by Talos ${settings.talosVersion}; ` +
        `use 1.${range[0]}.x to 1.${range[1]}.x, or leave it out for the pinned default`,
    ],
  };
};

export const vmIdBaseLeavesRoom: Rule = ({ settings }) => {
  const base = settings?.vmIdBase;
  if (base === undefined || base + VM_ID_SPAN - 1 <= VM_ID_MAX) return {};
  return { problems: [`vmIdBase: must be at most ${VM_ID_MAX - VM_ID_SPAN + 1} (node VM IDs go up to vmIdBase + ${VM_ID_SPAN - 1}), got number ${base}`] };
};

export const pciDeviceHasOneSource: Rule = ({ nodes }) => ({
  problems: nodes.flatMap((n) =>
    n.spec.pci.flatMap((device, j) =>
      (device.id === undefined) === (device.mapping === undefined)
        ? [
            `${at(n, `pci[${j}]`)}: give exactly one of id (a raw device such as 0000:01:00.0) and mapping ` +
              `(a Proxmox PCI resource mapping name), got ${device.id === undefined ? "neither" : "both"}`,
          ]
        : [],
    ),
  ),
});

export const nameserversAreAddresses: Rule = ({ settings }) => ({
  problems: (settings?.network.nameservers ?? []).flatMap((ns, i) =>
    isIpAddress(ns) ? [] : [`network.nameservers[${i}]: must be an IP address such as 1.1.1.1 (a DNS server is reached by address), got ${describe(ns)}`],
  ),
});

export const timeServersAreHosts: Rule = ({ settings }) => ({
  problems: (settings?.network.timeServers ?? []).flatMap((ts, i) =>
    isIpAddress(ts) || isHostName(ts)
      ? []
      : [`network.timeServers[${i}]: must be a host name such as time.cloudflare.com or an IP address, got ${describe(ts)}`],
  ),
});

export const inlineManifestNamesUnique: Rule = ({ settings }) => {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  (settings?.inlineManifests ?? []).forEach((m, i) => {
    const first = seen.get(m.name);
    if (first !== undefined) problems.push(`inlineManifests[${i}].name: ${m.name} is already used by inlineManifests[${first}]; names must be unique`);
    else seen.set(m.name, i);
  });
  return { problems };
};

/** A manifest URL on a branch or a `latest` release changes under the cluster. */
const MOVING_REF = /\/(main|master|HEAD)\/|\/releases\/latest\/|\/latest\//;

export const extraManifestsPinned: Rule = ({ settings }) => ({
  problems: (settings?.extraManifests ?? []).flatMap((url, i) =>
    MOVING_REF.test(url)
      ? [`extraManifests[${i}]: ${url} follows a branch or "latest"; use the URL of a release tag so every run applies the same manifest`]
      : [],
  ),
});

export const ciliumSettingsNeedCilium: Rule = ({ settings }) => {
  if (!settings || settings.cni === "cilium") return {};
  const { version, hubble, values } = settings.cilium;
  if (version === DEFAULT_CILIUM_VERSION && !hubble && Object.keys(values).length === 0) return {};
  return { problems: [`cilium: only used with cni: cilium (cni is ${settings.cni}); remove cilium or set cni: cilium`] };
};

/** The plugin's Helm release waits for its pods, which no pod network means never start. */
export const proxmoxCsiNeedsCni: Rule = ({ settings }) =>
  settings?.storage.proxmoxCsi && settings.cni === "none"
    ? { problems: [`storage.proxmoxCsi: needs a pod network the program installs (cni is none, so the plugin's pods would never start); choose cni: flannel or cilium, or remove storage.proxmoxCsi`] }
    : {};

/** The plugin's Proxmox user is `<clusterName>-csi@pve`; Proxmox allows 64 characters (pve-access-control 9.1.1 Auth/Plugin.pm:121-133). */
export const proxmoxCsiUserNameFits: Rule = ({ settings }) =>
  settings?.storage.proxmoxCsi && `${settings.clusterName}-csi@pve`.length > 64
    ? { problems: [`storage.proxmoxCsi: the plugin's Proxmox user ${settings.clusterName}-csi@pve would be longer than the 64 characters Proxmox allows; with storage.proxmoxCsi, clusterName may have at most 56 characters`] }
    : {};

/**
 * No node may be the VM the plugin files its volume disks under (see PROXMOX_CSI_DISK_OWNER). The
 * problem names the key that gave the ID: the node's vmId, or vmIdBase when the ID is derived.
 */
export const proxmoxCsiDiskOwnerFree: Rule = ({ settings, nodes }) => ({
  problems: settings?.storage.proxmoxCsi
    ? nodes
        .filter((n) => n.spec.vmId === PROXMOX_CSI_DISK_OWNER)
        .map((n) => {
          const why = `the VM ID the Proxmox CSI plugin (storage.proxmoxCsi) files every volume disk under, and destroying that VM would delete them`;
          return n.vmIdConfigured
            ? `${at(n, "vmId")}: ${PROXMOX_CSI_DISK_OWNER} is ${why}; choose another vmId`
            : `vmIdBase: ${settings.vmIdBase} gives nodes[${n.index}] (${n.spec.name}) the VM ID ${PROXMOX_CSI_DISK_OWNER}, ${why}; ` +
                `choose another vmIdBase, or set nodes[${n.index}].vmId`;
        })
    : [],
});

const EXAMPLE_NETWORK = "an IPv4 network such as 10.0.10.0/24 (host bits zero, prefix 1-30)";

/** `addressing: static` needs the network and the gateway; DNS must be given too (see staticNeedsNameservers). */
export const staticNeedsCidrAndGateway: Rule = ({ settings }) => {
  if (settings?.network.addressing !== "static") return {};
  const problems: string[] = [];
  if (settings.network.cidr === undefined) problems.push(`network.cidr: is required with addressing static: ${EXAMPLE_NETWORK}`);
  if (settings.network.gateway === undefined) problems.push(`network.gateway: is required with addressing static: the default gateway, an address inside network.cidr such as 10.0.10.1`);
  return { problems };
};

/**
 * With static addresses nothing hands out DNS servers: without them Proxmox would write its own
 * host's resolvers into the cloud-init drive (proxmox/qemu-server 9.2.6 Cloudinit.pm get_dns_conf),
 * and the Talos config would carry none. So they are required.
 */
export const staticNeedsNameservers: Rule = ({ settings }) =>
  settings?.network.addressing === "static" && settings.network.nameservers.length === 0
    ? { problems: [`network.nameservers: is required with addressing static (no DHCP hands them out): DNS server IP addresses such as [10.0.10.1]`] }
    : {};

/**
 * `gateway` means something only with static addresses: refused with DHCP rather than silently
 * ignored. `cidr` with DHCP names the subnet the DHCP server serves, for the address checks only.
 */
export const dhcpHasNoGateway: Rule = ({ settings }) =>
  settings?.network.addressing === "dhcp" && settings.network.gateway !== undefined
    ? { problems: [`network.gateway: only used with network.addressing static (addressing is dhcp); remove it, or set addressing: static`] }
    : {};

/** The nodes' network as configured (required with static, optional with DHCP), when it is one. */
function declaredNetwork(settings: RuleInput["settings"]): Ipv4Network | undefined {
  const cidr = settings?.network.cidr;
  return cidr === undefined ? undefined : parseIpv4Network(cidr);
}

/**
 * The control planes share the VIP over layer 2, so it must be a free address in their subnet
 * (Talos docs, "Virtual (shared) IP", docs.siderolabs.com talos/v1.13 networking/vip). With a
 * declared `network.cidr`, `addressesInCidr` checks that; with DHCP and no `cidr`, the VIP's /24 is
 * assumed, and the message says how to declare a larger subnet.
 */
export const controlPlanesInVipSubnet: Rule = ({ settings, nodes }) => {
  const vip = settings?.vip;
  if (!settings || vip === undefined || !isHostIPv4(vip) || settings.network.cidr !== undefined) return {};
  const assumed = `${vip.split(".").slice(0, 3).join(".")}.0/24`;
  const net = parseIpv4Network(assumed)!;
  const outside = nodes.filter((n) => n.spec.role === "controlplane" && isHostIPv4(n.spec.ip) && placeInNetwork(n.spec.ip, net) === "outside");
  return {
    problems: outside.map(
      (n) =>
        `${at(n, "ip")}: ${n.spec.ip} is outside ${assumed}, the VIP's subnet (a /24 is assumed with DHCP); the control planes ` +
        `share the VIP over layer 2, so use an address in the VIP's subnet, or set network.cidr to your subnet if it is larger`,
    ),
  };
};

export const cidrIsNetwork: Rule = ({ settings }) => {
  const cidr = settings?.network.cidr;
  if (cidr === undefined || parseIpv4Network(cidr)) return {};
  return { problems: [`network.cidr: must be ${EXAMPLE_NETWORK}, got ${describe(cidr)}`] };
};

/** Why an address can't be a host in the network, or undefined when it can. */
function notAHost(ip: string, cidr: string, net: Ipv4Network): string | undefined {
  const place = placeInNetwork(ip, net);
  if (place === "outside") return `${ip} is outside network.cidr ${cidr}`;
  if (place === "network") return `${ip} is the network address of ${cidr}`;
  if (place === "broadcast") return `${ip} is the broadcast address of ${cidr}`;
  return undefined;
}

/** Every node, the VIP and the gateway are usable hosts of the declared network. */
export const addressesInCidr: Rule = ({ settings, nodes }) => {
  const net = declaredNetwork(settings);
  if (!settings || !net) return {};
  const cidr = settings.network.cidr!;
  const hint = `use a host address inside ${cidr}`;
  const checked: [string, string | undefined][] = [
    ...nodes.map((n) => [at(n, "ip"), n.spec.ip] as [string, string]),
    ["vip", settings.vip],
    ["network.gateway", settings.network.gateway],
  ];
  // Malformed addresses are reported by their own rules already.
  return {
    problems: checked.flatMap(([key, ip]) => {
      const why = ip === undefined || !isHostIPv4(ip) ? undefined : notAHost(ip, cidr, net);
      return why ? [`${key}: ${why}; ${hint}`] : [];
    }),
  };
};

/** The gateway is a router of its own: never a node's address or the VIP. */
export const gatewayIsFree: Rule = ({ settings, nodes }) => {
  const gateway = settings?.network.addressing === "static" ? settings.network.gateway : undefined;
  if (gateway === undefined) return {};
  const problems: string[] = [];
  if (!isHostIPv4(gateway)) problems.push(`network.gateway: must be an IPv4 host address such as 10.0.10.1, got ${describe(gateway)}`);
  const clash = nodes.find((n) => n.spec.ip === gateway);
  if (clash) problems.push(`network.gateway: ${gateway} is also ${at(clash, "ip")} (${clash.spec.name}); the gateway is your router's address, not a node's`);
  if (settings?.vip === gateway) problems.push(`network.gateway: ${gateway} is also the vip; the gateway is your router's address`);
  return { problems };
};

/** Without a required snapshot, an upgrade whose etcd goes wrong has nothing to recover from: say so. */
export const backupsRequiredOff: Rule = ({ settings }) => {
  if (!settings || settings.backups.required) return {};
  return {
    warnings: [
      "backups.required: false: an upgrade, rolled reboot or control-plane removal goes on when its etcd snapshot fails, leaving nothing to recover from (docs/day-two.md, \"Backups\")",
    ],
  };
};

/** The client certificates' lifetime (one year: siderolabs/talos v1.13.9 constants.go:272,1230). */
const CLIENT_CERTIFICATE_HOURS = 365 * 24;

/** A renewal window of a year or more would reissue the client certificates on every `pulumi up`; none would let them lapse. */
export const credentialRenewalWithinLifetime: Rule = ({ settings }) => {
  if (!settings) return {};
  const hours = goDurationMs(settings.credentialRenewal) / 3_600_000;
  if (hours > 0 && hours < CLIENT_CERTIFICATE_HOURS) return {};
  return {
    problems: [
      `credentialRenewal: must be above 0 and under ${CLIENT_CERTIFICATE_HOURS}h (the client certificates are valid one year), ` +
        `such as 2160h (90 days); got ${describe(settings.credentialRenewal)}`,
    ],
  };
};

/** Every rule, in the order their messages are listed. */
export const RULES: Rule[] = [
  nodeIpIsHostAddress,
  nodeMacIsUnicast,
  uniqueNames,
  uniqueIps,
  uniqueMacs,
  uniqueVmIds,
  controlPlaneQuorum,
  vipIsFreeHostAddress,
  vipRecommendedForHa,
  cniUrlsMatchCni,
  workloadNeedsCni,
  talosVersionSupported,
  kubernetesVersionSupported,
  vmIdBaseLeavesRoom,
  pciDeviceHasOneSource,
  nameserversAreAddresses,
  timeServersAreHosts,
  staticNeedsCidrAndGateway,
  staticNeedsNameservers,
  dhcpHasNoGateway,
  controlPlanesInVipSubnet,
  cidrIsNetwork,
  addressesInCidr,
  gatewayIsFree,
  inlineManifestNamesUnique,
  extraManifestsPinned,
  ciliumSettingsNeedCilium,
  proxmoxCsiNeedsCni,
  proxmoxCsiDiskOwnerFree,
  proxmoxCsiUserNameFits,
  backupsRequiredOff,
  credentialRenewalWithinLifetime,
];
