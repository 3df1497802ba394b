import { NadirError } from "../core/errors.ts";

/**
 * Derived token columns: functions of one base column, computed once per
 * sentence. Expression syntax in a spec: `lower(w)`, `prefix(w,3)`,
 * `suffix(w,2)`, `shape(w)`, `shortshape(w)`, `caps(w)`, `length(w)`,
 * `digits(w)` (every digit → 0), and two table functions whose table is
 * bound later (derived-tables.ts), then kept in the model file:
 * `lookup(w, FILE, n)` — field n of w's line in a `word<TAB>v1<TAB>v2…`
 * file (gzip or text), `?` for words it lacks — and `ambiguity(w, k)` — the
 * sorted set of labels w carries in the training data (k-fold jackknifed on
 * the training sentences), `?` for words seen fewer than twice.
 *
 * Context columns are functions of the whole sentence's values of the source
 * column (the value at t reads its neighbours): `ngram(c, n)` — the values at
 * t … t+n−1 joined by a space (`</s>` past the end; for characters, the
 * character n-gram starting at t) — and the table function `words(c, k, m)`
 * — for a dictionary of the words (2 … m values long, m = 6 by default) the
 * training labels delimit (B/M/E/S or B/I), k-fold jackknifed like
 * `ambiguity`: `b|e|i`, the length of the longest dictionary word beginning
 * at t, ending at t and holding t strictly inside (0: none). `field(x, n)` is
 * the n-th `|`-separated part of a value (e.g. one of the three lengths).
 */
export type DerivedFn = (s: string) => string;

/** Word shape: each character mapped to X (upper), x (lower), d (digit), or kept. */
export function shape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) out += "X";
    else if (c >= 97 && c <= 122) out += "x";
    else if (c >= 48 && c <= 57) out += "d";
    else {
      const ch = s[i]!;
      const up = ch.toUpperCase();
      const lo = ch.toLowerCase();
      out += up !== lo ? (ch === up ? "X" : "x") : ch;
    }
  }
  return out;
}

/** Shape with runs of the same class collapsed: "McDonald's" → "XxXx'x". */
export function shortShape(s: string): string {
  const full = shape(s);
  let out = "";
  for (let i = 0; i < full.length; i++) {
    const ch = full[i]!;
    if (i === 0 || ch !== full[i - 1]) out += ch;
  }
  return out;
}

/** Capitalization class: lower, init, upper, mixed, digit, other. */
export function caps(s: string): string {
  let up = 0;
  let lo = 0;
  let dig = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) dig++;
    else if (ch !== ch.toLowerCase()) up++;
    else if (ch !== ch.toUpperCase()) lo++;
  }
  if (up === 0 && lo === 0) return dig > 0 ? "digit" : "other";
  if (up === 0) return dig > 0 ? "lower+d" : "lower";
  if (lo === 0) return dig > 0 ? "upper+d" : "upper";
  const first = s[0]!;
  return first !== first.toLowerCase() && up === 1 ? "init" : "mixed";
}

const EXPR = /^([a-z]+)\(\s*([A-Za-z_][\w-]*)\s*(?:,\s*(\d+)\s*)?\)$/;
const LOOKUP = /^lookup\(\s*([A-Za-z_][\w-]*)\s*(?:,\s*([^,()]*?)\s*(?:,\s*([^,()]*?)\s*)?)?\)$/;

/** Missing value of the table functions (a word the table lacks). */
export const MISSING = "?";

/**
 * `lookup(src, file, field)`: `rows` maps a word to its line's fields after
 * the word (bound from the file, or from a model header); null until bound.
 */
export interface LookupTable {
  kind: "lookup";
  file: string;
  /** 1-based field after the word */
  field: number;
  rows: Map<string, string[]> | null;
}

/**
 * `ambiguity(src, k)`: the classes of the whole training set (`full`) and,
 * while a training set is built, of each fold's complement (`perFold[f]`:
 * the sentences i with i mod k ≠ f); `fold` picks the map the function reads
 * (−1: full).
 */
export interface AmbiguityTable {
  kind: "ambiguity";
  folds: number;
  full: Map<string, string> | null;
  perFold: Map<string, string>[] | null;
  fold: number;
}

/**
 * `words(src, k, m)`: the training words' counts (`full`) and, while a
 * training set is built, each fold's own counts (`perFold[f]`: sentences i
 * with i mod k = f); under fold f a word is in the dictionary when it occurs
 * outside fold f (full − own > 0); `fold` −1: the whole training set.
 */
export interface WordsTable {
  kind: "words";
  folds: number;
  /** longest dictionary word, in source values (characters) */
  maxLen: number;
  full: Map<string, number> | null;
  perFold: Map<string, number>[] | null;
  fold: number;
}

/**
 * A context column's sentence function and the value it gave each token row
 * of the sentences encoded so far (`FeatureExtractor.extract` writes them;
 * per-token readers — the network's fields — read them back, so both see the
 * same values, under the same jackknife fold).
 */
export interface ContextColumn {
  /** the values of a sentence from its source column's values (same length) */
  of: (src: readonly string[]) => string[];
  memo: WeakMap<readonly string[], string>;
}

export interface DerivedColumn {
  name: string;
  source: string;
  /** per-value function (a context column's throws: its value needs the sentence) */
  fn: DerivedFn;
  expr: string;
  /** the table functions' table (bound after parsing) */
  table?: LookupTable | AmbiguityTable | WordsTable;
  /** context columns only */
  context?: ContextColumn;
}

function unbound(name: string, expr: string, how: string): never {
  throw new NadirError("E_SPEC", `derived column '${name}' (${expr}) has no table yet: ${how}`);
}

/** `lookup(src, FILE, n)`: the table is read when training starts (see derived-tables.ts). */
function parseLookup(name: string, expr: string, where: string): DerivedColumn {
  const m = LOOKUP.exec(expr.trim());
  const file = m?.[2];
  if (!m || file === undefined || file === "")
    throw new NadirError(
      "E_SPEC",
      `${where}: expected lookup(COLUMN, FILE) or lookup(COLUMN, FILE, FIELD), e.g. lookup(lw, embeddings/en-clusters.txt.gz, 1), got '${expr}'`,
    );
  const fieldStr = m[3] ?? "1";
  const field = Number(fieldStr);
  if (!/^\d+$/.test(fieldStr) || field < 1)
    throw new NadirError(
      "E_SPEC",
      `${where}: lookup's field is the 1-based field after the word, expected an integer ≥ 1, got '${fieldStr}'`,
    );
  const table: LookupTable = { kind: "lookup", file, field, rows: null };
  const fn: DerivedFn = (s) => {
    const rows = table.rows ?? unbound(name, expr, "it is read from the file when training starts");
    return rows.get(s)?.[field - 1] ?? MISSING;
  };
  return { name, source: m[1]!, fn, expr, table };
}

/** `ambiguity(src, k)`: the table is counted from the training data (see derived-tables.ts). */
function ambiguityColumn(name: string, source: string, folds: number, expr: string): DerivedColumn {
  const table: AmbiguityTable = { kind: "ambiguity", folds, full: null, perFold: null, fold: -1 };
  const fn: DerivedFn = (s) => {
    const m =
      table.fold < 0
        ? table.full
        : (table.perFold?.[table.fold] ??
          unbound(name, expr, "its jackknife folds exist only while training"));
    return (
      (m ?? unbound(name, expr, "it is counted from the training data (train a model first)")).get(
        s,
      ) ?? MISSING
    );
  };
  return { name, source, fn, expr, table };
}

/** Marker of n-gram positions past the end of the sentence. */
export const END = "</s>";

/** The n-grams of a sentence's values: values t … t+n−1 joined by a space (END past the end). */
export function ngrams(src: readonly string[], n: number): string[] {
  const T = src.length;
  const out: string[] = new Array(T);
  for (let t = 0; t < T; t++) {
    let v = src[t]!;
    for (let j = 1; j < n; j++) v += ` ${t + j < T ? src[t + j]! : END}`;
    out[t] = v;
  }
  return out;
}

/**
 * The dictionary values `b|e|i` of a sentence's characters: the longest
 * word of 2 … maxLen values for which `has` is true, beginning at t, ending
 * at t, and holding t strictly inside (0: none).
 */
export function dictionaryMatches(
  src: readonly string[],
  maxLen: number,
  has: (w: string) => boolean,
): string[] {
  const T = src.length;
  const b = new Int32Array(T);
  const e = new Int32Array(T);
  const inside = new Int32Array(T);
  for (let i = 0; i < T; i++) {
    let w = src[i]!;
    for (let len = 2; len <= maxLen && i + len <= T; len++) {
      w += src[i + len - 1]!;
      if (!has(w)) continue;
      const end = i + len - 1;
      if (len > b[i]!) b[i] = len;
      if (len > e[end]!) e[end] = len;
      for (let j = i + 1; j < end; j++) if (len > inside[j]!) inside[j] = len;
    }
  }
  const out: string[] = new Array(T);
  for (let t = 0; t < T; t++) out[t] = `${b[t]}|${e[t]}|${inside[t]}`;
  return out;
}

function contextOnly(name: string, expr: string): DerivedFn {
  return () => {
    throw new NadirError(
      "E_SPEC",
      `derived column '${name}' (${expr}) reads the whole sentence: its values come from the feature extractor`,
    );
  };
}

const CONTEXT = /^(ngram|words)\(\s*([A-Za-z_][\w-]*)\s*(?:,\s*(\w+)\s*)?(?:,\s*(\w+)\s*)?\)$/;

function intArg(where: string, what: string, s: string | undefined, dflt: number, min: number) {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < min)
    throw new NadirError("E_SPEC", `${where}: ${what} expected an integer ≥ ${min}, got '${s}'`);
  return n;
}

/** `ngram(src, n)`, `words(src, k, m)`: context columns (values from the whole sentence). */
function parseContext(name: string, expr: string, where: string): DerivedColumn {
  const m = CONTEXT.exec(expr.trim());
  if (!m)
    throw new NadirError(
      "E_SPEC",
      `${where}: expected ngram(COLUMN, N) or words(COLUMN[, FOLDS[, MAXLEN]]), e.g. ngram(c, 2) or words(c, 10, 6), got '${expr}'`,
    );
  const [, op, source, a, b] = m;
  const memo = new WeakMap<readonly string[], string>();
  const fn = contextOnly(name, expr);
  if (op === "ngram") {
    if (b !== undefined)
      throw new NadirError("E_SPEC", `${where}: ngram takes a column and N, got '${expr}'`);
    if (a === undefined)
      throw new NadirError("E_SPEC", `${where}: ngram needs its N, e.g. ngram(${source}, 2)`);
    const n = intArg(where, "ngram's N", a, 2, 2);
    return { name, source: source!, fn, expr, context: { of: (src) => ngrams(src, n), memo } };
  }
  const folds = intArg(where, "words' jackknife folds", a, 10, 2);
  const maxLen = intArg(where, "words' longest word", b, 6, 2);
  const table: WordsTable = { kind: "words", folds, maxLen, full: null, perFold: null, fold: -1 };
  const of = (src: readonly string[]): string[] => {
    const full = table.full ?? unbound(name, expr, "it is counted from the training data");
    const own = table.fold < 0 ? null : (table.perFold?.[table.fold] ?? null);
    const has =
      own === null
        ? (w: string) => full.has(w)
        : (w: string) => (full.get(w) ?? 0) > (own.get(w) ?? 0);
    return dictionaryMatches(src, maxLen, has);
  };
  return { name, source: source!, fn, expr, table, context: { of, memo } };
}

/** Parse `lower(w)` / `suffix(w,3)` into a derived column over `source`. */
export function parseDerived(name: string, expr: string, where: string): DerivedColumn {
  if (/^lookup\s*\(/.test(expr.trim())) return parseLookup(name, expr, where);
  if (/^(ngram|words)\s*\(/.test(expr.trim())) return parseContext(name, expr, where);
  const m = EXPR.exec(expr.trim());
  if (!m) {
    throw new NadirError(
      "E_SPEC",
      `${where}: expected an expression like lower(w) or suffix(w,3), got '${expr}'`,
    );
  }
  const [, op, source, nStr] = m;
  const n = nStr === undefined ? undefined : Number(nStr);
  if (op === "ambiguity") {
    if (n !== undefined && n < 2)
      throw new NadirError(
        "E_SPEC",
        `${where}: ambiguity's jackknife needs ≥ 2 folds, e.g. ambiguity(${source},10), got ${n}`,
      );
    return ambiguityColumn(name, source!, n ?? 10, expr);
  }
  const needN = op === "prefix" || op === "suffix" || op === "field";
  if (needN && (n === undefined || n < 1)) {
    throw new NadirError(
      "E_SPEC",
      `${where}: ${op} needs ${op === "field" ? "a part number" : "a length"} ≥ 1, e.g. ${op}(${source},${op === "field" ? 1 : 3})`,
    );
  }
  if (!needN && n !== undefined)
    throw new NadirError("E_SPEC", `${where}: ${op} takes one argument, got '${expr}'`);
  let fn: DerivedFn;
  switch (op) {
    case "lower":
      fn = (s) => s.toLowerCase();
      break;
    case "upper":
      fn = (s) => s.toUpperCase();
      break;
    case "prefix":
      fn = (s) => (s.length >= n! ? s.slice(0, n) : `${s}~`);
      break;
    case "suffix":
      fn = (s) => (s.length >= n! ? s.slice(s.length - n!) : `~${s}`);
      break;
    case "shape":
      fn = shape;
      break;
    case "shortshape":
      fn = shortShape;
      break;
    case "caps":
      fn = caps;
      break;
    case "length":
      fn = (s) => (s.length > 9 ? "10+" : String(s.length));
      break;
    case "digits":
      fn = (s) => s.replace(/[0-9]/g, "0");
      break;
    case "field":
      fn = (s) => s.split("|")[n! - 1] ?? MISSING;
      break;
    default:
      throw new NadirError(
        "E_SPEC",
        `${where}: unknown function '${op}'; expected one of lower, upper, prefix, suffix, shape, shortshape, caps, length, digits, field, lookup, ambiguity, ngram, words`,
      );
  }
  return { name, source: source!, fn, expr };
}
