import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as pulumi from "@pulumi/pulumi";

/**
 * How the program reaches the Proxmox API. Read from the provider's own keys (`proxmoxve:endpoint`,
 * `proxmoxve:apiToken` as a secret, `proxmoxve:insecure`, or `proxmoxve:username`/`password`),
 * falling back to the provider's `PROXMOX_VE_*` environment variables, which the provider reads itself.
 */
export interface ProxmoxConnection {
  endpoint?: string;
  insecure?: boolean;
  apiToken?: pulumi.Output<string>;
  username?: string;
  password?: pulumi.Output<string>;
}

const API_TOKEN = /^[^@\s]+@[^!\s]+![^=\s]+=\S+$/;

/** Pure: the connection settings and every problem with them. Never echoes a credential. */
export function readProxmoxConnection(
  all: Record<string, string>,
  env: Record<string, string | undefined>,
): { connection: ProxmoxConnection; problems: string[] } {
  const problems: string[] = [];
  const get = (key: string) => all[`proxmoxve:${key}`];
  const endpoint = get("endpoint");
  const apiToken = get("apiToken");
  const username = get("username");
  const password = get("password");
  const insecure = get("insecure");

  if (endpoint === undefined && !env.PROXMOX_VE_ENDPOINT) {
    problems.push(
      "proxmoxve:endpoint: is required: the Proxmox API URL such as https://pve.example.com:8006/ " +
        "(pulumi config set proxmoxve:endpoint ..., or PROXMOX_VE_ENDPOINT)",
    );
  } else if (endpoint !== undefined && !/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(endpoint)) {
    problems.push(
      `proxmoxve:endpoint: must be the API base URL such as https://pve.example.com:8006/ ` +
        `(no /api2/json), got ${JSON.stringify(endpoint)}`,
    );
  }
  const hasToken = apiToken !== undefined || !!env.PROXMOX_VE_API_TOKEN;
  const hasPassword =
    (username !== undefined || !!env.PROXMOX_VE_USERNAME) && (password !== undefined || !!env.PROXMOX_VE_PASSWORD);
  if (!hasToken && !hasPassword) {
    problems.push(
      "proxmoxve:apiToken: is required: an API token user@realm!tokenid=secret, set with " +
        "`pulumi config set --secret proxmoxve:apiToken ...` (or PROXMOX_VE_API_TOKEN, or username and password)",
    );
  } else if (apiToken !== undefined && !API_TOKEN.test(apiToken)) {
    problems.push("proxmoxve:apiToken: must look like user@realm!tokenid=secret (value not shown)");
  }
  if (insecure !== undefined && !/^(true|false)$/i.test(insecure)) {
    problems.push(`proxmoxve:insecure: must be true or false, got ${JSON.stringify(insecure)}`);
  }
  return {
    problems,
    connection: {
      endpoint,
      insecure: insecure === undefined ? undefined : insecure.toLowerCase() === "true",
      apiToken: apiToken === undefined ? undefined : pulumi.secret(apiToken),
      username,
      password: password === undefined ? undefined : pulumi.secret(password),
    },
  };
}

/**
 * An explicit provider, so every Proxmox resource uses the same checked connection and the
 * credential reaches the engine only as a secret. Unset values fall back to `PROXMOX_VE_*`.
 */
export function createProxmoxProvider(connection: ProxmoxConnection): proxmoxve.Provider {
  return new proxmoxve.Provider("proxmoxve", {
    endpoint: connection.endpoint,
    insecure: connection.insecure,
    apiToken: connection.apiToken,
    username: connection.username,
    password: connection.password,
  });
}
