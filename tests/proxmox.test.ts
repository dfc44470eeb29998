import * as pulumi from "@pulumi/pulumi";
import { proxmoxApiConnection, readProxmoxConnection } from "../stack/proxmoxConnection";
import { valueOf } from "../testkit/mocks";

const TOKEN = "pulumi@pve!talos=11111111-2222-3333-4444-555555555555";

describe("readProxmoxConnection", () => {
  test("reads the provider's own keys; the token becomes a secret", async () => {
    const { connection, problems } = readProxmoxConnection(
      { "proxmoxve:endpoint": "https://pve:8006/", "proxmoxve:apiToken": TOKEN, "proxmoxve:insecure": "true" },
      {},
    );
    expect(problems).toEqual([]);
    expect(connection).toMatchObject({ endpoint: "https://pve:8006/", insecure: true });
    expect(await pulumi.isSecret(connection.apiToken!)).toBe(true);
    expect(await valueOf(connection.apiToken!)).toBe(TOKEN);
  });

  test("PROXMOX_VE_* environment variables stand in for config", () => {
    const { connection, problems } = readProxmoxConnection(
      {},
      { PROXMOX_VE_ENDPOINT: "https://pve:8006/", PROXMOX_VE_API_TOKEN: TOKEN },
    );
    expect(problems).toEqual([]);
    expect(connection.endpoint).toBeUndefined(); // the provider reads the variables itself
  });

  test("username and password are an alternative to a token", () => {
    const all = { "proxmoxve:endpoint": "https://pve:8006/", "proxmoxve:username": "root@pam", "proxmoxve:password": "pw" };
    expect(readProxmoxConnection(all, {}).problems).toEqual([]);
  });

  test("missing endpoint and credentials say how to set them", () => {
    expect(readProxmoxConnection({}, {}).problems).toEqual([
      expect.stringMatching(/^proxmoxve:endpoint: is required: .*PROXMOX_VE_ENDPOINT/),
      expect.stringMatching(/^proxmoxve:apiToken: is required: .*pulumi config set --secret proxmoxve:apiToken/),
    ]);
  });

  test("a malformed token is refused without echoing it", () => {
    const { problems } = readProxmoxConnection(
      { "proxmoxve:endpoint": "https://pve:8006/", "proxmoxve:apiToken": "s3cr3t-value" },
      {},
    );
    expect(problems).toEqual(["proxmoxve:apiToken: must look like user@realm!tokenid=secret (value not shown)"]);
    expect(problems.join()).not.toContain("s3cr3t-value");
  });

  test("an endpoint with the API path or a typo'd insecure flag is refused", () => {
    const { problems } = readProxmoxConnection(
      { "proxmoxve:endpoint": "https://pve:8006/api2/json", "proxmoxve:apiToken": TOKEN, "proxmoxve:insecure": "yes" },
      {},
    );
    expect(problems).toEqual([
      expect.stringMatching(/^proxmoxve:endpoint: must be the API base URL .*\(no \/api2\/json\)/),
      'proxmoxve:insecure: must be true or false, got "yes"',
    ]);
  });
});

describe("proxmoxApiConnection (what the hardware reboots call the Proxmox API with)", () => {
  test("config values win; each missing one falls back to PROXMOX_VE_*, credentials as secrets", async () => {
    const { connection } = readProxmoxConnection({ "proxmoxve:endpoint": "https://pve:8006/" }, {});
    const api = proxmoxApiConnection(connection, { PROXMOX_VE_ENDPOINT: "https://other:8006/", PROXMOX_VE_API_TOKEN: TOKEN, PROXMOX_VE_INSECURE: "1" })!;
    expect(api).toMatchObject({ endpoint: "https://pve:8006/", insecure: true });
    expect(await pulumi.isSecret(pulumi.output(api.apiToken))).toBe(true);
    expect(await valueOf(pulumi.output(api.apiToken))).toBe(TOKEN);
  });

  test("only variables: the endpoint and password come from them; no endpoint at all gives no connection", async () => {
    const env = { PROXMOX_VE_ENDPOINT: "https://pve:8006/", PROXMOX_VE_USERNAME: "root@pam", PROXMOX_VE_PASSWORD: "pw" };
    const api = proxmoxApiConnection(readProxmoxConnection({}, env).connection, env)!;
    expect(api).toMatchObject({ endpoint: "https://pve:8006/", username: "root@pam", apiToken: undefined, insecure: undefined });
    expect(await pulumi.isSecret(pulumi.output(api.password))).toBe(true);
    expect(proxmoxApiConnection({}, {})).toBeUndefined();
  });
});
