/**
 * Test PKI for the fake Talos API: an Ed25519 CA like Talos's OS CA, a server certificate for
 * 127.0.0.1 and client certificates with a role in `O=` and EKU clientAuth. The client key is
 * written under the `ED25519 PRIVATE KEY` label, as siderolabs/crypto does, so the client's
 * relabel is exercised. ECDSA is available for the Kubernetes test server.
 */
import "reflect-metadata"; // @peculiar/x509 2.x needs the polyfill for its DI container
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeyAlgorithm = "Ed25519" | "ECDSA";

export interface Pem {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: Pem;
  server: Pem;
  /** Client with `O=os:admin`; its key carries the `ED25519 PRIVATE KEY` label (Ed25519 only). */
  admin: Pem;
  /** Client with `O=os:reader`. */
  reader: Pem;
}

const ALGORITHMS: Record<KeyAlgorithm, { generate: webcrypto.EcKeyGenParams | webcrypto.Algorithm; sign: webcrypto.Algorithm | webcrypto.EcdsaParams }> = {
  Ed25519: { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
  ECDSA: { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
};

let serial = 1;

async function keyPair(algorithm: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHMS[algorithm].generate as webcrypto.EcKeyGenParams, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function pkcs8Pem(key: CryptoKey, label: string): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const body = der.toString("base64").replace(/(.{64})/g, "$1\n").trim();
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

const validity = () => ({ notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) });

/** Builds a CA, a server certificate (SAN 127.0.0.1) and admin/reader client certificates. */
export async function createTestPki(algorithm: KeyAlgorithm = "Ed25519"): Promise<TestPki> {
  const sign = ALGORITHMS[algorithm].sign;
  const caKeys = await keyPair(algorithm);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: String(serial++).padStart(2, "0"),
    name: "O=talos",
    ...validity(),
    keys: caKeys,
    signingAlgorithm: sign,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const leaf = async (subject: string, usage: string, san?: string): Promise<{ cert: string; keys: CryptoKeyPair }> => {
    const keys = await keyPair(algorithm);
    const extensions: x509.Extension[] = [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage], false),
    ];
    if (san) extensions.push(new x509.SubjectAlternativeNameExtension([{ type: "ip", value: san }]));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: String(serial++).padStart(2, "0"),
      subject,
      issuer: caCert.subject,
      ...validity(),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: sign,
      extensions,
    });
    return { cert: cert.toString("pem"), keys };
  };
  const server = await leaf("CN=127.0.0.1", x509.ExtendedKeyUsage.serverAuth, "127.0.0.1");
  const admin = await leaf("O=os:admin", x509.ExtendedKeyUsage.clientAuth);
  const reader = await leaf("O=os:reader", x509.ExtendedKeyUsage.clientAuth);
  const clientLabel = algorithm === "Ed25519" ? "ED25519 PRIVATE KEY" : "PRIVATE KEY";
  return {
    ca: { cert: caCert.toString("pem"), key: await pkcs8Pem(caKeys.privateKey, "PRIVATE KEY") },
    server: { cert: server.cert, key: await pkcs8Pem(server.keys.privateKey, "PRIVATE KEY") },
    admin: { cert: admin.cert, key: await pkcs8Pem(admin.keys.privateKey, clientLabel) },
    reader: { cert: reader.cert, key: await pkcs8Pem(reader.keys.privateKey, clientLabel) },
  };
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

/** The Talos provider's `clientConfiguration` shape for a client identity. */
export function clientConfiguration(pki: TestPki, who: "admin" | "reader" = "admin") {
  return { caCertificate: b64(pki.ca.cert), clientCertificate: b64(pki[who].cert), clientKey: b64(pki[who].key) };
}

/** A talosconfig with one context `test`. */
export function talosconfigYaml(pki: TestPki, endpoints: string[], nodes: string[] = []): string {
  const c = clientConfiguration(pki);
  return [
    "context: test",
    "contexts:",
    "  test:",
    `    endpoints: [${endpoints.map((e) => JSON.stringify(e)).join(", ")}]`,
    `    nodes: [${nodes.map((e) => JSON.stringify(e)).join(", ")}]`,
    `    ca: ${c.caCertificate}`,
    `    crt: ${c.clientCertificate}`,
    `    key: ${c.clientKey}`,
    "",
  ].join("\n");
}
