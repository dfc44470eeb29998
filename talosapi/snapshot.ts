/**
 * etcd snapshots through the Talos API and the integrity rule `talosctl bootstrap --recover-from`
 * applies to them.
 *
 * Format (facts, not code, from the sources named):
 * - `MachineService.EtcdSnapshot(EtcdSnapshotRequest{})` streams `common.Data{bytes=2}` chunks
 *   (siderolabs/talos v1.13.9 api/machine/machine.proto:43,1069; api/common/common.proto:70-73). Control planes
 *   only; the handler copies the local etcd client's `Snapshot` reader into the chunks
 *   (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go:1956-1989).
 * - etcd's maintenance Snapshot sends the bbolt database, then the SHA-256 of those bytes as the
 *   last 32 (etcd-io/etcd v3.6.12 server/etcdserver/api/v3rpc/maintenance.go:153,198-205).
 * - A file carries that hash when its size modulo 512 is 32; restore then compares it with the
 *   SHA-256 of everything before it, and refuses a file without one unless the hash check is
 *   skipped (etcd v3.6.12 etcdutl/snapshot/v3_snapshot.go:94-97,443-498). Talos restores with
 *   that library, `SkipHashCheck` from `bootstrap --recover-skip-hash-check`
 *   (talos v1.13.9 internal/app/machined/pkg/system/services/etcd.go:571-592,
 *   cmd/talosctl/cmd/talos/bootstrap.go:82-83).
 * - `talosctl etcd snapshot <path>` writes the stream as is to `<path>.part` (mode 0600), checks
 *   size % 512 == 32, fsyncs and renames (cmd/talosctl/cmd/talos/etcd.go:346-385). The files this
 *   program writes are the same bytes, so `--recover-from` reads them without skipping the check.
 */
import { createHash, type Hash } from "node:crypto";
import type { TalosClient } from "./client";
import type { OpOptions } from "./machine";

/** Length of the SHA-256 digest etcd appends. */
export const SNAPSHOT_HASH_BYTES = 32;

/**
 * Follows a snapshot's bytes as they stream and, at the end, says whether they are what etcd's
 * restore accepts: size % 512 == 32 and the last 32 bytes the SHA-256 of the rest.
 */
export class SnapshotIntegrity {
  private readonly hash: Hash = createHash("sha256");
  /** The last bytes seen, which may turn out to be the digest. */
  private tail = Buffer.alloc(0);
  private size = 0;

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    const joined = Buffer.concat([this.tail, chunk]);
    const keep = Math.min(SNAPSHOT_HASH_BYTES, joined.length);
    this.hash.update(joined.subarray(0, joined.length - keep));
    this.tail = Buffer.from(joined.subarray(joined.length - keep));
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  /** Undefined when the snapshot is complete and intact, else what is wrong. Call once, at the end. */
  problem(): string | undefined {
    if (this.size % 512 !== SNAPSHOT_HASH_BYTES) return `no etcd integrity hash at the end (size ${this.size} bytes, size % 512 is not 32): the snapshot is incomplete`;
    const digest = this.hash.digest();
    if (!digest.equals(this.tail)) return "the SHA-256 at the end does not match the data: the snapshot is corrupt";
    return undefined;
  }
}

/**
 * Streams `node`'s etcd snapshot (os:admin, os:operator or os:etcd:backup role) into `onChunk`, in
 * order. Resolves when the stream ended OK; the caller checks integrity ({@link SnapshotIntegrity}).
 */
export async function streamEtcdSnapshot(client: TalosClient, node: string, onChunk: (bytes: Buffer) => void, options?: OpOptions): Promise<void> {
  await client.stream("MachineService/EtcdSnapshot", {}, (message) => onChunk(message.bytes), { node, operation: "etcd snapshot", timeoutMs: options?.timeoutMs });
}
