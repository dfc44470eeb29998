/** Image pull and OS upgrade: Talos 1.13 ImageService/LifecycleService, with the legacy API for older nodes. */
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { TalosClient } from "./client";
import { TalosApiError, grpcCode } from "./errors";
import type { ContainerdInstance, ContainerdNamespace } from "./messages";
import type { OpOptions } from "./machine";
import { hasLifecycleApi } from "./versions";

/** talosctl's default store for the installer (`--namespace system`). */
export const SYSTEM_CONTAINERD: ContainerdInstance = { driver: "CRI", namespace: "NS_SYSTEM" };

/** Default deadlines for the long calls. */
export const PULL_TIMEOUT_MS = 10 * 60_000;
export const UPGRADE_TIMEOUT_MS = 15 * 60_000;

/** Which API pulled or upgraded. */
export type TalosApiGeneration = "lifecycle" | "legacy";

/**
 * Pulls an image into the node's system containerd store (or, with `namespace: "NS_CRI"`, the
 * store Kubernetes pods run from): ImageService.Pull (1.13), falling back to the deprecated
 * MachineService.ImagePull when the node answers UNIMPLEMENTED (1.12).
 */
export async function pullImage(client: TalosClient, node: string, image: string, options?: OpOptions & { namespace?: ContainerdNamespace }): Promise<TalosApiGeneration> {
  const timeoutMs = options?.timeoutMs ?? PULL_TIMEOUT_MS;
  const namespace = options?.namespace ?? "NS_SYSTEM";
  let pulledName: string | undefined;
  try {
    await client.stream(
      "ImageService/Pull",
      { containerd: { ...SYSTEM_CONTAINERD, namespace }, image_ref: image },
      (message) => {
        if (message.response === "name") pulledName = message.name;
      },
      { node, operation: `pull ${image}`, timeoutMs },
    );
  } catch (error) {
    if (grpcCode(error) !== GrpcStatus.UNIMPLEMENTED) throw error;
    await client.unary("MachineService/ImagePull", { namespace, reference: image }, { node, operation: `pull ${image} (legacy)`, timeoutMs });
    return "legacy";
  }
  if (pulledName === undefined) throw new TalosApiError(`pull ${image}`, node, "stream ended without the pulled image name");
  return "lifecycle";
}

/**
 * Installs the new image with LifecycleService.Upgrade (1.13+). The node keeps running the old
 * version until it reboots; this call neither drains nor reboots. Pull the image first.
 * Succeeds only when the stream's last progress is `exit_code` 0.
 */
export async function upgradeWithLifecycle(client: TalosClient, node: string, image: string, options?: OpOptions): Promise<void> {
  const operation = `upgrade to ${image}`;
  let exitCode: number | undefined;
  let lastMessage = "";
  await client.stream(
    "LifecycleService/Upgrade",
    { containerd: SYSTEM_CONTAINERD, source: { image_name: image } },
    (reply) => {
      const progress = reply.progress;
      // Test the oneof discriminator: exit_code 0 is falsy.
      if (progress?.response === "exit_code") exitCode = progress.exit_code;
      else if (progress?.response === "message") lastMessage = progress.message;
    },
    { node, operation, timeoutMs: options?.timeoutMs ?? UPGRADE_TIMEOUT_MS },
  );
  if (exitCode === undefined) throw new TalosApiError(operation, node, "installer stream ended without an exit code");
  if (exitCode !== 0) throw new TalosApiError(operation, node, `installer exited with ${exitCode}${lastMessage ? ` (last output: ${lastMessage})` : ""}`);
}

/**
 * The deprecated MachineService.Upgrade for nodes before 1.13: the node pulls, checks etcd
 * quorum (control planes), drains, installs and reboots by itself. Returns the actor id.
 */
export async function upgradeLegacy(client: TalosClient, node: string, image: string, options?: OpOptions): Promise<string> {
  const reply = await client.unary("MachineService/Upgrade", { image }, { node, operation: `legacy upgrade to ${image}`, timeoutMs: options?.timeoutMs ?? UPGRADE_TIMEOUT_MS });
  return reply.messages[0]?.actor_id ?? "";
}

/**
 * Upgrades with the API the node's current version serves. `"lifecycle"`: installed, the caller
 * drains and reboots; `"legacy"`: the node drains and reboots by itself.
 */
export async function upgradeNode(
  client: TalosClient,
  node: string,
  image: string,
  currentVersion: string,
  options?: OpOptions,
): Promise<TalosApiGeneration> {
  if (hasLifecycleApi(currentVersion)) {
    await upgradeWithLifecycle(client, node, image, options);
    return "lifecycle";
  }
  await upgradeLegacy(client, node, image, options);
  return "legacy";
}
