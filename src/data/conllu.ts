/**
 * CoNLL-U (Universal Dependencies): ten tab-separated columns per word line,
 * `#` comment lines before a sentence, a blank line after it. Multiword-token
 * range lines (`3-4`) and empty nodes (`8.1`) are skipped, so `tokens` holds
 * the syntactic words 1..n. One parser serves `readConllu` and `parseConllu`.
 */
import { NadirError } from "../core/errors.ts";
import { type Sentence, SentenceBuffer } from "./conll.ts";
import type { CONLLU_COLUMNS } from "./conllu-columns.ts";
import { displayName, type LineParser, parseText, readParsed } from "./lines.ts";

export { CONLLU_COLUMNS, conlluColumnIndex } from "./conllu-columns.ts";

export type ConlluColumn = (typeof CONLLU_COLUMNS)[number];

/**
 * A CoNLL-U sentence: `tokens[t]` are the 10 fields of word t+1; `lines` (and
 * `raw`) hold the word lines only (ranges and empty nodes are not kept).
 */
export interface ConlluSentence extends Sentence {
  /** Line number of each word (ranges and empty nodes between words skip lines). */
  tokenLines: number[];
  /** Comment lines of the sentence, verbatim (with the leading "#"). */
  comments: string[];
}

export interface ConlluOptions {
  /** Check that word IDs run 1, 2, …, n within each sentence (default true). */
  checkIds?: boolean;
}

/** Kind of an ID field: 0 word (returns the integer), -1 range, -2 empty node, -3 malformed. */
function idKind(id: string): number {
  let n = 0;
  let i = 0;
  const len = id.length;
  for (; i < len; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  if (i === 0) return -3;
  if (i === len) return n;
  const sep = id.charCodeAt(i);
  if (sep !== 45 && sep !== 46) return -3; // '-' or '.'
  if (i + 1 === len) return -3;
  for (let j = i + 1; j < len; j++) {
    const c = id.charCodeAt(j);
    if (c < 48 || c > 57) return -3;
  }
  return sep === 45 ? -1 : -2;
}

/** Incremental CoNLL-U parser: `push` lines in order, then `end`. */
export class ConlluParser implements LineParser<ConlluSentence> {
  private readonly file: string;
  private readonly checkIds: boolean;
  private readonly sentence: SentenceBuffer;
  private comments: string[] = [];
  private tokenLines: number[] = [];

  constructor(file: string, opts: ConlluOptions = {}) {
    this.file = file;
    this.sentence = new SentenceBuffer(file);
    this.checkIds = opts.checkIds ?? true;
  }

  /** Consume one line (1-based number `line`); append a finished sentence to `out`. */
  push(text: string, line: number, out: ConlluSentence[], raw?: Uint8Array): void {
    if (text.charCodeAt(0) === 35) {
      this.comments.push(text); // '#'
      return;
    }
    if (text.trim() === "") {
      this.flush(out);
      return;
    }
    const fields = text.split("\t");
    if (fields.length !== 10) {
      throw new NadirError("E_PARSE", `expected 10 tab-separated columns, got ${fields.length}`, {
        file: this.file,
        line,
      });
    }
    const id = fields[0]!;
    const k = idKind(id);
    if (k === -3) {
      throw new NadirError(
        "E_PARSE",
        `expected an ID (N, a range N-M or an empty node N.M), got "${id}"`,
        { file: this.file, line },
      );
    }
    if (k < 0) return; // multiword range or empty node
    const n = this.sentence.length;
    if (this.checkIds && k !== n + 1) {
      throw new NadirError("E_PARSE", `expected word ID ${n + 1}, got ${id}`, {
        file: this.file,
        line,
      });
    }
    this.sentence.add(fields, text, line, raw);
    this.tokenLines.push(line);
  }

  /** Signal end of input: emit the last sentence if the file had no final blank line. */
  end(out: ConlluSentence[]): void {
    this.flush(out);
  }

  private flush(out: ConlluSentence[]): void {
    const s = this.sentence.take();
    if (s !== undefined) {
      out.push({ ...s, comments: this.comments, tokenLines: this.tokenLines });
      this.tokenLines = [];
    }
    // Comments with no words after them (e.g. at end of file) are dropped.
    this.comments = [];
  }
}

/** Stream the sentences of a CoNLL-U file ("-" = stdin, ".gz" = gunzipped). */
export async function* readConllu(
  path: string,
  opts?: ConlluOptions,
): AsyncGenerator<ConlluSentence> {
  yield* readParsed(path, new ConlluParser(displayName(path), opts));
}

/** Parse CoNLL-U text (all of it) into sentences; `file` names it in errors. */
export function parseConllu(text: string, file: string, opts?: ConlluOptions): ConlluSentence[] {
  return parseText(text, new ConlluParser(file, opts));
}
