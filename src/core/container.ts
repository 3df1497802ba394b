import { crc32 } from "./crc32.ts";
import { gunzip, gzip as gzipBytes, isGzip } from "./gzip.ts";

/**
 * The one file container of nadir (models, checkpoints, completion and grid
 * models). Layout, all integers little-endian:
 *
 *   magic (8 ASCII bytes) · u32 version · u32 header bytes H ·
 *   header JSON (H bytes, UTF-8; the caller's fields plus
 *   `sections: [[name, dtype, length], …]`) · zero pad to 8 ·
 *   each section's raw elements, each padded with zeros to 8 ·
 *   u32 CRC-32 of every byte before it.
 *
 * One CRC covers magic, version, header and payload together, so a changed
 * header is refused like a changed weight. The whole may be gzipped (gzip's
 * own CRC then guards the compressed stream; the inner CRC still guards the
 * content). Sections are read into fresh, aligned typed arrays.
 *
 * Pure bytes in, bytes out (gzip by fflate, CRC-32 in TypeScript): the same
 * code reads models in Node and in a browser.
 */

/** Element types a section may hold. */
export type SectionArray = Float64Array | Float32Array | Int32Array | Int8Array | Uint8Array;

const DTYPES = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  i8: Int8Array,
  u8: Uint8Array,
} as const;
type Dtype = keyof typeof DTYPES;

function dtypeOf(a: SectionArray): Dtype {
  if (a instanceof Float64Array) return "f64";
  if (a instanceof Float32Array) return "f32";
  if (a instanceof Int32Array) return "i32";
  if (a instanceof Int8Array) return "i8";
  return "u8";
}

/** A kind of file: its magic (8 characters), current version, and what to call it. */
export interface ContainerFormat {
  magic: string;
  version: number;
}

/** The one CRC-32 (ISO 3309, as in gzip and PNG) the file formats use. */
export { crc32 };

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Latin-1 text of bytes [start, end). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < Math.min(end, bytes.length); i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** UTF-8 text of bytes [start, end) (invalid sequences throw, so a corrupt header is an error). */
export function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  return utf8Decoder.decode(bytes.subarray(start, end));
}

/** The little-endian u32 at `at`. */
export function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

const pad8 = (n: number): number => (8 - (n % 8)) % 8;

/** The bytes of a container file (gzipped when `gzip` is a level 1–9). */
export function encodeContainer(
  fmt: ContainerFormat,
  header: Record<string, unknown>,
  sections: Record<string, SectionArray>,
  gzip?: number,
): Uint8Array {
  if ("sections" in header) throw new Error("container header: 'sections' is reserved");
  const names = Object.keys(sections);
  const table = names.map((n) => [n, dtypeOf(sections[n]!), sections[n]!.length]);
  const h = utf8.encode(JSON.stringify({ ...header, sections: table }));
  let size = 16 + h.length;
  size += pad8(size);
  for (const n of names) {
    const b = sections[n]!.byteLength;
    size += b + pad8(b);
  }
  const buf = new Uint8Array(size + 4);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < 8; i++) buf[i] = fmt.magic.charCodeAt(i) & 0xff;
  view.setUint32(8, fmt.version, true);
  view.setUint32(12, h.length, true);
  buf.set(h, 16);
  let off = 16 + h.length;
  off += pad8(off);
  for (const n of names) {
    const a = sections[n]!;
    buf.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += a.byteLength + pad8(a.byteLength);
  }
  view.setUint32(size, crc32(buf.subarray(0, size)), true);
  return gzip ? gzipBytes(buf, gzip) : buf;
}

/** A decoded container, or (for a version the caller reads itself) the raw bytes. */
export type Decoded =
  | {
      legacy: false;
      version: number;
      header: Record<string, unknown>;
      sections: Record<string, SectionArray>;
    }
  | { legacy: true; version: number; bytes: Uint8Array };

/**
 * Check and decode a container: gunzip if gzipped, then magic, version, CRC
 * (before the header is parsed), header JSON, section table and exact size.
 * `fail` throws the caller's error; versions in `legacy` are handed back raw
 * (after the magic check) for the caller's old reader.
 */
export function decodeContainer(
  bytes: Uint8Array,
  fmt: ContainerFormat,
  fail: (msg: string) => never,
  legacy: readonly number[] = [],
): Decoded {
  let buf = bytes;
  if (isGzip(buf)) {
    try {
      buf = gunzip(buf, true); // our own file: a flagged header must be the seal
    } catch (e) {
      return fail(`${(e as Error).message} (truncated or corrupt file?)`);
    }
  }
  if (buf.length < 16 || latin1(buf, 0, 8) !== fmt.magic)
    return fail(`missing the ${fmt.magic} header`);
  const version = u32(buf, 8);
  if (legacy.includes(version)) return { legacy: true, version, bytes: buf };
  if (version !== fmt.version) {
    const newer = version > fmt.version ? " (written by a newer nadir?)" : "";
    return fail(`expected version ${fmt.version}, got ${version}${newer}`);
  }
  if (buf.length < 20) return fail("truncated file");
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== u32(buf, end))
    return fail("CRC mismatch (the file is truncated, corrupt or was modified)");
  const hlen = u32(buf, 12);
  if (16 + hlen > end) return fail("header runs past the end of the file");
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(utf8Text(buf, 16, 16 + hlen));
  } catch (e) {
    return fail(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof h !== "object" || h === null || Array.isArray(h))
    return fail("header is not a JSON object");
  const table = h.sections;
  const ok =
    Array.isArray(table) &&
    table.every(
      (s) =>
        Array.isArray(s) &&
        s.length === 3 &&
        typeof s[0] === "string" &&
        Object.hasOwn(DTYPES, s[1]) &&
        Number.isSafeInteger(s[2]) &&
        s[2] >= 0,
    );
  if (!ok) return fail("header lacks a valid section table");
  let off = 16 + hlen;
  off += pad8(off);
  const sections: Record<string, SectionArray> = {};
  for (const [name, dtype, n] of table as [string, Dtype, number][]) {
    const C = DTYPES[dtype];
    const bytesLen = n * C.BYTES_PER_ELEMENT;
    if (off + bytesLen > end) return fail(`section ${name} runs past the end of the file`);
    const a = new C(n);
    new Uint8Array(a.buffer).set(buf.subarray(off, off + bytesLen));
    sections[name] = a;
    off += bytesLen + pad8(bytesLen);
  }
  if (off !== end) return fail(`expected ${off + 4} bytes, got ${buf.length}`);
  const { sections: _s, ...header } = h;
  return { legacy: false, version, header, sections };
}
