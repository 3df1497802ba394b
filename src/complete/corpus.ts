/**
 * A training corpus for sentence completion read file by file from a
 * directory of plain or gzip-compressed texts (`*.txt`, `*.txt.gz`, any case):
 * the whole MSR training text (522 etexts, 41 M words) is never held as
 * strings. One pass decompresses, strips and tokenizes each file in turn and
 * appends provisional ids (one per distinct token) to a growing id stream
 * while counting; then the vocabulary is the `vocabSize` most frequent tokens
 * and the stream is renumbered in place (the rest become <unk>). Node only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { NadirError } from "../core/errors.ts";
import {
  BOUNDARY,
  BOUNDARY_ID,
  FIRST_WORD,
  splitSentences,
  stripGutenberg,
  tokenize,
  UNK,
  Vocab,
} from "./text.ts";

/** An encoded corpus: the id stream (units separated by boundary padding), vocabulary and counts. */
export interface EncodedCorpus {
  vocab: Vocab;
  /** count of each vocabulary word in the corpus (reserved ids: 0) */
  freq: Float64Array;
  /** the id stream: `pad` boundary ids before and after every unit */
  ids: Int32Array;
  files: number;
  /** tokens read (all of them, in or out of the vocabulary) */
  tokens: number;
  /** distinct tokens seen */
  types: number;
}

export interface CorpusOptions {
  /** at most this many words in the vocabulary ... */
  vocabSize: number;
  /** ... each seen at least this many times */
  minCount: number;
  /** boundary ids around each unit (≥ the context window) */
  pad: number;
  /** units are sentences (true) or whole files */
  sentences: boolean;
  /** called after each file */
  onFile?: (info: { file: string; done: number; total: number; tokens: number }) => void;
}

const TEXT_FILE = /\.txt(\.gz)?$/i;

/** The text files of a directory (`*.txt`, `*.txt.gz`), sorted; a file path is taken as is. */
export function corpusFiles(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw new NadirError("E_IO", `cannot read corpus: ${(e as Error).message}`, { file: path });
  }
  if (!isDir) return [path];
  const files = readdirSync(path)
    .filter((f) => TEXT_FILE.test(f))
    .sort()
    .map((f) => join(path, f));
  if (files.length === 0)
    throw new NadirError("E_IO", "no *.txt or *.txt.gz files in the corpus directory", {
      file: path,
    });
  return files;
}

/** One file's text (gunzipped when it ends in .gz; bytes read as Latin-1). */
export function readCorpusText(path: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new NadirError("E_IO", `cannot read: ${(e as Error).message}`, { file: path });
  }
  if (/\.gz$/i.test(path)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new NadirError("E_IO", `not a valid gzip file: ${(e as Error).message}`, {
        file: path,
      });
    }
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** A growable Int32Array. */
class IntStream {
  a = new Int32Array(1 << 20);
  n = 0;
  push(x: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = x;
  }
}

/** Read, count and encode the files (see the module comment). */
export function encodeCorpus(paths: readonly string[], o: CorpusOptions): EncodedCorpus {
  // provisional ids: 0 <unk> (unused), 1 boundary, then tokens in order of first sight
  const raw = new Map<string, number>();
  const words: string[] = [UNK, BOUNDARY];
  let counts = new Float64Array(1 << 16);
  const out = new IntStream();
  let tokens = 0;
  const padding = (): void => {
    for (let i = 0; i < o.pad; i++) out.push(BOUNDARY_ID);
  };
  padding();
  paths.forEach((path, done) => {
    const toks = tokenize(stripGutenberg(readCorpusText(path)));
    tokens += toks.length;
    const units = o.sentences ? splitSentences(toks) : [toks];
    for (const u of units) {
      for (const t of u) {
        let id = raw.get(t);
        if (id === undefined) {
          id = words.length;
          raw.set(t, id);
          words.push(t);
          if (id >= counts.length) {
            const c = new Float64Array(counts.length * 2);
            c.set(counts);
            counts = c;
          }
        }
        counts[id] = counts[id]! + 1;
        out.push(id);
      }
      padding();
    }
    o.onFile?.({ file: path, done: done + 1, total: paths.length, tokens });
  });
  const countMap = new Map<string, number>();
  for (let id = FIRST_WORD; id < words.length; id++) countMap.set(words[id]!, counts[id]!);
  const vocab = Vocab.build(countMap, o.vocabSize, o.minCount);
  const remap = new Int32Array(words.length);
  remap[BOUNDARY_ID] = BOUNDARY_ID;
  for (let id = FIRST_WORD; id < words.length; id++) remap[id] = vocab.id(words[id]!);
  const ids = out.a.subarray(0, out.n);
  for (let i = 0; i < ids.length; i++) ids[i] = remap[ids[i]!]!;
  const freq = new Float64Array(vocab.size);
  for (let w = FIRST_WORD; w < vocab.size; w++) freq[w] = countMap.get(vocab.words[w]!) ?? 0;
  return {
    vocab,
    freq,
    ids: ids.slice(),
    files: paths.length,
    tokens,
    types: words.length - FIRST_WORD,
  };
}
