/**
 * A small Proxmox VE API client over node:https: authentication (API token, or a ticket from
 * username and password), one JSON request, and the errors. Plain async functions, nothing of Pulumi.
 *
 * Facts (read at the tags named):
 * - Every answer is `{ "data": ... }` (pve-http-server 5c9e4ea src/PVE/APIServer/Formatter/Standard.pm:19).
 * - An API token goes in `Authorization: PVEAPIToken=<user>@<realm>!<tokenid>=<secret>`
 *   (pve-http-server AnyEvent.pm:1591-1595, name at :2084, parsed by Formatter.pm:78-87).
 * - A ticket comes from `POST /access/ticket` with username and password (pve-access-control 5ccd07d
 *   src/PVE/API2/AccessControl.pm:196-270; tokens may not create tickets, :205) and goes in the
 *   `PVEAuthCookie` cookie (AnyEvent.pm:2083); a write with a ticket also needs the
 *   `CSRFPreventionToken` header (pve-manager 14a22df PVE/HTTPServer.pm:127-129, not for tokens).
 */
import * as https from "node:https";

/** How to reach the API: what stack/proxmoxConnection.ts reads, with the env fallbacks resolved. */
export interface ProxmoxApiConnection {
  /** API base URL such as `https://pve.example.com:8006/` (no `/api2/json`). */
  endpoint: string;
  /** `user@realm!tokenid=secret`; wins over username and password (as the bpg provider does). */
  apiToken?: string;
  username?: string;
  password?: string;
  /** Skip TLS verification (a self-signed Proxmox certificate). */
  insecure?: boolean;
}

/** A failed API call: method, path, HTTP status and Proxmox's message; never a credential. */
export class ProxmoxApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly detail: string,
  ) {
    super(`Proxmox API ${method} ${path}: ${status === undefined ? "" : `HTTP ${status} `}${detail}`);
    this.name = "ProxmoxApiError";
  }
}

/** An authenticated client: `request` returns the answer's `data`. */
export interface ProxmoxApi {
  request<T>(method: "GET" | "POST", path: string, form?: Record<string, string>): Promise<T>;
}

interface Auth {
  headers: Record<string, string>;
  /** Only with a ticket: writes need it. */
  csrf?: string;
}

/** One HTTPS call to `<endpoint>/api2/json<path>`; resolves with the parsed `data`. */
function call<T>(connection: ProxmoxApiConnection, method: string, path: string, headers: Record<string, string>, form?: Record<string, string>): Promise<T> {
  const url = new URL(`api2/json${path}`, connection.endpoint.endsWith("/") ? connection.endpoint : `${connection.endpoint}/`);
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const allHeaders = body ? { ...headers, "Content-Type": "application/x-www-form-urlencoded", "Content-Length": String(Buffer.byteLength(body)) } : headers;
  return new Promise<T>((resolve, reject) => {
    const request = https.request(url, { method, headers: allHeaders, rejectUnauthorized: connection.insecure !== true, timeout: 30_000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = response.statusCode ?? 0;
        // Proxmox puts its reason in the status line; the body may hold per-parameter errors.
        if (status < 200 || status >= 300) return reject(new ProxmoxApiError(method, path, status, `${response.statusMessage ?? ""} ${text}`.trim()));
        try {
          resolve((JSON.parse(text) as { data: T }).data);
        } catch {
          reject(new ProxmoxApiError(method, path, status, "the answer is not JSON"));
        }
      });
    });
    request.on("timeout", () => request.destroy(new Error("no answer within 30 s")));
    request.on("error", (error) => reject(new ProxmoxApiError(method, path, undefined, error.message)));
    request.end(body);
  });
}

async function authenticate(connection: ProxmoxApiConnection): Promise<Auth> {
  if (connection.apiToken) return { headers: { Authorization: `PVEAPIToken=${connection.apiToken}` } };
  if (!connection.username || !connection.password) {
    throw new ProxmoxApiError("POST", "/access/ticket", undefined, "no credentials: set proxmoxve:apiToken, or proxmoxve:username and proxmoxve:password");
  }
  const ticket = await call<{ ticket?: string; CSRFPreventionToken?: string }>(connection, "POST", "/access/ticket", {}, { username: connection.username, password: connection.password });
  // Without a ticket the server wants a second factor, which a program can't give.
  if (!ticket.ticket) throw new ProxmoxApiError("POST", "/access/ticket", 200, `no ticket for ${connection.username} (two-factor login is not supported; use an API token)`);
  return { headers: { Cookie: `PVEAuthCookie=${encodeURIComponent(ticket.ticket)}` }, csrf: ticket.CSRFPreventionToken };
}

/** A client that logs in on first use (a ticket once, then reused). */
export function connectProxmox(connection: ProxmoxApiConnection): ProxmoxApi {
  let auth: Promise<Auth> | undefined;
  return {
    async request<T>(method: "GET" | "POST", path: string, form?: Record<string, string>): Promise<T> {
      auth ??= authenticate(connection);
      const { headers, csrf } = await auth.catch((error: unknown) => {
        auth = undefined; // the next call tries again
        throw error;
      });
      return call<T>(connection, method, path, method !== "GET" && csrf ? { ...headers, CSRFPreventionToken: csrf } : headers, form);
    },
  };
}
