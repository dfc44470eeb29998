/**
 * The vocabulary of the hand-written Talos config description (`v1alpha1.ts`, `documents.ts`).
 *
 * Each kind of value is what Talos's own decoder (go.yaml.in/yaml/v4 into typed Go structs, then
 * `xyaml.CheckUnknownKeys`) accepts, which is sometimes looser than the JSON schema:
 * - a Go `string` field takes any YAML scalar (`8`, `true` become "8", "true"); only a mapping or a
 *   list is a wrong type;
 * - a Go `bool` takes true/false and the YAML 1.1 words (yes/no/on/off/y/n in their usual cases);
 * - a Go integer takes a whole number (also written as 1.0) that fits its size; never a string;
 * - a `time.Duration` takes Go duration text (`30s`, `1h30m`) or 0;
 * - a value that Talos parses as text (IP, prefix, enum types, URLs) takes any scalar whose text parses;
 * - `null` (or an empty value) is accepted anywhere and leaves the field unset.
 */
import { isIP } from "node:net";

/** A text format checked on the value's text; `what` completes "must be ...". */
export interface Format {
  what: string;
  test(text: string): boolean;
}

interface Common {
  /** Accepted by Talos v1.13 but deprecated (the note says what replaces it); the validator warns. */
  deprecated?: string;
}

export type Spec = Common &
  (
    | { kind: "string"; values?: readonly string[]; anyCase?: boolean; format?: Format }
    | { kind: "integer"; min?: number; max?: number }
    | { kind: "boolean" }
    | { kind: "duration" }
    | { kind: "list"; of: Spec }
    | { kind: "map"; of: Spec }
    | { kind: "object"; fields: Fields; required?: readonly string[] }
    | { kind: "either"; options: readonly Spec[]; what: string }
    | { kind: "mapping" }
    | { kind: "any" }
  );

export type Fields = Readonly<Record<string, Spec>>;

// --- builders: keep the data files one line per field -------------------------------------------

/** Any scalar, optionally checked for a text format. */
export const str = (format?: Format): Spec => ({ kind: "string", format });
/** Exactly one of the values (as Talos's `Validate` compares them). */
export const oneOf = (...values: string[]): Spec => ({ kind: "string", values });
/** One of the values of a Talos enum type parsed from text (enumer: exact, else lower-cased). */
export const enumText = (...values: string[]): Spec => ({ kind: "string", values, anyCase: true });
export const int = (min?: number, max?: number): Spec => ({ kind: "integer", min, max });
/** Go unsigned integers by size. */
export const u8 = int(0, 2 ** 8 - 1);
export const u16 = int(0, 2 ** 16 - 1);
export const u32 = int(0, 2 ** 32 - 1);
export const u64 = int(0);
/** Go `int` (64-bit here). */
export const i64 = int();
export const bool: Spec = { kind: "boolean" };
export const duration: Spec = { kind: "duration" };
export const list = (of: Spec): Spec => ({ kind: "list", of });
export const strings = list(str());
/** A mapping with free keys, every value of one type (`map[string]T`). */
export const mapOf = (of: Spec): Spec => ({ kind: "map", of });
/** A struct: only these keys. */
export const obj = (fields: Fields, required: readonly string[] = []): Spec => ({ kind: "object", fields, required });
export const either = (what: string, ...options: Spec[]): Spec => ({ kind: "either", options, what });
/** Free-form mapping (Talos `Unstructured`: kubelet extraConfig, audit policy, static pods...). */
export const mapping: Spec = { kind: "mapping" };
export const anything: Spec = { kind: "any" };
export const deprecated = (spec: Spec, note: string): Spec => ({ ...spec, deprecated: note });

/** `extraArgs` of the control-plane components and the kubelet: each a string or a list of strings. */
export const args = mapOf(either("a string or a list of strings", str(), strings));
/** A Talos PEM pair (`crt`/`key`, base64). */
export const certAndKey = obj({ crt: str(), key: str() });
export const cert = obj({ crt: str() });

// --- formats --------------------------------------------------------------------------------------

const IP_TEXT = (text: string) => isIP(text) !== 0;

function isPrefix(text: string): boolean {
  const slash = text.lastIndexOf("/");
  if (slash < 0) return false;
  const addr = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  const family = addr.includes("%") ? 0 : isIP(addr);
  return family !== 0 && /^(0|[1-9]\d{0,2})$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

export const IP: Format = { what: "an IP address such as 10.0.10.10", test: IP_TEXT };
export const PREFIX: Format = { what: "an address with a prefix length such as 10.0.10.11/24", test: isPrefix };
export const IP_PORT: Format = {
  what: "an address and port such as 10.0.10.10:51820 or [2001:db8::1]:51820",
  test: (text) => {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
    return m !== null && IP_TEXT(m[1] ?? m[2]) && Number(m[3]) <= 65535;
  },
};
export const MAC: Format = {
  what: "colon-separated hex bytes such as 02:ab:cd:ef:01:23",
  test: (text) => /^[0-9a-f]{2}(:[0-9a-f]{2})+$/i.test(text),
};
/** Routing table: a name or a table number (nethelpers.RoutingTable). */
export const ROUTING_TABLE: Format = {
  what: "a routing table: main, local, default, unspec or a number from 1 to 252",
  test: (text) => /^(main|local|default|unspec)$/i.test(text) || (/^[1-9]\d{0,2}$/.test(text) && Number(text) <= 252),
};
export const url = (...schemes: string[]): Format => ({
  what: `a ${schemes.map((s) => `${s}://`).join(" or ")} URL`,
  test: (text) => new RegExp(`^(${schemes.join("|")})://[^/\\s]+`, "i").test(text),
});

/** Go `time.ParseDuration` text (or 0). */
export const DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
