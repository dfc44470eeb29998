import * as pulumi from "@pulumi/pulumi";
import { readProxmoxConnection } from "../stack/proxmoxConnection";
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
