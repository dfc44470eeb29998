/** Waiting for a node to come back from a reboot, or to go away after a reset. */
import { status as GrpcStatus } from "@grpc/grpc-js";
import type { TalosClient } from "./client";
import { TalosApiError, grpcCode, isUnreachable, messageOf } from "./errors";
import { getBootId, getVersion } from "./machine";
import { pollUntil, type PollOptions } from "./poll";

/** Poll settings plus the deadline of each probe call. */
export interface WaitOptions extends PollOptions {
  /** Deadline of one probe (default 5 s, never more than the time left). */
  callTimeoutMs?: number;
}

/** How the node proved it rebooted. */
export type RebootEvidence = { by: "boot-id"; bootId: string } | { by: "version-after-drop" };

/** The boot id, or undefined when the client lacks the admin role for Read. */
export async function tryGetBootId(client: TalosClient, node: string, options?: { timeoutMs?: number }): Promise<string | undefined> {
  try {
    return await getBootId(client, node, options);
  } catch (error) {
    if (grpcCode(error) === GrpcStatus.PERMISSION_DENIED) return undefined;
    throw error;
  }
}

/**
 * Waits until `node` has rebooted: its boot id differs from `previousBootId`; or, when that is
 * unknown or Read is not allowed, Version answers again after at least one probe found the node
 * not answering (the connection dropped). Other errors keep the poll going too, since a booting
 * node answers with assorted errors; the last one is named on timeout.
 */
export async function waitUntilRebooted(
  client: TalosClient,
  node: string,
  previousBootId: string | undefined,
  options: WaitOptions,
): Promise<RebootEvidence> {
  let useBootId = previousBootId !== undefined;
  let sawDrop = false;
  return pollUntil<RebootEvidence>(
    async (remainingMs) => {
      const timeoutMs = Math.min(options.callTimeoutMs ?? 5_000, remainingMs);
      try {
        if (useBootId) {
          const bootId = await getBootId(client, node, { timeoutMs });
          if (bootId !== previousBootId) return { done: true, value: { by: "boot-id", bootId } };
          return { done: false, reason: "boot id unchanged (not rebooted yet)" };
        }
        await getVersion(client, node, { timeoutMs });
        if (sawDrop) return { done: true, value: { by: "version-after-drop" } };
        return { done: false, reason: "still answering (not rebooted yet)" };
      } catch (error) {
        if (useBootId && grpcCode(error) === GrpcStatus.PERMISSION_DENIED) useBootId = false;
        else if (isUnreachable(error)) sawDrop = true;
        return { done: false, reason: messageOf(error) };
      }
    },
    options,
    (last) => new TalosApiError("wait for reboot", node, `not back after ${options.timeoutMs} ms (last: ${last})`, GrpcStatus.DEADLINE_EXCEEDED),
  );
}

/** Waits until `node` stops answering Version (after a reset that powers it off). */
export async function waitUntilDown(client: TalosClient, node: string, options: WaitOptions): Promise<void> {
  await pollUntil<void>(
    async (remainingMs) => {
      try {
        await getVersion(client, node, { timeoutMs: Math.min(options.callTimeoutMs ?? 5_000, remainingMs) });
        return { done: false, reason: "still answering" };
      } catch (error) {
        const code = grpcCode(error);
        if (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED) return { done: true, value: undefined };
        return { done: false, reason: messageOf(error) };
      }
    },
    options,
    (last) => new TalosApiError("wait until powered off", node, `still up after ${options.timeoutMs} ms (last: ${last})`, GrpcStatus.DEADLINE_EXCEEDED),
  );
}
