/**
 * The library's sentence shapes, checked at the boundary: a sentence is an
 * array of tokens; a token is a word (`"dog"`), its input columns in the
 * spec's order (`["dog", "NN"]`), or a record by column name
 * (`{ w: "dog", pos: "NN" }`). Checked tokens become the corpus rows the
 * architecture reads (tokens[t][c], the gold label in the spec's label column).
 */
import type { SentenceLike } from "../architecture/features.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { formatAttributeField } from "../data/crfsuite-attributes.ts";

/** A token's input columns by name, e.g. `{ w: "dog", pos: "NN" }`. */
export type TokenColumns = Readonly<Record<string, string>>;
/** A token: a word, its input columns in the spec's order, or its columns by name. */
export type Token = string | readonly string[] | TokenColumns;
/** A sentence: its tokens in order. */
export type TokenSentence = readonly Token[];
/** A training sentence: tokens and one gold label per token. */
export interface LabeledSentence {
  readonly tokens: TokenSentence;
  readonly labels: readonly string[];
}
/**
 * What training and evaluation accept: labeled sentences, or corpus sentences
 * as `readCorpus` returns them (rows of columns, the label in the spec's label column).
 */
export type TrainingSentence = LabeledSentence | SentenceLike;

const describe = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? `an array of ${v.length}`
      : typeof v === "string"
        ? `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`
        : typeof v === "object"
          ? "an object"
          : `${typeof v} ${String(v)}`;

const fail = (where: string, msg: string): never => {
  throw new NadirError("E_ARG", `${where}: ${msg}`);
};

/** Turns library tokens into corpus rows under one spec. */
export class RowMaker {
  private readonly names: string[];
  private readonly index: number[];
  /** Row width with and without the label column, and where the label goes. */
  private readonly width: number;
  private readonly labelAt: number;
  private readonly conllu: boolean;

  readonly spec: GraphSpec;

  constructor(spec: GraphSpec) {
    this.spec = spec;
    const entries = Object.entries(spec.columns);
    this.names = entries.map(([n]) => n);
    this.index = entries.map(([, i]) => i);
    this.conllu = spec.format === "conllu";
    const maxIn = Math.max(0, ...this.index);
    if (this.conllu) {
      this.width = 10;
      this.labelAt = spec.label;
    } else {
      const L = spec.label;
      this.labelAt = L >= 0 ? L : maxIn + 1 + (-L - 1);
      this.width = Math.max(maxIn + 1, this.labelAt + 1);
    }
  }

  /** The input columns a token has, in order. */
  get columns(): readonly string[] {
    return this.names;
  }

  private expected(): string {
    return this.names.length === 1
      ? `a string (the ${this.names[0]} column)`
      : `an array of ${this.names.length} strings (${this.names.join(", ")}) or a record with those keys`;
  }

  /** Check one sentence and build its rows; `labels` fill the label column when given. */
  rows(sentence: unknown, where: string, labels?: readonly string[]): string[][] {
    if (typeof sentence === "string")
      fail(
        where,
        `expected an array of tokens, got a string (split it into words first, e.g. text.split(" "))`,
      );
    if (!Array.isArray(sentence))
      fail(where, `expected an array of tokens, got ${describe(sentence)}`);
    const tokens = sentence as unknown[];
    if (labels !== undefined && labels.length !== tokens.length)
      fail(where, `expected one label per token (${tokens.length}), got ${labels.length}`);
    const out = new Array<string[]>(tokens.length);
    const labeled = labels !== undefined;
    if (this.spec.format === "crfsuite") return this.attributeRows(tokens, where, labels);
    const width = labeled ? this.width : this.conllu ? 10 : Math.max(...this.index) + 1;
    for (let t = 0; t < tokens.length; t++) {
      const tok = tokens[t];
      const at = `${where}, token ${t}`;
      const row = new Array<string>(width).fill("_");
      if (typeof tok === "string") {
        if (this.names.length !== 1) fail(at, `expected ${this.expected()}, got ${describe(tok)}`);
        row[this.index[0]!] = tok;
      } else if (Array.isArray(tok)) {
        if (tok.length !== this.names.length || tok.some((c) => typeof c !== "string"))
          fail(at, `expected ${this.expected()}, got ${describe(tok)}`);
        for (let c = 0; c < tok.length; c++) row[this.index[c]!] = tok[c] as string;
      } else if (tok !== null && typeof tok === "object") {
        const rec = tok as Record<string, unknown>;
        for (let c = 0; c < this.names.length; c++) {
          const v = rec[this.names[c]!];
          if (typeof v !== "string")
            fail(at, `expected a string in column '${this.names[c]}', got ${describe(v)}`);
          row[this.index[c]!] = v as string;
        }
      } else {
        fail(at, `expected ${this.expected()}, got ${describe(tok)}`);
      }
      if (labeled) {
        const l = labels[t];
        if (typeof l !== "string" || l === "")
          fail(at, `expected a non-empty string label, got ${describe(l)}`);
        row[this.labelAt] = l as string;
      }
      out[t] = row;
    }
    return out;
  }

  /**
   * crfsuite specs: a token is its attributes — names (`["w[0]=dog", "pos[0]=NN"]`,
   * one name as a string) or a record name → value (`{ "w[0]=dog": 1, len: 0.75 }`);
   * the row is the label, then the fields as a CRFsuite data file writes them.
   */
  private attributeRows(
    tokens: unknown[],
    where: string,
    labels: readonly string[] | undefined,
  ): string[][] {
    const out = new Array<string[]>(tokens.length);
    for (let t = 0; t < tokens.length; t++) {
      const tok = tokens[t];
      const at = `${where}, token ${t}`;
      const row = [""];
      if (typeof tok === "string") row.push(formatAttributeField(tok));
      else if (Array.isArray(tok)) {
        for (const a of tok) {
          if (typeof a !== "string")
            fail(at, `expected attribute names (strings), got ${describe(a)}`);
          row.push(formatAttributeField(a as string));
        }
      } else if (tok !== null && typeof tok === "object") {
        for (const [a, v] of Object.entries(tok)) {
          if (typeof v !== "number" || !Number.isFinite(v))
            fail(at, `expected a finite number for attribute '${a}', got ${describe(v)}`);
          row.push(formatAttributeField(a, v as number));
        }
      } else {
        fail(
          at,
          `expected the token's attributes (an array of names or a record name → value), got ${describe(tok)}`,
        );
      }
      if (labels !== undefined) {
        const l = labels[t];
        if (typeof l !== "string" || l === "")
          fail(at, `expected a non-empty string label, got ${describe(l)}`);
        row[0] = l as string;
      }
      out[t] = row;
    }
    return out;
  }

  /** A training or evaluation sentence as corpus rows (checked). */
  labeled(s: unknown, where: string): SentenceLike {
    if (s === null || typeof s !== "object" || Array.isArray(s))
      return fail(where, `expected { tokens, labels } (or a corpus sentence), got ${describe(s)}`);
    const o = s as Record<string, unknown>;
    if ("labels" in o) {
      if (!Array.isArray(o.labels))
        fail(where, `expected labels to be an array of strings, got ${describe(o.labels)}`);
      return { tokens: this.rows(o.tokens, where, o.labels as string[]) };
    }
    if (!Array.isArray(o.tokens) || o.tokens.some((r) => !Array.isArray(r)))
      return fail(
        where,
        "expected { tokens, labels } or a corpus sentence { tokens: string[][] } (rows of columns)",
      );
    return o as unknown as SentenceLike;
  }

  /** Many labeled sentences, each checked (errors say which sentence and token). */
  labeledAll(data: unknown, what: string): SentenceLike[] {
    if (!Array.isArray(data))
      return fail(what, `expected an array of sentences, got ${describe(data)}`);
    return data.map((s, i) => this.labeled(s, `${what} sentence ${i}`));
  }
}

/**
 * Is `x` a list of sentences rather than one sentence? A list's elements are
 * arrays; one sentence's tokens are strings or records. (So a sentence whose
 * tokens are column arrays goes to `predict` inside a list.)
 */
export function isSentenceList(x: unknown): x is readonly TokenSentence[] {
  return Array.isArray(x) && x.length > 0 && Array.isArray(x[0]);
}
