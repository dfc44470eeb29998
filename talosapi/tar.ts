/**
 * A minimal tar reader for the Kubeconfig stream: gzip'd ustar written by Go's archive/tar. Talos
 * closes the gzip but not the tar writer, so the trailing padding and end blocks may be missing.
 */
import { gunzipSync } from "node:zlib";

/** One regular file from an archive. */
export interface TarFile {
  name: string;
  content: Buffer;
}

const BLOCK = 512;

function text(header: Buffer, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

function octal(header: Buffer, start: number, length: number): number {
  const value = text(header, start, length).trim();
  if (!/^[0-7]*$/.test(value)) throw new Error("tar header has a size that is not octal");
  return value === "" ? 0 : parseInt(value, 8);
}

/** PAX records (`"<len> key=value\n"`), for the `path` override. */
function paxPath(data: Buffer): string | undefined {
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    const length = parseInt(data.subarray(offset, space).toString("ascii"), 10);
    if (space === -1 || !(length > 0)) break;
    const record = data.subarray(space + 1, offset + length - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (record.slice(0, eq) === "path") return record.slice(eq + 1);
    offset += length;
  }
  return undefined;
}

/** The regular files of an uncompressed tar archive, in order. */
export function readTar(archive: Buffer): TarFile[] {
  const files: TarFile[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break; // end-of-archive block
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length) throw new Error("tar archive is truncated");
    const data = archive.subarray(dataStart, dataStart + size);
    const prefix = text(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    if (type === "0" || type === "\0" || type === "7") files.push({ name, content: Buffer.from(data) });
    else if (type === "x") longName = paxPath(data);
    else if (type === "L") longName = text(data, 0, data.length);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK; // skip padding (may run past the end)
  }
  return files;
}

/** The regular files of a gzip-compressed tar archive. */
export function readTarGz(archive: Buffer): TarFile[] {
  return readTar(gunzipSync(archive));
}
