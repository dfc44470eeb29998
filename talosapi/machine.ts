/** MachineService operations on one node: version, boot id, reboot, reset, services, config, kubeconfig. */
import type { CallOptions, TalosClient } from "./client";
import { TalosApiError } from "./errors";
import type { ApplyConfiguration, ApplyMode, ServiceInfo } from "./messages";
import { readTarGz } from "./tar";

/** Options shared by the single-call operations. */
export interface OpOptions {
  timeoutMs?: number;
}

function only<T>(operation: string, node: string, messages: T[]): T {
  if (messages.length !== 1) throw new TalosApiError(operation, node, `expected one reply, got ${messages.length}`);
  return messages[0];
}

function call(node: string, operation: string, options: OpOptions = {}): CallOptions {
  return { node, operation, timeoutMs: options.timeoutMs };
}

/** The node's Talos version tag (e.g. `v1.13.9`). */
export async function getVersion(client: TalosClient, node: string, options?: OpOptions): Promise<string> {
  const reply = await client.unary("MachineService/Version", {}, call(node, "version", options));
  const tag = only("version", node, reply.messages).version?.tag;
  if (!tag) throw new TalosApiError("version", node, "reply has no version tag");
  return tag;
}

/** Path of the kernel's per-boot random UUID. */
export const BOOT_ID_PATH = "/proc/sys/kernel/random/boot_id";

/** Reads a file from the node (admin role) as one buffer. */
export async function readFile(client: TalosClient, node: string, path: string, options?: OpOptions): Promise<Buffer> {
  const chunks = await client.collect("MachineService/Read", { path }, call(node, `read ${path}`, options));
  return Buffer.concat(chunks.map((chunk) => chunk.bytes));
}

/** The node's boot id, which changes on every boot (Read needs the os:admin role). */
export async function getBootId(client: TalosClient, node: string, options?: OpOptions): Promise<string> {
  const id = (await readFile(client, node, BOOT_ID_PATH, options)).toString("utf8").trim();
  if (!id) throw new TalosApiError("read boot id", node, "empty boot id");
  return id;
}

/** Boot time in Unix seconds (SystemStat; reader role suffices): a boot-id substitute. */
export async function getBootTime(client: TalosClient, node: string, options?: OpOptions): Promise<string> {
  const reply = await client.unary("MachineService/SystemStat", {}, call(node, "system stat", options));
  return only("system stat", node, reply.messages).boot_time;
}

/** Asks the node to reboot (graceful, kexec when possible); returns the actor id. */
export async function reboot(client: TalosClient, node: string, options?: OpOptions & { mode?: "DEFAULT" | "POWERCYCLE" }): Promise<string> {
  const reply = await client.unary("MachineService/Reboot", { mode: options?.mode ?? "DEFAULT" }, call(node, "reboot", options));
  return only("reboot", node, reply.messages).actor_id;
}

/**
 * Graceful reset like the Talos Terraform provider's `on_destroy`: cordon and drain on the node,
 * leave etcd (control planes), wipe STATE and EPHEMERAL, then power off (`reboot: false`).
 * Returns the actor id; the node goes away afterwards (see `waitUntilDown`).
 */
export async function resetGraceful(client: TalosClient, node: string, options?: OpOptions): Promise<string> {
  const reply = await client.unary(
    "MachineService/Reset",
    {
      graceful: true,
      reboot: false,
      system_partitions_to_wipe: [
        { label: "STATE", wipe: true },
        { label: "EPHEMERAL", wipe: true },
      ],
      mode: "ALL",
    },
    call(node, "reset", options),
  );
  return only("reset", node, reply.messages).actor_id;
}

/** The node's Talos services (etcd, kubelet, apid, ...). */
export async function listServices(client: TalosClient, node: string, options?: OpOptions): Promise<ServiceInfo[]> {
  const reply = await client.unary("MachineService/ServiceList", {}, call(node, "service list", options));
  return only("service list", node, reply.messages).services;
}

/** Why a service is not Running and healthy, or undefined when it is. */
export function serviceProblem(services: ServiceInfo[], id: string): string | undefined {
  const service = services.find((s) => s.id === id);
  if (!service) return `service ${id} not found`;
  if (service.state !== "Running") return `service ${id} is ${service.state}`;
  if (!service.health?.healthy) return `service ${id} is not healthy${service.health?.last_message ? `: ${service.health.last_message}` : ""}`;
  return undefined;
}

/**
 * Applies a machine configuration (e.g. a Kubernetes version change with `NO_REBOOT`).
 * The configuration is secret: it is never part of an error.
 */
export async function applyConfiguration(
  client: TalosClient,
  node: string,
  configYaml: string,
  options?: OpOptions & { mode?: ApplyMode; dryRun?: boolean },
): Promise<ApplyConfiguration> {
  const reply = await client.unary(
    "MachineService/ApplyConfiguration",
    { data: Buffer.from(configYaml, "utf8"), mode: options?.mode ?? "NO_REBOOT", dry_run: options?.dryRun ?? false },
    call(node, "apply configuration", options),
  );
  return only("apply configuration", node, reply.messages);
}

/** The admin kubeconfig (control planes only): the stream is a .tar.gz holding one file. */
export async function getKubeconfig(client: TalosClient, node: string, options?: OpOptions): Promise<string> {
  const chunks = await client.collect("MachineService/Kubeconfig", {}, call(node, "kubeconfig", options));
  let files;
  try {
    files = readTarGz(Buffer.concat(chunks.map((chunk) => chunk.bytes)));
  } catch (error) {
    throw new TalosApiError("kubeconfig", node, `archive unreadable: ${(error as Error).message}`);
  }
  if (files.length !== 1) throw new TalosApiError("kubeconfig", node, `expected one file in the archive, got ${files.length}`);
  return files[0].content.toString("utf8");
}
