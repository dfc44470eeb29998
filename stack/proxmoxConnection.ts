// Types from the package; classes from their own modules: the package's index loads every
// resource module (about 40) and the program uses three (docs/performance.md).
import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { Provider as ProxmoxProvider } from "@muhlba91/pulumi-proxmoxve/provider";
import * as pulumi from "@pulumi/pulumi";
import type { ProxmoxConnectionArgs } from "../resources/talosReboots";

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
  return new ProxmoxProvider("proxmoxve", {
    endpoint: connection.endpoint,
    insecure: connection.insecure,
    apiToken: connection.apiToken,
    username: connection.username,
    password: connection.password,
  });
}

/**
 * The connection for the Proxmox API calls the program makes itself (hardware reboots): each value
 * from config, else the `PROXMOX_VE_*` variable the provider would read (bpg `docs/index.md`);
 * credentials stay secrets. Undefined without an endpoint. Pure.
 */
export function proxmoxApiConnection(connection: ProxmoxConnection, env: Record<string, string | undefined>): ProxmoxConnectionArgs | undefined {
  const endpoint = connection.endpoint ?? env.PROXMOX_VE_ENDPOINT;
  if (!endpoint) return undefined;
  const secretEnv = (value: string | undefined) => (value ? pulumi.secret(value) : undefined);
  const insecureEnv = env.PROXMOX_VE_INSECURE;
  return {
    endpoint,
    apiToken: connection.apiToken ?? secretEnv(env.PROXMOX_VE_API_TOKEN),
    username: connection.username ?? env.PROXMOX_VE_USERNAME,
    password: connection.password ?? secretEnv(env.PROXMOX_VE_PASSWORD),
    // Go's strconv.ParseBool spellings of true.
    insecure: connection.insecure ?? (insecureEnv === undefined ? undefined : /^(1|t|true)$/i.test(insecureEnv)),
  };
}

/**
 * The `proxmoxve` default provider's connection (its `proxmoxve:*` keys, else `PROXMOX_VE_*`), for
 * TalosProxmoxCluster's `proxmox` Arg in a program that uses the default provider. Undefined
 * without an endpoint.
 */
export function proxmoxConnectionFromConfig(env: Record<string, string | undefined> = process.env): ProxmoxConnectionArgs | undefined {
  return proxmoxApiConnection(readProxmoxConnection(pulumi.runtime.allConfig(), env).connection, env);
}

/**
 * Raw PCI device IDs (`nodes[i].pci[j].id`) need the provider logged in as root@pam with a
 * password: Proxmox lets only `root@pam` set non-mapped devices (qemu-server `check_hostpci_perm`,
 * "only root can set ... for non-mapped devices"), and a token is never that user, not even
 * root's. The provider uses an API token whenever one is set (bpg v0.111.1
 * proxmox/api/credentials.go:52-60). Pure; reads the raw `nodes` as given.
 */
export function pciIdCredentialProblems(
  rawNodes: unknown,
  all: Record<string, string>,
  env: Record<string, string | undefined>,
): string[] {
  const token = all["proxmoxve:apiToken"] ?? env.PROXMOX_VE_API_TOKEN;
  const username = all["proxmoxve:username"] ?? env.PROXMOX_VE_USERNAME;
  if (!token && username === "root@pam") return [];
  const login = token ? "an API token" : `user ${username ?? "(none)"}`;
  const nodes = Array.isArray(rawNodes) ? rawNodes : [];
  return nodes.flatMap((node, i) => {
    const pci = (node as { pci?: unknown })?.pci;
    if (!Array.isArray(pci)) return [];
    return pci.flatMap((device, j) =>
      (device as { id?: unknown })?.id === undefined
        ? []
        : [
            `nodes[${i}].pci[${j}].id: a raw PCI device needs the Proxmox login root@pam with a password ` +
              `(proxmoxve:username root@pam and proxmoxve:password, no apiToken), but the provider logs in with ${login}; ` +
              `or use a resource mapping (mapping: <name>, Datacenter → Resource Mappings) with a token that has Mapping.Use`,
          ],
    );
  });
}
