/**
 * A log-bilinear energy for word completion (Mnih & Hinton 2007; Mnih & Teh 2012).
 *
 * The context is a window of `left` words before the blank and `right` words
 * after it. Each context word c_i has a context embedding R[c_i] ∈ ℝ^D; they are
 * combined by position-specific diagonal weights W_i into a predicted vector
 *   r = Σ_i W_i ⊙ R[c_i],
 * and the energy of a candidate word w with target embedding Q[w] and bias b[w] is
 *   E(context, w) = −(r · Q[w] + b[w]).
 * Lower is better. The reserved ids <unk> and <s> are never candidates.
 *
 * Optionally a second expert multiplies in (a product of energies, see
 * `TopicExpert`): the energy of w is then E(context, w) + E_topic(sentence, w).
 */
import {
  type ContainerFormat,
  decodeContainer,
  encodeContainer,
  latin1,
  type SectionArray,
  u32,
  utf8Text,
} from "../core/container.ts";
import { NadirError } from "../core/errors.ts";
import { nodeBuiltin, readFileBytes } from "../core/host.ts";
import { writeFileAtomic } from "../core/io.ts";
import type { Rng } from "../core/rng.ts";
import { BOUNDARY_ID, FIRST_WORD, Vocab } from "./text.ts";

/** Parameter storage: float32 for training and models, float64 for gradient checks. */
export type Vec = Float32Array | Float64Array;

export interface LblParams {
  /** context embeddings, V×D */
  R: Vec;
  /** target embeddings, V×D */
  Q: Vec;
  /** target biases, V */
  b: Vec;
  /** position weights (diagonal), (left+right)×D */
  W: Vec;
}

/**
 * Zero parameters as Float32Array (default) or Float64Array; with `shared`,
 * backed by SharedArrayBuffers so that training threads can update them in place.
 */
export function zeroParams(
  V: number,
  D: number,
  C: number,
  type: "f32" | "f64" = "f32",
  shared = false,
): LblParams {
  const make = (n: number): Vec => {
    const bytes = n * (type === "f32" ? 4 : 8);
    const buf = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    return type === "f32" ? new Float32Array(buf) : new Float64Array(buf);
  };
  return { R: make(V * D), Q: make(V * D), b: make(V), W: make(C * D) };
}

/**
 * A topic expert: topical word vectors T (V×dim, rows of unit norm; zero for
 * words it lacks) and a weight λ ≥ 0. The words of the sentence around the
 * blank — all of them, not a window — except the `skip` most frequent
 * vocabulary words (ids below FIRST_WORD + skip: training writes the
 * vocabulary by decreasing count; the function words) sum to s = Σ T[u]; a candidate w gets
 * E_topic(w) = −λ·T[w]·s: minus λ times its total cosine similarity with the
 * sentence (Zweig et al. 2012's "total similarity", as an energy).
 */
export interface TopicExpert {
  T: Float32Array;
  dim: number;
  lambda: number;
  skip: number;
}

export class Lbl {
  readonly vocab: Vocab;
  readonly V: number;
  readonly D: number;
  readonly left: number;
  readonly right: number;
  readonly C: number;
  readonly p: LblParams;
  /** free-form description stored with the model (loss, training time, ...) */
  meta: Record<string, unknown> = {};
  /** the second expert of a product of energies, or null */
  topic: TopicExpert | null = null;
  /** scratch: predicted vector r and its gradient */
  readonly r: Float64Array;
  readonly dr: Float64Array;

  constructor(vocab: Vocab, D: number, left: number, right: number, params?: LblParams) {
    this.vocab = vocab;
    this.V = vocab.size;
    this.D = D;
    this.left = left;
    this.right = right;
    this.C = left + right;
    this.p = params ?? zeroParams(this.V, D, this.C);
    this.r = new Float64Array(D);
    this.dr = new Float64Array(D);
  }

  /** Small random embeddings, unit position weights, biases = log unigram frequency. */
  init(rng: Rng, counts?: Float64Array, scale = 0.1): this {
    const { R, Q, b, W } = this.p;
    for (let i = 0; i < R.length; i++) R[i] = scale * rng.normal();
    for (let i = 0; i < Q.length; i++) Q[i] = scale * rng.normal();
    W.fill(1);
    if (counts) {
      let tot = 0;
      for (let w = FIRST_WORD; w < this.V; w++) tot += counts[w]! + 1;
      for (let w = FIRST_WORD; w < this.V; w++) b[w] = Math.log((counts[w]! + 1) / tot);
    }
    return this;
  }

  /** Context ids from a token-id stream around position t (boundary ids outside [lo, hi)). */
  contextAt(ids: Int32Array, t: number, out: Int32Array): Int32Array {
    let k = 0;
    for (let j = t - this.left; j < t; j++)
      out[k++] = j >= 0 && j < ids.length ? ids[j]! : BOUNDARY_ID;
    for (let j = t + 1; j <= t + this.right; j++)
      out[k++] = j >= 0 && j < ids.length ? ids[j]! : BOUNDARY_ID;
    return out;
  }

  /** Context ids from left and right word lists (closest word last / first). */
  context(leftWords: readonly string[], rightWords: readonly string[]): Int32Array {
    const ctx = new Int32Array(this.C).fill(BOUNDARY_ID);
    for (let i = 0; i < this.left; i++) {
      const w = leftWords[leftWords.length - this.left + i];
      if (w !== undefined) ctx[i] = this.vocab.id(w);
    }
    for (let i = 0; i < this.right; i++) {
      const w = rightWords[i];
      if (w !== undefined) ctx[this.left + i] = this.vocab.id(w);
    }
    return ctx;
  }

  /** r = Σ_i W_i ⊙ R[c_i], written into this.r. */
  predict(ctx: Int32Array): Float64Array {
    const { R, W } = this.p;
    const D = this.D;
    const r = this.r;
    r.fill(0);
    for (let i = 0; i < this.C; i++) {
      const ro = ctx[i]! * D;
      const wo = i * D;
      for (let d = 0; d < D; d++) r[d] = r[d]! + W[wo + d]! * R[ro + d]!;
    }
    return r;
  }

  /** E(context, w) for the r in this.r (call predict first). */
  energyOf(w: number): number {
    const { Q, b } = this.p;
    const D = this.D;
    const r = this.r;
    const o = w * D;
    let s = b[w]!;
    for (let d = 0; d < D; d++) s += r[d]! * Q[o + d]!;
    return -s;
  }

  energy(ctx: Int32Array, w: number): number {
    this.predict(ctx);
    return this.energyOf(w);
  }

  /**
   * The topic expert's sentence vector s = Σ T[u] over `words` (the sentence
   * without the blank; out-of-vocabulary words and the `skip` most frequent
   * ones left out), or null without a topic expert.
   */
  topicSum(words: readonly string[]): Float64Array | null {
    const tp = this.topic;
    if (tp === null) return null;
    const s = new Float64Array(tp.dim);
    for (const u of words) {
      const id = this.vocab.id(u);
      if (id < FIRST_WORD + tp.skip) continue;
      for (let d = 0, o = id * tp.dim; d < tp.dim; d++, o++) s[d] = s[d]! + tp.T[o]!;
    }
    return s;
  }

  /** E_topic(w) = −λ·T[w]·s for a sentence vector s from `topicSum` (0 without a topic expert). */
  topicEnergy(w: number, s: Float64Array | null): number {
    const tp = this.topic;
    if (tp === null || s === null) return 0;
    let dot = 0;
    for (let d = 0, o = w * tp.dim; d < tp.dim; d++, o++) dot += tp.T[o]! * s[d]!;
    return -tp.lambda * dot;
  }

  /**
   * Attach a topic expert from word vectors (e.g. `scripts/embeddings.ts
   * --window`: `words[i]`'s vector is vectors[i·dim …]); rows are normalized
   * to unit length, words of the vocabulary the vectors lack get zero rows.
   */
  withTopic(
    vectors: { dim: number; words: readonly string[]; vectors: ArrayLike<number> },
    lambda: number,
    skip: number,
  ): this {
    if (!(lambda >= 0) || !Number.isFinite(lambda))
      throw new NadirError("E_ARG", `topic expert: expected λ ≥ 0, got ${lambda}`);
    if (!Number.isInteger(skip) || skip < 0)
      throw new NadirError(
        "E_ARG",
        `topic expert: expected skip to be an integer ≥ 0, got ${skip}`,
      );
    const dim = vectors.dim;
    if (!Number.isInteger(dim) || dim < 1 || vectors.vectors.length < vectors.words.length * dim)
      throw new NadirError(
        "E_ARG",
        `topic expert: expected dim ≥ 1 and ${vectors.words.length}·dim values, got dim ${dim} and ${vectors.vectors.length} values`,
      );
    const T = new Float32Array(this.V * dim);
    for (let i = 0; i < vectors.words.length; i++) {
      const id = this.vocab.id(vectors.words[i]!);
      if (id < FIRST_WORD) continue;
      let n = 0;
      for (let d = 0; d < dim; d++) n += vectors.vectors[i * dim + d]! ** 2;
      n = Math.sqrt(n);
      if (!(n > 0) || !Number.isFinite(n)) continue; // a zero or non-finite row: no topic
      for (let d = 0; d < dim; d++) T[id * dim + d] = vectors.vectors[i * dim + d]! / n;
    }
    this.topic = { T, dim, lambda, skip };
    return this;
  }

  /** Energies of every word into out (length V); reserved ids get +Infinity. */
  energies(ctx: Int32Array, out: Float64Array): Float64Array {
    this.predict(ctx);
    const { Q, b } = this.p;
    const D = this.D;
    const r = this.r;
    for (let w = 0; w < FIRST_WORD; w++) out[w] = Number.POSITIVE_INFINITY;
    for (let w = FIRST_WORD, o = FIRST_WORD * D; w < this.V; w++, o += D) {
      let s = b[w]!;
      for (let d = 0; d < D; d++) s += r[d]! * Q[o + d]!;
      out[w] = -s;
    }
    return out;
  }

  /**
   * Energies for a batch of B contexts at once (ctxs: B×C ids; out: B×V;
   * rs: B×D predicted vectors). Each target row Q[w] is read once per batch,
   * which keeps the loop compute-bound. Reserved ids get +Infinity.
   */
  energiesBatch(ctxs: Int32Array, B: number, out: Float64Array, rs: Float64Array): void {
    const { Q, b } = this.p;
    const D = this.D;
    const V = this.V;
    const C = this.C;
    for (let k = 0; k < B; k++) {
      this.predict(ctxs.subarray(k * C, k * C + C));
      rs.set(this.r, k * D);
    }
    for (let k = 0; k < B; k++) {
      out[k * V] = Number.POSITIVE_INFINITY;
      out[k * V + 1] = Number.POSITIVE_INFINITY;
    }
    // four independent accumulators: the dot products are latency-bound otherwise
    const D4 = D & ~3;
    for (let w = FIRST_WORD, o = FIRST_WORD * D; w < V; w++, o += D) {
      const bw = b[w]!;
      for (let k = 0, ro = 0; k < B; k++, ro += D) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let d = 0;
        for (; d < D4; d += 4) {
          s0 += rs[ro + d]! * Q[o + d]!;
          s1 += rs[ro + d + 1]! * Q[o + d + 1]!;
          s2 += rs[ro + d + 2]! * Q[o + d + 2]!;
          s3 += rs[ro + d + 3]! * Q[o + d + 3]!;
        }
        for (; d < D; d++) s0 += rs[ro + d]! * Q[o + d]!;
        out[k * V + w] = -(bw + (s0 + s1 + (s2 + s3)));
      }
    }
  }

  /**
   * dr = ∂L/∂r for L = Σ_k g_k E(ws_k) (needs this.r from predict):
   * ∂E(w)/∂r = −Q[w].
   */
  private backR(ws: Int32Array, gs: ArrayLike<number>, n: number): Float64Array {
    const { Q } = this.p;
    const D = this.D;
    const dr = this.dr;
    dr.fill(0);
    for (let k = 0; k < n; k++) {
      const g = gs[k]!;
      if (g === 0) continue;
      const o = ws[k]! * D;
      for (let d = 0; d < D; d++) dr[d] = dr[d]! - g * Q[o + d]!;
    }
    return dr;
  }

  /**
   * Add the gradient of L = Σ_k g_k E(ctx, ws_k) to the dense G (same shapes).
   * ∂E/∂Q[w] = −r, ∂E/∂b[w] = −1, ∂E/∂R[c_i] = W_i ⊙ ∂E/∂r, ∂E/∂W_i = R[c_i] ⊙ ∂E/∂r.
   */
  gradient(ctx: Int32Array, ws: Int32Array, gs: Float64Array, n: number, G: LblParams): void {
    const { R, W } = this.p;
    const D = this.D;
    const r = this.predict(ctx);
    const dr = this.backR(ws, gs, n);
    for (let k = 0; k < n; k++) {
      const g = gs[k]!;
      const o = ws[k]! * D;
      for (let d = 0; d < D; d++) G.Q[o + d] = G.Q[o + d]! - g * r[d]!;
      G.b[ws[k]!] = G.b[ws[k]!]! - g;
    }
    for (let i = 0; i < this.C; i++) {
      const ro = ctx[i]! * D;
      const wo = i * D;
      for (let d = 0; d < D; d++) {
        G.R[ro + d] = G.R[ro + d]! + W[wo + d]! * dr[d]!;
        G.W[wo + d] = G.W[wo + d]! + R[ro + d]! * dr[d]!;
      }
    }
  }

  /**
   * One sparse AdaGrad step on L = Σ_k g_k E(ctx, ws_k): only the rows of the
   * words in ws and in the context (and W) move. `acc` holds the squared-gradient sums.
   * this.r must be the prediction for ctx (energies/predict was called).
   */
  adagradStep(
    ctx: Int32Array,
    ws: Int32Array,
    gs: ArrayLike<number>,
    n: number,
    acc: LblParams,
    lr: number,
  ): void {
    const { R, Q, b, W } = this.p;
    const D = this.D;
    const r = this.r;
    const dr = this.backR(ws, gs, n); // before Q moves
    const eps = 1e-8;
    for (let k = 0; k < n; k++) {
      const g = gs[k]!;
      if (g === 0) continue;
      const w = ws[k]!;
      const o = w * D;
      for (let d = 0; d < D; d++) {
        const gq = -g * r[d]!;
        const a = acc.Q[o + d]! + gq * gq;
        acc.Q[o + d] = a;
        Q[o + d] = Q[o + d]! - (lr * gq) / Math.sqrt(a + eps);
      }
      const ab = acc.b[w]! + g * g;
      acc.b[w] = ab;
      b[w] = b[w]! + (lr * g) / Math.sqrt(ab + eps);
    }
    for (let i = 0; i < this.C; i++) {
      const ro = ctx[i]! * D;
      const wo = i * D;
      for (let d = 0; d < D; d++) {
        const gR = W[wo + d]! * dr[d]!;
        const gW = R[ro + d]! * dr[d]!;
        const aR = acc.R[ro + d]! + gR * gR;
        acc.R[ro + d] = aR;
        R[ro + d] = R[ro + d]! - (lr * gR) / Math.sqrt(aR + eps);
        const aW = acc.W[wo + d]! + gW * gW;
        acc.W[wo + d] = aW;
        W[wo + d] = W[wo + d]! - (lr * gW) / Math.sqrt(aW + eps);
      }
    }
  }

  /**
   * The same step by row-wise AdaGrad: one squared-gradient sum per row of Q,
   * R and W (the mean over its D entries, kept in the row's first entry of
   * `acc`), so one square root per row instead of one per entry, as large
   * embedding tables are commonly trained. this.r must be the prediction for ctx.
   */
  adagradRowStep(
    ctx: Int32Array,
    ws: Int32Array,
    gs: ArrayLike<number>,
    n: number,
    acc: LblParams,
    lr: number,
  ): void {
    const { R, Q, b, W } = this.p;
    const D = this.D;
    const r = this.r;
    const dr = this.backR(ws, gs, n); // before Q moves
    const eps = 1e-8;
    let rr = 0;
    for (let d = 0; d < D; d++) rr += r[d]! * r[d]!;
    rr /= D;
    for (let k = 0; k < n; k++) {
      const g = gs[k]!;
      if (g === 0) continue;
      const w = ws[k]!;
      const o = w * D;
      const a = acc.Q[o]! + g * g * rr;
      acc.Q[o] = a;
      const step = (lr * g) / Math.sqrt(a + eps); // ∂E/∂Q[w] = −r
      for (let d = 0; d < D; d++) Q[o + d] = Q[o + d]! + step * r[d]!;
      const ab = acc.b[w]! + g * g;
      acc.b[w] = ab;
      b[w] = b[w]! + (lr * g) / Math.sqrt(ab + eps);
    }
    for (let i = 0; i < this.C; i++) {
      const ro = ctx[i]! * D;
      const wo = i * D;
      let sR = 0;
      let sW = 0;
      for (let d = 0; d < D; d++) {
        const gR = W[wo + d]! * dr[d]!;
        const gW = R[ro + d]! * dr[d]!;
        sR += gR * gR;
        sW += gW * gW;
      }
      const aR = acc.R[ro]! + sR / D;
      acc.R[ro] = aR;
      const aW = acc.W[wo]! + sW / D;
      acc.W[wo] = aW;
      const stepR = lr / Math.sqrt(aR + eps);
      const stepW = lr / Math.sqrt(aW + eps);
      for (let d = 0; d < D; d++) {
        const g = dr[d]!;
        const rv = R[ro + d]!;
        R[ro + d] = rv - stepR * W[wo + d]! * g;
        W[wo + d] = W[wo + d]! - stepW * rv * g;
      }
    }
  }

  /**
   * A copy restricted to the `maxWords` most frequent words (ids are ranked by
   * frequency): dropped words become <unk> in contexts and are no longer
   * candidates. For small shipped models.
   */
  prune(maxWords: number): Lbl {
    const V = Math.min(this.V, FIRST_WORD + Math.max(0, maxWords));
    const D = this.D;
    const vocab = new Vocab(this.vocab.words.slice(0, V));
    const p = zeroParams(V, D, this.C);
    p.R.set(this.p.R.subarray(0, V * D));
    p.Q.set(this.p.Q.subarray(0, V * D));
    p.b.set(this.p.b.subarray(0, V));
    p.W.set(this.p.W);
    const m = new Lbl(vocab, D, this.left, this.right, p);
    m.meta = { ...this.meta, prunedTo: V };
    if (this.topic !== null)
      m.topic = { ...this.topic, T: this.topic.T.slice(0, V * this.topic.dim) };
    return m;
  }

  // ---- persistence -------------------------------------------------------

  /**
   * Write the model atomically as the file container (see core/container.ts;
   * magic "NADIRLBL", version 3): the header holds dims, dtype, vocabulary
   * and meta, and one CRC-32 covers header and tables. dtype "f32": sections
   * R, Q, b, W as float32. dtype "i8" (small files): each row of R and Q as a
   * float32 scale s and D int8 values v (row = s·v, s = max|row|/127) in
   * sections Rs, Rq, Qs, Qq, then b and W as float32. A topic expert adds
   * header `topic: { dim, lambda, skip }` and its rows as int8 with a float32
   * scale each (sections Ts, Tq), whatever the dtype.
   */
  save(path: string, dtype: "f32" | "i8" = "f32"): void {
    writeFileAtomic(path, this.toBytes(dtype));
  }

  /** The bytes of the model file (see `save`). */
  toBytes(dtype: "f32" | "i8" = "f32"): Uint8Array {
    const { R, Q, b, W } = this.p;
    const tp = this.topic;
    const header = {
      format: "nadir-lbl",
      dtype,
      D: this.D,
      left: this.left,
      right: this.right,
      vocab: this.vocab.words,
      meta: this.meta,
      ...(tp ? { topic: { dim: tp.dim, lambda: tp.lambda, skip: tp.skip } } : {}),
    };
    const f32 = (a: Vec): Float32Array =>
      a instanceof Float32Array ? a.slice() : Float32Array.from(a);
    const quantize = (a: Vec, D: number): { s: Float32Array; q: Int8Array } => {
      const V = a.length / D;
      const s = new Float32Array(V);
      const q = new Int8Array(V * D);
      for (let w = 0; w < V; w++) {
        let m = 0;
        for (let d = 0; d < D; d++) m = Math.max(m, Math.abs(a[w * D + d]!));
        const scale = Math.fround(m / 127);
        s[w] = scale;
        // the old format divided by the float64 scale before storing it as float32
        const div = m / 127;
        for (let d = 0; d < D; d++) q[w * D + d] = div > 0 ? Math.round(a[w * D + d]! / div) : 0;
      }
      return { s, q };
    };
    const topicSections: Record<string, SectionArray> = {};
    if (tp) {
      const t = quantize(tp.T, tp.dim);
      topicSections.Ts = t.s;
      topicSections.Tq = t.q;
    }
    if (dtype === "f32")
      return encodeContainer(LBL_FORMAT, header, {
        R: f32(R),
        Q: f32(Q),
        b: f32(b),
        W: f32(W),
        ...topicSections,
      });
    const r = quantize(R, this.D);
    const qq = quantize(Q, this.D);
    return encodeContainer(LBL_FORMAT, header, {
      Rs: r.s,
      Rq: r.q,
      Qs: qq.s,
      Qq: qq.q,
      b: f32(b),
      W: f32(W),
      ...topicSections,
    });
  }

  static load(path: string): Lbl {
    let buf: Uint8Array;
    try {
      buf = readFileBytes(path);
    } catch (e) {
      throw new NadirError("E_MODEL", `cannot read model: ${(e as Error).message}`, { file: path });
    }
    return Lbl.fromBytes(buf, path);
  }

  /**
   * Check and decode a model file's bytes (`name` stands for the file in
   * errors). Files of the old "NADIR-LBL 2" layout still load.
   */
  static fromBytes(bytes: Uint8Array, name = "<bytes>"): Lbl {
    const fail = (why: string): never => {
      throw new NadirError("E_MODEL", `not a valid completion model (${why})`, { file: name });
    };
    const buf = bytes;
    if (latin1(buf, 0, LEGACY_MAGIC.length) === LEGACY_MAGIC) {
      const legacy = readLegacy(buf, fail);
      return Lbl.assemble(legacy.h, legacy.tables, fail);
    }
    const d = decodeContainer(buf, LBL_FORMAT, fail);
    if (d.legacy) return fail("unexpected version");
    return Lbl.assemble(d.header, d.sections, fail);
  }

  /** Validate a header and its tables and build the model. */
  private static assemble(
    h: Record<string, unknown>,
    tables: Record<string, SectionArray>,
    fail: (why: string) => never,
  ): Lbl {
    const int = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;
    if (h.format !== "nadir-lbl") return fail("wrong format");
    if (h.dtype !== "f32" && h.dtype !== "i8") return fail("unknown dtype");
    if (!int(h.D) || h.D < 1 || !int(h.left) || !int(h.right) || h.left + h.right < 1)
      return fail("bad dimensions");
    if (!Array.isArray(h.vocab) || !h.vocab.every((w) => typeof w === "string"))
      return fail("bad vocabulary");
    let vocab: Vocab;
    try {
      vocab = new Vocab(h.vocab as string[]);
    } catch {
      return fail("bad vocabulary");
    }
    const V = vocab.size;
    const D = h.D;
    const C = h.left + h.right;
    const table = <T extends SectionArray>(
      key: string,
      type: new (n: number) => T,
      n: number,
    ): T => {
      const t = tables[key];
      if (!(t instanceof type) || t.length !== n) return fail(`table ${key}: truncated or padded`);
      return t;
    };
    const p = zeroParams(V, D, C);
    if (h.dtype === "f32") {
      p.R.set(table("R", Float32Array, V * D));
      p.Q.set(table("Q", Float32Array, V * D));
    } else {
      for (const k of ["R", "Q"] as const) {
        const s = table(`${k}s`, Float32Array, V);
        const q = table(`${k}q`, Int8Array, V * D);
        const a = p[k];
        for (let w = 0; w < V; w++) {
          const scale = s[w]!;
          for (let d = 0; d < D; d++) a[w * D + d] = scale * q[w * D + d]!;
        }
      }
    }
    p.b.set(table("b", Float32Array, V));
    p.W.set(table("W", Float32Array, C * D));
    for (const a of [p.R, p.Q, p.b, p.W])
      for (let i = 0; i < a.length; i++)
        if (!Number.isFinite(a[i]!)) return fail("non-finite parameter");
    const model = new Lbl(vocab, D, h.left, h.right, p);
    model.meta =
      h.meta !== null && typeof h.meta === "object" ? (h.meta as Record<string, unknown>) : {};
    if (h.topic !== undefined) {
      const t = h.topic as Record<string, unknown>;
      if (
        t === null ||
        typeof t !== "object" ||
        !int(t.dim) ||
        t.dim < 1 ||
        !int(t.skip) ||
        typeof t.lambda !== "number" ||
        !(t.lambda >= 0) ||
        !Number.isFinite(t.lambda)
      )
        return fail("bad topic expert (expected dim ≥ 1, lambda ≥ 0, skip ≥ 0)");
      const s = table("Ts", Float32Array, V);
      const q = table("Tq", Int8Array, V * t.dim);
      const T = new Float32Array(V * t.dim);
      for (let w = 0; w < V; w++) {
        const scale = s[w]!;
        if (!Number.isFinite(scale)) return fail("non-finite parameter");
        for (let d = 0; d < t.dim; d++) T[w * t.dim + d] = scale * q[w * t.dim + d]!;
      }
      model.topic = { T, dim: t.dim, lambda: t.lambda, skip: t.skip };
    }
    return model;
  }
}

/** The container format of completion models (version 3; "NADIR-LBL 2" files are read by readLegacy). */
const LBL_FORMAT: ContainerFormat = { magic: "NADIRLBL", version: 3 };
const LEGACY_MAGIC = "NADIR-LBL 2\n";

/**
 * The old layout: "NADIR-LBL 2\n", a u32 header length, the JSON header
 * (dims, dtype, vocabulary, meta, sha256 and length of the payload), then the
 * payload (dtype "i8": per row of R and Q a float32 scale and D int8 values;
 * then b and W as float32). Its checksum covers only the payload. Returns the
 * header and the tables split as the container holds them (bytes copied
 * verbatim, so a converted file scores identically).
 */
function readLegacy(
  buf: Uint8Array,
  fail: (why: string) => never,
): { h: Record<string, unknown>; tables: Record<string, SectionArray> } {
  const m = LEGACY_MAGIC.length;
  if (buf.length < m + 4) return fail("truncated header");
  const hl = u32(buf, m);
  if (m + 4 + hl > buf.length) return fail("truncated header");
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(utf8Text(buf, m + 4, m + 4 + hl));
  } catch {
    return fail("corrupt header");
  }
  if (typeof h !== "object" || h === null) return fail("corrupt header");
  if (h.format !== "nadir-lbl" || h.version !== 2) return fail("wrong format or version");
  const int = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x) && x >= 0;
  if (!int(h.D) || h.D < 1 || !int(h.left) || !int(h.right) || !Array.isArray(h.vocab))
    return fail("bad dimensions");
  const D = h.D;
  const C = h.left + h.right;
  // the vocabulary's size as Vocab counts it (reserved words first, then the listed ones)
  let V: number;
  try {
    V = new Vocab(h.vocab as string[]).size;
  } catch {
    return fail("bad vocabulary");
  }
  const rowBytes = h.dtype === "f32" ? 4 * D : 4 + D;
  const n = 2 * V * rowBytes + 4 * (V + C * D);
  const payload = buf.subarray(m + 4 + hl);
  if (payload.length !== n || h.bytes !== payload.length)
    return fail("truncated or padded payload");
  const { createHash } = nodeBuiltin("node:crypto", "reading a NADIR-LBL 2 file");
  if (createHash("sha256").update(payload).digest("hex") !== h.sha256)
    return fail("checksum mismatch");
  let off = 0;
  const f32 = (len: number): Float32Array => {
    const a = new Float32Array(len);
    new Uint8Array(a.buffer).set(payload.subarray(off, off + 4 * len));
    off += 4 * len;
    return a;
  };
  const tables: Record<string, SectionArray> = {};
  for (const k of ["R", "Q"]) {
    if (h.dtype === "f32") {
      tables[k] = f32(V * D);
    } else {
      const s = new Float32Array(V);
      const q = new Int8Array(V * D);
      const sb = new Uint8Array(s.buffer);
      const qb = new Uint8Array(q.buffer);
      for (let w = 0; w < V; w++, off += 4 + D) {
        sb.set(payload.subarray(off, off + 4), 4 * w);
        qb.set(payload.subarray(off + 4, off + 4 + D), w * D);
      }
      tables[`${k}s`] = s;
      tables[`${k}q`] = q;
    }
  }
  tables.b = f32(V);
  tables.W = f32(C * D);
  const { version: _v, sha256: _s, bytes: _b, ...rest } = h;
  return { h: rest, tables };
}

/**
 * Rewrite an old "NADIR-LBL 2" file's bytes in the container, table bytes
 * unchanged (identical scores; a few bytes smaller).
 */
export function convertLegacyLbl(bytes: Uint8Array, name = "<bytes>"): Uint8Array {
  const fail = (why: string): never => {
    throw new NadirError("E_MODEL", `not a valid completion model (${why})`, { file: name });
  };
  const buf = bytes;
  if (latin1(buf, 0, LEGACY_MAGIC.length) !== LEGACY_MAGIC)
    return fail("not the NADIR-LBL 2 layout");
  const { h, tables } = readLegacy(buf, fail);
  Lbl.fromBytes(bytes, name); // the full checks
  return encodeContainer(LBL_FORMAT, h, tables);
}
