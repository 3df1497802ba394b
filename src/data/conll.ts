/**
 * CoNLL column format: one token per line, columns separated by runs of
 * spaces/tabs, a blank line between sentences, `-DOCSTART-` lines skipped
 * (they close an open sentence). Every token line of a file has the same
 * number of columns. One parser (`ConllParser`) serves the streaming reader
 * and the synchronous `parseConll`.
 */
import { NadirError } from "../core/errors.ts";
import { displayName, type LineParser, parseText, readParsed } from "./lines.ts";

/** A sentence of a column file: `tokens[t][c]`, and the raw lines for echoing. */
export interface Sentence {
  tokens: string[][];
  /** Raw token lines (no "\n", no trailing "\r"), aligned with `tokens`. */
  lines: string[];
  /** 1-based line number of the first token. */
  firstLine: number;
  file: string;
  /** The bytes of token lines that are not valid UTF-8 (sparse, aligned with `lines`). */
  raw?: (Uint8Array | undefined)[];
}

export interface ConllOptions {
  /** Every token line must have exactly this many columns. */
  columns?: number;
  /** Every token line must have at least this many columns (e.g. 2 for a label column). */
  minColumns?: number;
}

/** Split a line into its space/tab separated columns (none for a blank line). */
export function splitColumns(s: string): string[] {
  const cols: string[] = [];
  let start = -1;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      if (start >= 0) {
        cols.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) cols.push(s.slice(start));
  return cols;
}

function checkCount(what: string, n: number | undefined): void {
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) {
    throw new NadirError("E_ARG", `${what}: expected a positive integer, got ${n}`);
  }
}

/**
 * Incremental CoNLL parser: feed lines in order with `push`, then `end`.
 * Completed sentences are appended to the `out` array passed in.
 */
export class ConllParser implements LineParser<Sentence> {
  private readonly file: string;
  private readonly minColumns: number;
  private columns: number;
  private readonly sentence: SentenceBuffer;

  constructor(file: string, opts: ConllOptions = {}) {
    checkCount("columns", opts.columns);
    checkCount("minColumns", opts.minColumns);
    if (opts.columns !== undefined && opts.minColumns !== undefined) {
      if (opts.columns < opts.minColumns) {
        throw new NadirError(
          "E_ARG",
          `columns (${opts.columns}) is less than minColumns (${opts.minColumns})`,
        );
      }
    }
    this.file = file;
    this.sentence = new SentenceBuffer(file);
    this.columns = opts.columns ?? 0;
    this.minColumns = opts.minColumns ?? 1;
  }

  /** Consume one line (1-based number `line`); append a finished sentence to `out`. */
  push(text: string, line: number, out: Sentence[], raw?: Uint8Array): void {
    const cols = splitColumns(text);
    const m = cols.length;
    if (m === 0 || cols[0] === "-DOCSTART-") {
      this.sentence.flush(out);
      return;
    }
    if (m !== this.columns) {
      if (this.columns !== 0) {
        throw new NadirError("E_PARSE", `expected ${this.columns} columns, got ${m}`, {
          file: this.file,
          line,
        });
      }
      if (m < this.minColumns) {
        throw new NadirError("E_PARSE", `expected at least ${this.minColumns} columns, got ${m}`, {
          file: this.file,
          line,
        });
      }
      this.columns = m;
    }
    this.sentence.add(cols, text, line, raw);
  }

  /** Signal end of input: emit the last sentence if the file had no final blank line. */
  end(out: Sentence[]): void {
    this.sentence.flush(out);
  }
}

/**
 * The sentence a line reader is building: its tokens, source lines, first
 * line number and (for lines that are not valid UTF-8) raw bytes; `flush`
 * appends it to `out` as a Sentence and starts the next one.
 */
export class SentenceBuffer {
  private readonly file: string;
  private tokens: string[][] = [];
  private lines: string[] = [];
  private firstLine = 0;
  private raw: (Uint8Array | undefined)[] | undefined;

  constructor(file: string) {
    this.file = file;
  }

  /** Add a token (its fields) read from line number `line`. */
  add(fields: string[], text: string, line: number, raw?: Uint8Array): void {
    if (this.tokens.length === 0) this.firstLine = line;
    if (raw) {
      this.raw ??= [];
      this.raw[this.tokens.length] = raw;
    }
    this.tokens.push(fields);
    this.lines.push(text);
  }

  /** The sentence (undefined when it has no token yet); the buffer starts an empty one. */
  take(): Sentence | undefined {
    if (this.tokens.length === 0) return undefined;
    const s: Sentence = {
      tokens: this.tokens,
      lines: this.lines,
      firstLine: this.firstLine,
      file: this.file,
      ...(this.raw ? { raw: this.raw } : {}),
    };
    this.tokens = [];
    this.lines = [];
    this.raw = undefined;
    return s;
  }

  /** Emit the sentence (if it has a token) and start an empty one. */
  flush(out: Sentence[]): void {
    const s = this.take();
    if (s !== undefined) out.push(s);
  }

  /** Number of tokens so far. */
  get length(): number {
    return this.tokens.length;
  }
}

/** Stream the sentences of a CoNLL column file ("-" = stdin, ".gz" = gunzipped). */
export async function* readConll(path: string, opts?: ConllOptions): AsyncGenerator<Sentence> {
  yield* readParsed(path, new ConllParser(displayName(path), opts));
}

/** Parse CoNLL column text (all of it) into sentences; `file` names it in errors. */
export function parseConll(text: string, file: string, opts?: ConllOptions): Sentence[] {
  return parseText(text, new ConllParser(file, opts));
}

/**
 * Column `c` of every token of a sentence; a negative `c` counts from the end
 * (-1 = last column).
 */
export function sentenceColumn(s: { tokens: string[][] }, c: number): string[] {
  const out = new Array<string>(s.tokens.length);
  for (let t = 0; t < s.tokens.length; t++) {
    const row = s.tokens[t]!;
    const v = row[c < 0 ? row.length + c : c];
    if (v === undefined) {
      throw new NadirError("E_ARG", `column ${c}: token ${t + 1} has only ${row.length} columns`);
    }
    out[t] = v;
  }
  return out;
}

/**
 * One sentence in output form: each input line with `extra[t]` appended after
 * a tab, then a blank line. Concatenated sentences give a CoNLL file that
 * conlleval and CRF++-style tools read.
 */
export function formatConll(lines: readonly string[], extra: readonly string[]): string {
  if (extra.length !== lines.length) {
    throw new NadirError("E_ARG", `expected ${lines.length} labels, got ${extra.length}`);
  }
  let s = "";
  for (let t = 0; t < lines.length; t++) s += `${lines[t]}\t${extra[t]}\n`;
  return `${s}\n`;
}

/**
 * Like `formatConll` with several appended columns: `columns[k][t]` is the
 * k-th extra column of token t (e.g. a label and its marginal).
 */
export function formatConllColumns(
  lines: readonly string[],
  columns: readonly (readonly string[])[],
): string {
  for (let k = 0; k < columns.length; k++) {
    if (columns[k]!.length !== lines.length) {
      throw new NadirError(
        "E_ARG",
        `column ${k + 1}: expected ${lines.length} values, got ${columns[k]!.length}`,
      );
    }
  }
  let s = "";
  for (let t = 0; t < lines.length; t++) {
    s += lines[t];
    for (let k = 0; k < columns.length; k++) s += `\t${columns[k]![t]}`;
    s += "\n";
  }
  return `${s}\n`;
}
