/**
 * Client certificates issued from the cluster's own CAs, as Talos issues them, so that a client
 * certificate can be renewed without touching a node (resources/talosCredentials.ts runs this).
 * Facts (siderolabs/talos v1.13.9):
 * - talosconfig: `O=<roles>` (here `os:admin`), no CN, not before = now, valid one year, key usage
 *   digitalSignature, EKU clientAuth (pkg/machinery/config/generate/secrets/ca.go:66-85;
 *   bundle.go:346-349; constants.go:1230 TalosAPIDefaultCertificateValidityDuration).
 * - admin kubeconfig: `CN=admin`, `O=system:masters` (constants.go:254,260), not before = now - 10s,
 *   valid one year (constants.go:272), key usage digitalSignature|keyEncipherment, EKU clientAuth
 *   (pkg/kubeconfig/generate.go:76-94).
 * - The key type follows the CA's signature algorithm: Ed25519 for the OS CA, ECDSA P-256 (SHA-256)
 *   for the Kubernetes CA, which is ECDSA (siderolabs/crypto x509/keypair.go:31-46, the version
 *   talos v1.13.9 go.mod:136 pins; secrets/ca.go:30-38,55-63).
 * Plain data in and out (base64 of PEM, as the Talos provider stores it); nothing of Pulumi.
 */
import "reflect-metadata"; // @peculiar/x509 2.x resolves its services through tsyringe, which needs it
import * as x509 from "@peculiar/x509";
import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const YEAR_MS = 365 * 24 * 3600 * 1000;
const KUBE_CLOCK_SKEW_MS = 10_000;

/** A CA as the machine secrets hold it: base64 of the PEM certificate and of the PEM key. */
export interface CaMaterial {
  cert: string;
  key: string;
}

/** A client certificate and its key, each base64 of a PEM document. */
export interface ClientCertificate {
  clientCertificate: string;
  clientKey: string;
}

interface SigningCa {
  cert: x509.X509Certificate;
  key: webcrypto.CryptoKey;
  /** Leaf key generation and signature parameters. */
  leafKey: webcrypto.EcKeyGenParams | webcrypto.Algorithm;
  signing: webcrypto.Algorithm | webcrypto.EcdsaParams;
  kind: "Ed25519" | "ECDSA";
}

const fromBase64 = (text: string) => Buffer.from(text, "base64").toString("utf8");
const toBase64 = (text: string) => Buffer.from(text).toString("base64");
const CURVE_HASH: Record<string, { curve: string; hash: string }> = {
  prime256v1: { curve: "P-256", hash: "SHA-256" },
  secp384r1: { curve: "P-384", hash: "SHA-384" },
  secp521r1: { curve: "P-521", hash: "SHA-512" },
};

/** Loads a CA's certificate and key for signing. Errors name `what`, never the key. */
async function signingCa(what: string, ca: CaMaterial): Promise<SigningCa> {
  // siderolabs/crypto writes Ed25519 keys as PKCS#8 under a non-standard label.
  const keyPem = fromBase64(ca.key).replace(/-----(BEGIN|END) ED25519 PRIVATE KEY-----/g, "-----$1 PRIVATE KEY-----");
  let keyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch {
    throw new Error(`${what}: the CA key in the machine secrets is not a PEM private key`);
  }
  const der = keyObject.export({ type: "pkcs8", format: "der" });
  const cert = new x509.X509Certificate(fromBase64(ca.cert));
  if (keyObject.asymmetricKeyType === "ed25519") {
    const key = await webcrypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
    return { cert, key, leafKey: { name: "Ed25519" }, signing: { name: "Ed25519" }, kind: "Ed25519" };
  }
  const curve = keyObject.asymmetricKeyType === "ec" ? CURVE_HASH[keyObject.asymmetricKeyDetails?.namedCurve ?? ""] : undefined;
  if (!curve) throw new Error(`${what}: CA key type ${keyObject.asymmetricKeyType} is not supported (Ed25519 or ECDSA, as Talos generates)`);
  const key = await webcrypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: curve.curve }, false, ["sign"]);
  return { cert, key, leafKey: { name: "ECDSA", namedCurve: "P-256" }, signing: { name: "ECDSA", hash: curve.hash }, kind: "ECDSA" };
}

/** A positive 128-bit serial number, as Go's crypto/x509 users pick them. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString("hex");
}

interface LeafRequest {
  subject: string;
  notBefore: Date;
  notAfter: Date;
  usages: x509.KeyUsageFlags;
}

/** Issues a client certificate (EKU clientAuth) from the CA; the key is PEM in the format siderolabs/crypto writes. */
async function issueClient(ca: SigningCa, request: LeafRequest): Promise<ClientCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ca.leafKey as webcrypto.EcKeyGenParams, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(request.usages, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
  ];
  const caKeyId = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  if (caKeyId) extensions.push(new x509.AuthorityKeyIdentifierExtension(caKeyId.keyId));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: request.subject,
    issuer: ca.cert.subjectName,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.signing,
    extensions,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyObject = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
  const keyPem =
    ca.kind === "Ed25519"
      ? (keyObject.export({ type: "pkcs8", format: "pem" }) as string).replace(/-----(BEGIN|END) PRIVATE KEY-----/g, "-----$1 ED25519 PRIVATE KEY-----")
      : (keyObject.export({ type: "sec1", format: "pem" }) as string);
  return { clientCertificate: toBase64(cert.toString("pem")), clientKey: toBase64(keyPem) };
}

/** The talosconfig client certificate: role `os:admin`, one year from `now`. */
export async function issueTalosAdmin(osCa: CaMaterial, now: Date): Promise<ClientCertificate> {
  const ca = await signingCa("the Talos OS CA (machine secrets certs.os)", osCa);
  return issueClient(ca, {
    subject: "O=os:admin",
    notBefore: now,
    notAfter: new Date(now.getTime() + YEAR_MS),
    usages: x509.KeyUsageFlags.digitalSignature,
  });
}

/** The admin kubeconfig's client certificate: `CN=admin, O=system:masters`, one year from `now`. */
export async function issueKubernetesAdmin(kubernetesCa: CaMaterial, now: Date): Promise<ClientCertificate> {
  const ca = await signingCa("the Kubernetes CA (machine secrets certs.k8s)", kubernetesCa);
  return issueClient(ca, {
    // RDN order as Go's pkix.Name writes it: O before CN.
    subject: "O=system:masters, CN=admin",
    notBefore: new Date(now.getTime() - KUBE_CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + YEAR_MS),
    usages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
  });
}

/** The not-after dates (ISO 8601) the `credentials` output shows. */
export interface CredentialDates {
  talosClient: string;
  kubernetesClient: string;
  osCa: string;
  kubernetesCa: string;
  etcdCa: string;
}

/** What the credentials resource is given: the CAs (from the machine secrets) and the renewal window. */
export interface CredentialsInputs {
  osCa: CaMaterial;
  kubernetesCa: CaMaterial;
  /** base64 of the etcd CA's PEM certificate: only its date is read. */
  etcdCaCert: string;
  /** Reissue a client certificate once it expires within this many milliseconds. */
  renewBeforeMs: number;
}

/** Its outputs: the inputs, the Talos provider's `clientConfiguration`, the kubeconfig's client and the dates. */
export interface CredentialsState extends CredentialsInputs {
  clientConfiguration: ClientCertificate & { caCertificate: string };
  kubernetesClient: ClientCertificate & { caCertificate: string };
  notAfter: CredentialDates;
}

/** The not-after date of a certificate given as base64 of PEM. */
export function certificateNotAfter(certB64: string): Date {
  return new x509.X509Certificate(fromBase64(certB64)).notAfter;
}

/** Whether a client certificate is missing, unreadable, expired, or expires within the window after `now`. */
export function renewalDue(certB64: string | undefined, now: Date, renewBeforeMs: number): boolean {
  if (!certB64) return true;
  let notAfter: Date;
  try {
    notAfter = certificateNotAfter(certB64);
  } catch {
    return true; // an unreadable certificate is replaced, never trusted
  }
  return notAfter.getTime() - renewBeforeMs <= now.getTime();
}

/** Which client certificates the next update reissues: those due, and those of a CA that changed. */
export function credentialsToRenew(olds: Partial<CredentialsState>, news: CredentialsInputs, now: Date): ("talos" | "kubernetes")[] {
  const sameCa = (a: CaMaterial | undefined, b: CaMaterial) => a?.cert === b.cert && a?.key === b.key;
  const talos = !sameCa(olds.osCa, news.osCa) || renewalDue(olds.clientConfiguration?.clientCertificate, now, news.renewBeforeMs);
  const kubernetes = !sameCa(olds.kubernetesCa, news.kubernetesCa) || renewalDue(olds.kubernetesClient?.clientCertificate, now, news.renewBeforeMs);
  return [...(talos ? ["talos" as const] : []), ...(kubernetes ? ["kubernetes" as const] : [])];
}

/** Whether an update is due: a certificate to reissue, or an input that changed. */
export function credentialsChanged(olds: Partial<CredentialsState>, news: CredentialsInputs, now: Date): boolean {
  const inputsChanged = (["osCa", "kubernetesCa", "etcdCaCert", "renewBeforeMs"] as const).some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
  return inputsChanged || credentialsToRenew(olds, news, now).length > 0;
}

/** The new state: client certificates reissued where due (all of them on create), the others kept. */
export async function renewCredentials(olds: Partial<CredentialsState>, news: CredentialsInputs, now: Date): Promise<CredentialsState> {
  const renew = credentialsToRenew(olds, news, now);
  const talos = renew.includes("talos") ? await issueTalosAdmin(news.osCa, now) : olds.clientConfiguration!;
  const kubernetes = renew.includes("kubernetes") ? await issueKubernetesAdmin(news.kubernetesCa, now) : olds.kubernetesClient!;
  const iso = (certB64: string) => certificateNotAfter(certB64).toISOString();
  return {
    ...news,
    clientConfiguration: { caCertificate: news.osCa.cert, clientCertificate: talos.clientCertificate, clientKey: talos.clientKey },
    kubernetesClient: { caCertificate: news.kubernetesCa.cert, clientCertificate: kubernetes.clientCertificate, clientKey: kubernetes.clientKey },
    notAfter: {
      talosClient: iso(talos.clientCertificate),
      kubernetesClient: iso(kubernetes.clientCertificate),
      osCa: iso(news.osCa.cert),
      kubernetesCa: iso(news.kubernetesCa.cert),
      etcdCa: iso(news.etcdCaCert),
    },
  };
}

/**
 * The client configuration to use for a task that runs from an older state (a removed node's
 * membership is deleted with the inputs it was last given): as stored while its certificate is
 * valid, else one issued now from the OS CA stored with it, so that a lapsed certificate never
 * blocks a removal.
 */
export async function usableClientConfiguration(
  stored: CredentialsState["clientConfiguration"],
  osCa: CaMaterial | undefined,
  now: Date,
): Promise<CredentialsState["clientConfiguration"]> {
  if (!osCa || !renewalDue(stored.clientCertificate, now, 0)) return stored;
  return { caCertificate: osCa.cert, ...(await issueTalosAdmin(osCa, now)) };
}
