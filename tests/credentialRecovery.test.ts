import { createPrivateKey } from "node:crypto";
import * as tls from "node:tls";
import type { CredentialsInputs, CredentialsState } from "../engines/credentials";
import { credentialsProvider } from "../resources/talosCredentials";
import { taskModulePath } from "../resources/taskModule";
import { connectTalos, getVersion, tlsFromClientConfiguration } from "../talosapi";
import { FakeTalos, startFakeTalos } from "./helpers/fakeTalos";
import { createTestPki, type TestPki } from "./helpers/talosPki";

/**
 * A stack whose talosconfig client certificate lapsed (nobody ran `pulumi up` for a year) recovers
 * with one `pulumi up`: the credentials resource's diff finds the certificate expired, its update
 * reissues it from the OS CA, and the tasks that run next reach the nodes with it. The fake apid
 * refuses the expired certificate in the TLS handshake, as apid does (see fakeTalos.ts start).
 */

const DAY = 24 * 3600 * 1000;
const b64 = (text: string) => Buffer.from(text).toString("base64");
const NODES = [{ name: "cp-1", ip: "192.0.2.11", role: "controlplane" as const, version: "v1.13.9" }];

let pki: TestPki;
let fake: FakeTalos;
let inputs: CredentialsInputs;

beforeAll(async () => {
  pki = await createTestPki("Ed25519");
  const kube = await createTestPki("ECDSA");
  fake = await startFakeTalos(pki, NODES);
  inputs = {
    osCa: { cert: b64(pki.ca.cert), key: b64(pki.ca.key) },
    kubernetesCa: { cert: b64(kube.ca.cert), key: b64(createPrivateKey(kube.ca.key).export({ type: "sec1", format: "pem" }) as string) },
    etcdCaCert: b64(kube.ca.cert),
    renewBeforeMs: 90 * DAY,
  };
});

afterAll(async () => {
  await fake.stop();
});

async function versionWith(clientConfiguration: CredentialsState["clientConfiguration"]): Promise<string> {
  // A deadline that only bounds a failure: the refused certificate must show as UNAVAILABLE, not as a deadline.
  const client = connectTalos({ endpoint: fake.address, tls: tlsFromClientConfiguration(clientConfiguration), defaultTimeoutMs: 10_000 });
  try {
    return await getVersion(client, NODES[0].ip, { timeoutMs: 10_000 });
  } finally {
    client.close();
  }
}

/**
 * Why the fake refuses a client certificate. Its server (grpc-js createSsl with
 * checkClientCertificate) has Node verify the client certificate against the CA and drop the
 * connection on any error, without telling the client why; the same verification here, with the
 * connection kept, names the error (Node's `authorizationError`), or "accepted".
 */
function verificationOf(clientConfiguration: CredentialsState["clientConfiguration"]): Promise<string> {
  const creds = tlsFromClientConfiguration(clientConfiguration);
  return new Promise((resolve, reject) => {
    const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: false });
    let socket: tls.TLSSocket | undefined;
    server.once("secureConnection", (accepted: tls.TLSSocket) => {
      const verdict = accepted.authorized ? "accepted" : String(accepted.authorizationError);
      accepted.destroy();
      socket?.destroy();
      server.close(() => resolve(verdict));
    });
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      socket = tls.connect({ host: "127.0.0.1", port, ca: creds.ca, cert: creds.cert, key: creds.key });
      socket.on("error", () => undefined);
    });
  });
}

test("an expired client certificate is refused by the Talos API, and one pulumi up reissues a working one", async () => {
  const now = new Date();
  let clock = new Date(now.getTime() - 400 * DAY);
  const provider = credentialsProvider(() => clock);
  // Issued 400 days ago: expired 35 days ago.
  const lapsed = (await provider.create!(inputs)).outs as CredentialsState;
  expect(new Date(lapsed.notAfter.talosClient).getTime()).toBeLessThan(now.getTime());
  await expect(versionWith(lapsed.clientConfiguration)).rejects.toThrow(/UNAVAILABLE/);
  expect(await verificationOf(lapsed.clientConfiguration)).toBe("CERT_HAS_EXPIRED");

  clock = now;
  expect((await provider.diff!("talos-credentials", lapsed, inputs)).changes).toBe(true);
  const renewed = (await provider.update!("talos-credentials", lapsed, inputs)).outs as CredentialsState;
  expect(await versionWith(renewed.clientConfiguration)).toBe("v1.13.9");
  expect(await verificationOf(renewed.clientConfiguration)).toBe("accepted");
});

test("the tasks of the same update (upgrade, removal, reboots) reach the nodes with the reissued certificate", async () => {
  const provider = credentialsProvider(() => new Date());
  const renewed = (await provider.create!(inputs)).outs as CredentialsState;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const task = require(taskModulePath()) as typeof import("../engines/tasks");
  const versions = await task.readVersions({ clientConfiguration: renewed.clientConfiguration, endpoints: [fake.address], nodes: NODES });
  expect(versions).toEqual({ "cp-1": "v1.13.9" });
});
