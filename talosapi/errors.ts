/** Errors of the Talos API room: each names the node and the operation, never credentials. */
import { status as GrpcStatus } from "@grpc/grpc-js";

/** A failed Talos API call or wait. `code` is the gRPC status when the server answered one. */
export class TalosApiError extends Error {
  constructor(
    readonly operation: string,
    readonly node: string,
    readonly detail: string,
    readonly code?: GrpcStatus,
  ) {
    super(`${operation} on ${node}: ${detail}`);
    this.name = "TalosApiError";
  }
}

/** A rollout or removal step found the cluster in a state it must not continue from. */
export class RolloutError extends Error {
  constructor(
    readonly node: string,
    readonly step: string,
    readonly expected: string,
    readonly seen: string,
    /** What the engine did about it (e.g. uncordoned the node), appended to the message. */
    readonly note?: string,
  ) {
    super(`${step} on ${node}: expected ${expected}, saw ${seen}${note ? `; ${note}` : ""}`);
    this.name = "RolloutError";
  }
}

/** The gRPC status of an error from this room or from grpc-js, if it carries one. */
export function grpcCode(error: unknown): GrpcStatus | undefined {
  if (error instanceof TalosApiError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** True for errors that mean "the node is not answering right now" (down, rebooting, dropped). */
export function isUnreachable(error: unknown): boolean {
  const code = grpcCode(error);
  return code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.CANCELLED;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What went wrong without the operation/node prefix (for errors that already name them). */
export function detailOf(error: unknown): string {
  return error instanceof TalosApiError ? error.detail : messageOf(error);
}

/** Runs `work` and re-labels a TalosApiError about `address` as `label (address)`. */
export async function labelNode<T>(label: string, address: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof TalosApiError && error.node === address && label !== address) {
      throw new TalosApiError(error.operation, `${label} (${address})`, error.detail, error.code);
    }
    throw error;
  }
}
