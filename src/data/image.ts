/**
 * Images: Netpbm grayscale (PGM, `P2` ASCII and `P5` binary, maxval 1 … 65535)
 * and bitmaps (PBM, `P1` ASCII and `P4` binary), read and written; and 8-bit
 * grayscale PNG written (and read back, for checks and figures).
 *
 * - A {@link GrayImage} holds `width × height` samples in row-major order,
 *   each in 0 … maxval (0 = black).
 * - A {@link BitImage} holds one byte per pixel, 1 = black, 0 = white — the
 *   PBM convention. A segmentation mask is a BitImage with 1 = foreground.
 *
 * Reading is strict at the boundary: a bad magic number, a missing or
 * non-numeric header field, a size or maxval out of range, a sample above
 * maxval or data cut short raise NadirError("E_PARSE") naming the file and
 * the header line (or, in binary pixel data, the byte offset). Bytes after the
 * pixel data of a binary file are ignored (Netpbm allows several images per
 * file; the first is read); trailing text after ASCII data must be
 * whitespace or comments. Writing goes through `writeFileAtomic`.
 */
import { readFileSync } from "node:fs";
import { deflateSync, inflateSync } from "node:zlib";
import { crc32 } from "../core/crc32.ts";
import { NadirError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/io.ts";

/** A grayscale image: samples 0 … maxval, row-major, 0 = black. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly maxval: number;
  readonly data: Uint16Array;
}

/** A bitmap: one byte per pixel, 1 = black (foreground of a mask), 0 = white. */
export interface BitImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** What a Netpbm file held. */
export type Pnm = { kind: "pgm"; image: GrayImage } | { kind: "pbm"; image: BitImage };

/** Largest number of pixels accepted (2^28). */
export const MAX_PIXELS = 1 << 28;

function checkSize(width: number, height: number, who: string): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new NadirError(
      "E_ARG",
      `${who}: expected a width and height ≥ 1, got ${width}×${height}`,
    );
  }
  if (width * height > MAX_PIXELS) {
    throw new NadirError(
      "E_TOO_LARGE",
      `${who}: expected at most ${MAX_PIXELS} pixels, got ${width}×${height}`,
    );
  }
}

/** A grayscale image, checked (sizes, maxval 1 … 65535, samples ≤ maxval). `data` is not copied. */
export function grayImage(
  width: number,
  height: number,
  maxval: number,
  data?: Uint16Array,
): GrayImage {
  checkSize(width, height, "grayImage");
  if (!Number.isInteger(maxval) || maxval < 1 || maxval > 65535) {
    throw new NadirError("E_ARG", `grayImage: expected maxval in 1 … 65535, got ${maxval}`);
  }
  const n = width * height;
  data ??= new Uint16Array(n);
  if (data.length !== n) {
    throw new NadirError("E_ARG", `grayImage: expected ${n} samples, got ${data.length}`);
  }
  for (let i = 0; i < n; i++) {
    if (data[i]! > maxval) {
      throw new NadirError(
        "E_ARG",
        `grayImage: sample ${i} expected ≤ maxval ${maxval}, got ${data[i]}`,
      );
    }
  }
  return { width, height, maxval, data };
}

/** A bitmap, checked (sizes, entries 0 or 1). `data` is not copied. */
export function bitImage(width: number, height: number, data?: Uint8Array): BitImage {
  checkSize(width, height, "bitImage");
  const n = width * height;
  data ??= new Uint8Array(n);
  if (data.length !== n) {
    throw new NadirError("E_ARG", `bitImage: expected ${n} pixels, got ${data.length}`);
  }
  for (let i = 0; i < n; i++) {
    if (data[i]! > 1)
      throw new NadirError("E_ARG", `bitImage: pixel ${i} expected 0 or 1, got ${data[i]}`);
  }
  return { width, height, data };
}

// ---------------------------------------------------------------------------
// Netpbm parsing

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;

/** A cursor over the bytes of a Netpbm file that knows its line number. */
class Cursor {
  pos = 0;
  line = 1;
  readonly buf: Uint8Array;
  readonly file: string;

  constructor(buf: Uint8Array, file: string) {
    this.buf = buf;
    this.file = file;
  }

  fail(msg: string, where: "line" | "offset" = "line"): never {
    if (where === "offset")
      throw new NadirError("E_PARSE", `byte offset ${this.pos}: ${msg}`, { file: this.file });
    throw new NadirError("E_PARSE", msg, { file: this.file, line: this.line });
  }

  /** Fail at the end of the file, naming the line of the last data (not the blank lines after it). */
  failEof(msg: string): never {
    const b = this.buf;
    let end = b.length;
    while (end > 0 && isSpace(b[end - 1]!)) end--;
    let line = 1;
    for (let i = 0; i < end; i++) if (b[i] === 10) line++;
    throw new NadirError("E_PARSE", msg, { file: this.file, line });
  }

  /** Skip whitespace and `#` comments (to the end of their line). */
  skip(): void {
    const b = this.buf;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (c === 35) {
        while (this.pos < b.length && b[this.pos] !== 10 && b[this.pos] !== 13) this.pos++;
      } else if (isSpace(c)) {
        if (c === 10) this.line++;
        this.pos++;
      } else break;
    }
  }

  /** The next header integer (after whitespace and comments). */
  int(what: string, max: number): number {
    this.skip();
    const b = this.buf;
    if (this.pos >= b.length) this.failEof(`expected ${what}, got the end of the file`);
    const start = this.pos;
    let v = 0;
    while (this.pos < b.length && b[this.pos]! >= 48 && b[this.pos]! <= 57) {
      v = v * 10 + (b[this.pos]! - 48);
      this.pos++;
      if (v > max) {
        while (this.pos < b.length && b[this.pos]! >= 48 && b[this.pos]! <= 57) this.pos++;
        const text = Buffer.from(b.subarray(start, this.pos)).toString("latin1");
        this.fail(`expected ${what} ≤ ${max}, got ${text}`);
      }
    }
    if (
      this.pos === start ||
      (this.pos < b.length && !isSpace(b[this.pos]!) && b[this.pos] !== 35)
    ) {
      let end = this.pos;
      while (end < b.length && !isSpace(b[end]!) && end - start < 20) end++;
      const text = Buffer.from(b.subarray(start, Math.max(end, start + 1))).toString("latin1");
      this.fail(`expected ${what} (a decimal integer), got ${JSON.stringify(text)}`);
    }
    return v;
  }

  /** The single whitespace byte that ends a binary header. */
  endHeader(): void {
    const b = this.buf;
    if (this.pos >= b.length)
      this.fail("expected one whitespace byte before the pixel data, got the end of the file");
    if (!isSpace(b[this.pos]!)) this.fail("expected one whitespace byte before the pixel data");
    if (b[this.pos] === 10) this.line++;
    this.pos++;
  }
}

function header(c: Cursor, bitmap: boolean): { width: number; height: number; maxval: number } {
  const width = c.int("the width", MAX_PIXELS);
  const height = c.int("the height", MAX_PIXELS);
  if (width < 1 || height < 1) c.fail(`expected a width and height ≥ 1, got ${width}×${height}`);
  if (width * height > MAX_PIXELS) {
    throw new NadirError(
      "E_TOO_LARGE",
      `expected at most ${MAX_PIXELS} pixels, got ${width}×${height}`,
      { file: c.file, line: c.line },
    );
  }
  if (bitmap) return { width, height, maxval: 1 };
  const maxval = c.int("maxval", 65535);
  if (maxval < 1) c.fail(`expected maxval in 1 … 65535, got ${maxval}`);
  return { width, height, maxval };
}

function parseP2(c: Cursor, width: number, height: number, maxval: number): GrayImage {
  const n = width * height;
  const data = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    c.skip();
    if (c.pos >= c.buf.length) {
      c.failEof(
        `expected ${n} samples, got ${i} (truncated data: row ${Math.floor(i / width) + 1} of ${height})`,
      );
    }
    const v = c.int(`sample ${i + 1}`, 65535);
    if (v > maxval) c.fail(`sample ${i + 1} expected ≤ maxval ${maxval}, got ${v}`);
    data[i] = v;
  }
  trailingText(c);
  return { width, height, maxval, data };
}

function parseP1(c: Cursor, width: number, height: number): BitImage {
  const n = width * height;
  const data = new Uint8Array(n);
  const b = c.buf;
  for (let i = 0; i < n; i++) {
    c.skip();
    if (c.pos >= b.length) {
      c.failEof(
        `expected ${n} pixels, got ${i} (truncated data: row ${Math.floor(i / width) + 1} of ${height})`,
      );
    }
    const ch = b[c.pos]!;
    // Digits need no separator in P1 ("0101" is four pixels).
    if (ch !== 48 && ch !== 49) {
      c.fail(`pixel ${i + 1} expected 0 or 1, got ${JSON.stringify(String.fromCharCode(ch))}`);
    }
    data[i] = ch - 48;
    c.pos++;
  }
  trailingText(c);
  return { width, height, data };
}

function trailingText(c: Cursor): void {
  c.skip();
  if (c.pos < c.buf.length)
    c.fail("expected the end of the file after the pixel data, got more data");
}

function parseP5(c: Cursor, width: number, height: number, maxval: number): GrayImage {
  const n = width * height;
  const bytes = maxval > 255 ? 2 : 1;
  const need = n * bytes;
  const b = c.buf;
  const have = b.length - c.pos;
  if (have < need) {
    c.fail(
      `expected ${need} bytes of pixel data (${width}×${height}, ${bytes} byte${bytes > 1 ? "s" : ""} each), got ${have} (truncated file)`,
      "offset",
    );
  }
  const data = new Uint16Array(n);
  const start = c.pos;
  for (let i = 0; i < n; i++) {
    const v = bytes === 1 ? b[start + i]! : (b[start + 2 * i]! << 8) | b[start + 2 * i + 1]!;
    if (v > maxval) {
      c.pos = start + i * bytes;
      c.fail(`sample ${i + 1} expected ≤ maxval ${maxval}, got ${v}`, "offset");
    }
    data[i] = v;
  }
  return { width, height, maxval, data };
}

function parseP4(c: Cursor, width: number, height: number): BitImage {
  const rowBytes = (width + 7) >> 3;
  const need = rowBytes * height;
  const b = c.buf;
  const have = b.length - c.pos;
  if (have < need) {
    c.fail(
      `expected ${need} bytes of pixel data (${height} rows of ${rowBytes} bytes), got ${have} (truncated file)`,
      "offset",
    );
  }
  const data = new Uint8Array(width * height);
  const start = c.pos;
  for (let y = 0; y < height; y++) {
    const row = start + y * rowBytes;
    const o = y * width;
    for (let x = 0; x < width; x++) data[o + x] = (b[row + (x >> 3)]! >> (7 - (x & 7))) & 1;
  }
  return { width, height, data };
}

/** Parse a PGM or PBM file's bytes; `file` names it in errors. */
export function parsePnm(buf: Uint8Array, file: string): Pnm {
  const c = new Cursor(buf, file);
  if (buf.length < 2 || buf[0] !== 80 /* P */) {
    c.fail("expected a Netpbm magic number (P1, P2, P4 or P5)");
  }
  const m = buf[1]!;
  c.pos = 2;
  if (m === 51 || m === 54)
    c.fail(`P${m - 48} (PPM color) is not supported; expected P1, P2, P4 or P5`);
  if (m !== 49 && m !== 50 && m !== 52 && m !== 53)
    c.fail(
      `expected a Netpbm magic number (P1, P2, P4 or P5), got ${JSON.stringify(Buffer.from(buf.subarray(0, 2)).toString("latin1"))}`,
    );
  if (buf.length > 2 && !isSpace(buf[2]!) && buf[2] !== 35)
    c.fail("expected whitespace after the magic number");
  const bitmap = m === 49 || m === 52;
  const { width, height, maxval } = header(c, bitmap);
  switch (m) {
    case 49:
      return { kind: "pbm", image: parseP1(c, width, height) };
    case 50:
      return { kind: "pgm", image: parseP2(c, width, height, maxval) };
    case 52:
      c.endHeader();
      return { kind: "pbm", image: parseP4(c, width, height) };
    default:
      c.endHeader();
      return { kind: "pgm", image: parseP5(c, width, height, maxval) };
  }
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file or directory" : err.message;
    throw new NadirError("E_IO", `cannot read image: ${why}`, { file: path });
  }
}

/** Read a PGM or PBM file. */
export function readPnm(path: string): Pnm {
  return parsePnm(readBytes(path), path);
}

/** Read a PGM file (P2/P5). */
export function readPgm(path: string): GrayImage {
  const p = readPnm(path);
  if (p.kind !== "pgm")
    throw new NadirError("E_PARSE", "expected a PGM image (P2 or P5), got a PBM bitmap", {
      file: path,
    });
  return p.image;
}

/** Read a PBM file (P1/P4). */
export function readPbm(path: string): BitImage {
  const p = readPnm(path);
  if (p.kind !== "pbm")
    throw new NadirError("E_PARSE", "expected a PBM bitmap (P1 or P4), got a PGM image", {
      file: path,
    });
  return p.image;
}

// ---------------------------------------------------------------------------
// Netpbm writing

/** PGM bytes: binary P5 (default; 2 bytes per sample, big-endian, when maxval > 255) or ASCII P2. */
export function encodePgm(img: GrayImage, options: { ascii?: boolean } = {}): Buffer {
  const { width, height, maxval, data } = img;
  const n = width * height;
  if (options.ascii) {
    const lines = [`P2\n${width} ${height}\n${maxval}\n`];
    for (let y = 0; y < height; y++) {
      lines.push(`${Array.from(data.subarray(y * width, (y + 1) * width)).join(" ")}\n`);
    }
    return Buffer.from(lines.join(""), "latin1");
  }
  const head = Buffer.from(`P5\n${width} ${height}\n${maxval}\n`, "latin1");
  const bytes = maxval > 255 ? 2 : 1;
  const out = Buffer.alloc(head.length + n * bytes);
  head.copy(out, 0);
  let o = head.length;
  if (bytes === 1) for (let i = 0; i < n; i++) out[o++] = data[i]!;
  else {
    for (let i = 0; i < n; i++) {
      out[o++] = data[i]! >> 8;
      out[o++] = data[i]! & 255;
    }
  }
  return out;
}

/** PBM bytes: binary P4 (default; rows padded to whole bytes, MSB first) or ASCII P1. */
export function encodePbm(img: BitImage, options: { ascii?: boolean } = {}): Buffer {
  const { width, height, data } = img;
  if (options.ascii) {
    const lines = [`P1\n${width} ${height}\n`];
    for (let y = 0; y < height; y++) {
      lines.push(`${Array.from(data.subarray(y * width, (y + 1) * width)).join(" ")}\n`);
    }
    return Buffer.from(lines.join(""), "latin1");
  }
  const head = Buffer.from(`P4\n${width} ${height}\n`, "latin1");
  const rowBytes = (width + 7) >> 3;
  const out = Buffer.alloc(head.length + rowBytes * height);
  head.copy(out, 0);
  for (let y = 0; y < height; y++) {
    const row = head.length + y * rowBytes;
    const o = y * width;
    for (let x = 0; x < width; x++) if (data[o + x]) out[row + (x >> 3)]! |= 0x80 >> (x & 7);
  }
  return out;
}

export function writePgm(path: string, img: GrayImage, options: { ascii?: boolean } = {}): void {
  writeFileAtomic(path, encodePgm(img, options));
}

export function writePbm(path: string, img: BitImage, options: { ascii?: boolean } = {}): void {
  writeFileAtomic(path, encodePbm(img, options));
}

// ---------------------------------------------------------------------------
// PNG (8-bit grayscale)

/** CRC-32 (ISO 3309, as in PNG chunks and gzip): the one of src/core/crc32.ts. */
export { crc32 };

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function chunk(type: string, body: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, "latin1");
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** 8-bit samples of a gray image: scaled to 0 … 255 (rounded) unless maxval is 255. */
export function to8bit(img: GrayImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n);
  const { data, maxval } = img;
  if (maxval === 255) out.set(data);
  else for (let i = 0; i < n; i++) out[i] = Math.round((data[i]! * 255) / maxval);
  return out;
}

/**
 * PNG bytes of a gray image: 8-bit grayscale (color type 0), no interlace,
 * filter 0 (None) on every row, one zlib IDAT chunk, CRC on every chunk.
 */
export function encodePng(img: GrayImage): Buffer {
  const { width, height } = img;
  const px = to8bit(img);
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0;
    raw.set(px.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

export function writePng(path: string, img: GrayImage): void {
  writeFileAtomic(path, encodePng(img));
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decode an 8-bit grayscale, non-interlaced PNG (any of the five row
 * filters), checking the signature and every chunk's CRC. Other PNG kinds are
 * refused (E_PARSE): this reader is for checking files written here.
 */
export function decodePng(buf: Uint8Array, file = "<png>"): GrayImage {
  const fail = (msg: string, at: number): never => {
    throw new NadirError("E_PARSE", `byte offset ${at}: ${msg}`, { file });
  };
  if (buf.length < 8 || !PNG_SIGNATURE.equals(Buffer.from(buf.subarray(0, 8))))
    fail("expected the PNG signature", 0);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos < b.length && !ended) {
    if (pos + 12 > b.length) fail("truncated chunk header", pos);
    const len = b.readUInt32BE(pos);
    const type = b.toString("latin1", pos + 4, pos + 8);
    if (pos + 12 + len > b.length)
      fail(`chunk ${type}: expected ${len} bytes, file is truncated`, pos);
    const body = b.subarray(pos + 8, pos + 8 + len);
    const crc = b.readUInt32BE(pos + 8 + len);
    if (crc32(b.subarray(pos + 4, pos + 8 + len)) !== crc) fail(`chunk ${type}: CRC mismatch`, pos);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 0 || body[12] !== 0) {
        fail(
          `expected an 8-bit grayscale non-interlaced PNG, got bit depth ${body[8]}, color type ${body[9]}, interlace ${body[12]}`,
          pos,
        );
      }
      checkSize(width, height, "decodePng");
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") ended = true;
    pos += 12 + len;
  }
  if (width === 0) fail("no IHDR chunk", 8);
  if (!ended) fail("no IEND chunk", pos);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    return fail(`corrupt image data: ${(e as Error).message}`, 8);
  }
  const stride = width + 1;
  if (raw.length < stride * height)
    fail(`expected ${stride * height} bytes of image data, got ${raw.length}`, 8);
  const data = new Uint16Array(width * height);
  const prev = new Uint8Array(width);
  const cur = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    const f = raw[y * stride]!;
    for (let x = 0; x < width; x++) {
      const v = raw[y * stride + 1 + x]!;
      const a = x > 0 ? cur[x - 1]! : 0;
      const up = prev[x]!;
      const c = x > 0 ? prev[x - 1]! : 0;
      let r: number;
      if (f === 0) r = v;
      else if (f === 1) r = v + a;
      else if (f === 2) r = v + up;
      else if (f === 3) r = v + ((a + up) >> 1);
      else if (f === 4) r = v + paeth(a, up, c);
      else return fail(`row ${y}: unknown filter type ${f}`, 8);
      cur[x] = r & 255;
    }
    data.set(cur, y * width);
    prev.set(cur);
  }
  return { width, height, maxval: 255, data };
}

// ---------------------------------------------------------------------------
// Masks and conversions

/** A mask as a gray image: foreground (1) black = 0, background white = maxval. */
export function maskToGray(mask: BitImage, maxval = 255): GrayImage {
  const n = mask.width * mask.height;
  const data = new Uint16Array(n);
  for (let i = 0; i < n; i++) data[i] = mask.data[i] ? 0 : maxval;
  return { width: mask.width, height: mask.height, maxval, data };
}

/** Threshold a gray image into a mask: foreground (1) where the sample is below `t`·maxval (dark). */
export function grayToMask(img: GrayImage, t = 0.5): BitImage {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  const cut = t * img.maxval;
  for (let i = 0; i < n; i++) data[i] = img.data[i]! < cut ? 1 : 0;
  return { width: img.width, height: img.height, data };
}

/** Read an image as gray: a PGM as is, a PBM as 0 (black) / 1 (white) with maxval 1. */
export function readGray(path: string): GrayImage {
  const p = readPnm(path);
  return p.kind === "pgm" ? p.image : maskToGray(p.image, 1);
}

/** Read a mask: a PBM as is (1 = black = foreground), a PGM thresholded at half its maxval (dark = foreground). */
export function readMask(path: string): BitImage {
  const p = readPnm(path);
  return p.kind === "pbm" ? p.image : grayToMask(p.image);
}

/** The format an output path asks for, by its extension (.pgm, .pbm or .png). */
export function imageFormatOf(path: string): "pgm" | "pbm" | "png" | null {
  const m = /\.(pgm|pbm|png)$/i.exec(path);
  return m ? (m[1]!.toLowerCase() as "pgm" | "pbm" | "png") : null;
}

/**
 * Write a mask by the path's extension: `.pbm` (P4, 1 = black = foreground),
 * `.pgm` (P5, foreground 0 = black, background 255) or `.png` (likewise).
 */
export function writeMask(path: string, mask: BitImage): void {
  const f = imageFormatOf(path);
  if (f === "pbm") writePbm(path, mask);
  else if (f === "pgm") writePgm(path, maskToGray(mask));
  else if (f === "png") writePng(path, maskToGray(mask));
  else {
    throw new NadirError(
      "E_ARG",
      `expected an output path ending in .pbm, .pgm or .png, got ${path}`,
    );
  }
}

/** Write a gray image by the path's extension: `.pgm` or `.png`. */
export function writeGray(path: string, img: GrayImage): void {
  const f = imageFormatOf(path);
  if (f === "pgm") writePgm(path, img);
  else if (f === "png") writePng(path, img);
  else throw new NadirError("E_ARG", `expected an output path ending in .pgm or .png, got ${path}`);
}
