/**
 * gzip for nadir's files, with or without Node: Node's zlib where there is
 * one (several times faster), else fflate (small, synchronous, no
 * dependencies), behind two functions, so the container and the browser
 * entry share one code path.
 *
 * The files nadir writes are **sealed**: a plain gzip member (any gzip reader
 * opens it) whose header carries one extra subfield `NC` (RFC 1952 FEXTRA)
 * holding the CRC-32 of every byte after the header — the deflate stream and
 * the trailer. gzip's own CRC only guards the inflated bytes, and a changed
 * bit of the deflate stream can leave them intact (padding bits, unused code
 * lengths), as can a changed mtime, XFL or OS byte; with the seal, a file
 * whose bytes changed anywhere is refused. The header is fixed (mtime 0,
 * XFL 0, OS 255), so the same input gives the same bytes on every host.
 * Unsealed gzip (files of earlier versions, or gzipped by hand) still loads,
 * checked by gzip's CRC as before.
 */
import { deflateSync as fflateDeflate, gunzipSync as fflateGunzip } from "fflate";
import { crc32 } from "./crc32.ts";
import { optionalBuiltin } from "./host.ts";

/** Node's zlib, where there is one: deflating and inflating natively are several times faster than fflate. */
const zlib = optionalBuiltin("node:zlib");

type Level = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * The sealed header before its CRC: magic, deflate, FLG = FEXTRA, mtime 0,
 * XFL 0, OS 255 (unknown), XLEN 8, subfield 'N' 'C' of length 4.
 */
const SEAL = Uint8Array.of(0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255, 8, 0, 0x4e, 0x43, 4, 0);
/** Header length of a sealed file: SEAL and the 4-byte CRC. */
const SEALED_HEADER = SEAL.length + 4;

/** Does `bytes` start with the gzip magic (1f 8b)? */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function u32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** gzip `bytes` at `level` (1–9, default 6), sealed (see above). */
export function gzip(bytes: Uint8Array, level = 6): Uint8Array {
  const l = Math.min(9, Math.max(1, Math.round(level))) as Level;
  const deflated =
    zlib !== undefined
      ? zlib.deflateRawSync(bytes, { level: l })
      : fflateDeflate(bytes, { level: l });
  const n = SEALED_HEADER + deflated.length + 8;
  const out = new Uint8Array(n);
  out.set(SEAL, 0);
  out.set(deflated, SEALED_HEADER);
  u32(out, n - 8, crc32(bytes));
  u32(out, n - 4, bytes.length);
  u32(out, SEAL.length, crc32(out.subarray(SEALED_HEADER)));
  return out;
}

/** Does the member start with exactly the sealed header (before its CRC)? */
function sealedHeader(bytes: Uint8Array): boolean {
  if (bytes.length < SEALED_HEADER + 8) return false;
  for (let i = 0; i < SEAL.length; i++) if (bytes[i] !== SEAL[i]) return false;
  return true;
}

/**
 * Inflate a gzip stream; a truncated or corrupt stream (bad deflate data,
 * wrong CRC or length in the trailer) throws, and so does a sealed file with
 * any changed byte.
 *
 * `ours`: the bytes are one of nadir's own files (a container). nadir writes
 * FEXTRA only for the seal, so there a member with that flag must be sealed
 * exactly — a flipped header bit cannot pass as some other gzip. Files from
 * elsewhere (word vectors) may carry their own extra fields (bgzip's), so
 * for them only a header that is exactly the seal is checked as one.
 */
export function gunzip(bytes: Uint8Array, ours = false): Uint8Array {
  if (bytes.length < 18) throw new Error("unexpected end of file");
  const sealed = sealedHeader(bytes);
  if (!sealed && ours && (bytes[3]! & 4) !== 0) {
    throw new Error(
      bytes.length < SEALED_HEADER + 8 ? "unexpected end of file" : "incorrect header check",
    );
  }
  if (sealed && crc32(bytes.subarray(SEALED_HEADER)) !== readU32(bytes, SEAL.length))
    throw new Error("incorrect seal check (the file's bytes changed)");
  if (zlib !== undefined) {
    // zlib checks the trailer's CRC and length itself (the same messages as below)
    const b = zlib.gunzipSync(bytes);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const out = fflateGunzip(bytes);
  // fflate reads the size from the trailer but does not check the CRC: do it here.
  const n = bytes.length;
  if (readU32(bytes, n - 4) !== out.length >>> 0) throw new Error("incorrect length check");
  if (crc32(out) !== readU32(bytes, n - 8)) throw new Error("incorrect data check");
  return out;
}
