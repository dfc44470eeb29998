import * as pulumi from "@pulumi/pulumi";
import { STRUCTURED_KEYS, TOP_LEVEL_KEYS } from "../config/schema";
import { closest } from "../config/suggest";
import { ProxmoxConnection, pciIdCredentialProblems, readProxmoxConnection } from "./proxmoxConnection";
import { CONFIG_NAMESPACE, ValidatedConfig, validateConfig } from "../config/validate";

/**
 * Reading stack config: the one place that does. Validation lives in `validate.ts`; components
 * get plain data.
 */

export interface LoadedConfig {
  /** The validated config with its warnings, as the cluster component takes it. */
  config: ValidatedConfig;
  proxmox: ProxmoxConnection;
}

/**
 * Reads this stack's `talos-proxmox:*` and `proxmoxve:*` config and validates both (one error listing
 * every problem); the component logs the warnings.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): LoadedConfig {
  const all = pulumi.runtime.allConfig();
  const { connection, problems } = readProxmoxConnection(all, env);
  const raw = parseConfigValues(all);
  problems.push(...pciIdCredentialProblems(raw.nodes, all, env), ...foreignNamespaceProblems(all));
  return { config: validateConfig(raw, { otherProblems: problems }), proxmox: connection };
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

/** Namespaces whose keys are someone else's: the providers this program configures, and Pulumi's own. */
const OTHER_NAMESPACES = ["proxmoxve", "kubernetes", "talos", "pulumi"];

/**
 * Keys that were meant for this program but sit in another namespace (`talos_proxmox:nodes`,
 * `talosproxmox:vip`, or `nodes` under a typo'd project name): the CLI hands them over as they are,
 * and without this the only symptom would be "nodes: is required". Pure.
 */
export function foreignNamespaceProblems(all: Record<string, string>): string[] {
  return Object.keys(all).flatMap((fullKey) => {
    const colon = fullKey.indexOf(":");
    const namespace = fullKey.slice(0, colon);
    const key = fullKey.slice(colon + 1);
    if (colon < 0 || namespace === CONFIG_NAMESPACE || OTHER_NAMESPACES.includes(namespace)) return [];
    const looksOurs = closest(namespace.replace(/[_.]/g, "-"), [CONFIG_NAMESPACE]) !== undefined || TOP_LEVEL_KEYS.includes(key);
    if (!looksOurs) return [];
    return [
      `${fullKey}: namespace ${namespace} is not this program's; its keys are ${CONFIG_NAMESPACE}:<key> ` +
        `(write ${CONFIG_NAMESPACE}:${key} in Pulumi.<stack>.yaml, or pulumi config set ${CONFIG_NAMESPACE}:${key} ...)`,
    ];
  });
}
