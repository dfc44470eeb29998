import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec } from "../config/domain";
import { STRUCTURED_KEYS } from "../config/schema";
import { ProxmoxConnection, pciIdCredentialProblems, readProxmoxConnection } from "./proxmoxConnection";
import { CONFIG_NAMESPACE, validateConfig } from "../config/validate";

/**
 * Reading stack config: the one place that does. Validation lives in `validate.ts`; components
 * get plain data.
 */

export interface LoadedConfig {
  spec: ClusterSpec;
  /** The raw `talos-proxmox:*` values, as the component's Args. */
  raw: Record<string, unknown>;
  proxmox: ProxmoxConnection;
}

/**
 * Reads this stack's `talos-proxmox:*` and `proxmoxve:*` config, validates both (one error listing
 * every problem) and logs warnings.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): LoadedConfig {
  const all = pulumi.runtime.allConfig();
  const { connection, problems } = readProxmoxConnection(all, env);
  const raw = parseConfigValues(all);
  // One error for config and connection problems; the component logs the warnings.
  problems.push(...pciIdCredentialProblems(raw.nodes, all, env));
  const { spec } = validateConfig(raw, { otherProblems: problems });
  return { spec, raw, proxmox: connection };
}

/** Strips the namespace and parses the JSON text Pulumi uses for structured values. */
export function parseConfigValues(all: Record<string, string>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    raw[key] = STRUCTURED_KEYS.includes(key) ? parseJson(text) : text;
  }
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // the schema then reports it as "must be a list ..., got <text>"
  }
}
