/** Builds tar(.gz) archives the way Go's archive/tar does, for the Kubeconfig stream tests. */
import { gzipSync } from "node:zlib";

function header(name: string, size: number, type: string): Buffer {
  const block = Buffer.alloc(512);
  block.write(name.slice(0, 100), 0, "utf8");
  block.write("0000600\0", 100, "ascii");
  block.write("0000000\0", 108, "ascii");
  block.write("0000000\0", 116, "ascii");
  block.write(size.toString(8).padStart(11, "0") + "\0", 124, "ascii");
  block.write(Math.floor(Date.now() / 1000).toString(8).padStart(11, "0") + "\0", 136, "ascii");
  block.write(type, 156, "ascii");
  block.write("ustar\0" + "00", 257, "ascii");
  block.fill(0x20, 148, 156); // checksum is computed with the field as spaces
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "ascii");
  return block;
}

const pad = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);

export interface TarEntry {
  name: string;
  content: string | Buffer;
  /** Put the name in a PAX `path` record (as Go does for long or non-ASCII names). */
  pax?: boolean;
}

/**
 * A tar archive. `unterminated` leaves out the last entry's padding and the two end blocks, as
 * Talos's Kubeconfig does (it closes the gzip writer but never the tar writer).
 */
export function tar(entries: TarEntry[], options: { unterminated?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, i) => {
    const data = Buffer.from(entry.content);
    if (entry.pax) {
      const record = (len: number) => `${len} path=${entry.name}\n`;
      let length = record(0).length;
      while (record(length).length !== length) length = record(length).length;
      const paxData = Buffer.from(record(length));
      parts.push(header("PaxHeaders/x", paxData.length, "x"), pad(paxData));
    }
    parts.push(header(entry.pax ? "short" : entry.name, data.length, "0"));
    const last = i === entries.length - 1;
    parts.push(last && options.unterminated ? data : pad(data));
  });
  if (!options.unterminated) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** gzip of {@link tar}. */
export function tarGz(entries: TarEntry[], options: { unterminated?: boolean } = {}): Buffer {
  return gzipSync(tar(entries, options));
}
