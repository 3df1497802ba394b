/**
 * Chunk-level precision / recall / F1 exactly as conlleval (CoNLL-2000)
 * computes them, with the BIOES (S-, E-) extension of the common ports.
 *
 * A tag is "PREFIX-TYPE" (split at the first hyphen; types may contain
 * hyphens) or "O". Between the previous tag (p) and the current one (c):
 * - a chunk ENDS if p ∈ {B,I} and c ∈ {B,O,S}; or p ∈ {E,S}; or p ∉ {O,.}
 *   and the type changes; or p ∈ {[,]};
 * - a chunk STARTS if c ∈ {B,S}; or p ∈ {E,O,S} and c ∈ {E,I}; or c ∉ {O,.}
 *   and the type changes; or c ∈ {[,]}.
 * So `I-X` after `O` or after another type starts a chunk (the IOB1 reading),
 * which is why IOB1 and IOB2 are scored by the same rules; a well-formed
 * BIOES sequence decodes to the same chunks as its BIO form. A guessed chunk
 * is correct when it starts and ends where a gold chunk of the same type
 * does. Sentence boundaries end every chunk. Percentages like conlleval.
 */
import { NadirError } from "../core/errors.ts";
import {
  type CountScore,
  checkCounts,
  checkLabelIds,
  presentByName,
  prf,
  scoreAll,
} from "./pairs.ts";

export type ChunkEncoding = "iob2" | "iob1" | "bioes";

export interface ChunkOptions {
  /**
   * Tag scheme (default "iob2"). All schemes are scored by the same conlleval
   * rules; the scheme says which prefixes are legal: B-, I- and O for
   * iob1/iob2, plus E- and S- for bioes.
   */
  encoding?: ChunkEncoding;
  /**
   * Reject tags outside the scheme (default true). With `strict: false` any
   * tag is scored as conlleval would (bare tags, `[`, `]`, `.`).
   */
  strict?: boolean;
  /** Tag names for `addIds`: label id l is the tag `labels[l]`. */
  labels?: readonly string[];
}

/** Scores of one chunk type (precision/recall/F1 in percent; counts of chunks). */
export type ChunkTypeScore = CountScore;

/** conlleval's figures; accuracy, precision, recall and F1 in percent. */
export interface ChunkReport {
  /** Percentage of tokens whose predicted tag equals the gold tag. */
  accuracy: number;
  tokens: number;
  correctTags: number;
  goldChunks: number;
  predChunks: number;
  correctChunks: number;
  precision: number;
  recall: number;
  f1: number;
  /** Per chunk type, sorted by type name. */
  byType: Record<string, ChunkTypeScore>;
}

/** A chunk: tokens start..end-1 have type `type`. */
export interface Chunk {
  type: string;
  start: number;
  end: number;
}

// Prefix codes.
const P_O = 0;
const P_B = 1;
const P_I = 2;
const P_E = 3;
const P_S = 4;
const P_DOT = 5;
const P_OPEN = 6;
const P_CLOSE = 7;
const P_OTHER = 8;
const NP = 9;

/** END_TAB[p*NP+c] / START_TAB[p*NP+c]: the prefix-only parts of the rules. */
const END_TAB = new Uint8Array(NP * NP);
const START_TAB = new Uint8Array(NP * NP);
/** 1 for prefixes other than O and "." (the type-change rules apply). */
const TYPED = new Uint8Array(NP);
for (let p = 0; p < NP; p++) {
  TYPED[p] = p === P_O || p === P_DOT ? 0 : 1;
  for (let c = 0; c < NP; c++) {
    const end =
      ((p === P_B || p === P_I) && (c === P_B || c === P_O || c === P_S)) ||
      p === P_E ||
      p === P_S ||
      p === P_OPEN ||
      p === P_CLOSE;
    const start =
      c === P_B ||
      c === P_S ||
      ((p === P_E || p === P_O || p === P_S) && (c === P_E || c === P_I)) ||
      c === P_OPEN ||
      c === P_CLOSE;
    END_TAB[p * NP + c] = end ? 1 : 0;
    START_TAB[p * NP + c] = start ? 1 : 0;
  }
}

function prefixCode(prefix: string): number {
  switch (prefix) {
    case "O":
      return P_O;
    case "B":
      return P_B;
    case "I":
      return P_I;
    case "E":
      return P_E;
    case "S":
      return P_S;
    case ".":
      return P_DOT;
    case "[":
      return P_OPEN;
    case "]":
      return P_CLOSE;
    default:
      return P_OTHER;
  }
}

const SCHEME_TEXT: Record<ChunkEncoding, string> = {
  iob2: "O, B-<type> or I-<type>",
  iob1: "O, B-<type> or I-<type>",
  bioes: "O, B-<type>, I-<type>, E-<type> or S-<type>",
};

/**
 * Interns tags: tag string → tag id, with its prefix code and type id.
 * Tags with the same (prefix, type) split share an id, as in conlleval.
 */
class TagTable {
  readonly encoding: ChunkEncoding;
  readonly strict: boolean;
  private readonly ids = new Map<string, number>();
  private readonly pairIds = new Map<string, number>();
  private readonly typeIds = new Map<string, number>([["", 0]]);
  readonly typeNames: string[] = [""];
  prefixOf = new Uint8Array(16);
  typeOf = new Int32Array(16);
  size = 0;

  constructor(encoding: ChunkEncoding, strict: boolean) {
    if (!(encoding in SCHEME_TEXT)) {
      throw new NadirError(
        "E_ARG",
        `encoding: expected one of ${Object.keys(SCHEME_TEXT).join(", ")}, got "${encoding}"`,
      );
    }
    this.encoding = encoding;
    this.strict = strict;
  }

  /** Tag id of a tag string; throws E_PARSE for a tag outside the scheme (strict). */
  id(tag: string, file?: string, line?: number): number {
    const known = this.ids.get(tag);
    if (known !== undefined) return known;
    const dash = tag.indexOf("-");
    const prefix = dash < 0 ? tag : tag.slice(0, dash);
    const type = dash < 0 ? "" : tag.slice(dash + 1);
    const code = prefixCode(prefix);
    if (this.strict && !this.legal(tag, code, type)) {
      throw new NadirError(
        "E_PARSE",
        `invalid tag "${tag}" for encoding ${this.encoding}: expected ${SCHEME_TEXT[this.encoding]}`,
        file !== undefined ? { file, line } : undefined,
      );
    }
    const pairKey = `${prefix}\u0000${type}`;
    let id = this.pairIds.get(pairKey);
    if (id === undefined) {
      id = this.size++;
      if (id >= this.prefixOf.length) {
        const p = new Uint8Array(this.prefixOf.length * 2);
        p.set(this.prefixOf);
        this.prefixOf = p;
        const t = new Int32Array(this.typeOf.length * 2);
        t.set(this.typeOf);
        this.typeOf = t;
      }
      let tid = this.typeIds.get(type);
      if (tid === undefined) {
        tid = this.typeNames.length;
        this.typeIds.set(type, tid);
        this.typeNames.push(type);
      }
      this.prefixOf[id] = code;
      this.typeOf[id] = tid;
      this.pairIds.set(pairKey, id);
    }
    this.ids.set(tag, id);
    return id;
  }

  private legal(tag: string, code: number, type: string): boolean {
    if (tag === "O") return true;
    if (type === "") return false;
    if (code === P_B || code === P_I) return true;
    return this.encoding === "bioes" && (code === P_E || code === P_S);
  }
}

/**
 * Accumulates conlleval counts sentence by sentence; `report()` gives the
 * figures so far. Feed tag strings with `add` or label ids with `addIds`.
 */
export class ChunkScorer {
  private readonly tags: TagTable;
  private readonly labelTag: Int32Array;
  private g = new Int32Array(64);
  private p = new Int32Array(64);
  private tokens = 0;
  private correctTags = 0;
  private goldChunks = 0;
  private predChunks = 0;
  private correctChunks = 0;
  private correctByType: number[] = [0];
  private goldByType: number[] = [0];
  private predByType: number[] = [0];

  constructor(opts: ChunkOptions = {}) {
    this.tags = new TagTable(opts.encoding ?? "iob2", opts.strict ?? true);
    const labels = opts.labels ?? [];
    this.labelTag = new Int32Array(labels.length);
    for (let l = 0; l < labels.length; l++) {
      try {
        this.labelTag[l] = this.tags.id(labels[l]!);
      } catch (err) {
        if (err instanceof NadirError) throw new NadirError("E_ARG", `label ${l}: ${err.message}`);
        throw err;
      }
    }
  }

  /**
   * Add one sentence of gold and predicted tags. `where` (file and line of the
   * first token) locates errors; token t is on line `where.line + t`.
   */
  add(
    gold: readonly string[],
    pred: readonly string[],
    where?: { file: string; line: number },
  ): void {
    const n = gold.length;
    checkCounts(n, pred.length, "tags", where);
    this.reserve(n);
    const g = this.g;
    const p = this.p;
    const tags = this.tags;
    const file = where?.file;
    const line0 = where?.line ?? 0;
    for (let t = 0; t < n; t++) {
      g[t] = tags.id(gold[t]!, file, line0 + t);
      p[t] = tags.id(pred[t]!, file, line0 + t);
    }
    this.score(n);
  }

  /** Add one sentence of gold and predicted label ids (tag names from `opts.labels`). */
  addIds(gold: ArrayLike<number>, pred: ArrayLike<number>): void {
    const map = this.labelTag;
    checkLabelIds(gold, pred, map.length, "tags");
    const n = gold.length;
    this.reserve(n);
    const { g, p } = this;
    for (let t = 0; t < n; t++) {
      g[t] = map[gold[t]!]!;
      p[t] = map[pred[t]!]!;
    }
    this.score(n);
  }

  private reserve(n: number): void {
    if (n > this.g.length) {
      const size = Math.max(n, this.g.length * 2);
      this.g = new Int32Array(size);
      this.p = new Int32Array(size);
    }
  }

  /** The conlleval state machine over g[0..n) and p[0..n), then a sentence boundary. */
  private score(n: number): void {
    const types = this.tags.typeNames.length;
    while (this.goldByType.length < types) {
      this.goldByType.push(0);
      this.predByType.push(0);
      this.correctByType.push(0);
    }
    const g = this.g;
    const p = this.p;
    const prefixOf = this.tags.prefixOf;
    const typeOf = this.tags.typeOf;
    const goldByType = this.goldByType;
    const predByType = this.predByType;
    const correctByType = this.correctByType;
    let goldChunks = 0;
    let predChunks = 0;
    let correctChunks = 0;
    let correctTags = 0;
    let inCorrect = false;
    let lgp = P_O; // last gold prefix / type, last predicted prefix / type
    let lgt = 0;
    let lpp = P_O;
    let lpt = 0;
    for (let t = 0; t <= n; t++) {
      // t === n is the sentence boundary: both tags "O".
      let gp = P_O;
      let gt = 0;
      let pp = P_O;
      let pt = 0;
      if (t < n) {
        const gi = g[t]!;
        const pi = p[t]!;
        if (gi === pi) correctTags++;
        gp = prefixOf[gi]!;
        gt = typeOf[gi]!;
        pp = prefixOf[pi]!;
        pt = typeOf[pi]!;
      }
      const endG = END_TAB[lgp * NP + gp] === 1 || (TYPED[lgp] === 1 && lgt !== gt);
      const endP = END_TAB[lpp * NP + pp] === 1 || (TYPED[lpp] === 1 && lpt !== pt);
      if (inCorrect) {
        if (endG && endP && lgt === lpt) {
          inCorrect = false;
          correctChunks++;
          correctByType[lgt]!++;
        } else if (endG !== endP || gt !== pt) {
          inCorrect = false;
        }
      }
      const startG = START_TAB[lgp * NP + gp] === 1 || (TYPED[gp] === 1 && lgt !== gt);
      const startP = START_TAB[lpp * NP + pp] === 1 || (TYPED[pp] === 1 && lpt !== pt);
      if (startG && startP && gt === pt) inCorrect = true;
      if (startG) {
        goldChunks++;
        goldByType[gt]!++;
      }
      if (startP) {
        predChunks++;
        predByType[pt]!++;
      }
      lgp = gp;
      lgt = gt;
      lpp = pp;
      lpt = pt;
    }
    this.tokens += n;
    this.correctTags += correctTags;
    this.goldChunks += goldChunks;
    this.predChunks += predChunks;
    this.correctChunks += correctChunks;
  }

  /** The figures of all sentences added so far. */
  report(): ChunkReport {
    const { precision, recall, f1 } = prf(this.correctChunks, this.goldChunks, this.predChunks);
    const names = this.tags.typeNames;
    const order = presentByName(names, this.goldByType, this.predByType, 1);
    const byType: Record<string, ChunkTypeScore> = {};
    for (const k of order) {
      const correct = this.correctByType[k]!;
      const gold = this.goldByType[k]!;
      const pred = this.predByType[k]!;
      byType[names[k]!] = { ...prf(correct, gold, pred), gold, pred, correct };
    }
    return {
      accuracy: this.tokens > 0 ? (100 * this.correctTags) / this.tokens : 0,
      tokens: this.tokens,
      correctTags: this.correctTags,
      goldChunks: this.goldChunks,
      predChunks: this.predChunks,
      correctChunks: this.correctChunks,
      precision,
      recall,
      f1,
      byType,
    };
  }
}

/** conlleval figures of gold vs. predicted tag sequences (one array per sentence). */
export function scoreChunks(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  opts?: ChunkOptions,
): ChunkReport {
  return scoreAll(new ChunkScorer(opts), gold, pred, "sentences");
}

/**
 * The chunks of one tag sequence by conlleval's start/end rules: a chunk
 * opens where a chunk starts and closes where one ends (or another starts,
 * which only malformed tags in non-strict mode can cause), and at the end.
 */
export function chunkSpans(tags: readonly string[], opts?: ChunkOptions): Chunk[] {
  const table = new TagTable(opts?.encoding ?? "iob2", opts?.strict ?? true);
  const out: Chunk[] = [];
  let lp = P_O;
  let lt = 0;
  let open = -1;
  let openType = 0;
  const n = tags.length;
  for (let t = 0; t <= n; t++) {
    let cp = P_O;
    let ct = 0;
    if (t < n) {
      const id = table.id(tags[t]!);
      cp = table.prefixOf[id]!;
      ct = table.typeOf[id]!;
    }
    const end = END_TAB[lp * NP + cp] === 1 || (TYPED[lp] === 1 && lt !== ct);
    const start = START_TAB[lp * NP + cp] === 1 || (TYPED[cp] === 1 && lt !== ct);
    if (open >= 0 && (end || start)) {
      out.push({ type: table.typeNames[openType]!, start: open, end: t });
      open = -1;
    }
    if (start) {
      open = t;
      openType = ct;
    }
    lp = cp;
    lt = ct;
  }
  return out;
}

/**
 * The chunk encoding a label set is written in: "bioes" when an E- or S-
 * label appears, "iob2" for B-/I- labels, "none" when some label other than
 * O has no B-/I-/E-/S- prefix (POS tags, say: chunk scores would mean
 * nothing). `unchunked` lists (up to 5) labels without a prefix.
 */
export function detectEncoding(labels: Iterable<string>): {
  encoding: ChunkEncoding | "none";
  unchunked: string[];
} {
  let chunked = 0;
  let bioes = false;
  const unchunked: string[] = [];
  let bare = 0;
  for (const l of labels) {
    if (l === "O") continue;
    const c = l.charCodeAt(0);
    if (l.length > 2 && l.charCodeAt(1) === 45 && (c === 66 || c === 73 || c === 69 || c === 83)) {
      chunked++;
      if (c === 69 || c === 83) bioes = true;
    } else {
      bare++;
      if (unchunked.length < 5) unchunked.push(l);
    }
  }
  const encoding = bare > 0 || chunked === 0 ? "none" : bioes ? "bioes" : "iob2";
  return { encoding, unchunked };
}
