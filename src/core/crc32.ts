/**
 * CRC-32 (ISO 3309 / ITU-T V.42, the one of gzip and PNG): Node's native
 * zlib.crc32 where there is one (Node ≥ 20.15), else plain TypeScript, so the
 * file formats check their bytes the same way in Node and in a browser.
 * Table-driven, one byte at a time.
 */
import { optionalBuiltin } from "./host.ts";

/** zlib's crc32 (same polynomial and continuation), when the host has it. */
const native = optionalBuiltin("node:zlib")?.crc32;
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, continuing from `crc` (0 to start), as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (native !== undefined && bytes.length >= 256) return native(bytes, crc);
  return crc32Table(bytes, crc);
}

/** The same in TypeScript (the browser's path; also checked against zlib's in the tests). */
export function crc32Table(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
