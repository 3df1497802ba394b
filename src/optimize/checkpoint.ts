import { readFileSync } from "node:fs";
import { crc32 } from "node:zlib";
import { NadirError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/io.ts";

const MAGIC = "NADIRCKP";
const VERSION = 1;

/** What a training checkpoint holds: named Float64 arrays and a JSON-able header. */
export interface Checkpoint {
  header: Record<string, unknown>;
  arrays: Record<string, Float64Array>;
}

/**
 * Write a checkpoint atomically: "NADIRCKP" · u32 version · u32 header bytes ·
 * header JSON (with the names and lengths of the arrays and the CRC-32 of
 * their bytes) · pad to 8 · the arrays, raw little-endian Float64.
 */
export function saveCheckpoint(path: string, ck: Checkpoint): void {
  const names = Object.keys(ck.arrays);
  const lengths = names.map((n) => ck.arrays[n]!.length);
  const total = lengths.reduce((a, b) => a + b, 0) * 8;
  let crc = 0;
  for (const n of names) {
    const a = ck.arrays[n]!;
    crc = crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), crc);
  }
  const header = Buffer.from(JSON.stringify({ ...ck.header, arrays: names, lengths, crc }), "utf8");
  const headLen = 16 + header.length;
  const pad = (8 - (headLen % 8)) % 8;
  const buf = Buffer.alloc(headLen + pad + total);
  buf.write(MAGIC, 0, "latin1");
  buf.writeUInt32LE(VERSION, 8);
  buf.writeUInt32LE(header.length, 12);
  header.copy(buf, 16);
  let off = headLen + pad;
  for (const n of names) {
    const a = ck.arrays[n]!;
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += a.byteLength;
  }
  writeFileAtomic(path, buf);
}

/** Read a checkpoint and check its magic, version, sizes and CRC. */
export function loadCheckpoint(path: string): Checkpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new NadirError("E_MODEL", `cannot read checkpoint: ${(e as Error).message}`, {
      file: path,
    });
  }
  const bad = (msg: string): never => {
    throw new NadirError("E_MODEL", `not a valid nadir checkpoint: ${msg}`, { file: path });
  };
  if (buf.length < 16 || buf.toString("latin1", 0, 8) !== MAGIC)
    return bad("missing the NADIRCKP header");
  const version = buf.readUInt32LE(8);
  if (version !== VERSION) return bad(`expected version ${VERSION}, got ${version}`);
  const hlen = buf.readUInt32LE(12);
  if (16 + hlen > buf.length) return bad("truncated header");
  let h: Record<string, unknown> & { arrays: string[]; lengths: number[]; crc: number };
  try {
    h = JSON.parse(buf.toString("utf8", 16, 16 + hlen));
  } catch (e) {
    return bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (
    !Array.isArray(h.arrays) ||
    !Array.isArray(h.lengths) ||
    h.arrays.length !== h.lengths.length ||
    !h.arrays.every((n) => typeof n === "string") ||
    !h.lengths.every((n) => Number.isInteger(n) && n >= 0) ||
    typeof h.crc !== "number"
  ) {
    return bad("header lacks a consistent list of arrays, lengths and CRC");
  }
  const headLen = 16 + hlen;
  let off = headLen + ((8 - (headLen % 8)) % 8);
  const total = h.lengths.reduce((a, b) => a + b, 0) * 8;
  if (buf.length - off !== total)
    return bad(`expected ${total} bytes of arrays, got ${buf.length - off} (truncated?)`);
  if (crc32(buf.subarray(off)) !== h.crc) return bad("CRC mismatch (corrupt file)");
  const arrays: Record<string, Float64Array> = {};
  h.arrays.forEach((name, i) => {
    const n = h.lengths[i]!;
    const a = new Float64Array(n);
    Buffer.from(a.buffer).set(buf.subarray(off, off + n * 8));
    arrays[name] = a;
    off += n * 8;
  });
  const { arrays: _a, lengths: _l, crc: _c, ...header } = h;
  return { header, arrays };
}
