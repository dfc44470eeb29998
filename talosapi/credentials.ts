/**
 * Mutual-TLS material for the Talos API, from the Talos provider's client configuration or from a
 * talosconfig. Errors name the field that is wrong, never its content.
 */
import { parse as parseYaml } from "yaml";

/** The Talos provider's `clientConfiguration`: each field is base64 of a PEM document. */
export interface TalosClientConfiguration {
  caCertificate: string;
  clientCertificate: string;
  clientKey: string;
}

/** PEM documents ready for `grpc.credentials.createSsl`. */
export interface TalosTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** What a talosconfig context holds besides the credentials. */
export interface TalosconfigContext {
  tls: TalosTls;
  /** Endpoints as written (host or host:port). */
  endpoints: string[];
  nodes: string[];
}

/**
 * Rewrites the `ED25519 PRIVATE KEY` PEM label (written by siderolabs/crypto) to `PRIVATE KEY`.
 * The body is already PKCS#8, but OpenSSL 3 refuses the non-standard label.
 */
export function relabelEd25519Key(pem: string): string {
  return pem.replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, "-----$1 PRIVATE KEY-----");
}

function decodePem(field: string, base64: string, label: RegExp): string {
  if (typeof base64 !== "string" || base64.trim() === "") throw new Error(`${field} is empty`);
  const text = Buffer.from(base64.trim(), "base64").toString("utf8");
  if (!label.test(text)) throw new Error(`${field} is not base64 of a PEM document of the expected kind`);
  return text;
}

const CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )?PRIVATE KEY-----/;

/** TLS material from the provider's client configuration (base64 PEM fields). */
export function tlsFromClientConfiguration(config: TalosClientConfiguration): TalosTls {
  return {
    ca: Buffer.from(decodePem("caCertificate", config.caCertificate, CERTIFICATE)),
    cert: Buffer.from(decodePem("clientCertificate", config.clientCertificate, CERTIFICATE)),
    key: Buffer.from(relabelEd25519Key(decodePem("clientKey", config.clientKey, PRIVATE_KEY))),
  };
}

interface RawContext {
  endpoints?: unknown;
  nodes?: unknown;
  ca?: unknown;
  crt?: unknown;
  key?: unknown;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * Reads a talosconfig (YAML: `context`, `contexts.<name>.{endpoints, nodes, ca, crt, key}`).
 * @param contextName the context to use; defaults to the file's `context`.
 */
export function parseTalosconfig(yamlText: string, contextName?: string): TalosconfigContext {
  let doc: { context?: unknown; contexts?: Record<string, RawContext> };
  try {
    doc = parseYaml(yamlText) as typeof doc;
  } catch {
    throw new Error("talosconfig is not valid YAML");
  }
  const name = contextName ?? (typeof doc?.context === "string" ? doc.context : undefined);
  if (!name) throw new Error("talosconfig names no context");
  const context = doc.contexts?.[name];
  if (!context) throw new Error(`talosconfig has no context "${name}"`);
  const field = (key: "ca" | "crt" | "key"): string => {
    const value = context[key];
    if (typeof value !== "string") throw new Error(`talosconfig context "${name}" has no ${key}`);
    return value;
  };
  const tls = tlsFromClientConfiguration({
    caCertificate: field("ca"),
    clientCertificate: field("crt"),
    clientKey: field("key"),
  });
  return { tls, endpoints: stringList(context.endpoints), nodes: stringList(context.nodes) };
}
