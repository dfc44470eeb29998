// Connection to the fake apid over real Ed25519 mutual TLS: credentials, routing metadata,
// message size, deadlines and error naming.
import * as grpc from "@grpc/grpc-js";
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { TalosApiError, TalosClient, connectTalos, endpointHost, TALOS_PROTO_DIR, TALOS_PROTO_FILES, getVersion, parseTalosconfig, readFile, relabelEd25519Key, tlsFromClientConfiguration, withDefaultPort } from "../talosapi";
import { routeAvoidingNode } from "../engines";
import { FakeTalos, startFakeTalos } from "./helpers/fakeTalos";
import { clientConfiguration, createTestPki, talosconfigYaml, type TestPki } from "./helpers/talosPki";

let pki: TestPki;
let fake: FakeTalos;
let client: TalosClient;

beforeAll(async () => {
  pki = await createTestPki();
  fake = await startFakeTalos(pki, [
    { name: "cp-1", ip: "192.0.2.11", role: "controlplane", version: "v1.13.9" },
    { name: "w-1", ip: "192.0.2.21", role: "worker", version: "v1.12.11" },
  ]);
  // A call deadline that only bounds a failure: a refused certificate must show as UNAVAILABLE, never as a deadline.
  client = connectTalos({ endpoint: fake.address, tls: tlsFromClientConfiguration(clientConfiguration(pki)), defaultTimeoutMs: 10_000 });
});

afterAll(async () => {
  client.close();
  await fake.stop();
});

describe("credentials", () => {
  test("the ED25519 PRIVATE KEY label is refused by OpenSSL and the relabelled key is accepted", () => {
    expect(pki.admin.key).toContain("BEGIN ED25519 PRIVATE KEY");
    expect(() => createPrivateKey(pki.admin.key)).toThrow();
    const relabelled = relabelEd25519Key(pki.admin.key);
    expect(relabelled).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(createPrivateKey(relabelled).asymmetricKeyType).toBe("ed25519");
  });

  test("without the relabel the client cannot even be built, and the error shows no key material", () => {
    const tls = tlsFromClientConfiguration(clientConfiguration(pki));
    const raw = { ...tls, key: Buffer.from(pki.admin.key) };
    let message = "";
    try {
      connectTalos({ endpoint: fake.address, tls: raw }).close();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Talos client credentials for 127\.0\.0\.1:\d+ could not be loaded: /);
    const keyBody = pki.admin.key.split("\n")[1];
    expect(message).not.toContain(keyBody.slice(0, 16));
  });

  test("client configuration fields are decoded from base64 PEM and the key relabelled", () => {
    const tls = tlsFromClientConfiguration(clientConfiguration(pki));
    expect(tls.ca.toString()).toBe(pki.ca.cert);
    expect(tls.cert.toString()).toBe(pki.admin.cert);
    expect(tls.key.toString()).toContain("BEGIN PRIVATE KEY");
  });

  test("a talosconfig gives endpoints, nodes and the same credentials", () => {
    const context = parseTalosconfig(talosconfigYaml(pki, ["10.0.0.1", "10.0.0.2:50001"], ["10.0.0.3"]));
    expect(context.endpoints).toEqual(["10.0.0.1", "10.0.0.2:50001"]);
    expect(context.nodes).toEqual(["10.0.0.3"]);
    expect(context.tls.key.toString()).toContain("BEGIN PRIVATE KEY");
    expect(() => parseTalosconfig(talosconfigYaml(pki, []), "other")).toThrow('talosconfig has no context "other"');
  });

  test("bad credentials are named by field, never echoed", () => {
    const config = clientConfiguration(pki);
    const secret = Buffer.from(pki.admin.key).toString("base64");
    const bad = { ...config, clientKey: Buffer.from("not a key " + secret.slice(0, 40)).toString("base64") };
    let message = "";
    try {
      tlsFromClientConfiguration(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe("clientKey is not base64 of a PEM document of the expected kind");
    expect(() => tlsFromClientConfiguration({ ...config, caCertificate: "" })).toThrow("caCertificate is empty");
  });

  test("endpoints get port 50000 when they have none", () => {
    expect(withDefaultPort("10.0.0.1")).toBe("10.0.0.1:50000");
    expect(withDefaultPort("10.0.0.1:1234")).toBe("10.0.0.1:1234");
    expect(withDefaultPort("https://cp.example.com/")).toBe("cp.example.com:50000");
    expect(withDefaultPort("fd00::1")).toBe("[fd00::1]:50000");
    expect(withDefaultPort("[fd00::1]")).toBe("[fd00::1]:50000");
    expect(withDefaultPort("[fd00::1]:50001")).toBe("[fd00::1]:50001");
    expect(endpointHost("[fd00::1]:50001")).toBe("fd00::1");
    expect(endpointHost("10.0.0.1")).toBe("10.0.0.1");
  });
});

describe("proto subset", () => {
  const files = [...TALOS_PROTO_FILES, "cosi/v1alpha1/resource.proto"];
  test.each(files)("%s records its source tag and path and says it is a subset", (file) => {
    const head = readFileSync(path.join(TALOS_PROTO_DIR, file), "utf8").split("\n")[0];
    const source = file.startsWith("cosi/")
      ? `// Subset of proto/${file.slice("cosi/".length)} from cosi-project/specification, commit a25fac0 (hand-written, not a copy):`
      : `// Subset of api/${file} from siderolabs/talos, tag v1.13.9 (hand-written, not a copy):`;
    expect(head).toBe(source);
  });
});

describe("routing", () => {
  test("routeAvoidingNode reaches a node through another endpoint when there is one", () => {
    const tls = tlsFromClientConfiguration(clientConfiguration(pki));
    const [a, b] = ["192.0.2.11", "192.0.2.12"].map((endpoint) => connectTalos({ endpoint, tls }));
    try {
      const route = routeAvoidingNode([a, b]);
      expect(route({ name: "cp-1", ip: "192.0.2.11", role: "controlplane" })).toBe(b);
      expect(route({ name: "cp-2", ip: "192.0.2.12", role: "controlplane" })).toBe(a);
      expect(routeAvoidingNode([a])({ name: "cp-1", ip: "192.0.2.11", role: "controlplane" })).toBe(a);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe("calls over mutual TLS", () => {
  test("Version through the endpoint routes with one node header, or none for the endpoint itself", async () => {
    const before = fake.nodeHeaderCounts.length;
    await expect(getVersion(client, "192.0.2.21")).resolves.toBe("v1.12.11");
    await expect(getVersion(client, "127.0.0.1")).resolves.toBe("v1.13.9"); // the endpoint serves itself
    expect(fake.nodeHeaderCounts.slice(before)).toEqual([1, 0]);
    expect(fake.calls.slice(-2)).toEqual([
      { method: "MachineService/Version", node: "w-1" },
      { method: "MachineService/Version", node: "cp-1" },
    ]);
  });

  test("a talosconfig client works the same", async () => {
    const context = parseTalosconfig(talosconfigYaml(pki, [fake.address]));
    const other = connectTalos({ endpoint: context.endpoints[0], tls: context.tls });
    try {
      await expect(getVersion(other, "cp-1")).resolves.toBe("v1.13.9");
    } finally {
      other.close();
    }
  });

  test("replies above grpc-js's 4 MiB default arrive (32 MiB limit)", async () => {
    const big = await readFile(client, "cp-1", "/big");
    expect(big.length).toBe(5 * 1024 * 1024);
  });

  test("a client certificate from another CA is refused by the server", async () => {
    const stranger = await createTestPki();
    const tls = tlsFromClientConfiguration({ ...clientConfiguration(stranger), caCertificate: clientConfiguration(pki).caCertificate });
    const other = connectTalos({ endpoint: fake.address, tls, defaultTimeoutMs: 10_000 });
    try {
      await expect(getVersion(other, "cp-1")).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, node: "cp-1", operation: "version" });
    } finally {
      other.close();
    }
  });

  test("errors name the operation and node, with the gRPC status", async () => {
    const error = await readFile(client, "192.0.2.11", "/missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TalosApiError);
    expect((error as TalosApiError).message).toBe("read /missing on 192.0.2.11: NOT_FOUND: no such file");
    expect((error as TalosApiError).code).toBe(grpc.status.NOT_FOUND);
  });

  test("an unknown node is UNAVAILABLE, like apid failing to dial it", async () => {
    await expect(getVersion(client, "192.0.2.99")).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, node: "192.0.2.99" });
  });

  test("every call has a deadline", async () => {
    const silent = connectTalos({ endpoint: "127.0.0.1:1", tls: tlsFromClientConfiguration(clientConfiguration(pki)), defaultTimeoutMs: 200 });
    try {
      // Without a deadline the call would wait for a server that never answers, and the test would time out.
      await expect(getVersion(silent, "cp-1")).rejects.toBeInstanceOf(TalosApiError);
    } finally {
      silent.close();
    }
  });
});
