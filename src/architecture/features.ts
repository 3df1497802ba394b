import { NadirError } from "../core/errors.ts";
import { parseAttributeField } from "../data/crfsuite-attributes.ts";
import { TupleTable } from "./attribute-table.ts";
import type { AmbiguityTable, ContextColumn } from "./columns.ts";
import { setFold } from "./derived-tables.ts";
import { NameTable } from "./name-table.ts";
import type { GraphSpec } from "./spec.ts";

/**
 * X of one sequence after feature extraction: the attributes active at each
 * position, in CSR form — position t owns attrs[offsets[t] .. offsets[t+1]).
 * `labels` holds the gold labeling (−1 where the label is unknown to the model).
 */
export interface Instance {
  T: number;
  offsets: Int32Array;
  attrs: Int32Array;
  /**
   * Real attribute values parallel to `attrs` (CRFsuite's `attr:value`): the
   * state term is value × weight. Absent: every value is 1 (the fast path).
   */
  values?: Float64Array;
  labels: Int32Array;
  /** skip-chain only: pairs (i, j), i < j, of positions joined by a skip factor, flat */
  skips?: Int32Array;
}

/**
 * Skip edges of a sentence (Sutton & McCallum): each occurrence of a word is
 * joined to its next occurrence, for words that are capitalized (when asked)
 * and within `maxDistance` tokens.
 */
export function skipEdges(
  tokens: readonly (readonly string[])[],
  column: number,
  capitalized: boolean,
  maxDistance: number,
): Int32Array {
  const last = new Map<string, number>();
  const out: number[] = [];
  for (let t = 0; t < tokens.length; t++) {
    const w = tokens[t]![column]!;
    if (capitalized) {
      const c = w.charAt(0);
      if (c === c.toLowerCase() || c !== c.toUpperCase()) continue;
    }
    const i = last.get(w);
    if (i !== undefined && t - i <= maxDistance) out.push(i, t);
    last.set(w, t);
  }
  return Int32Array.from(out);
}

/**
 * A copy of `s` that does not keep the string it was cut from alive. Corpus
 * fields are slices of the 64 KiB chunks the reader decodes; a dictionary that
 * kept them would keep every chunk a new name came from — nearly the whole
 * file (a 67 MB CRFsuite data file stayed resident through training). Only
 * new names are copied, once.
 */
function own(s: string): string {
  // the concatenation is flattened into a fresh string before slicing
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

/** A string ↔ id table (labels, column values). Ids are dense from 0. */
export class Dictionary {
  readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** Id of `s`, adding it if new. */
  add(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(s, id);
      this.names.push(s);
    }
    return id;
  }

  /**
   * The same for a field cut from corpus text: a new name is stored as a copy
   * (see `own`). Names from a model file are whole strings already (`add`).
   */
  addField(s: string): number {
    const id = this.ids.get(s);
    return id === undefined ? this.add(own(s)) : id;
  }

  /** Id of `s`, or −1. */
  get(s: string): number {
    const id = this.ids.get(s);
    return id === undefined ? -1 : id;
  }

  static from(names: readonly string[]): Dictionary {
    const d = new Dictionary();
    for (const n of names) d.add(n);
    return d;
  }
}

/** Value id of a position outside the sentence: −2d before it, −2d−1 after it (d ≥ 1). */
const UNKNOWN = -0x7fffffff;

interface Slot {
  name: string;
  /** index into the token's columns (base), or −1 (derived) */
  index: number;
  /** slot of the source column (derived), or −1 */
  from: number;
  fn: ((s: string) => string) | null;
  vocab: Dictionary;
  /** derived only: id of fn(value) for each value id of the source slot (−2: not computed yet) */
  cache: Int32Array;
  /** ambiguity columns: the jackknife table (its value depends on the fold), else null */
  folded: AmbiguityTable | null;
  /** ambiguity columns: one cache per fold + 1 (index 0: the full table); `cache` is caches[cacheFold + 1] */
  caches: Int32Array[];
  cacheFold: number;
  /** context columns (ngram, words): the sentence function, else null */
  context: ContextColumn | null;
}

interface TemplatePlan {
  name: string;
  slots: Int32Array;
  offsets: Int32Array;
  minOff: number;
  maxOff: number;
}

/** What a model file keeps of an extractor: column vocabularies and attribute tuples. */
export interface ExtractorState {
  vocabs: string[][];
  stride: number;
  keys: number[] | Int32Array;
  /**
   * Given attributes (CRFsuite format): the names as NameTable.encode writes
   * them (UTF-8, one after another), instead of one vocabulary of strings
   * and keys 0…n−1 — what a model file stores (no JSON string per name).
   */
  names?: { text: Uint8Array; start: Int32Array };
}

/**
 * Turns token columns into attribute ids following a spec's templates.
 *
 * Every column value (base or derived) is interned once to an integer id;
 * derived values are cached per source value, so `lower(w)` or `suffix(w,3)`
 * is computed once per distinct word, not per token. An attribute is the
 * integer tuple (template, value ids…), looked up in a {@link TupleTable};
 * its name (`w[-1]|w[0]=He|said`, as CRFsuite writes it) is only built on
 * demand. Template windows reaching outside the sentence are skipped or
 * padded (`__BOS-1__`, `__EOS+1__`) per the spec; `__BOS__`/`__EOS__` mark
 * the first and last positions when the spec asks for them.
 */
export class FeatureExtractor {
  readonly spec: GraphSpec;
  private readonly slots: Slot[] = [];
  private readonly templates: TemplatePlan[] = [];
  /** Minimum number of columns a token line must have (features only). */
  readonly minColumns: number;
  private table: TupleTable;
  private readonly stride: number;
  private ids = new Int32Array(0); // slot × T value ids of the current sentence
  private key: Int32Array;
  private buf = new Int32Array(1 << 12);
  private strings: string[][] = [];
  /**
   * Per unigram template: attribute id by value id (−2: not looked up yet,
   * −1: no such attribute); cleared whenever attribute ids change.
   */
  private unigram: Int32Array[] = [];
  /**
   * `"format": "crfsuite"` specs: the attributes are given (a row is the
   * label, then `name[:value]` fields); names ↔ ids here, no templates.
   */
  private raw: NameTable | null;
  /** Numeric columns: the slot's column index and the offset of each (spec.numeric). */
  private readonly numCol: Int32Array;
  private readonly numOff: Int32Array;
  /** Positions in `buf` of numeric attributes and their values, for the current sentence. */
  private numAt: number[] = [];
  private numVal: number[] = [];

  constructor(spec: GraphSpec, state?: ExtractorState) {
    this.spec = spec;
    this.raw = spec.format === "crfsuite" ? new NameTable() : null;
    const bySlot = new Map<string, number>();
    let minCols = 0;
    for (const [name, index] of Object.entries(spec.columns)) {
      bySlot.set(name, this.slots.length);
      this.slots.push({
        name,
        index,
        from: -1,
        fn: null,
        vocab: new Dictionary(),
        cache: new Int32Array(0),
        folded: null,
        caches: [],
        cacheFold: -1,
        context: null,
      });
      if (index >= 0) minCols = Math.max(minCols, index + 1);
    }
    for (const d of spec.derived) {
      const from = bySlot.get(d.source);
      if (from === undefined)
        throw new NadirError("E_SPEC", `derived column '${d.name}': unknown column '${d.source}'`);
      bySlot.set(d.name, this.slots.length);
      this.slots.push({
        name: d.name,
        index: -1,
        from,
        fn: d.fn,
        vocab: new Dictionary(),
        cache: new Int32Array(0),
        folded: d.table?.kind === "ambiguity" ? d.table : null,
        caches: [],
        cacheFold: -1,
        context: d.context ?? null,
      });
    }
    this.numCol = Int32Array.from(spec.numeric ?? [], (q) => spec.columns[q.column]!);
    this.numOff = Int32Array.from(spec.numeric ?? [], (q) => q.offset);
    for (let i = 0; i < this.numCol.length; i++) minCols = Math.max(minCols, this.numCol[i]! + 1);
    this.minColumns = this.raw ? 1 : minCols;
    let maxParts = 0;
    for (const t of spec.templates) {
      const slots = new Int32Array(t.parts.length);
      const offsets = new Int32Array(t.parts.length);
      let minOff = 0;
      let maxOff = 0;
      t.parts.forEach((p, i) => {
        const s = bySlot.get(p.column);
        if (s === undefined)
          throw new NadirError("E_SPEC", `template '${t.name}': unknown column '${p.column}'`);
        slots[i] = s;
        offsets[i] = p.offset;
        minOff = Math.min(minOff, p.offset);
        maxOff = Math.max(maxOff, p.offset);
      });
      maxParts = Math.max(maxParts, t.parts.length);
      this.templates.push({ name: t.name, slots, offsets, minOff, maxOff });
    }
    this.stride = 1 + maxParts;
    this.key = new Int32Array(this.stride);
    this.table = new TupleTable(this.stride, 1 << 16);
    this.strings = this.slots.map(() => []);
    this.unigram = this.templates.map(() => new Int32Array(0));
    if (state) this.restore(state);
  }

  /** Number of distinct attributes known. */
  get numAttributes(): number {
    return this.raw ? this.raw.size : this.table.size;
  }

  /** Id of value `s` in a slot, or UNKNOWN; `grow` adds it. Derived slots follow through the cache. */
  private valueId(slot: number, s: string, grow: boolean): number {
    const v = this.slots[slot]!.vocab;
    const id = v.ids.get(s);
    if (id !== undefined) return id;
    return grow ? v.addField(s) : UNKNOWN;
  }

  /** Derived value id from the source value id (cached) or, for unknown sources, from the string. */
  private derivedId(slot: Slot, srcId: number, srcString: string, grow: boolean): number {
    if (srcId >= 0) {
      if (srcId >= slot.cache.length) {
        const grown = new Int32Array(Math.max(64, srcId * 2 + 2)).fill(-2);
        grown.set(slot.cache);
        slot.cache = grown;
      }
      const c = slot.cache[srcId]!;
      if (c !== -2) return c;
      const id = this.vocabLookup(slot, slot.fn!(srcString), grow);
      // only cache definite answers: a frozen miss may become known after growth
      if (id !== UNKNOWN) slot.cache[srcId] = id;
      return id;
    }
    return this.vocabLookup(slot, slot.fn!(srcString), grow);
  }

  private vocabLookup(slot: Slot, s: string, grow: boolean): number {
    const id = slot.vocab.ids.get(s);
    if (id !== undefined) return id;
    return grow ? slot.vocab.addField(s) : UNKNOWN;
  }

  /** Intern every slot's values for one sentence into this.ids (slot-major, T per slot). */
  private fillIds(tokens: readonly (readonly string[])[], grow: boolean): void {
    const T = tokens.length;
    const nSlots = this.slots.length;
    if (this.ids.length < nSlots * T)
      this.ids = new Int32Array(Math.max(nSlots * T, this.ids.length * 2));
    const ids = this.ids;
    // each slot's values as strings, needed to derive from values the vocabulary lacks
    const strings = this.strings;
    for (let s = 0; s < nSlots; s++) {
      const slot = this.slots[s]!;
      const row = s * T;
      const str = strings[s]!;
      str.length = T;
      if (slot.folded !== null && slot.folded.fold !== slot.cacheFold) {
        // another jackknife fold: its own value cache
        slot.caches[slot.cacheFold + 1] = slot.cache;
        slot.cacheFold = slot.folded.fold;
        slot.cache = slot.caches[slot.cacheFold + 1] ?? new Int32Array(0);
      }
      if (slot.context !== null) {
        // a context column: the sentence's values at once, kept per token row for per-token readers
        const vals = slot.context.of(strings[slot.from]!);
        const memo = slot.context.memo;
        for (let t = 0; t < T; t++) {
          const v = vals[t]!;
          str[t] = v;
          ids[row + t] = this.vocabLookup(slot, v, grow);
          memo.set(tokens[t]!, v);
        }
      } else if (slot.fn === null) {
        for (let t = 0; t < T; t++) {
          const v = tokens[t]![slot.index]!;
          str[t] = v;
          ids[row + t] = this.valueId(s, v, grow);
        }
      } else {
        const srcRow = slot.from * T;
        const srcStr = strings[slot.from]!;
        for (let t = 0; t < T; t++) {
          const srcId = ids[srcRow + t]!;
          const src = srcStr[t]!;
          const id = this.derivedId(slot, srcId, src, grow);
          ids[row + t] = id;
          // derived-of-derived needs the string only when the id chain breaks
          str[t] =
            id === UNKNOWN || slot.fn === null ? slot.fn!(src) : (slot.vocab.names[id] as string);
        }
      }
    }
  }

  /**
   * Attribute ids of a sentence in CSR form. `grow`: add new attributes (and
   * values) to the tables; otherwise unknown attributes are dropped.
   */
  extract(
    tokens: readonly (readonly string[])[],
    grow: boolean,
  ): { offsets: Int32Array; attrs: Int32Array; values?: Float64Array } {
    const T = tokens.length;
    const offsets = new Int32Array(T + 1);
    if (T === 0) return { offsets, attrs: new Int32Array(0) };
    if (this.raw) return this.extractRaw(tokens, grow, offsets);
    this.fillIds(tokens, grow);
    const ids = this.ids;
    const pad = this.spec.outside === "pad";
    const boundary = this.spec.boundary;
    const tpls = this.templates;
    const nT = tpls.length;
    const key = this.key;
    const stride = this.stride;
    const table = this.table;
    const nNum = this.numCol.length;
    const need = T * (nT + 2 + nNum);
    this.numAt.length = 0;
    this.numVal.length = 0;
    if (this.buf.length < need) this.buf = new Int32Array(Math.max(need, this.buf.length * 2));
    const buf = this.buf;
    let n = 0;
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < nT; k++) {
        const tp = tpls[k]!;
        const parts = tp.slots.length;
        if (!pad && (t + tp.minOff < 0 || t + tp.maxOff >= T)) continue;
        if (parts === 1) {
          // unigram templates: attribute id straight from the value id (dense cache, no hashing)
          const j = t + tp.offsets[0]!;
          if (j >= 0 && j < T) {
            const v = ids[tp.slots[0]! * T + j]!;
            if (v === UNKNOWN) continue;
            let cache = this.unigram[k]!;
            if (v >= cache.length) {
              const grown = new Int32Array(Math.max(64, v * 2 + 2)).fill(-2);
              grown.set(cache);
              cache = grown;
              this.unigram[k] = cache;
            }
            let id = cache[v]!;
            if (id === -2 || (id === -1 && grow)) {
              key[0] = k;
              key[1] = v;
              for (let i = 2; i < stride; i++) key[i] = 0;
              id = grow ? table.add(key) : table.get(key);
              cache[v] = id;
            }
            if (id >= 0) buf[n++] = id;
            continue;
          }
        }
        key[0] = k;
        let known = true;
        for (let i = 0; i < parts; i++) {
          const j = t + tp.offsets[i]!;
          let v: number;
          if (j < 0) v = 2 * j;
          else if (j >= T) v = -2 * (j - T + 1) - 1;
          else v = ids[tp.slots[i]! * T + j]!;
          if (v === UNKNOWN) {
            known = false;
            break;
          }
          key[i + 1] = v;
        }
        if (!known) continue;
        for (let i = parts + 1; i < stride; i++) key[i] = 0;
        const id = grow ? table.add(key) : table.get(key);
        if (id >= 0) buf[n++] = id;
      }
      if (boundary && (t === 0 || t === T - 1)) {
        key.fill(0);
        if (t === 0) {
          key[0] = nT;
          const id = grow ? table.add(key) : table.get(key);
          if (id >= 0) buf[n++] = id;
        }
        if (t === T - 1) {
          key[0] = nT + 1;
          const id = grow ? table.add(key) : table.get(key);
          if (id >= 0) buf[n++] = id;
        }
      }
      if (nNum > 0) n = this.numericAt(tokens, t, nT, n, grow);
      offsets[t + 1] = n;
    }
    if (nNum === 0) return { offsets, attrs: buf.slice(0, n) };
    const values = new Float64Array(n).fill(1);
    for (let i = 0; i < this.numAt.length; i++) values[this.numAt[i]!] = this.numVal[i]!;
    return { offsets, attrs: buf.slice(0, n), values };
  }

  /**
   * The numeric attributes of position t, written at buf[n…]: one per
   * numeric column whose offset stays inside the sentence, valued by the
   * column's number (checked at the boundary by `checkNumeric`).
   */
  private numericAt(
    tokens: readonly (readonly string[])[],
    t: number,
    nT: number,
    n: number,
    grow: boolean,
  ): number {
    const key = this.key;
    const T = tokens.length;
    for (let i = 0; i < this.numCol.length; i++) {
      const j = t + this.numOff[i]!;
      if (j < 0 || j >= T) continue;
      const v = Number(tokens[j]![this.numCol[i]!]);
      if (!Number.isFinite(v)) {
        throw new NadirError(
          "E_PARSE",
          `numeric column '${this.spec.numeric[i]!.column}' of token ${j + 1}: expected a finite number, got '${tokens[j]![this.numCol[i]!]}'`,
        );
      }
      key.fill(0);
      key[0] = nT + 2 + i;
      const id = grow ? this.table.add(key) : this.table.get(key);
      if (id < 0) continue;
      this.numAt.push(n);
      this.numVal.push(v);
      this.buf[n++] = id;
    }
    return n;
  }

  /**
   * Given attributes (crfsuite format): fields 1… of each row are
   * `name[:value]`; values are kept only when one differs from 1.
   */
  /**
   * Attributes of CRFsuite rows: every field after the label is
   * `name[:value]`, and a field may itself hold several tab-separated fields
   * (the corpus reader keeps a row's attributes as one string). Plain names
   * are hashed and looked up in place (no string per field); a field with
   * `:` or `\\` goes through parseAttributeField.
   */
  private extractRaw(
    tokens: readonly (readonly string[])[],
    grow: boolean,
    offsets: Int32Array,
  ): { offsets: Int32Array; attrs: Int32Array; values?: Float64Array } {
    const dict = this.raw!;
    let buf = this.buf;
    if (buf.length < 64) buf = this.buf = new Int32Array(64);
    let values: Float64Array | null = null;
    let n = 0;
    for (let t = 0; t < tokens.length; t++) {
      const row = tokens[t]!;
      for (let i = 1; i < row.length; i++) {
        const f = row[i]!;
        const len = f.length;
        let a = 0;
        while (a < len) {
          // one field: f[a, b), hashed while looking for the tab that ends it
          let h = 0x811c9dc5 | 0;
          let special = false;
          let b = a;
          for (; b < len; b++) {
            const c = f.charCodeAt(b);
            if (c === 9) break;
            if (c === 58 || c === 92) special = true;
            h = Math.imul(h ^ c, 0x01000193);
          }
          if (b > a) {
            let id: number;
            let value = 1;
            if (special) {
              const field = f.slice(a, b);
              const p = parseAttributeField(field);
              if (!Number.isFinite(p.value))
                throw new NadirError(
                  "E_PARSE",
                  `attribute '${field}': expected name:value with a finite value`,
                );
              value = p.value;
              id = grow ? dict.add(p.name) : dict.get(p.name);
            } else id = grow ? dict.addRange(f, a, b, h) : dict.find(f, a, b, h);
            if (id >= 0) {
              if (n === buf.length) {
                const bigger = new Int32Array(2 * n);
                bigger.set(buf);
                buf = this.buf = bigger;
                if (values !== null) {
                  const v = new Float64Array(2 * n).fill(1);
                  v.set(values);
                  values = v;
                }
              }
              if (value !== 1 && values === null) values = new Float64Array(buf.length).fill(1);
              if (values !== null) values[n] = value;
              buf[n++] = id;
            }
          }
          a = b + 1;
        }
      }
      offsets[t + 1] = n;
    }
    const out: { offsets: Int32Array; attrs: Int32Array; values?: Float64Array } = {
      offsets,
      attrs: buf.slice(0, n),
    };
    if (values !== null) out.values = values.slice(0, n);
    return out;
  }

  /** The CRFsuite-style name of an attribute: `w[-1]|w[0]=He|said`, `__BOS__`, `bias`. */
  attributeName(id: number): string {
    if (this.raw) return this.raw.name(id);
    const keys = this.table.keys;
    const base = id * this.stride;
    const k = keys[base]!;
    if (k === this.templates.length) return "__BOS__";
    if (k === this.templates.length + 1) return "__EOS__";
    if (k >= this.templates.length + 2)
      return this.spec.numeric[k - this.templates.length - 2]!.name;
    const tp = this.templates[k]!;
    if (tp.slots.length === 0) return tp.name;
    const vals: string[] = [];
    for (let i = 0; i < tp.slots.length; i++) {
      const v = keys[base + 1 + i]!;
      if (v >= 0) vals.push(this.slots[tp.slots[i]!]!.vocab.names[v]!);
      else if (this.spec.padding === "crfpp")
        vals.push(v % 2 === 0 ? `_B${v / 2}` : `_B+${(-v - 1) / 2}`);
      else if (v % 2 === 0) vals.push(`__BOS${v / 2}__`);
      else vals.push(`__EOS+${(-v - 1) / 2}__`);
    }
    return `${tp.name}=${vals.join("|")}`;
  }

  /**
   * Keep only the attributes `keep` (old ids, increasing), renumbered 0…;
   * returns nothing — instances encoded before must be remapped by the caller.
   */
  retain(keep: ArrayLike<number>): void {
    if (this.raw) {
      this.raw = this.raw.retain(keep);
      return;
    }
    if (keep.length === this.table.size) {
      // a permutation (nothing dropped): renumber in place, no rehashing
      this.table.permute(keep);
      this.unigram = this.templates.map(() => new Int32Array(0));
      return;
    }
    const s = this.stride;
    const old = this.table;
    const next = new TupleTable(s, Math.max(16, keep.length));
    for (let i = 0; i < keep.length; i++) {
      const a = keep[i]!;
      next.add(old.keys.subarray(a * s, a * s + s));
    }
    this.table = next;
    this.unigram = this.templates.map(() => new Int32Array(0));
  }

  /**
   * The vocabularies and attribute tuples a model file needs, for the
   * attributes `keep`. Given attributes come as a UTF-8 name table (`names`)
   * unless `vocab` asks for them as one vocabulary of strings.
   */
  state(keep?: ArrayLike<number>, vocab = false): ExtractorState {
    if (this.raw) {
      const encoded = vocab ? null : this.raw.encode(keep);
      if (encoded) return { vocabs: [], stride: 1, keys: new Int32Array(0), names: encoded };
      // a name UTF-8 cannot carry: one vocabulary (the names), stride 1, key i = i
      const n = keep ? keep.length : this.raw.size;
      const names = new Array<string>(n);
      for (let i = 0; i < n; i++) names[i] = this.raw.name(keep ? keep[i]! : i);
      const keys = new Int32Array(n);
      for (let i = 0; i < n; i++) keys[i] = i;
      return { vocabs: [names], stride: 1, keys };
    }
    const s = this.stride;
    const n = keep ? keep.length : this.table.size;
    const keys = new Int32Array(n * s);
    for (let i = 0; i < n; i++) {
      const a = keep ? keep[i]! : i;
      keys.set(this.table.keys.subarray(a * s, a * s + s), i * s);
    }
    return { vocabs: this.slots.map((sl) => sl.vocab.names), stride: s, keys };
  }

  private restore(st: ExtractorState): void {
    if (this.raw && st.names) {
      if (st.vocabs.length !== 0 || st.stride !== 1 || st.keys.length !== 0)
        throw new NadirError(
          "E_MODEL",
          `attribute names: expected no vocabulary, stride 1 and no keys beside the name table, got ${st.vocabs.length}, ${st.stride} and ${st.keys.length}`,
        );
      try {
        this.raw = NameTable.decode(st.names.text, st.names.start);
      } catch (e) {
        throw new NadirError("E_MODEL", (e as Error).message);
      }
      return;
    }
    if (this.raw) {
      const names = st.vocabs[0];
      if (st.vocabs.length !== 1 || st.stride !== 1 || !Array.isArray(names))
        throw new NadirError(
          "E_MODEL",
          `attribute names: expected one vocabulary and stride 1, got ${st.vocabs.length} and ${st.stride}`,
        );
      this.raw = new NameTable(names.length);
      for (const n of names) {
        if (typeof n !== "string")
          throw new NadirError("E_MODEL", `attribute names: expected strings, got ${typeof n}`);
        this.raw.add(n);
      }
      if (this.raw.size !== names.length)
        throw new NadirError("E_MODEL", "attribute table holds duplicate attributes");
      if (st.keys.length !== names.length)
        throw new NadirError(
          "E_MODEL",
          `attribute table: expected ${names.length} keys, got ${st.keys.length}`,
        );
      return;
    }
    if (st.stride !== this.stride || st.vocabs.length !== this.slots.length) {
      throw new NadirError(
        "E_MODEL",
        `feature tables do not fit the spec: expected ${this.slots.length} columns and stride ${this.stride}, got ${st.vocabs.length} and ${st.stride}`,
      );
    }
    st.vocabs.forEach((names, i) => {
      const slot = this.slots[i]!;
      for (const n of names) slot.vocab.add(n);
    });
    const keys = st.keys;
    const s = this.stride;
    const n = keys.length / s;
    if (!Number.isInteger(n))
      throw new NadirError("E_MODEL", "attribute table size is not a multiple of its stride");
    this.table = new TupleTable(s, Math.max(16, n));
    const key = new Int32Array(s);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < s; j++) key[j] = keys[i * s + j]!;
      this.table.add(key);
    }
    if (this.table.size !== n)
      throw new NadirError("E_MODEL", "attribute table holds duplicate attributes");
  }
}

/** Gold label column of a token: spec.label, negative counting from the end. */
export function labelOf(tok: readonly string[], labelIndex: number): string | undefined {
  return labelIndex < 0 ? tok[tok.length + labelIndex] : tok[labelIndex];
}

export interface TrainingSet {
  labels: Dictionary;
  instances: Instance[];
}

export interface SentenceLike {
  tokens: string[][];
  file?: string;
  firstLine?: number;
  /** Line number of each token when they are not consecutive lines (CoNLL-U). */
  tokenLines?: readonly number[];
}

/** Numeric columns hold finite numbers (E_PARSE at the token's file:line otherwise). */
function checkNumeric(fx: FeatureExtractor, s: SentenceLike): void {
  const numeric = fx.spec.numeric;
  if (numeric === undefined || numeric.length === 0) return;
  for (let t = 0; t < s.tokens.length; t++) {
    for (const q of numeric) {
      const raw = s.tokens[t]![fx.spec.columns[q.column]!];
      if (raw === undefined || raw.trim() === "" || !Number.isFinite(Number(raw))) {
        throw new NadirError(
          "E_PARSE",
          `numeric column '${q.column}': expected a finite number, got '${raw ?? ""}'`,
          {
            file: s.file,
            line: s.tokenLines?.[t] ?? (s.firstLine === undefined ? undefined : s.firstLine + t),
          },
        );
      }
    }
  }
}

function checkColumns(s: SentenceLike, need: number): void {
  for (let t = 0; t < s.tokens.length; t++) {
    const n = s.tokens[t]!.length;
    if (n < need) {
      throw new NadirError("E_PARSE", `expected at least ${need} columns for the spec, got ${n}`, {
        file: s.file,
        line: s.tokenLines?.[t] ?? (s.firstLine === undefined ? undefined : s.firstLine + t),
      });
    }
  }
}

/** Columns a token line needs to carry both the spec's inputs and its gold label. */
export function goldColumns(fx: FeatureExtractor): number {
  const label = fx.spec.label;
  return Math.max(fx.minColumns, label >= 0 ? label + 1 : fx.minColumns - label);
}

/** Check that every token of a gold-labeled sentence has the input and label columns (E_PARSE at file:line). */
export function checkGoldColumns(fx: FeatureExtractor, s: SentenceLike): void {
  checkColumns(s, goldColumns(fx));
}

/**
 * Extract a training set sentence by sentence (`add`), then freeze it
 * (`finish`): a caller that streams a corpus file through `add` never holds
 * the corpus's strings, only the instances' typed arrays — the raw text of a
 * sentence is garbage as soon as it is added. `buildTrainingSet` is the same
 * over an array.
 */
export class TrainingSetBuilder {
  readonly fx: FeatureExtractor;
  readonly labels = new Dictionary();
  readonly instances: Instance[] = [];
  private readonly need: number;
  /** Sentences and tokens added (empty sentences included), for reports. */
  sentences = 0;
  tokens = 0;
  /** Columns of the first token added (the model's input width). */
  nColumns = -1;

  constructor(fx: FeatureExtractor) {
    this.fx = fx;
    const spec = fx.spec;
    this.need = Math.max(
      fx.minColumns,
      spec.label >= 0 ? spec.label + 1 : fx.minColumns - spec.label,
    );
  }

  add(s: SentenceLike): void {
    const { fx, labels } = this;
    const spec = fx.spec;
    this.sentences++;
    checkColumns(s, this.need);
    checkNumeric(fx, s);
    const T = s.tokens.length;
    this.tokens += T;
    if (this.nColumns < 0 && T > 0) this.nColumns = s.tokens[0]!.length;
    if (T === 0) return;
    // ambiguity columns: training sentence i reads the table without its fold (i mod k)
    setFold(spec, this.instances.length);
    const { offsets, attrs, values } = fx.extract(s.tokens, true);
    const y = new Int32Array(T);
    for (let t = 0; t < T; t++) y[t] = labels.add(labelOf(s.tokens[t]!, spec.label)!);
    const x: Instance = { T, offsets, attrs, labels: y };
    if (values) x.values = values;
    this.instances.push(withSkips(spec, s.tokens, x));
  }

  /**
   * Keep attributes seen ≥ minCount times, renumbered by decreasing frequency
   * (ties: first appearance): the hot rows of W then share cache lines.
   */
  finish(): TrainingSet {
    const { fx, instances, labels } = this;
    setFold(fx.spec, -1);
    const counts = new Int32Array(fx.numAttributes);
    for (const x of instances) for (let j = 0; j < x.attrs.length; j++) counts[x.attrs[j]!]!++;
    const keep = byDecreasingCount(counts, fx.spec.minCount);
    const remap = new Int32Array(counts.length).fill(-1);
    for (let i = 0; i < keep.length; i++) remap[keep[i]!] = i;
    fx.retain(keep);
    const all = keep.length === counts.length;
    for (let i = 0; i < instances.length; i++) {
      // nothing dropped: renumber in place (no second copy of every instance)
      const x = instances[i]!;
      if (all) for (let j = 0; j < x.attrs.length; j++) x.attrs[j] = remap[x.attrs[j]!]!;
      else instances[i] = remapInstance(x, remap);
    }
    return { labels, instances };
  }
}

/**
 * The ids with count ≥ minCount, by decreasing count, ties by increasing id:
 * a counting sort (counts are small integers), O(ids + largest count).
 */
export function byDecreasingCount(counts: Int32Array, minCount: number): Int32Array {
  let top = 0;
  let n = 0;
  for (let a = 0; a < counts.length; a++) {
    const c = counts[a]!;
    if (c >= minCount) {
      n++;
      if (c > top) top = c;
    }
  }
  // start[c]: where the ids of count c begin (higher counts first)
  const start = new Int32Array(top + 2);
  for (let a = 0; a < counts.length; a++) {
    const c = counts[a]!;
    if (c >= minCount) start[c]!++;
  }
  let at = 0;
  for (let c = top; c >= 0; c--) {
    const k = start[c]!;
    start[c] = at;
    at += k;
  }
  const out = new Int32Array(n);
  for (let a = 0; a < counts.length; a++) {
    const c = counts[a]!;
    if (c >= minCount) out[start[c]!++] = a;
  }
  return out;
}

/** Extract and freeze the training set of `sentences` (see TrainingSetBuilder). */
export function buildTrainingSet(
  fx: FeatureExtractor,
  sentences: Iterable<SentenceLike>,
): TrainingSet {
  const b = new TrainingSetBuilder(fx);
  for (const s of sentences) b.add(s);
  return b.finish();
}

/** Rewrite attribute ids through `remap` (−1 drops the attribute). */
export function remapInstance(x: Instance, remap: Int32Array): Instance {
  const offsets = new Int32Array(x.T + 1);
  const attrs = new Int32Array(x.attrs.length);
  const xv = x.values;
  const values = xv ? new Float64Array(x.attrs.length) : null;
  let n = 0;
  for (let t = 0; t < x.T; t++) {
    for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++) {
      const a = remap[x.attrs[j]!]!;
      if (a >= 0) {
        if (values) values[n] = xv![j]!;
        attrs[n++] = a;
      }
    }
    offsets[t + 1] = n;
  }
  const out: Instance = {
    T: x.T,
    offsets,
    attrs: attrs.slice(0, n),
    labels: x.labels,
    skips: x.skips,
  };
  if (values) out.values = values.slice(0, n);
  return out;
}

/** Encode a sentence under the frozen tables; gold labels unknown to the model become −1. */
export function encodeSentence(
  fx: FeatureExtractor,
  s: SentenceLike,
  labels: Dictionary,
  withGold: boolean,
): Instance {
  checkColumns(s, fx.minColumns);
  checkNumeric(fx, s);
  const { offsets, attrs, values } = fx.extract(s.tokens, false);
  const T = s.tokens.length;
  const y = new Int32Array(T).fill(-1);
  if (withGold) {
    for (let t = 0; t < T; t++) {
      const l = labelOf(s.tokens[t]!, fx.spec.label);
      if (l !== undefined) y[t] = labels.get(l);
    }
  }
  const x: Instance = { T, offsets, attrs, labels: y };
  if (values) x.values = values;
  return withSkips(fx.spec, s.tokens, x);
}

/** Add the spec's skip edges to an instance (skip-chain specs only). */
function withSkips(spec: GraphSpec, tokens: readonly (readonly string[])[], x: Instance): Instance {
  if (spec.skip === null) return x;
  const col = spec.columns[spec.skip.column]!;
  x.skips = skipEdges(tokens, col, spec.skip.capitalized, spec.skip.maxDistance);
  return x;
}
