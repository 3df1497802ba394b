/**
 * Line I/O for corpora: streaming line readers (big chunks, gzip aware,
 * stdin as "-"), a small synchronous reader, and a streaming text writer.
 * Lines are split on "\n"; one trailing "\r" is dropped (CRLF tolerated) and
 * a UTF-8 byte-order mark at the start of the file is dropped. Line numbers
 * are 1-based. Invalid UTF-8 decodes to U+FFFD.
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
}

const CHUNK_BYTES = 1 << 20;

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

/**
 * Stream the lines of a file in batches (one batch per ~1 MiB chunk read).
 * The fast path for parsers: one await per batch instead of one per line.
 */
export async function* readLineBatches(path: string): AsyncGenerator<LineBatch> {
  const file = displayName(path);
  const decoder = new TextDecoder("utf-8"); // drops a leading BOM (ignoreBOM: false)
  let carry = "";
  let lineNo = 1;
  try {
    for await (const chunk of openBytes(path)) {
      const text = carry + decoder.decode(chunk as Uint8Array, { stream: true });
      const lines: string[] = [];
      let start = 0;
      for (;;) {
        const nl = text.indexOf("\n", start);
        if (nl < 0) break;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        lines.push(text.slice(start, end));
        start = nl + 1;
      }
      carry = start === 0 ? text : text.slice(start);
      if (lines.length > 0) {
        yield { lines, firstLine: lineNo };
        lineNo += lines.length;
      }
    }
  } catch (err) {
    throw ioError(err, file);
  }
  carry += decoder.decode();
  if (carry.length > 0) {
    const end = carry.charCodeAt(carry.length - 1) === 13 ? carry.length - 1 : carry.length;
    yield { lines: [carry.slice(0, end)], firstLine: lineNo };
  }
}

/** Stream the lines of a file ("-" = stdin, ".gz" = gunzipped) with 1-based line numbers. */
export async function* readLines(path: string): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(path)) {
    const { lines, firstLine } = batch;
    for (let i = 0; i < lines.length; i++) yield { text: lines[i]!, line: firstLine + i };
  }
}

/** Split text into lines by the rules of `readLines` (BOM, CRLF, no empty last line). */
export function splitLines(text: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!;
    if (s.charCodeAt(s.length - 1) === 13) lines[i] = s.slice(0, -1);
  }
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

function onceDrain(w: Writable): Promise<void> {
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
