import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { issueTalosAdmin } from "../engines/credentials";
import { memberProvider, type MemberState } from "../resources/talosMember";
import { taskModulePath } from "../resources/taskModule";
import { createTestPki } from "./helpers/talosPki";

/**
 * A removed node's membership is deleted with the inputs it last had (the engine's delete of a
 * resource gone from the program uses its state), so renewal in the same `pulumi up` never reaches
 * them. If their client certificate has lapsed, the delete issues a fresh one from the OS CA
 * stored with it instead of failing for good.
 */

const runRemoveNode = jest.fn(async (input: { node: string }) => ({ node: input.node, reachable: true }));
jest.doMock(taskModulePath(), () => ({ runRemoveNode, usableClientConfiguration: jest.requireActual("../engines/credentials").usableClientConfiguration }));
beforeEach(() => jest.clearAllMocks());

const DAY = 24 * 3600 * 1000;
const b64 = (text: string) => Buffer.from(text).toString("base64");
const cp = (n: number) => ({ name: `cp-${n}`, ip: `10.0.0.1${n}`, role: "controlplane" as const });

async function membership(issuedDaysAgo: number): Promise<MemberState> {
  const pki = await createTestPki("Ed25519");
  const osCa = { cert: b64(pki.ca.cert), key: b64(pki.ca.key) };
  const client = await issueTalosAdmin(osCa, new Date(Date.now() - issuedDaysAgo * DAY));
  return { vm: "pve/102", node: cp(2), controlPlanes: [cp(1), cp(2), cp(3)], clientConfiguration: { caCertificate: osCa.cert, ...client }, osCa };
}

const certOf = (b64text: string) => new x509.X509Certificate(Buffer.from(b64text, "base64").toString("utf8"));

test("a lapsed client certificate in the membership's state is replaced by one issued now, role os:admin", async () => {
  const lapsed = await membership(400);
  await memberProvider.delete!("id", lapsed);
  const used = (runRemoveNode.mock.calls[0][0] as unknown as MemberState).clientConfiguration;
  expect(used.clientCertificate).not.toBe(lapsed.clientConfiguration.clientCertificate);
  expect(certOf(used.clientCertificate).notAfter.getTime()).toBeGreaterThan(Date.now());
  expect(certOf(used.clientCertificate).subjectName.getField("O")).toEqual(["os:admin"]);
  expect(used.caCertificate).toBe(lapsed.osCa!.cert);
});

test("a valid one is used as stored", async () => {
  const valid = await membership(10);
  await memberProvider.delete!("id", valid);
  expect((runRemoveNode.mock.calls[0][0] as unknown as MemberState).clientConfiguration).toEqual(valid.clientConfiguration);
});
