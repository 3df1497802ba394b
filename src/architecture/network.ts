import { NadirError } from "../core/errors.ts";
import { gunzip, isGzip } from "../core/gzip.ts";
import { readFileBytes } from "../core/host.ts";
import { Rng } from "../core/rng.ts";
import type { ChainPotentials } from "../graph/chain.ts";
import type { Chain2Potentials } from "../graph/chain2.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import type { Architecture, ArchitectureDescription } from "./architecture.ts";
import {
  CHAR_RESERVED,
  type CharLayout,
  type CharSettings,
  charBackward,
  charForward,
  charSequence,
  parseCharSection,
} from "./char-module.ts";
import { DenseGradient } from "./dense-gradient.ts";
import { columnReader } from "./derived-tables.ts";
import { Dictionary, type Instance } from "./features.ts";
import {
  accumulateChainGraphMarginals,
  chainFactorGraph,
  LinearChain,
  type StateRows,
} from "./linear-chain.ts";
import type { GraphSpec } from "./spec.ts";

/**
 * Deep unary energies under a first-order chain (issue 15): a window network
 * in the style of Collobert et al. (2011) computes U[t, l] from embeddings of
 * token columns in a ±c window, one hidden layer and a linear output layer;
 * the sparse linear attributes of the spec stay available as one more input
 * (hybrid: unary = linear + network). The energy is
 *
 *   E(W, y, x) = Σₜ (U_lin[t, yₜ] + U_net[t, yₜ]) + Σₜ W_trans[yₜ₋₁, yₜ] + W_start[y₀] + W_end[y_{T−1}]
 *
 * with every parameter in one flat vector W:
 * [ linear chain (state S | transition L² | start L | end L) | embeddings of
 *   each field (V_f × d_f) | W1 (Din × H, input-major) | b1 (H) | [V ((2c₂+1)·H × H₂) |
 *   b₂' (H₂)] | W2 (L × H_out) | b2 (L) ].
 * The class answers LinearChain's interface as EnergyObjective uses it
 * (L, K, order, skip, potentials, accumulate, accumulateDifference,
 * accumulateMarginals), so every loss, backend and optimizer works unchanged.
 * The backward pass needs W: it is the W of the last `potentials` call, whose
 * activations are cached for that instance (a second instance recomputes).
 *
 * Inputs: `bind(x, tokens)` attaches the field value ids of a sentence to its
 * instance (`x.net`, T × F, t-major); id 0 is unknown, 1 before the sentence,
 * 2 after it.
 *
 * Optional character module (`chars`, see char-module.ts): each word's
 * max-pooled character convolution v (F_c values) is one more segment of the
 * per-position input (zeros outside the sentence); its parameters sit between
 * the field embeddings and W1 and belong to the dense block.
 *
 * Optional second layer (`layer2: { window: c₂, hidden: H₂ }`): a convolution
 * over the first layer's hidden states, h2[t] = act(b₂' + Σ_{|o|≤c₂} V_oᵀ·h[t+o])
 * (h = 0 outside the sentence), so each unary energy sees ±(c + c₂) tokens
 * (Collobert et al. 2011's stacked layers; the ID-CNN idea of Strubell et al.
 * 2017 without dilation). The output layer then reads h2 (H_out = H₂).
 */

export interface NetworkField {
  /** a base or derived column of the spec */
  column: string;
  dim: number;
  /** values seen fewer times in training map to unknown (pretrained words are always kept) */
  minCount: number;
  /** map digits to 0 before the lookup */
  digits: boolean;
  /** a pretrained embedding file (scripts/embeddings.ts format) for this field */
  embeddings: string | null;
}

/** A convolution over the first layer's hidden states (window ±c₂, H₂ units). */
export interface Layer2Settings {
  window: number;
  hidden: number;
}

export interface NetworkSettings {
  window: number;
  hidden: number;
  /** a second layer over the hidden states (null: none) */
  layer2?: Layer2Settings | null;
  activation: "hardtanh" | "relu" | "tanh";
  /** keep the spec's sparse linear attributes as one more input */
  hybrid: boolean;
  fields: NetworkField[];
  /** the character module (null: none) */
  chars: CharSettings | null;
  /** training defaults of the deep trainer (loss, epochs, lr, batch, …) */
  train: Record<string, unknown>;
}

/** A sentence instance with its network inputs attached. */
export interface NetInstance extends Instance {
  net?: Int32Array;
  /** character module: per position the id of its word in the network's word table */
  cw?: Int32Array;
}

const UNK = 0;
const BOS = 1;
const EOS = 2;
const RESERVED = 3;

function fail(where: string, msg: string): never {
  throw new NadirError("E_SPEC", `${where}: ${msg}`);
}

/** Check a spec's `network` section (kept raw in spec.source). */
export function parseNetworkSection(raw: unknown, where = "network"): NetworkSettings {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    fail(where, "expected an object");
  const o = raw as Record<string, unknown>;
  const int = (k: string, d: number, min: number): number => {
    const v = o[k] ?? d;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min)
      fail(`${where}.${k}`, `expected an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const act = o.activation ?? "hardtanh";
  if (act !== "hardtanh" && act !== "relu" && act !== "tanh")
    fail(`${where}.activation`, `expected hardtanh, relu or tanh, got ${JSON.stringify(act)}`);
  if (!Array.isArray(o.fields) || o.fields.length === 0)
    fail(`${where}.fields`, "expected a non-empty array of { column, dim }");
  const fields = (o.fields as unknown[]).map((f, i): NetworkField => {
    const w = `${where}.fields[${i}]`;
    if (typeof f !== "object" || f === null) fail(w, "expected an object { column, dim }");
    const r = f as Record<string, unknown>;
    if (typeof r.column !== "string") fail(`${w}.column`, "expected a column name");
    const dim = r.dim;
    if (typeof dim !== "number" || !Number.isInteger(dim) || dim < 1)
      fail(`${w}.dim`, `expected an integer ≥ 1, got ${JSON.stringify(dim)}`);
    const minCount = r.minCount ?? 1;
    if (typeof minCount !== "number" || minCount < 1)
      fail(`${w}.minCount`, "expected an integer ≥ 1");
    if (r.embeddings !== undefined && typeof r.embeddings !== "string")
      fail(`${w}.embeddings`, "expected a file path");
    return {
      column: r.column,
      dim,
      minCount,
      digits: r.digits === true,
      embeddings: (r.embeddings as string | undefined) ?? null,
    };
  });
  const train = o.train ?? {};
  if (typeof train !== "object" || train === null) fail(`${where}.train`, "expected an object");
  let layer2: Layer2Settings | null = null;
  if (o.layer2 !== undefined && o.layer2 !== null) {
    const r = o.layer2;
    if (typeof r !== "object" || Array.isArray(r))
      fail(`${where}.layer2`, "expected an object { window, hidden }");
    const l2 = r as Record<string, unknown>;
    const w2 = l2.window ?? 1;
    if (typeof w2 !== "number" || !Number.isInteger(w2) || w2 < 0)
      fail(`${where}.layer2.window`, `expected an integer ≥ 0, got ${JSON.stringify(w2)}`);
    const h2 = l2.hidden ?? int("hidden", 200, 1);
    if (typeof h2 !== "number" || !Number.isInteger(h2) || h2 < 1)
      fail(`${where}.layer2.hidden`, `expected an integer ≥ 1, got ${JSON.stringify(h2)}`);
    layer2 = { window: w2, hidden: h2 };
  }
  return {
    window: int("window", 2, 0),
    hidden: int("hidden", 200, 1),
    layer2,
    activation: act,
    hybrid: o.hybrid !== false,
    fields,
    chars:
      o.chars === undefined || o.chars === null
        ? null
        : parseCharSection(o.chars, `${where}.chars`),
    train: train as Record<string, unknown>,
  };
}

/** The network section of a spec, or null. */
export function networkOf(spec: GraphSpec): NetworkSettings | null {
  const src = spec.source as Record<string, unknown> | null;
  if (src === null || typeof src !== "object" || src.network === undefined) return null;
  return parseNetworkSection(src.network, `${spec.name}: key 'network'`);
}

/** Pretrained vectors (scripts/embeddings.ts: gzip text, `n dim scale` then `word q…`). */
export interface Pretrained {
  dim: number;
  words: string[];
  vectors: Float32Array;
}

/** Where a serialized network's sizes and vocabularies go (the model header). */
export interface NetworkDescription extends ArchitectureDescription {
  kind: "network-chain";
  L: number;
  settings: NetworkSettings;
  vocabs: string[][];
  /** the inner linear chain: attributes and sparse rows (null: dense) */
  A: number;
  rows: { rowPtr: number[]; rowLabel: number[] } | null;
  /** the character module's alphabet (without the reserved ids) */
  charVocab?: string[];
}

export class NetworkChain implements Architecture {
  readonly L: number;
  readonly K: number;
  /** the spec's structure: 2 for chain2 (W_trans2 in the linear part), skip edges for skip-chain */
  readonly order: 1 | 2;
  readonly skip: boolean;
  readonly linear: LinearChain;
  readonly settings: NetworkSettings;
  readonly F: number;
  readonly vocabs: Dictionary[];
  /** per field: dim, embedding offset in W, column offset in the per-position input */
  readonly dims: Int32Array;
  readonly embOff: Int32Array;
  readonly colOff: Int32Array;
  /** per-position input width D, window input width Din, hidden H */
  readonly D: number;
  readonly Din: number;
  readonly H: number;
  readonly c: number;
  /** second layer: window c₂ and width H₂ (0 / 0 without); H_out, the width the output layer reads */
  readonly c2: number;
  readonly H2: number;
  readonly Ho: number;
  /** character module: alphabet, parameter layout, input column (null / 0 without) */
  readonly charVocab: Dictionary | null;
  readonly charLay: CharLayout | null;
  readonly nc: number;
  readonly charCol: number;
  /** start of the network's dense block (the character module, else W1) */
  readonly denseStart: number;
  private readonly charReader: ((tok: readonly string[]) => string) | null;
  /** word table of the character module: word → id, id → char sequence (grows as words are bound) */
  private readonly charWords = new Map<string, number>();
  private readonly charSeqs: Int32Array[] = [];
  private cv = new Float64Array(0); // T × F_c word vectors (training forward)
  private carg = new Int32Array(0);
  private dcv = new Float64Array(0);
  private cproj: (Float32Array | undefined)[] = [];
  readonly w1Off: number;
  readonly b1Off: number;
  /** second layer's weights V ((2c₂+1)·H × H₂, input-major) and biases (= w2Off without it) */
  readonly vOff: number;
  readonly bvOff: number;
  readonly w2Off: number;
  readonly b2Off: number;
  /** act: 0 hardtanh, 1 relu, 2 tanh */
  private readonly act: number;
  private readonly readers: ((tok: readonly string[]) => string)[] = [];
  // forward cache of the last potentials() call
  private lastX: Instance | null = null;
  private lastW: Float64Array | null = null;
  private pre = new Float64Array(0); // T × H pre-activations
  private hid = new Float64Array(0); // T × H activations
  private pre2 = new Float64Array(0); // T × H₂ second-layer pre-activations
  private hid2 = new Float64Array(0); // T × H₂ second-layer activations
  private da2 = new Float64Array(0);
  private dh1 = new Float64Array(0);
  private rowsTop = new Int32Array(0);
  private on1 = new Uint8Array(0);
  private dU = new Float64Array(0);
  private Z = new Float64Array(0); // T × Din gathered window inputs (training forward)
  private dZ = new Float64Array(0);
  private rowsOn = new Int32Array(0);
  private da = new Float64Array(0);
  private dh = new Float64Array(0);
  private scaled = new Float64Array(0);
  private readonly empty: Instance = {
    T: 0,
    offsets: new Int32Array(1),
    attrs: new Int32Array(0),
    labels: new Int32Array(0),
  };
  /**
   * Tagging cache (the precomputation trick): per field, window offset and
   * value id, that value's contribution W1ᵀ·e to the hidden pre-activation,
   * float32, built lazily per value for a W that no longer changes.
   */
  private proj: Float32Array[] | null = null;
  private projDone: Uint8Array[] | null = null;
  private projW: Float64Array | null = null;
  /** Use the projection cache (set for tagging with frozen weights; never while training). */
  frozen = false;
  /**
   * Deferred mode (mini-batch trainers): the unary gradients of one instance
   * from several accumulate* calls (NLL: gold and marginals) are summed and
   * back-propagated once, at the next potentials / accumulate of another
   * instance or grad, or at `flush()` — call it before reading grad.
   */
  defer = false;
  /** Dropout rate of the hidden units while `training` (inverted dropout; the mask is kept for backward). */
  dropout = 0;
  training = false;
  private mask = new Float64Array(0);
  private seed = 0x9e3779b9;
  /** Deferred mode: positions whose summed unary gradient is below this (max |·|) are skipped (0: exact). */
  skipBelow = 0;
  private unet = new Float64Array(0); // T × L network energies of the last forward pass
  private pendingX: Instance | null = null;
  private pendingGrad: Float64Array | null = null;

  constructor(
    spec: GraphSpec,
    settings: NetworkSettings,
    L: number,
    vocabs: Dictionary[],
    A: number,
    rows: StateRows | null,
    charVocab: Dictionary | null = null,
  ) {
    this.settings = settings;
    this.L = L;
    this.order = spec.structure === "chain2" ? 2 : 1;
    this.skip = spec.structure === "skip-chain";
    this.linear = new LinearChain(
      settings.hybrid ? A : 0,
      L,
      settings.hybrid ? rows : null,
      this.order,
      this.skip,
    );
    this.F = settings.fields.length;
    this.vocabs = vocabs;
    this.c = settings.window;
    this.H = settings.hidden;
    this.act = settings.activation === "hardtanh" ? 0 : settings.activation === "relu" ? 1 : 2;
    this.dims = Int32Array.from(settings.fields, (f) => f.dim);
    this.embOff = new Int32Array(this.F);
    this.colOff = new Int32Array(this.F);
    let k = this.linear.K;
    let d = 0;
    for (let f = 0; f < this.F; f++) {
      this.embOff[f] = k;
      this.colOff[f] = d;
      k += vocabs[f]!.size * this.dims[f]!;
      d += this.dims[f]!;
    }
    const ch = settings.chars;
    if (ch !== null && charVocab === null)
      throw new NadirError("E_ARG", "network chain: a character module needs its alphabet");
    this.charVocab = ch === null ? null : charVocab;
    this.nc = ch === null ? 0 : ch.filters;
    this.charCol = d;
    this.denseStart = k;
    if (ch !== null) {
      const embOff = k;
      const convOff = embOff + charVocab!.size * ch.dim;
      const biasOff = convOff + ch.width * ch.dim * ch.filters;
      this.charLay = {
        embOff,
        convOff,
        biasOff,
        dim: ch.dim,
        filters: ch.filters,
        width: ch.width,
      };
      k = biasOff + ch.filters;
      d += ch.filters;
      this.charReader = columnReader(spec, ch.column, false);
    } else {
      this.charLay = null;
      this.charReader = null;
    }
    this.D = d;
    this.Din = (2 * this.c + 1) * d;
    this.w1Off = k;
    this.b1Off = this.w1Off + this.Din * this.H;
    const l2 = settings.layer2 ?? null;
    this.c2 = l2 === null ? 0 : l2.window;
    this.H2 = l2 === null ? 0 : l2.hidden;
    this.Ho = l2 === null ? this.H : this.H2;
    this.vOff = this.b1Off + this.H;
    this.bvOff = this.vOff + (l2 === null ? 0 : (2 * this.c2 + 1) * this.H * this.H2);
    this.w2Off = this.bvOff + this.H2;
    this.b2Off = this.w2Off + L * this.Ho;
    this.K = this.b2Off + L;
    for (const f of settings.fields) this.readers.push(columnReader(spec, f.column, f.digits));
  }

  /**
   * Build the field vocabularies from training sentences (value counts ≥
   * minCount, plus every pretrained word of a field with embeddings).
   */
  static build(
    spec: GraphSpec,
    settings: NetworkSettings,
    L: number,
    sentences: Iterable<{ tokens: readonly (readonly string[])[] }>,
    A: number,
    rows: StateRows | null,
    pretrained: (Pretrained | null)[] = [],
  ): NetworkChain {
    const readers = settings.fields.map((f) => columnReader(spec, f.column, f.digits));
    const counts = settings.fields.map(() => new Map<string, number>());
    for (const s of sentences) {
      for (const tok of s.tokens) {
        for (let f = 0; f < readers.length; f++) {
          const v = readers[f]!(tok);
          counts[f]!.set(v, (counts[f]!.get(v) ?? 0) + 1);
        }
      }
    }
    const vocabs = settings.fields.map((field, f) => {
      const d = new Dictionary();
      d.add("<unk>");
      d.add("<s>");
      d.add("</s>");
      for (const [v, n] of counts[f]!) if (n >= field.minCount) d.add(v);
      const p = pretrained[f];
      if (p) for (const w of p.words) d.add(w);
      return d;
    });
    let charVocab: Dictionary | null = null;
    if (settings.chars !== null) {
      // the alphabet: characters seen at least twice in the training words
      const read = columnReader(spec, settings.chars.column, false);
      const n = new Map<string, number>();
      for (const s of sentences)
        for (const tok of s.tokens) for (const ch of read(tok)) n.set(ch, (n.get(ch) ?? 0) + 1);
      charVocab = new Dictionary();
      charVocab.add("<unk>");
      charVocab.add("<w>");
      charVocab.add("</w>");
      for (const [ch, m] of n) if (m >= 2) charVocab.add(ch);
    }
    return new NetworkChain(spec, settings, L, vocabs, A, rows, charVocab);
  }

  /** Initial W: small random network weights, pretrained vectors where given, zero linear part. */
  init(seed: number, pretrained: (Pretrained | null)[] = []): Float64Array {
    const W = new Float64Array(this.K);
    const rng = new Rng(seed);
    const uni = (a: number) => (rng.next() * 2 - 1) * a;
    for (let f = 0; f < this.F; f++) {
      const dim = this.dims[f]!;
      const off = this.embOff[f]!;
      const n = this.vocabs[f]!.size;
      const p = pretrained[f] ?? null;
      let sd = 0.1;
      if (p) {
        if (p.dim !== dim)
          throw new NadirError(
            "E_ARG",
            `field ${f}: embeddings have ${p.dim} dims, the spec says ${dim}`,
          );
        let ss = 0;
        for (let i = 0; i < p.vectors.length; i++) ss += p.vectors[i]! ** 2;
        sd = Math.sqrt(ss / Math.max(1, p.vectors.length));
      }
      const a = sd * Math.sqrt(3);
      for (let i = 0; i < n * dim; i++) W[off + i] = uni(a);
      if (p) {
        const voc = this.vocabs[f]!;
        for (let w = 0; w < p.words.length; w++) {
          const id = voc.get(p.words[w]!);
          if (id < 0) continue;
          for (let j = 0; j < dim; j++) W[off + id * dim + j] = p.vectors[w * dim + j]!;
        }
      }
    }
    const cl = this.charLay;
    if (cl !== null) {
      const nE = this.charVocab!.size * cl.dim;
      for (let i = 0; i < nE; i++) W[cl.embOff + i] = uni(0.1 * Math.sqrt(3));
      const fan = cl.width * cl.dim;
      const ac = Math.sqrt(6 / (fan + cl.filters));
      for (let i = 0; i < fan * cl.filters; i++) W[cl.convOff + i] = uni(ac);
    }
    const a1 = Math.sqrt(6 / (this.Din + this.H));
    for (let i = 0; i < this.Din * this.H; i++) W[this.w1Off + i] = uni(a1);
    if (this.H2 > 0) {
      const nv = (2 * this.c2 + 1) * this.H;
      const av = Math.sqrt(6 / (nv + this.H2));
      for (let i = 0; i < nv * this.H2; i++) W[this.vOff + i] = uni(av);
    }
    const a2 = Math.sqrt(6 / (this.Ho + this.L));
    for (let i = 0; i < this.L * this.Ho; i++) W[this.w2Off + i] = uni(a2);
    return W;
  }

  /** Attach the field value ids of a sentence to its instance. */
  bind(x: Instance, tokens: readonly (readonly string[])[]): NetInstance {
    const T = tokens.length;
    const F = this.F;
    const ids = new Int32Array(T * F);
    for (let t = 0; t < T; t++) {
      const tok = tokens[t]!;
      for (let f = 0; f < F; f++) {
        const id = this.vocabs[f]!.get(this.readers[f]!(tok));
        ids[t * F + f] = id < 0 ? UNK : id;
      }
    }
    const nx = x as NetInstance;
    nx.net = ids;
    if (this.charReader !== null) {
      const cw = new Int32Array(T);
      for (let t = 0; t < T; t++) cw[t] = this.charWord(this.charReader(tokens[t]!));
      nx.cw = cw;
    }
    return nx;
  }

  /** The id of a word in the character module's word table (added on first sight). */
  private charWord(word: string): number {
    let id = this.charWords.get(word);
    if (id === undefined) {
      id = this.charSeqs.length;
      this.charSeqs.push(charSequence(word, this.charVocab!, this.settings.chars!));
      this.charWords.set(word, id);
    }
    return id;
  }

  private charIds(x: Instance): Int32Array {
    const cw = (x as NetInstance).cw;
    if (cw === undefined || cw.length !== x.T)
      throw new NadirError(
        "E_ARG",
        "network chain: the instance has no character inputs (bind it first)",
      );
    return cw;
  }

  private inputs(x: Instance): Int32Array {
    const ids = (x as NetInstance).net;
    if (ids === undefined || ids.length !== x.T * this.F)
      throw new NadirError(
        "E_ARG",
        "network chain: the instance has no network inputs (bind it first)",
      );
    return ids;
  }

  private linearView(x: Instance): Instance {
    if (this.settings.hybrid) return x;
    const e = this.empty;
    if (e.offsets.length < x.T + 1)
      e.offsets = new Int32Array(Math.max(x.T + 1, e.offsets.length * 2));
    e.T = x.T;
    e.labels = x.labels;
    e.skips = x.skips;
    return e;
  }

  /** Value id at position p (BOS / EOS outside the sentence). */
  private static idAt(ids: Int32Array, F: number, T: number, p: number, f: number): number {
    return p < 0 ? BOS : p >= T ? EOS : ids[p * F + f]!;
  }

  /** Forward pass of the network for x under W; activations cached; adds U_net into unary. */
  private forward(x: Instance, W: Float64Array, unary: Float64Array | null): void {
    const T = x.T;
    const { H, L, F, D, c } = this;
    const ids = this.inputs(x);
    if (this.pre.length < T * H) {
      const n = Math.max(T * H, this.pre.length * 2);
      this.pre = new Float64Array(n);
      this.hid = new Float64Array(n);
    }
    const pre = this.pre;
    const hid = this.hid;
    const w1 = this.w1Off;
    const b1 = this.b1Off;
    const useProj = this.frozen;
    if (useProj) {
      this.ensureProj(W);
      for (let t = 0; t < T; t++) {
        const ph = t * H;
        for (let h = 0; h < H; h++) pre[ph + h] = W[b1 + h]!;
        for (let o = -c; o <= c; o++) {
          for (let f = 0; f < F; f++) {
            const pr = this.projection(W, o + c, f, NetworkChain.idAt(ids, F, T, t + o, f));
            for (let h = 0; h < H; h++) pre[ph + h] = pre[ph + h]! + pr[h]!;
          }
        }
        if (this.nc > 0) {
          const cw = this.charIds(x);
          for (let o = -c; o <= c; o++) {
            const p = t + o;
            if (p < 0 || p >= T) continue;
            const pr = this.charProjection(W, cw[p]!);
            const po = (o + c) * H;
            for (let h = 0; h < H; h++) pre[ph + h] = pre[ph + h]! + pr[po + h]!;
          }
        }
        this.activate(pre, hid, ph, H);
      }
    } else {
      // gather the window inputs Z (T × Din), then pre = Z·W1 + b1 with the
      // input row outermost: each row of W1 is read once per sentence, not per token
      const Din = this.Din;
      if (this.Z.length < T * Din) this.Z = new Float64Array(Math.max(T * Din, this.Z.length * 2));
      const Z = this.Z;
      const nc = this.nc;
      if (nc > 0) {
        // the word vectors of the character module, once per position
        const cw = this.charIds(x);
        if (this.cv.length < T * nc) {
          this.cv = new Float64Array(Math.max(T * nc, this.cv.length * 2));
          this.carg = new Int32Array(this.cv.length);
        }
        for (let t = 0; t < T; t++)
          charForward(W, this.charLay!, this.charSeqs[cw[t]!]!, this.cv, this.carg, t * nc);
      }
      for (let t = 0; t < T; t++) {
        const zt = t * Din;
        if (nc > 0) {
          for (let o = -c; o <= c; o++) {
            const col = zt + (o + c) * D + this.charCol;
            const p = t + o;
            if (p < 0 || p >= T) Z.fill(0, col, col + nc);
            else for (let k = 0; k < nc; k++) Z[col + k] = this.cv[p * nc + k]!;
          }
        }
        for (let o = -c; o <= c; o++) {
          for (let f = 0; f < F; f++) {
            const dim = this.dims[f]!;
            const e = this.embOff[f]! + NetworkChain.idAt(ids, F, T, t + o, f) * dim;
            const col = zt + (o + c) * D + this.colOff[f]!;
            for (let j = 0; j < dim; j++) Z[col + j] = W[e + j]!;
          }
        }
        const ph = t * H;
        for (let h = 0; h < H; h++) pre[ph + h] = W[b1 + h]!;
      }
      for (let i = 0; i < Din; i++) {
        const row = w1 + i * H;
        for (let t = 0; t < T; t++) {
          const z = Z[t * Din + i]!;
          if (z === 0) continue;
          const ph = t * H;
          for (let h = 0; h < H; h++) pre[ph + h] = pre[ph + h]! + z * W[row + h]!;
        }
      }
      for (let t = 0; t < T; t++) this.activate(pre, hid, t * H, H);
      if (this.training && this.dropout > 0) this.drop(T * H);
    }
    if (this.H2 > 0) this.forward2(W, T);
    const top = this.H2 > 0 ? this.hid2 : hid;
    const Ho = this.Ho;
    if (unary !== null || !useProj) {
      // U_net (kept for the auxiliary loss) and, when asked, added into unary
      if (this.unet.length < T * L)
        this.unet = new Float64Array(Math.max(T * L, this.unet.length * 2));
      const unet = this.unet;
      const w2 = this.w2Off;
      const b2 = this.b2Off;
      for (let t = 0; t < T; t++) {
        const ph = t * Ho;
        const row = t * L;
        for (let l = 0; l < L; l++) {
          let s = W[b2 + l]!;
          const wr = w2 + l * Ho;
          for (let h = 0; h < Ho; h++) s += W[wr + h]! * top[ph + h]!;
          unet[row + l] = s;
          if (unary !== null) unary[row + l] = unary[row + l]! + s;
        }
      }
    }
    // the projection path fills no Z: a backward pass after it recomputes
    this.lastX = useProj ? null : x;
    this.lastW = W;
  }

  /**
   * The second layer over the (dropped-out) first-layer activations of the
   * T positions: pre2[t] = b₂' + Σ_{|o|≤c₂, 0≤t+o<T} V_oᵀ·h[t+o], hid2 = act(pre2);
   * the input row (o, h) outermost, so each row of V is read once per sentence.
   */
  private forward2(W: Float64Array, T: number): void {
    const { H, H2, c2 } = this;
    if (this.pre2.length < T * H2) {
      const n = Math.max(T * H2, this.pre2.length * 2);
      this.pre2 = new Float64Array(n);
      this.hid2 = new Float64Array(n);
    }
    const pre2 = this.pre2;
    const hid = this.hid;
    const bv = this.bvOff;
    for (let t = 0; t < T; t++) {
      const pt = t * H2;
      for (let k = 0; k < H2; k++) pre2[pt + k] = W[bv + k]!;
    }
    for (let s = 0; s <= 2 * c2; s++) {
      const o = s - c2;
      const t0 = Math.max(0, -o);
      const t1 = Math.min(T, T - o);
      for (let h = 0; h < H; h++) {
        const row = this.vOff + (s * H + h) * H2;
        for (let t = t0; t < t1; t++) {
          const z = hid[(t + o) * H + h]!;
          if (z === 0) continue;
          const pt = t * H2;
          for (let k = 0; k < H2; k++) pre2[pt + k] = pre2[pt + k]! + z * W[row + k]!;
        }
      }
    }
    for (let t = 0; t < T; t++) this.activate(pre2, this.hid2, t * H2, H2);
  }

  /** The activation's derivative at pre-activation a. */
  private dact(a: number): number {
    const act = this.act;
    return act === 0
      ? a > -1 && a < 1
        ? 1
        : 0
      : act === 1
        ? a > 0
          ? 1
          : 0
        : 1 - Math.tanh(a) ** 2;
  }

  /**
   * The output layer at one position: when dU[row, row + L) is not all zero,
   * grad[b2] += dU_t, grad[W2] += dU_t ⊗ h[ph, ph + n) and dh[0, n) = W2ᵀ·dU_t;
   * returns false (nothing done) when the row is all zero.
   */
  private outputBackward(
    dU: Float64Array,
    row: number,
    h: Float64Array,
    ph: number,
    n: number,
    W: Float64Array,
    grad: Float64Array,
    dh: Float64Array,
  ): boolean {
    const L = this.L;
    let l = 0;
    while (l < L && dU[row + l] === 0) l++;
    if (l === L) return false;
    dh.fill(0, 0, n);
    const w2 = this.w2Off;
    const b2 = this.b2Off;
    for (; l < L; l++) {
      const g = dU[row + l]!;
      if (g === 0) continue;
      grad[b2 + l] = grad[b2 + l]! + g;
      const wr = w2 + l * n;
      for (let k = 0; k < n; k++) {
        grad[wr + k] = grad[wr + k]! + g * h[ph + k]!;
        dh[k] = dh[k]! + g * W[wr + k]!;
      }
    }
    return true;
  }

  /**
   * Backward through the output layer and the second layer: from the rows of
   * dU that are not zero, the gradients of W2, b2, V, b₂' and the first
   * layer's pre-activation gradient `da` at every position those rows read
   * (listed in rowsOn); returns their count.
   */
  private backward2(T: number, dU: Float64Array, W: Float64Array, grad: Float64Array): number {
    const { H, H2, L, c2 } = this;
    if (this.da2.length < T * H2)
      this.da2 = new Float64Array(Math.max(T * H2, this.da2.length * 2));
    if (this.dh1.length < T * H) this.dh1 = new Float64Array(Math.max(T * H, this.dh1.length * 2));
    if (this.rowsTop.length < T)
      this.rowsTop = new Int32Array(Math.max(T, this.rowsTop.length * 2));
    if (this.on1.length < T) this.on1 = new Uint8Array(Math.max(T, this.on1.length * 2));
    if (this.dh.length < H2) this.dh = new Float64Array(Math.max(H, H2));
    const da2 = this.da2;
    const dh1 = this.dh1;
    const dh = this.dh;
    const top = this.rowsTop;
    const on1 = this.on1;
    const hid = this.hid;
    const hid2 = this.hid2;
    const pre2 = this.pre2;
    const bv = this.bvOff;
    let nTop = 0;
    for (let t = 0; t < T; t++) {
      const pt = t * H2;
      if (!this.outputBackward(dU, t * L, hid2, pt, H2, W, grad, dh)) continue;
      top[nTop++] = t;
      for (let k = 0; k < H2; k++) {
        const v = dh[k]! * this.dact(pre2[pt + k]!);
        da2[pt + k] = v;
        grad[bv + k] = grad[bv + k]! + v;
      }
    }
    if (nTop === 0) return 0;
    dh1.fill(0, 0, T * H);
    on1.fill(0, 0, T);
    for (let s = 0; s <= 2 * c2; s++) {
      const o = s - c2;
      for (let h = 0; h < H; h++) {
        const row = this.vOff + (s * H + h) * H2;
        for (let q = 0; q < nTop; q++) {
          const t = top[q]!;
          const p = t + o;
          if (p < 0 || p >= T) continue;
          const z = hid[p * H + h]!;
          const pt = t * H2;
          let acc = 0;
          if (z !== 0) {
            for (let k = 0; k < H2; k++) {
              const g = da2[pt + k]!;
              grad[row + k] = grad[row + k]! + z * g;
              acc += W[row + k]! * g;
            }
          } else {
            for (let k = 0; k < H2; k++) acc += W[row + k]! * da2[pt + k]!;
          }
          dh1[p * H + h] = dh1[p * H + h]! + acc;
        }
      }
      for (let q = 0; q < nTop; q++) {
        const p = top[q]! + o;
        if (p >= 0 && p < T) on1[p] = 1;
      }
    }
    // the first layer's positions: through the dropout mask and the activation
    const on = this.rowsOn;
    const da = this.da;
    const pre = this.pre;
    const b1 = this.b1Off;
    const drop = this.training && this.dropout > 0;
    const mask = this.mask;
    let nOn = 0;
    for (let p = 0; p < T; p++) {
      if (on1[p] === 0) continue;
      on[nOn++] = p;
      const ph = p * H;
      for (let h = 0; h < H; h++) {
        const g = drop ? dh1[ph + h]! * mask[ph + h]! : dh1[ph + h]!;
        const v = g * this.dact(pre[ph + h]!);
        da[ph + h] = v;
        grad[b1 + h] = grad[b1 + h]! + v;
      }
    }
    return nOn;
  }

  /** Inverted dropout of the first n hidden units (a fresh mask, kept for backward). */
  private drop(n: number): void {
    if (this.mask.length < n) this.mask = new Float64Array(Math.max(n, this.mask.length * 2));
    const mask = this.mask;
    const hid = this.hid;
    const keep = 1 - this.dropout;
    const inv = 1 / keep;
    let sd = this.seed;
    for (let i = 0; i < n; i++) {
      // xorshift32
      sd ^= sd << 13;
      sd ^= sd >>> 17;
      sd ^= sd << 5;
      const m = (sd >>> 0) / 4294967296 < keep ? inv : 0;
      mask[i] = m;
      hid[i] = hid[i]! * m;
    }
    this.seed = sd;
  }

  private activate(pre: Float64Array, hid: Float64Array, ph: number, H: number): void {
    const act = this.act;
    for (let h = 0; h < H; h++) {
      const a = pre[ph + h]!;
      hid[ph + h] =
        act === 0 ? (a > 1 ? 1 : Math.max(a, -1)) : act === 1 ? Math.max(a, 0) : Math.tanh(a);
    }
  }

  /**
   * Tagging cache of the character module: for word id w, per window slot o,
   * W1 block of (o, char segment) times v(w) — (2c+1) × H, float32.
   */
  private charProjection(W: Float64Array, w: number): Float32Array {
    const got = this.cproj[w];
    if (got !== undefined) return got;
    const nc = this.nc;
    const H = this.H;
    const slots = 2 * this.c + 1;
    const v = new Float64Array(nc);
    charForward(W, this.charLay!, this.charSeqs[w]!, v, new Int32Array(nc), 0);
    const tmp = new Float64Array(slots * H);
    for (let s = 0; s < slots; s++) {
      for (let k = 0; k < nc; k++) {
        const z = v[k]!;
        const row = this.w1Off + (s * this.D + this.charCol + k) * H;
        for (let h = 0; h < H; h++) tmp[s * H + h] = tmp[s * H + h]! + z * W[row + h]!;
      }
    }
    const out = Float32Array.from(tmp);
    this.cproj[w] = out;
    return out;
  }

  private ensureProj(W: Float64Array): void {
    if (this.proj !== null && this.projW === W) return;
    this.cproj = [];
    const slots = (2 * this.c + 1) * this.F;
    this.proj = [];
    this.projDone = [];
    for (let s = 0; s < slots; s++) {
      const n = this.vocabs[s % this.F]!.size;
      this.proj.push(new Float32Array(0));
      this.projDone.push(new Uint8Array(n));
    }
    this.projW = W;
  }

  /** W1 block of (window slot o, field f) times the embedding of value id, cached (float32). */
  private projection(W: Float64Array, o: number, f: number, id: number): Float32Array {
    const s = o * this.F + f;
    const H = this.H;
    let table = this.proj![s]!;
    const done = this.projDone![s]!;
    if (table.length === 0) {
      table = new Float32Array(this.vocabs[f]!.size * H);
      this.proj![s] = table;
    }
    const out = table.subarray(id * H, id * H + H);
    if (done[id] === 1) return out;
    const dim = this.dims[f]!;
    const e = this.embOff[f]! + id * dim;
    const col = o * this.D + this.colOff[f]!;
    const tmp = new Float64Array(H);
    for (let j = 0; j < dim; j++) {
      const z = W[e + j]!;
      const row = this.w1Off + (col + j) * H;
      for (let h = 0; h < H; h++) tmp[h] = tmp[h]! + z * W[row + h]!;
    }
    out.set(tmp);
    done[id] = 1;
    return out;
  }

  /** Drop the tagging cache (call after W changed in place). */
  invalidate(): void {
    this.proj = null;
    this.projW = null;
    this.cproj = [];
  }

  /** The network part of W scaled by s (scale ≠ 1 only; a copy). */
  private effective(W: Float64Array, s: number): Float64Array {
    if (s === 1) return W;
    if (this.scaled.length !== this.K) this.scaled = new Float64Array(this.K);
    const out = this.scaled;
    for (let i = 0; i < this.K; i++) out[i] = W[i]! * s;
    return out;
  }

  /** Potentials of x: linear unary (hybrid) + network unary; transitions are the linear chain's. */
  potentials(x: Instance, W: Float64Array, out?: Float64Array, scale = 1): ChainPotentials {
    this.flush();
    const p = this.linear.potentials(this.linearView(x), W, out, scale);
    this.forward(x, this.effective(W, scale), p.unary as Float64Array);
    return p;
  }

  /** Second-order potentials (chain2 specs): the chain's, network unaries included, and a view of W_trans2. */
  potentials2(x: Instance, W: Float64Array): Chain2Potentials {
    if (this.order !== 2)
      throw new NadirError("E_ARG", "network chain: potentials2 needs a chain2 spec");
    const L = this.L;
    const o = this.linear.trans2Offset;
    return {
      kind: "chain2",
      chain: this.potentials(x, W),
      transition2: W.subarray(o, o + L * L * L),
    };
  }

  /** Skip-chain potentials as a factor graph: the network's unary energies, transitions and W_skip. */
  graphPotentials(x: Instance, W: Float64Array, scale = 1): FactorGraph {
    const p = this.potentials(x, W, undefined, scale);
    return chainFactorGraph(p, x.skips, W, this.linear.skipOffset, scale);
  }

  /** grad += scale · E_P[∂E/∂W] from the factor marginals of `graphPotentials` (the network's unaries included). */
  accumulateGraphMarginals(
    x: Instance,
    factorMarginals: Float64Array,
    scale: number,
    grad: Float64Array,
  ): void {
    accumulateChainGraphMarginals(this, this.linear.skipOffset, x, factorMarginals, scale, grad);
  }

  /** Make sure the cache holds x's activations (recompute under the last W otherwise). */
  private ensure(x: Instance): void {
    if (this.lastX === x) return;
    if (this.lastW === null)
      throw new NadirError("E_ARG", "network chain: accumulate before any potentials call");
    const frozen = this.frozen;
    this.frozen = false;
    this.forward(x, this.lastW, null);
    this.frozen = frozen;
  }

  /**
   * The unary-gradient buffer of x: zeroed, or — deferred mode — the pending
   * sum for x (a pending sum of another instance or grad is flushed first).
   */
  private dUfor(x: Instance, grad: Float64Array): Float64Array {
    const n = x.T * this.L;
    if (this.defer && this.pendingX === x && this.pendingGrad === grad) return this.dU;
    this.flush();
    if (this.dU.length < n) this.dU = new Float64Array(Math.max(n, this.dU.length * 2));
    this.dU.fill(0, 0, n);
    if (this.defer) {
      this.pendingX = x;
      this.pendingGrad = grad;
    }
    return this.dU;
  }

  /** Run the network's pending backward pass (deferred mode); a no-op otherwise. */
  flush(): void {
    const x = this.pendingX;
    if (x === null) return;
    const grad = this.pendingGrad!;
    this.pendingX = null;
    this.pendingGrad = null;
    const dU = this.dU;
    const L = this.L;
    const eps = this.skipBelow;
    if (eps > 0) {
      for (let t = 0; t < x.T; t++) {
        let m = 0;
        for (let l = 0; l < L; l++) m = Math.max(m, Math.abs(dU[t * L + l]!));
        if (m < eps) dU.fill(0, t * L, t * L + L);
      }
    }
    this.backward(x, dU, grad);
  }

  /**
   * grad += ∂(Σ dU ⊙ U_net)/∂W_net: back-propagate unary gradients through the
   * output layer, the activation, the first layer and the embeddings. Rows of
   * dU that are all zero are skipped.
   */
  backward(x: Instance, dU: Float64Array, grad: Float64Array): void {
    this.ensure(x);
    const W = this.lastW!;
    const T = x.T;
    const { H, L, F, D, c, Din } = this;
    const ids = this.inputs(x);
    if (this.da.length < T * H) this.da = new Float64Array(Math.max(T * H, this.da.length * 2));
    if (this.dh.length < H) this.dh = new Float64Array(H);
    if (this.rowsOn.length < T) this.rowsOn = new Int32Array(Math.max(T, this.rowsOn.length * 2));
    if (this.dZ.length < T * Din) this.dZ = new Float64Array(Math.max(T * Din, this.dZ.length * 2));
    const da = this.da;
    const dh = this.dh;
    const dZ = this.dZ;
    const Z = this.Z;
    const on = this.rowsOn;
    const pre = this.pre;
    const hid = this.hid;
    const w1 = this.w1Off;
    const b1 = this.b1Off;
    let nOn = 0;
    if (this.H2 > 0) nOn = this.backward2(T, dU, W, grad);
    else
      for (let t = 0; t < T; t++) {
        const ph = t * H;
        if (!this.outputBackward(dU, t * L, hid, ph, H, W, grad, dh)) continue;
        on[nOn++] = t;
        if (this.training && this.dropout > 0) {
          const mask = this.mask;
          for (let h = 0; h < H; h++) dh[h] = dh[h]! * mask[ph + h]!;
        }
        for (let h = 0; h < H; h++) {
          const v = dh[h]! * this.dact(pre[ph + h]!);
          da[ph + h] = v;
          grad[b1 + h] = grad[b1 + h]! + v;
        }
      }
    if (nOn === 0) return;
    // W1 and the inputs, input row outermost (W1 rows stay in cache across the sentence)
    for (let i = 0; i < Din; i++) {
      const r = w1 + i * H;
      for (let q = 0; q < nOn; q++) {
        const t = on[q]!;
        const ph = t * H;
        const z = Z[t * Din + i]!;
        let dz = 0;
        if (z !== 0) {
          for (let h = 0; h < H; h++) {
            const g = da[ph + h]!;
            grad[r + h] = grad[r + h]! + z * g;
            dz += W[r + h]! * g;
          }
        } else {
          for (let h = 0; h < H; h++) dz += W[r + h]! * da[ph + h]!;
        }
        dZ[t * Din + i] = dz;
      }
    }
    // scatter dZ into the embedding rows
    for (let q = 0; q < nOn; q++) {
      const t = on[q]!;
      const zt = t * Din;
      for (let o = -c; o <= c; o++) {
        for (let f = 0; f < F; f++) {
          const dim = this.dims[f]!;
          const e = this.embOff[f]! + NetworkChain.idAt(ids, F, T, t + o, f) * dim;
          const col = zt + (o + c) * D + this.colOff[f]!;
          for (let j = 0; j < dim; j++) grad[e + j] = grad[e + j]! + dZ[col + j]!;
        }
      }
    }
    const nc = this.nc;
    if (nc > 0) {
      // the character segments of dZ, summed per position, back through the max-pool and the convolution
      const cw = this.charIds(x);
      if (this.dcv.length < T * nc)
        this.dcv = new Float64Array(Math.max(T * nc, this.dcv.length * 2));
      const dcv = this.dcv;
      dcv.fill(0, 0, T * nc);
      for (let q = 0; q < nOn; q++) {
        const t = on[q]!;
        for (let o = -c; o <= c; o++) {
          const p = t + o;
          if (p < 0 || p >= T) continue;
          const col = t * Din + (o + c) * D + this.charCol;
          for (let k = 0; k < nc; k++) dcv[p * nc + k] = dcv[p * nc + k]! + dZ[col + k]!;
        }
      }
      for (let p = 0; p < T; p++)
        charBackward(W, grad, this.charLay!, this.charSeqs[cw[p]!]!, dcv, this.carg, p * nc);
    }
  }

  /**
   * Auxiliary local loss of the network alone (deep supervision): the
   * per-position cross-entropy of the network's own Gibbs distribution
   * p(l | t) ∝ exp(−U_net[t, l]) against x's gold labels,
   *
   *   A = λ · Σₜ (U_net[t, yₜ] + log Σ_l exp(−U_net[t, l])),  ∂A/∂U_net[t, l] = λ · (1[l = yₜ] − p(l | t)),
   *
   * so the network keeps learning to tag by itself when the chain loss
   * vanishes (the sparse part fits the training set). Adds λ·∂A/∂W into grad
   * (deferred mode: into the instance's pending unary gradient) and returns A.
   */
  auxiliary(x: Instance, W: Float64Array, weight: number, grad: Float64Array): number {
    if (x.T === 0 || weight === 0) return 0;
    if (this.pendingX !== null && this.pendingX !== x) this.flush();
    if (this.lastX !== x || this.lastW !== W) {
      const frozen = this.frozen;
      this.frozen = false;
      this.forward(x, W, null);
      this.frozen = frozen;
    }
    const L = this.L;
    const T = x.T;
    const y = x.labels;
    const unet = this.unet;
    const dU = this.dUfor(x, grad);
    let A = 0;
    for (let t = 0; t < T; t++) {
      const row = t * L;
      let mn = Number.POSITIVE_INFINITY;
      for (let l = 0; l < L; l++) mn = Math.min(mn, unet[row + l]!);
      let z = 0;
      for (let l = 0; l < L; l++) z += Math.exp(mn - unet[row + l]!);
      const logZ = Math.log(z) - mn;
      const yt = y[t]!;
      A += unet[row + yt]! + logZ;
      for (let l = 0; l < L; l++) {
        const p = Math.exp(-unet[row + l]! - logZ);
        dU[row + l] = dU[row + l]! + weight * ((l === yt ? 1 : 0) - p);
      }
    }
    if (!this.defer) this.backward(x, dU, grad);
    return weight * A;
  }

  /** grad += scale · ∂E(W, y, x)/∂W (at the W of the last potentials call). */
  accumulate(x: Instance, y: Int32Array, scale: number, grad: Float64Array): void {
    if (x.T === 0) return;
    this.linear.accumulate(this.linearView(x), y, scale, grad);
    const L = this.L;
    const dU = this.dUfor(x, grad);
    for (let t = 0; t < x.T; t++) dU[t * L + y[t]!] = dU[t * L + y[t]!]! + scale;
    if (!this.defer) this.backward(x, dU, grad);
  }

  /** grad += scale · (∂E(y)/∂W − ∂E(ŷ)/∂W); the network part back-propagates only where they differ. */
  accumulateDifference(
    x: Instance,
    y: Int32Array,
    yHat: Int32Array,
    scale: number,
    grad: Float64Array,
  ): void {
    if (x.T === 0) return;
    this.linear.accumulateDifference(this.linearView(x), y, yHat, scale, grad);
    const L = this.L;
    const dU = this.dUfor(x, grad);
    let any = false;
    for (let t = 0; t < x.T; t++) {
      if (y[t] === yHat[t]) continue;
      dU[t * L + y[t]!] = dU[t * L + y[t]!]! + scale;
      dU[t * L + yHat[t]!] = dU[t * L + yHat[t]!]! - scale;
      any = true;
    }
    if (any && !this.defer) this.backward(x, dU, grad);
  }

  /** grad += scale · E_P[∂E/∂W] from chain marginals (unary T×L, pairwise sum L×L). */
  accumulateMarginals(
    x: Instance,
    unary: Float64Array,
    pairwiseSum: Float64Array,
    scale: number,
    grad: Float64Array,
  ): void {
    if (x.T === 0) return;
    this.linear.accumulateMarginals(this.linearView(x), unary, pairwiseSum, scale, grad);
    const n = x.T * this.L;
    const dU = this.dUfor(x, grad);
    for (let i = 0; i < n; i++) dU[i] = dU[i]! + scale * unary[i]!;
    if (!this.defer) this.backward(x, dU, grad);
  }

  /**
   * Indices of W a gradient for x can touch outside the dense block (the
   * linear state weights of x's attributes and x's embedding rows), each
   * pushed once per `stamp` (mark[k] !== stamp); returns the new count.
   * The dense block [denseStart, K) (transitions, start/end and the layers)
   * is touched by every example.
   */
  sparseIndices(x: Instance, mark: Int32Array, stamp: number, out: Int32Array, n: number): number {
    const lin = this.linear;
    if (this.settings.hybrid) {
      const { offsets, attrs } = x;
      for (let j = 0; j < offsets[x.T]!; j++) {
        const a = attrs[j]!;
        const end = lin.rowEnd(a);
        for (let k = lin.rowStart(a); k < end; k++) {
          if (mark[k] === stamp) continue;
          mark[k] = stamp;
          out[n++] = k;
        }
      }
    }
    const ids = this.inputs(x);
    const F = this.F;
    for (let i = 0; i < ids.length; i++) {
      const f = i % F;
      const dim = this.dims[f]!;
      const e = this.embOff[f]! + ids[i]! * dim;
      if (mark[e] === stamp) continue;
      for (let j = 0; j < dim; j++) {
        mark[e + j] = stamp;
        out[n++] = e + j;
      }
    }
    for (let f = 0; f < F; f++) {
      for (const id of [BOS, EOS]) {
        const dim = this.dims[f]!;
        const e = this.embOff[f]! + id * dim;
        if (mark[e] === stamp) continue;
        for (let j = 0; j < dim; j++) {
          mark[e + j] = stamp;
          out[n++] = e + j;
        }
      }
    }
    return n;
  }

  /** Most sparse indices one instance can touch (for sizing `out` of sparseIndices). */
  maxSparse(x: Instance): number {
    let n = 0;
    if (this.settings.hybrid) {
      for (let j = 0; j < x.offsets[x.T]!; j++) {
        const a = x.attrs[j]!;
        n += this.linear.rowEnd(a) - this.linear.rowStart(a);
      }
    }
    return n + (x.T + 2) * this.D;
  }

  /** First index of the dense block: transitions onward in the linear chain, then the layers. */
  get denseRanges(): [number, number][] {
    return [
      [this.linear.transOffset, this.linear.K],
      [this.denseStart, this.K],
    ];
  }

  /** A dense gradient for the online optimizers (every example touches the layers). */
  gradient(): DenseGradient {
    return new DenseGradient(this.K);
  }

  /** The network's sizes and vocabularies for a model header (W itself is the model's weights). */
  describe(): NetworkDescription {
    const rows = this.linear.rows;
    return {
      kind: "network-chain",
      L: this.L,
      settings: this.settings,
      vocabs: this.vocabs.map((v) => v.names.slice(RESERVED)),
      A: this.linear.A,
      rows: rows ? { rowPtr: Array.from(rows.rowPtr), rowLabel: Array.from(rows.rowLabel) } : null,
      ...(this.charVocab ? { charVocab: this.charVocab.names.slice(CHAR_RESERVED) } : {}),
    };
  }

  static fromDescription(spec: GraphSpec, d: NetworkDescription): NetworkChain {
    if (d.kind !== "network-chain")
      throw new NadirError(
        "E_MODEL",
        `expected a network-chain description, got ${String(d.kind)}`,
      );
    const vocabs = d.vocabs.map((names) => {
      const v = new Dictionary();
      v.add("<unk>");
      v.add("<s>");
      v.add("</s>");
      for (const n of names) v.add(n);
      return v;
    });
    const rows = d.rows
      ? { rowPtr: Int32Array.from(d.rows.rowPtr), rowLabel: Int32Array.from(d.rows.rowLabel) }
      : null;
    let charVocab: Dictionary | null = null;
    if (d.settings.chars) {
      if (!Array.isArray(d.charVocab))
        throw new NadirError("E_MODEL", "a network with a character module needs its charVocab");
      charVocab = new Dictionary();
      charVocab.add("<unk>");
      charVocab.add("<w>");
      charVocab.add("</w>");
      for (const ch of d.charVocab) charVocab.add(ch);
    }
    // descriptions written before the character module have no `chars`
    const settings = {
      ...d.settings,
      chars: d.settings.chars ?? null,
      layer2: d.settings.layer2 ?? null,
    };
    return new NetworkChain(spec, settings, d.L, vocabs, d.A, rows, charVocab);
  }
}

/** Read a pretrained embedding file written by scripts/embeddings.ts (gzip or plain text). */
export async function readPretrained(
  path: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<Pretrained> {
  return parsePretrained(readFileBytes(path), path, limit);
}

/** Parse the bytes of a pretrained embedding file (gzip or plain text; `path` names it in errors). */
export function parsePretrained(
  bytes: Uint8Array,
  path: string,
  limit = Number.POSITIVE_INFINITY,
): Pretrained {
  const text = new TextDecoder().decode(isGzip(bytes) ? gunzip(bytes) : bytes);
  const lines = text.split("\n");
  const [n, dim, scale] = lines[0]!.split(" ").map(Number) as [number, number, number];
  if (!Number.isInteger(n) || !Number.isInteger(dim) || !(dim > 0) || !Number.isFinite(scale))
    throw new NadirError("E_PARSE", `${path}:1: expected 'count dim scale', got '${lines[0]}'`);
  const m = Math.min(n, limit);
  const words: string[] = [];
  const vectors = new Float32Array(m * dim);
  for (let i = 0; i < m; i++) {
    const f = (lines[i + 1] ?? "").split(" ");
    if (f.length !== dim + 1)
      throw new NadirError(
        "E_PARSE",
        `${path}:${i + 2}: expected ${dim + 1} fields, got ${f.length}`,
      );
    words.push(f[0]!);
    for (let j = 0; j < dim; j++) vectors[i * dim + j] = Number(f[j + 1]) * scale;
  }
  return { dim, words, vectors };
}

/**
 * An ensemble as one network chain: the mean energy E = (1/n) Σᵢ E(Wᵢ, Y, X)
 * of n trained members of the same spec (e.g. seeds). The linear parts share
 * attributes and labels, so their weights are averaged; the networks sit side
 * by side — fields and hidden units concatenated, W1 block diagonal (member i's
 * inputs feed only member i's units), W2 = [W2₁ … W2ₙ]/n, b2 = mean of the
 * b2ᵢ — so U_net = (1/n) Σᵢ U_net,i exactly and the result is one model file.
 * Members with a character module are refused.
 */
export function combineNetworks(
  spec: GraphSpec,
  members: readonly { arch: NetworkChain; W: Float64Array }[],
): { arch: NetworkChain; W: Float64Array } {
  const first = members[0];
  if (first === undefined) throw new NadirError("E_ARG", "combineNetworks: no member");
  const a0 = first.arch;
  for (const { arch } of members) {
    if (arch.charLay !== null)
      throw new NadirError("E_UNSUPPORTED", "an ensemble of networks with a character module");
    if (arch.H2 > 0)
      throw new NadirError("E_UNSUPPORTED", "an ensemble of networks with a second layer");
    if (
      arch.L !== a0.L ||
      arch.linear.K !== a0.linear.K ||
      arch.c !== a0.c ||
      arch.settings.activation !== a0.settings.activation ||
      arch.settings.hybrid !== a0.settings.hybrid
    )
      throw new NadirError(
        "E_ARG",
        "combineNetworks: the members differ in labels, linear part, window or activation",
      );
  }
  const n = members.length;
  const settings: NetworkSettings = {
    ...a0.settings,
    hidden: members.reduce((s, m) => s + m.arch.H, 0),
    fields: members.flatMap((m) => m.arch.settings.fields),
    chars: null,
  };
  const vocabs = members.flatMap((m) => m.arch.vocabs);
  const out = new NetworkChain(spec, settings, a0.L, vocabs, a0.linear.A, a0.linear.rows);
  const W = new Float64Array(out.K);
  const Hn = out.H;
  const L = out.L;
  for (let k = 0; k < a0.linear.K; k++) {
    let s = 0;
    for (const m of members) s += m.W[k]!;
    W[k] = s / n;
  }
  let fo = 0; // first field of the member in the ensemble
  let ho = 0; // first hidden unit of the member
  for (const { arch: a, W: Wm } of members) {
    const H = a.H;
    for (let f = 0; f < a.F; f++) {
      const size = a.vocabs[f]!.size * a.dims[f]!;
      W.set(Wm.subarray(a.embOff[f]!, a.embOff[f]! + size), out.embOff[fo + f]!);
    }
    for (let s = 0; s <= 2 * a.c; s++) {
      for (let f = 0; f < a.F; f++) {
        for (let j = 0; j < a.dims[f]!; j++) {
          const rowOld = s * a.D + a.colOff[f]! + j;
          const rowNew = s * out.D + out.colOff[fo + f]! + j;
          for (let h = 0; h < H; h++)
            W[out.w1Off + rowNew * Hn + ho + h] = Wm[a.w1Off + rowOld * H + h]!;
        }
      }
    }
    for (let h = 0; h < H; h++) W[out.b1Off + ho + h] = Wm[a.b1Off + h]!;
    for (let l = 0; l < L; l++) {
      for (let h = 0; h < H; h++) W[out.w2Off + l * Hn + ho + h] = Wm[a.w2Off + l * H + h]! / n;
      W[out.b2Off + l] = W[out.b2Off + l]! + Wm[a.b2Off + l]! / n;
    }
    fo += a.F;
    ho += H;
  }
  return { arch: out, W };
}
