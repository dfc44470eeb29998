import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createPrivateKey } from "node:crypto";
import { issueKubernetesAdmin, issueTalosAdmin, type CaMaterial, type CredentialsInputs, type CredentialsState } from "../engines/credentials";
import { adminKubeconfig, credentialLifetimes, credentialsProvider } from "../resources/talosCredentials";
import { parse } from "yaml";
import { createTestPki, type TestPki } from "./helpers/talosPki";
import { base } from "./helpers/configCases";
import { validateConfig } from "../config/validate";
import { goDurationMs } from "../config/duration";

/**
 * Client certificates issued from the cluster's CAs: subject, roles and lifetime as Talos issues
 * them (engines/credentials.ts cites the source), and renewal decided by the clock.
 */

const DAY = 24 * 3600 * 1000;
const YEAR = 365 * DAY;
const T0 = new Date("2026-01-01T00:00:00Z");
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const b64 = (text: string) => Buffer.from(text).toString("base64");
const pem = (b64text: string) => Buffer.from(b64text, "base64").toString("utf8");

let osPki: TestPki;
let kubePki: TestPki;
let osCa: CaMaterial;
let kubernetesCa: CaMaterial;

beforeAll(async () => {
  osPki = await createTestPki("Ed25519");
  kubePki = await createTestPki("ECDSA");
  // As the machine secrets hold them: the OS CA key under siderolabs/crypto's Ed25519 label, the
  // Kubernetes CA key as SEC1 (`EC PRIVATE KEY`).
  osCa = { cert: b64(osPki.ca.cert), key: b64(osPki.ca.key.replace(/(BEGIN|END) PRIVATE KEY/g, "$1 ED25519 PRIVATE KEY")) };
  const sec1 = createPrivateKey(kubePki.ca.key).export({ type: "sec1", format: "pem" }) as string;
  kubernetesCa = { cert: b64(kubePki.ca.cert), key: b64(sec1) };
});

const inputs = (renewBeforeMs = 90 * DAY): CredentialsInputs => ({ osCa, kubernetesCa, etcdCaCert: b64(osPki.ca.cert), renewBeforeMs });
const certOf = (b64text: string) => new x509.X509Certificate(pem(b64text));

describe("the talosconfig client certificate", () => {
  test("has role os:admin in O, no CN, EKU clientAuth and one year from now, signed by the OS CA with Ed25519", async () => {
    const issued = await issueTalosAdmin(osCa, T0);
    const cert = certOf(issued.clientCertificate);
    expect(cert.subjectName.getField("O")).toEqual(["os:admin"]);
    expect(cert.subjectName.getField("CN")).toEqual([]);
    expect(cert.notBefore.toISOString()).toBe(T0.toISOString());
    expect(cert.notAfter.getTime()).toBe(T0.getTime() + YEAR);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.publicKey.algorithm.name).toBe("Ed25519");
    expect(cert.issuer).toBe(new x509.X509Certificate(osPki.ca.cert).subject);
    expect(await cert.verify({ publicKey: new x509.X509Certificate(osPki.ca.cert).publicKey, signatureOnly: true })).toBe(true);
  });

  test("its key is written as siderolabs/crypto writes Ed25519 keys", async () => {
    const issued = await issueTalosAdmin(osCa, T0);
    expect(pem(issued.clientKey)).toMatch(/^-----BEGIN ED25519 PRIVATE KEY-----\n/);
  });
});

describe("the admin kubeconfig client certificate", () => {
  test("is CN=admin, O=system:masters, EKU clientAuth, ECDSA P-256, valid from 10 s before now for one year", async () => {
    const issued = await issueKubernetesAdmin(kubernetesCa, T0);
    const cert = certOf(issued.clientCertificate);
    expect(cert.subjectName.getField("CN")).toEqual(["admin"]);
    expect(cert.subjectName.getField("O")).toEqual(["system:masters"]);
    expect(cert.notBefore.getTime()).toBe(T0.getTime() - 10_000);
    expect(cert.notAfter.getTime()).toBe(T0.getTime() + YEAR);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    expect(cert.publicKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    expect(await cert.verify({ publicKey: new x509.X509Certificate(kubePki.ca.cert).publicKey, signatureOnly: true })).toBe(true);
    expect(pem(issued.clientKey)).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
  });

  test("the kubeconfig is laid out as Talos writes it, around the issued certificate", () => {
    const client = { caCertificate: "Q0E=", clientCertificate: "Q1JU", clientKey: "S0VZ" };
    const config = parse(adminKubeconfig("lab", "https://10.0.20.10:6443", client));
    expect(config["current-context"]).toBe("admin@lab");
    expect(config.clusters).toEqual([{ name: "lab", cluster: { server: "https://10.0.20.10:6443", "certificate-authority-data": "Q0E=" } }]);
    expect(config.contexts).toEqual([{ name: "admin@lab", context: { cluster: "lab", namespace: "default", user: "admin@lab" } }]);
    expect(config.users).toEqual([{ name: "admin@lab", user: { "client-certificate-data": "Q1JU", "client-key-data": "S0VZ" } }]);
  });

  test("a CA of another key type is refused, naming the CA and not the key", async () => {
    const rsa = createPrivateKey({ key: (await import("node:crypto")).generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }) });
    const key = rsa.export({ type: "pkcs8", format: "pem" }) as string;
    await expect(issueKubernetesAdmin({ cert: kubernetesCa.cert, key: b64(key) }, T0)).rejects.toThrow(/^the Kubernetes CA \(machine secrets certs\.k8s\): CA key type rsa is not supported/);
  });
});

describe("renewal on pulumi up (injected clock)", () => {
  let now = T0;
  const provider = credentialsProvider(() => now);
  let created: CredentialsState;
  beforeAll(async () => {
    now = T0;
    created = (await provider.create!(inputs())).outs as CredentialsState;
  });
  const diffAt = async (days: number, news = inputs()) => {
    now = at(days);
    return (await provider.diff!("talos-credentials", created, news)).changes;
  };

  test("create issues both client certificates and records every not-after", () => {
    expect(created.notAfter).toEqual({
      talosClient: new Date(T0.getTime() + YEAR).toISOString(),
      kubernetesClient: new Date(T0.getTime() + YEAR).toISOString(),
      osCa: certOf(osCa.cert).notAfter.toISOString(),
      kubernetesCa: certOf(kubernetesCa.cert).notAfter.toISOString(),
      etcdCa: certOf(osCa.cert).notAfter.toISOString(),
    });
    expect(created.clientConfiguration.caCertificate).toBe(osCa.cert);
    expect(created.kubernetesClient.caCertificate).toBe(kubernetesCa.cert);
  });

  test("outside the window (more than 90 days left) nothing changes", async () => {
    expect(await diffAt(0)).toBe(false);
    expect(await diffAt(365 - 91)).toBe(false);
  });

  test("inside the window the update reissues both, one year from the update", async () => {
    expect(await diffAt(365 - 89)).toBe(true);
    const renewed = (await provider.update!("talos-credentials", created, inputs())).outs as CredentialsState;
    expect(renewed.notAfter.talosClient).toBe(new Date(at(365 - 89).getTime() + YEAR).toISOString());
    expect(renewed.notAfter.kubernetesClient).toBe(new Date(at(365 - 89).getTime() + YEAR).toISOString());
    expect(renewed.clientConfiguration.clientCertificate).not.toBe(created.clientConfiguration.clientCertificate);
    expect(certOf(renewed.clientConfiguration.clientCertificate).subjectName.getField("O")).toEqual(["os:admin"]);
    expect(certOf(renewed.kubernetesClient.clientCertificate).subjectName.getField("O")).toEqual(["system:masters"]);
  });

  test("after expiry the update reissues them", async () => {
    expect(await diffAt(400)).toBe(true);
    const renewed = (await provider.update!("talos-credentials", created, inputs())).outs as CredentialsState;
    expect(new Date(renewed.notAfter.talosClient).getTime()).toBe(at(400).getTime() + YEAR);
  });

  test("a wider window takes effect on the next up; an update outside it keeps the certificates", async () => {
    expect(await diffAt(100, inputs(300 * DAY))).toBe(true);
    now = at(100);
    const kept = (await provider.update!("talos-credentials", created, inputs(120 * DAY))).outs as CredentialsState;
    expect(kept.clientConfiguration).toEqual(created.clientConfiguration);
    expect(kept.kubernetesClient).toEqual(created.kubernetesClient);
    expect(kept.renewBeforeMs).toBe(120 * DAY);
  });

  test("a state whose certificate is missing or unreadable reissues it", async () => {
    now = at(10);
    const broken = { ...created, clientConfiguration: { ...created.clientConfiguration, clientCertificate: b64("not a certificate") } };
    expect((await provider.diff!("talos-credentials", broken, inputs())).changes).toBe(true);
    const renewed = (await provider.update!("talos-credentials", broken, inputs())).outs as CredentialsState;
    expect(certOf(renewed.clientConfiguration.clientCertificate).subjectName.getField("O")).toEqual(["os:admin"]);
    expect(renewed.kubernetesClient).toEqual(created.kubernetesClient);
  });

  test("a new CA reissues the certificate it signs at once", async () => {
    now = at(10);
    const otherOsCa = { ...osCa, cert: b64(osPki.ca.cert + "\n") };
    const renewed = (await provider.update!("talos-credentials", created, { ...inputs(), osCa: otherOsCa })).outs as CredentialsState;
    expect(renewed.clientConfiguration.clientCertificate).not.toBe(created.clientConfiguration.clientCertificate);
    expect(renewed.kubernetesClient).toEqual(created.kubernetesClient);
  });
});

describe("the credentials output", () => {
  const dates = {
    talosClient: "2027-01-01T00:00:00.000Z",
    kubernetesClient: "2026-12-31T12:00:00.000Z",
    osCa: "2036-01-01T00:00:00Z",
    kubernetesCa: "2036-01-01T00:00:00Z",
    etcdCa: "2036-01-01T00:00:00Z",
  };

  test("shows each not-after and the whole days left", () => {
    const out = credentialLifetimes(dates, T0);
    expect(out.talosconfig).toEqual({ notAfter: "2027-01-01T00:00:00.000Z", daysLeft: 365 });
    expect(out.kubeconfig).toEqual({ notAfter: "2026-12-31T12:00:00.000Z", daysLeft: 364 });
    expect(out.osCa).toEqual({ notAfter: "2036-01-01T00:00:00.000Z", daysLeft: 3652 });
    expect(Object.keys(out)).toEqual(["talosconfig", "kubeconfig", "osCa", "kubernetesCa", "etcdCa"]);
  });

  test("an expired certificate shows negative days", () => {
    expect(credentialLifetimes(dates, new Date("2027-01-11T00:00:00Z")).talosconfig.daysLeft).toBe(-10);
  });

  test("anything but a date is refused, and never echoed", () => {
    expect(() => credentialLifetimes({ ...dates, talosClient: "-----BEGIN PRIVATE KEY-----" }, T0)).toThrow(
      "credentials: the talosconfig client certificate has no valid not-after date",
    );
  });
});

test("credentialRenewal defaults to 2160h (90 days), read as a Go duration", () => {
  expect(validateConfig(base()).spec.talos.credentialRenewal).toBe("2160h");
  expect(goDurationMs("2160h")).toBe(90 * DAY);
  expect(goDurationMs("1h30m15s")).toBe(5415_000);
});
