import { NadirError } from "../core/errors.ts";
import { gunzip, isGzip } from "../core/gzip.ts";
import { readFileBytes } from "../core/host.ts";
import { specFile } from "../core/shipped.ts";
import type { AmbiguityTable, DerivedFn, LookupTable, WordsTable } from "./columns.ts";
import { beginsWord } from "./labels.ts";
import { type GraphSpec, parseSpec } from "./spec.ts";

/**
 * The tables of the table functions of derived columns (columns.ts):
 * `lookup(src, FILE, n)` reads FILE (word<TAB>v1<TAB>v2…, gzip or text) when
 * training starts; `ambiguity(src, k)` counts the training data — for each
 * word w (the value of src) with n(w) ≥ 2 occurrences, the sorted set of
 * labels y with n(w, y) ≥ 0.05·n(w); training sentence i reads the table
 * counted without the sentences j ≡ i (mod k) (a jackknife: its own labels
 * never enter its class, so training attributes look like test ones), dev,
 * test and tagging read the table of the whole training set. Both tables
 * travel in the model file (`tablesState` / `restoreTables`): the whole
 * lookup file (every word of it: an unseen test word keeps its value), the
 * full ambiguity table. `words(src, k, m)` (a context column) counts the
 * words the training labels delimit, jackknifed the same way; the model
 * keeps the whole training set's counts.
 */

/**
 * The value of a (base or derived) column for a token: its base field through
 * the derived functions. A context column (ngram, words) in the chain is read
 * from the values the feature extractor gave the token's row when it encoded
 * its sentence (E_ARG if it has not: its value depends on the neighbours).
 */
export function columnReader(
  spec: GraphSpec,
  column: string,
  digits = false,
): (tok: readonly string[]) => string {
  const chain: DerivedFn[] = [];
  let name = column;
  for (let guard = 0; guard < 64; guard++) {
    const base = spec.columns[name];
    const d = base === undefined ? spec.derived.find((q) => q.name === name) : undefined;
    if (base !== undefined || d?.context !== undefined) {
      const fns = chain.reverse();
      const memo = d?.context?.memo;
      const ctx = name;
      const first =
        memo === undefined
          ? (tok: readonly string[]) => tok[base!] ?? ""
          : (tok: readonly string[]) => {
              const v = memo.get(tok);
              if (v === undefined)
                throw new NadirError(
                  "E_ARG",
                  `column '${ctx}' depends on the sentence: encode the sentence (FeatureExtractor.extract) before reading it`,
                );
              return v;
            };
      return (tok) => {
        let s = first(tok);
        for (let i = 0; i < fns.length; i++) s = fns[i]!(s);
        return digits ? s.replace(/[0-9]/g, "0") : s;
      };
    }
    if (d === undefined)
      throw new NadirError("E_SPEC", `column '${column}': unknown column '${name}'`);
    chain.push(d.fn);
    name = d.source;
  }
  throw new NadirError("E_SPEC", `column '${column}': derived columns form a cycle`);
}

/** Parse `word<TAB>v1<TAB>v2…` lines into word → [v1, v2, …]; `name` for file:line errors. */
export function parseLookupText(text: string, name: string, field: number): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "") continue;
    const f = line.split("\t");
    if (f.length < field + 1)
      throw new NadirError(
        "E_PARSE",
        `${name}:${i + 1}: expected a word and at least ${field} tab-separated field(s), got ${f.length - 1}`,
      );
    if (!rows.has(f[0]!)) rows.set(f[0]!, f.slice(1));
  }
  return rows;
}

function lookupTables(spec: GraphSpec): LookupTable[] {
  const out: LookupTable[] = [];
  for (const d of spec.derived) if (d.table?.kind === "lookup") out.push(d.table);
  return out;
}

function ambiguityTables(spec: GraphSpec): { name: string; source: string; t: AmbiguityTable }[] {
  const out: { name: string; source: string; t: AmbiguityTable }[] = [];
  for (const d of spec.derived)
    if (d.table?.kind === "ambiguity") out.push({ name: d.name, source: d.source, t: d.table });
  return out;
}

function wordsTables(spec: GraphSpec): { name: string; source: string; t: WordsTable }[] {
  const out: { name: string; source: string; t: WordsTable }[] = [];
  for (const d of spec.derived)
    if (d.table?.kind === "words") out.push({ name: d.name, source: d.source, t: d.table });
  return out;
}

/** Does the spec have derived columns whose table comes from the training data? */
export function needsTrainingTables(spec: GraphSpec): boolean {
  return ambiguityTables(spec).length > 0 || wordsTables(spec).length > 0;
}

/** Does the spec have table functions at all (lookup or ambiguity)? */
export function hasTables(spec: GraphSpec): boolean {
  return spec.derived.some((d) => d.table !== undefined);
}

/**
 * Read the files of the spec's lookup columns (each file once), from the
 * granted directories `dirs` or the package (`specFile`: a spec decides no
 * path of its own); a table already bound (a spec carried over from a model)
 * is kept.
 */
export function bindLookups(spec: GraphSpec, dirs: readonly string[] = []): void {
  const byFile = new Map<string, Map<string, string[]>>();
  for (const t of lookupTables(spec)) {
    if (t.rows !== null) continue;
    let rows = byFile.get(t.file);
    if (rows === undefined) {
      const path = specFile(t.file, "lookup file (a spec's derived lookup)", dirs);
      const bytes = readFileBytes(path);
      const text = new TextDecoder().decode(isGzip(bytes) ? gunzip(bytes) : bytes);
      rows = parseLookupText(text, path, 1);
      byFile.set(t.file, rows);
    }
    t.rows = checkedField(t, rows);
  }
}

/** The rows, once their first line has the field the lookup column reads (shorter later lines read as missing). */
function checkedField(t: LookupTable, rows: Map<string, string[]>): Map<string, string[]> {
  for (const [w, f] of rows) {
    if (f.length < t.field)
      throw new NadirError(
        "E_PARSE",
        `${t.file}: word '${w}' has ${f.length} field(s), lookup asks for field ${t.field}`,
      );
    break;
  }
  return rows;
}

/** The label of a token under the spec (negative index: from the end). */
function labelAt(tok: readonly string[], label: number): string {
  return (label < 0 ? tok[tok.length + label] : tok[label]) ?? "";
}

/** word → sorted label set ("A|B"), words with ≥ 2 occurrences, labels with ≥ 5% of them. */
function classes(counts: Map<string, Map<string, number>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [w, c] of counts) {
    let n = 0;
    for (const v of c.values()) n += v;
    if (n < 2) continue;
    const tags: string[] = [];
    for (const [y, v] of c) if (v >= 0.05 * n) tags.push(y);
    out.set(w, tags.sort().join("|"));
  }
  return out;
}

/**
 * The words a sentence's labels delimit, as the joined values of `read`;
 * a word begins where {@link beginsWord} says, as in word segmentation's
 * scorer.
 */
export function labelWords(
  tokens: readonly (readonly string[])[],
  read: (tok: readonly string[]) => string,
  label: number,
): string[] {
  const out: string[] = [];
  let w = "";
  let prev: string | null = null;
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    const l = labelAt(tok, label);
    if (t > 0 && beginsWord(prev, l)) {
      out.push(w);
      w = "";
    }
    w += read(tok);
    prev = l;
  }
  if (tokens.length > 0) out.push(w);
  return out;
}

/**
 * Count the training-data tables — ambiguity classes and word dictionaries —
 * from the training sentences, in the order the training set will hold them
 * (empty sentences are skipped, as the training set skips them): sentence i
 * belongs to fold i mod k.
 */
export function fitTrainingTables(
  spec: GraphSpec,
  sentences: readonly { tokens: readonly (readonly string[])[] }[],
): void {
  for (const { source, t } of wordsTables(spec)) {
    const read = columnReader(spec, source);
    const perFold = Array.from({ length: t.folds }, () => new Map<string, number>());
    const full = new Map<string, number>();
    let i = 0;
    for (const s of sentences) {
      if (s.tokens.length === 0) continue;
      const own = perFold[i++ % t.folds]!;
      for (const w of labelWords(s.tokens, read, spec.label)) {
        const n = Array.from(w).length;
        if (n < 2 || n > t.maxLen) continue;
        own.set(w, (own.get(w) ?? 0) + 1);
        full.set(w, (full.get(w) ?? 0) + 1);
      }
    }
    t.full = full;
    t.perFold = perFold;
    t.fold = -1;
  }
  for (const { source, t } of ambiguityTables(spec)) {
    const read = columnReader(spec, source);
    const k = t.folds;
    const perFold = Array.from({ length: k }, () => new Map<string, Map<string, number>>());
    const all = new Map<string, Map<string, number>>();
    let i = 0;
    for (const s of sentences) {
      if (s.tokens.length === 0) continue;
      const f = i++ % k;
      for (const tok of s.tokens) addN(perFold[f]!, read(tok), labelAt(tok, spec.label), 1);
    }
    // complement of fold f: every fold but f (the counts of f subtracted from the total)
    for (const m of perFold) for (const [w, c] of m) for (const [y, v] of c) addN(all, w, y, v);
    t.full = classes(all);
    t.perFold = perFold.map((m) => {
      const rest = new Map<string, Map<string, number>>();
      for (const [w, c] of all) {
        const own = m.get(w);
        const r = new Map<string, number>();
        for (const [y, v] of c) {
          const left = v - (own?.get(y) ?? 0);
          if (left > 0) r.set(y, left);
        }
        if (r.size > 0) rest.set(w, r);
      }
      return classes(rest);
    });
    t.fold = -1;
  }
}

function addN(m: Map<string, Map<string, number>>, w: string, y: string, n: number): void {
  let c = m.get(w);
  if (c === undefined) {
    c = new Map();
    m.set(w, c);
  }
  c.set(y, (c.get(y) ?? 0) + n);
}

/**
 * Jackknife: the ambiguity columns read the table of training sentence i's
 * fold complement (i mod k); i < 0: the full table (dev, test, tagging).
 */
export function setFold(spec: GraphSpec, i: number): void {
  for (const d of spec.derived) {
    const t = d.table;
    if (t?.kind === "ambiguity" || t?.kind === "words")
      t.fold = i < 0 || t.perFold === null ? -1 : i % t.folds;
  }
}

/**
 * Sentences as an iterable that sets each one's fold before handing it out
 * (and the full table after the last): for code that reads column values of
 * the training sentences in order (a network's vocabularies and inputs).
 */
export function jackknifed<S>(spec: GraphSpec, sentences: readonly S[]): Iterable<S> {
  if (!needsTrainingTables(spec)) return sentences;
  return {
    *[Symbol.iterator]() {
      try {
        for (let i = 0; i < sentences.length; i++) {
          setFold(spec, i);
          yield sentences[i]!;
        }
      } finally {
        setFold(spec, -1);
      }
    },
  };
}

/** What a model file keeps of the tables: per lookup file its lines, per ambiguity column its full table. */
export interface TablesState {
  lookups: Record<string, string>;
  ambiguity: Record<string, string>;
  /** per words column, its dictionary's `word<TAB>count` lines (absent: no words column) */
  words?: Record<string, string>;
}

function lines(rows: Map<string, string[] | string | number>): string {
  const out: string[] = [];
  for (const [w, v] of rows) out.push(`${w}\t${Array.isArray(v) ? v.join("\t") : v}`);
  return out.join("\n");
}

/** The spec's bound tables for a model header (null: the spec has no table function). */
export function tablesState(spec: GraphSpec): TablesState | null {
  if (!hasTables(spec)) return null;
  const st: TablesState = { lookups: {}, ambiguity: {} };
  for (const d of spec.derived) {
    const t = d.table;
    if (t === undefined) continue;
    if (t.kind === "lookup") {
      if (t.rows === null)
        throw new NadirError("E_SPEC", `derived column '${d.name}': its lookup table is not read`);
      st.lookups[t.file] ??= lines(t.rows);
    } else if (t.kind === "words") {
      if (t.full === null)
        throw new NadirError("E_SPEC", `derived column '${d.name}': its dictionary is not counted`);
      st.words ??= {};
      st.words[d.name] = lines(t.full);
    } else {
      if (t.full === null)
        throw new NadirError(
          "E_SPEC",
          `derived column '${d.name}': its ambiguity table is not counted`,
        );
      st.ambiguity[d.name] = lines(t.full);
    }
  }
  return st;
}

/** Bind a model header's tables to the spec parsed from the same header; `bad` reports a broken header. */
export function restoreTables(spec: GraphSpec, raw: unknown, bad: (msg: string) => never): void {
  if (!hasTables(spec)) return;
  if (typeof raw !== "object" || raw === null) bad("the spec's table columns have no tables");
  const st = raw as Partial<TablesState>;
  const byFile = new Map<string, Map<string, string[]>>(); // a file read by several columns: parsed once
  for (const d of spec.derived) {
    const t = d.table;
    if (t === undefined) continue;
    if (t.kind === "lookup") {
      let rows = byFile.get(t.file);
      if (rows === undefined) {
        const text = st.lookups?.[t.file];
        if (typeof text !== "string") bad(`no lookup table for '${t.file}' (column ${d.name})`);
        rows = parseLookupText(text, `model table ${t.file}`, 1);
        byFile.set(t.file, rows);
      }
      t.rows = checkedField(t, rows);
    } else if (t.kind === "words") {
      const text = st.words?.[d.name];
      if (typeof text !== "string") bad(`no dictionary for column ${d.name}`);
      const full = new Map<string, number>();
      for (const [w, v] of parseLookupText(text, `model table ${d.name}`, 1)) {
        const n = Number(v[0]);
        if (!Number.isInteger(n) || n < 1)
          bad(`dictionary of ${d.name}: word '${w}' has count '${v[0]}'`);
        full.set(w, n);
      }
      t.full = full;
      t.perFold = null;
      t.fold = -1;
    } else {
      const text = st.ambiguity?.[d.name];
      if (typeof text !== "string") bad(`no ambiguity table for column ${d.name}`);
      const full = new Map<string, string>();
      for (const [w, v] of parseLookupText(text, `model table ${d.name}`, 1)) full.set(w, v[0]!);
      t.full = full;
      t.perFold = null;
      t.fold = -1;
    }
  }
}

/**
 * A copy of the spec whose table columns have tables of their own (parsed
 * again from its source), so that training binds and counts them without
 * changing a model that shares the caller's spec; lookup tables already read
 * are shared (they are never written).
 */
export function withOwnTables(spec: GraphSpec): GraphSpec {
  if (!hasTables(spec)) return spec;
  const copy = parseSpec(spec.source, spec.name);
  for (let i = 0; i < copy.derived.length; i++) {
    const a = spec.derived[i]?.table;
    const b = copy.derived[i]!.table;
    if (a?.kind === "lookup" && b?.kind === "lookup" && a.file === b.file) b.rows = a.rows;
  }
  return copy;
}
