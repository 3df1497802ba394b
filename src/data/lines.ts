/**
 * Line I/O for corpora: streaming line readers (big chunks, gzip aware,
 * stdin as "-"), a small synchronous reader, and a streaming text writer.
 * Lines end at "\n", "\r\n" or a lone "\r"; a UTF-8 byte-order mark at the
 * start of the file is dropped. Line numbers are 1-based. Invalid UTF-8
 * decodes to U+FFFD (the streaming reader keeps such lines' bytes too).
 */
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { pipeline as pipe, Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip, gunzipSync } from "node:zlib";
import { NadirError } from "../core/errors.ts";

/** One line of text (without "\n" and trailing "\r") and its 1-based number. */
export interface Line {
  text: string;
  line: number;
}

/** A batch of consecutive lines; `lines[i]` is line number `firstLine + i`. */
export interface LineBatch {
  lines: string[];
  firstLine: number;
  /** The bytes of the lines that are not valid UTF-8 (sparse), for a verbatim echo. */
  raw?: (Uint8Array | undefined)[];
}

/**
 * Read size: small enough that a streaming pass keeps a flat, small heap (V8
 * sizes its heap by the live batch), large enough that the reads themselves
 * cost little (a 15 MB file: 64 KiB chunks 17–24 ms, 256 KiB 9 ms).
 */
const CHUNK_BYTES = 1 << 18;

/** The name used in messages for a path: "<stdin>" / "<stdout>" for "-". */
export function displayName(path: string, stdio: "<stdin>" | "<stdout>" = "<stdin>"): string {
  return path === "-" ? stdio : path;
}

/** Convert a file-system or zlib error into a NadirError (E_PARSE for bad gzip data). */
function ioError(err: unknown, file: string): NadirError {
  if (err instanceof NadirError) return err;
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === "string" ? e.code : "";
  if (code.startsWith("Z_") || code === "ERR_ZLIB_INITIALIZATION_FAILED") {
    return new NadirError("E_PARSE", `corrupt gzip data: ${e.message}`, { file });
  }
  const reasons: Record<string, string> = {
    ENOENT: "no such file or directory",
    EISDIR: "is a directory",
    EACCES: "permission denied",
    ENOTDIR: "a path component is not a directory",
  };
  const reason = reasons[code] ?? (e instanceof Error ? e.message : String(err));
  return new NadirError("E_IO", `cannot read file: ${reason}${code ? ` (${code})` : ""}`, {
    file,
  });
}

/** The byte stream of a path: stdin for "-", gunzipped when the path ends in ".gz". */
function openBytes(path: string): NodeJS.ReadableStream {
  if (path === "-") return process.stdin;
  const src = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  if (!path.endsWith(".gz")) return src;
  // pipeline forwards a read error to gz and closes the file when gz stops early.
  return pipe(src, createGunzip({ chunkSize: CHUNK_BYTES }), () => {});
}

const CR = 13;
const LF = 10;

/**
 * Stream the lines of a file in batches (one batch per chunk read: 256 KiB
 * from a file, whatever arrived on stdin). The fast path for parsers: one
 * await per batch instead of one per line. Lines end at "\n", "\r\n" or a
 * lone "\r" (old Mac files). A line whose bytes are not valid UTF-8 keeps
 * its bytes in `raw[i]` so that it can be echoed verbatim.
 */
export async function* readLineBatches(path: string): AsyncGenerator<LineBatch> {
  const file = displayName(path);
  let carry: Buffer | null = null;
  let lineNo = 1;
  let first = true;
  try {
    for await (const chunk of openBytes(path)) {
      let buf: Buffer = carry
        ? Buffer.concat([carry, chunk as Buffer])
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk as unknown as Uint8Array);
      carry = null;
      if (first) {
        if (buf.length < 3 && isBomPrefix(buf)) {
          carry = buf;
          continue;
        }
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      }
      const batch = splitBytes(buf, false, lineNo);
      if (batch.rest < buf.length) carry = Buffer.from(buf.subarray(batch.rest));
      if (batch.lines.length > 0) {
        yield batch;
        lineNo += batch.lines.length;
      }
    }
  } catch (err) {
    throw ioError(err, file);
  }
  if (carry && carry.length > 0) {
    if (first && carry[0] === 0xef && carry[1] === 0xbb && carry[2] === 0xbf)
      carry = carry.subarray(3);
    const batch = splitBytes(carry, true, lineNo);
    if (batch.lines.length > 0) yield batch;
  }
}

function isBomPrefix(b: Buffer): boolean {
  const bom = [0xef, 0xbb, 0xbf];
  for (let i = 0; i < b.length; i++) if (b[i] !== bom[i]) return false;
  return true;
}

/**
 * Split the complete lines of `buf` (all of it at end of input). A final "\r"
 * waits for the next chunk: it may be the first half of "\r\n".
 */
function splitBytes(buf: Buffer, atEnd: boolean, firstLine: number): LineBatch & { rest: number } {
  const starts: number[] = [];
  const ends: number[] = [];
  const n = buf.length;
  let start = 0;
  let i = 0;
  let cr = buf.indexOf(CR); // the next CR at or after i (-1: none left); indexOf is native
  for (;;) {
    const lf = buf.indexOf(LF, i);
    const stop = lf < 0 ? n : lf;
    if (cr >= 0 && cr < i) cr = buf.indexOf(CR, i);
    if (cr >= 0 && cr < stop) {
      if (cr + 1 === n && !atEnd) break; // "\r" at the chunk's end: wait
      starts.push(start);
      ends.push(cr);
      start = i = buf[cr + 1] === LF ? cr + 2 : cr + 1;
      continue;
    }
    if (lf < 0) break;
    starts.push(start);
    ends.push(lf);
    start = i = lf + 1;
  }
  if (atEnd && start < n) {
    starts.push(start);
    ends.push(n);
    start = n;
  }
  const lines = new Array<string>(starts.length);
  let raw: (Uint8Array | undefined)[] | undefined;
  for (let k = 0; k < starts.length; k++) {
    const s = buf.toString("utf8", starts[k], ends[k]);
    lines[k] = s;
    if (s.includes("\uFFFD")) {
      raw ??= [];
      raw[k] = Buffer.from(buf.subarray(starts[k], ends[k]));
    }
  }
  return raw ? { lines, firstLine, raw, rest: start } : { lines, firstLine, rest: start };
}

/** Stream the lines of a file ("-" = stdin, ".gz" = gunzipped) with 1-based line numbers. */
export async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(path)) {
    const { lines, firstLine } = batch;
    for (let i = 0; i < lines.length; i++) yield { text: lines[i]!, line: firstLine + i };
  }
}

/** An incremental parser of a line format: `push` lines in order, then `end`; finished items go to `out`. */
export interface LineParser<S> {
  push(text: string, line: number, out: S[], raw?: Uint8Array): void;
  end(out: S[]): void;
}

/** Stream the items `parser` makes of a file's lines ("-" = stdin, ".gz" = gunzipped). */
export async function* readParsed<S>(path: string, parser: LineParser<S>): AsyncGenerator<S> {
  const out: S[] = [];
  for await (const { lines, firstLine, raw } of readLineBatches(path)) {
    for (let i = 0; i < lines.length; i++) parser.push(lines[i]!, firstLine + i, out, raw?.[i]);
    for (let i = 0; i < out.length; i++) yield out[i]!;
    out.length = 0;
  }
  parser.end(out);
  for (let i = 0; i < out.length; i++) yield out[i]!;
}

/** The items `parser` makes of text (all of it). */
export function parseText<S>(text: string, parser: LineParser<S>): S[] {
  const out: S[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) parser.push(lines[i]!, i + 1, out);
  parser.end(out);
  return out;
}

/** Split text into lines by the rules of `readLines` (BOM, LF/CRLF/CR, no empty last line). */
export function splitLines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.includes("\r") ? text.split(/\r\n?|\n/) : text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Read a small file whole, synchronously ("-" = stdin, ".gz" = gunzipped), BOM dropped. */
export function readTextFile(path: string): string {
  const file = displayName(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path === "-" ? 0 : path);
    if (path.endsWith(".gz")) bytes = gunzipSync(bytes);
  } catch (err) {
    throw ioError(err, file);
  }
  const text = bytes.toString("utf8");
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Write a sequence of strings to a file ("-" = stdout, ".gz" = gzipped),
 * with back-pressure. Resolves when the data is flushed.
 */
export async function writeText(
  path: string,
  chunks: Iterable<string> | AsyncIterable<string>,
): Promise<void> {
  const file = displayName(path, "<stdout>");
  const source = Readable.from(chunks, { objectMode: false });
  try {
    if (path === "-") {
      // Do not let pipeline end (close) process.stdout.
      for await (const s of source) {
        if (!process.stdout.write(s as string)) await onceDrain(process.stdout);
      }
      return;
    }
    const sink = createWriteStream(path);
    if (path.endsWith(".gz")) await pipeline(source, createGzip(), sink);
    else await pipeline(source, sink);
  } catch (err) {
    if (err instanceof NadirError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new NadirError("E_IO", `cannot write file: ${e?.message ?? String(err)}`, { file });
  }
}

/** Resolve when `w` drains (or reject when it fails, e.g. EPIPE). */
export function onceDrain(w: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      w.off("drain", done);
      w.off("error", done);
      err ? reject(err) : resolve();
    };
    w.on("drain", done);
    w.on("error", done);
  });
}
