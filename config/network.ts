import { createHash } from "node:crypto";
import { isIP } from "node:net";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/i;

/** A dotted-quad IPv4 address usable by a host: not 0/8, loopback, multicast or reserved. */
export function isHostIPv4(value: string): boolean {
  if (!IPV4.test(value)) return false;
  const first = Number(value.split(".")[0]);
  return first !== 0 && first !== 127 && first < 224;
}

/** `AA:BB:CC:DD:EE:FF`, any case. */
export function isMacAddress(value: string): boolean {
  return MAC.test(value);
}

/** The I/G bit of the first octet: set means a group (multicast) address, which a NIC can't own. */
export function isMulticastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 0x01) === 1;
}

/**
 * A MAC derived from cluster and node name: stable across destroy and redeploy, so DHCP
 * reservations keep handing out the same address. Locally administered (bit 1 set) and
 * unicast (bit 0 clear), so it can't clash with a vendor-assigned address.
 */
export function deriveMac(clusterName: string, nodeName: string): string {
  const digest = createHash("sha256").update(`${clusterName}/${nodeName}`).digest();
  const octets = [...digest.subarray(0, 6)];
  octets[0] = (octets[0] & 0xfc) | 0x02;
  return octets.map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/** A node's VM ID offset under `vmIdBase`: derived from its name only, so list order never moves it. */
export function vmIdOffset(nodeName: string, span: number): number {
  return createHash("sha256").update(nodeName).digest().readUInt32BE(0) % span;
}

/** An IPv4 or IPv6 address (what Talos's ResolverConfig takes as a nameserver). */
export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** A DNS host name such as `time.cloudflare.com` (labels of letters, digits and '-'). */
export function isHostName(value: string): boolean {
  return value.length <= 253 && /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/.test(value);
}

/** An IPv4 address as a 32-bit number (dotted quad already checked). */
function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** An IPv4 network such as `10.0.10.0/24`: its first and last address as numbers, and its prefix. */
export interface Ipv4Network {
  network: number;
  broadcast: number;
  prefixLength: number;
}

/**
 * `10.0.10.0/24` to its bounds; undefined unless it is an IPv4 network with its host bits zero and
 * a prefix from 1 to 30 (a /31 or /32 has no room for nodes, a gateway and a broadcast address).
 */
export function parseIpv4Network(cidr: string): Ipv4Network | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!match || !IPV4.test(match[1])) return undefined;
  const prefixLength = Number(match[2]);
  if (prefixLength < 1 || prefixLength > 30) return undefined;
  const size = 2 ** (32 - prefixLength);
  const network = ipv4ToNumber(match[1]);
  if (network % size !== 0) return undefined;
  return { network, broadcast: network + size - 1, prefixLength };
}

/** Where an IPv4 address sits relative to a network: a usable host, its network or broadcast address, or outside. */
export function placeInNetwork(ip: string, net: Ipv4Network): "host" | "network" | "broadcast" | "outside" {
  if (!IPV4.test(ip)) return "outside";
  const n = ipv4ToNumber(ip);
  if (n < net.network || n > net.broadcast) return "outside";
  if (n === net.network) return "network";
  return n === net.broadcast ? "broadcast" : "host";
}
