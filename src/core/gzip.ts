/**
 * gzip without Node: fflate (small, synchronous, no dependencies) behind two
 * functions, so the container and the browser entry share one code path.
 */
import { gunzipSync as fflateGunzip, gzipSync as fflateGzip } from "fflate";
import { crc32 } from "./crc32.ts";
import { optionalBuiltin } from "./host.ts";

/** Node's zlib, where there is one: inflating natively is several times faster than fflate. */
const zlib = optionalBuiltin("node:zlib");

type Level = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/** Does `bytes` start with the gzip magic (1f 8b)? */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gzip `bytes` at `level` (1–9, default 6). */
export function gzip(bytes: Uint8Array, level = 6): Uint8Array {
  const l = Math.min(9, Math.max(1, Math.round(level))) as Level;
  return fflateGzip(bytes, { level: l, mtime: 0 }); // mtime 0: the same bytes every time, as zlib
}

/**
 * Inflate a gzip stream; a truncated or corrupt stream (bad deflate data,
 * wrong CRC or length in the trailer) throws.
 */
export function gunzip(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 18) throw new Error("unexpected end of file");
  if (zlib !== undefined) {
    // zlib checks the trailer's CRC and length itself (the same messages as below)
    const b = zlib.gunzipSync(bytes);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const out = fflateGunzip(bytes);
  // fflate reads the size from the trailer but does not check the CRC: do it here.
  const n = bytes.length;
  const want =
    (bytes[n - 8]! | (bytes[n - 7]! << 8) | (bytes[n - 6]! << 16) | (bytes[n - 5]! << 24)) >>> 0;
  const size =
    (bytes[n - 4]! | (bytes[n - 3]! << 8) | (bytes[n - 2]! << 16) | (bytes[n - 1]! << 24)) >>> 0;
  if (size !== out.length >>> 0) throw new Error("incorrect length check");
  if (crc32(out) !== want) throw new Error("incorrect data check");
  return out;
}
