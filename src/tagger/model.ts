import {
  Dictionary,
  encodeSentence,
  FeatureExtractor,
  type Instance,
} from "../architecture/features.ts";
import { type Encoding, encodingConstraints, withEnd } from "../architecture/labels.ts";
import { LinearChain, type StateRows } from "../architecture/linear-chain.ts";
import { type GraphSpec, parseSpec } from "../architecture/spec.ts";
import {
  type ContainerFormat,
  decodeContainer,
  encodeContainer,
  type SectionArray,
  u32,
  utf8Text,
} from "../core/container.ts";
import { NadirError } from "../core/errors.ts";
import { readFileBytes } from "../core/host.ts";
import { writeFileAtomic } from "../core/io.ts";
import type { Constraints } from "../graph/constraints.ts";
import { gibbsDensity } from "../inference/forward-backward.ts";
import { kbestViterbi } from "../inference/kbest.ts";
import type { Backend, InferenceResult } from "../inference/types.ts";
import { crfsuiteModelArgs, isCrfsuiteModel } from "../interop/crfsuite-model.ts";
import { chooseBackend, type Structures, structuresFor } from "../structure/index.ts";
import { describeModel, type ModelDescription } from "./inspect.ts";

/** Order of the chain a spec asks for. */
export function orderOf(spec: GraphSpec): 1 | 2 {
  return spec.structure === "chain2" ? 2 : 1;
}
/** Version 2: the checksummed container (version 1 files still load). */
export const MODEL_VERSION = 2;
const MODEL_FORMAT: ContainerFormat = { magic: "NADIRMDL", version: MODEL_VERSION };

/**
 * A trained energy model over sequences: the spec (architecture), the label
 * and attribute dictionaries, and the weights W of the linear-chain energy.
 * It answers the decision question: ŷ = argmin_y E(W, y, x).
 */
export class Model {
  readonly spec: GraphSpec;
  readonly labels: string[];
  /** X side of the architecture: column vocabularies and the attribute table. */
  readonly fx: FeatureExtractor;
  readonly arch: LinearChain;
  readonly W: Float64Array;
  /** Number of columns of the training file (so tagging can tell whether gold labels are present). */
  readonly nColumns: number;
  private readonly constraints: Constraints | undefined;
  private readonly labelDict: Dictionary;
  /** Small named settings saved with the model (e.g. a calibrated detection threshold). */
  readonly extra: Record<string, unknown> = {};

  /** `W` null: all-zero weights of the right size; `rows` null: dense state rows. */
  constructor(
    spec: GraphSpec,
    labels: string[],
    fx: FeatureExtractor,
    W: Float64Array | null,
    nColumns: number,
    rows: StateRows | null = null,
  ) {
    checkSize(
      fx.numAttributes,
      labels.length,
      rows,
      orderOf(spec),
      spec.structure === "skip-chain",
    );
    this.spec = spec;
    this.labels = labels;
    this.fx = fx;
    this.arch = new LinearChain(
      fx.numAttributes,
      labels.length,
      rows,
      orderOf(spec),
      spec.structure === "skip-chain",
    );
    W ??= new Float64Array(this.arch.K);
    if (W.length !== this.arch.K) {
      throw new NadirError("E_MODEL", `weights: expected ${this.arch.K} values, got ${W.length}`);
    }
    this.W = W;
    this.nColumns = nColumns;
    this.labelDict = Dictionary.from(labels);
    this.constraints = spec.constrained
      ? encodingConstraints(spec.encoding as Encoding, labels)
      : undefined;
  }

  /** Decoding constraints for a sequence of length T (encoding well-formedness). */
  constraintsFor(T: number): Constraints | undefined {
    if (!this.spec.constrained) return undefined;
    return withEnd(this.constraints, this.spec.encoding as Encoding, this.labels, T);
  }

  /** Encode a sentence's tokens (tokens[t][c]) into attribute ids; gold labels read if asked. */
  encode(
    tokens: string[][],
    withGold = false,
    where?: { file?: string; firstLine?: number },
  ): Instance {
    return encodeSentence(this.fx, { tokens, ...where }, this.labelDict, withGold);
  }

  private structs: { inference: string; structures: Structures } | null = null;

  /**
   * The structures of this model's sentences (chain, second-order chain, or a
   * skip-chain sentence's factor graph), answering through the backend chosen
   * at training (`extra.inference`; "auto": Viterbi, BP on skip edges).
   */
  structures(): Structures {
    const inference = typeof this.extra.inference === "string" ? this.extra.inference : "auto";
    if (this.structs?.inference !== inference) {
      let backend: Backend;
      try {
        backend = chooseBackend(inference);
      } catch (e) {
        throw new NadirError(
          "E_MODEL",
          `the model was trained with inference backend '${inference}', which is not registered here (registerBackend it before use): ${(e as Error).message}`,
        );
      }
      this.structs = { inference, structures: structuresFor(this.arch, backend) };
    }
    return this.structs.structures;
  }

  /** ŷ = argmin_y E(W, y, x) through the model's structure and backend, under the encoding's constraints. */
  decideInstance(x: Instance, out?: Int32Array): InferenceResult {
    const st = this.structures().of(x);
    st.bind(x, this.W, 1);
    const labels = out && out.length >= x.T ? out.subarray(0, x.T) : new Int32Array(x.T);
    const energy = x.T === 0 ? 0 : st.argmin(this.constraintsFor(x.T), labels);
    return { labels, energy, exact: x.T === 0 || st.exact };
  }

  /** The best labels for a sentence, as strings. */
  tag(tokens: string[][]): string[] {
    if (tokens.length === 0) return [];
    const r = this.decideInstance(this.encode(tokens));
    const out = new Array<string>(r.labels.length);
    for (let t = 0; t < out.length; t++) out[t] = this.labels[r.labels[t]!]!;
    return out;
  }

  /**
   * Tag plain words, for specs with a single word column: each word fills
   * that column of an otherwise empty token line.
   */
  tagWords(words: readonly string[]): string[] {
    const cols = Object.values(this.spec.columns);
    if (cols.length !== 1) {
      throw new NadirError(
        "E_ARG",
        `tagWords needs a spec with one input column; ${this.spec.name} has ${cols.length}`,
      );
    }
    const width = Math.max(this.nColumns, cols[0]! + 1);
    return this.tag(
      words.map((w) => {
        const tok = new Array<string>(width).fill("_");
        tok[cols[0]!] = w;
        return tok;
      }),
    );
  }

  /** Label ids of a labeling given as strings (E_ARG for a label the model does not know). */
  labelIds(y: readonly string[]): Int32Array {
    const ids = new Int32Array(y.length);
    for (let t = 0; t < y.length; t++) {
      const id = this.labelDict.get(y[t]!);
      if (id < 0) {
        throw new NadirError(
          "E_ARG",
          `label '${y[t]}' at position ${t + 1} is unknown to the model (known: ${this.labels.join(" ")})`,
        );
      }
      ids[t] = id;
    }
    return ids;
  }

  /** Refuse what only a first-order chain answers: second-order models, and skip-chain sentences with skip edges. */
  private requireFirstOrder(what: string, x?: Instance): void {
    if (this.arch.order !== 1) {
      throw new NadirError(
        "E_UNSUPPORTED",
        `${what} needs a first-order chain; ${this.spec.name} is second-order`,
      );
    }
    if (this.arch.skip && x?.skips && x.skips.length > 0) {
      throw new NadirError(
        "E_UNSUPPORTED",
        `${what} needs a first-order chain; this sentence has skip edges in ${this.spec.name} (sum-product BP: sumProduct on model.arch.graphPotentials)`,
      );
    }
  }

  /** First-order chain potentials of a sentence, for `what` (refused where they are not the whole energy). */
  private potentialsOf(tokens: string[][], what: string) {
    const x = this.encode(tokens);
    this.requireFirstOrder(what, x);
    return { x, p: this.arch.potentials(x, this.W, new Float64Array(x.T * this.arch.L)) };
  }

  /** E(W, y, x) of a labeling. */
  energy(tokens: string[][], y: readonly string[]): number {
    if (y.length !== tokens.length) {
      throw new NadirError("E_ARG", `expected ${tokens.length} labels, got ${y.length}`);
    }
    const x = this.encode(tokens);
    const st = this.structures().of(x);
    st.bind(x, this.W, 1);
    return st.energy(this.labelIds(y));
  }

  /**
   * Decision: the k lowest-energy labelings in order (k-best Viterbi under the
   * encoding's constraints), each with its energy.
   */
  decide(tokens: string[][], k = 1): { labels: string[]; energy: number }[] {
    if (tokens.length === 0) return [{ labels: [], energy: 0 }];
    if (k === 1) {
      const r = this.decideInstance(this.encode(tokens));
      return [{ labels: Array.from(r.labels, (l) => this.labels[l]!), energy: r.energy }];
    }
    const { p } = this.potentialsOf(tokens, "k-best decoding");
    const rs = kbestViterbi(p, k, this.constraintsFor(tokens.length));
    return rs.map((r) => ({
      labels: Array.from(r.labels, (l) => this.labels[l]!),
      energy: r.energy,
    }));
  }

  /** Ranking: which of two labelings is more compatible with x (lower energy); 0 on a tie. */
  rank(
    tokens: string[][],
    y1: readonly string[],
    y2: readonly string[],
  ): { energies: [number, number]; better: 0 | 1 | 2 } {
    const e1 = this.energy(tokens, y1);
    const e2 = this.energy(tokens, y2);
    return { energies: [e1, e2], better: e1 < e2 ? 1 : e2 < e1 ? 2 : 0 };
  }

  /**
   * Conditional density at inverse temperature β: the free energy
   * F_β = −(1/β) log Z, the marginals μₜ(l) of the Gibbs distribution
   * P(y|x) = exp(−β E(y, x)) / Z over the well-formed labelings, its entropy
   * (nats), and the probability of a labeling when one is given. Computed
   * relative to the minimum energy (see `gibbsDensity`), so any finite β > 0
   * works: P ≤ 1, H ≥ 0 (→ log #minimizers as β → ∞), nothing infinite.
   */
  density(
    tokens: string[][],
    beta = 1,
    y?: readonly string[],
  ): {
    freeEnergy: number;
    logZ: number;
    entropy: number;
    marginals: Float64Array;
    probability: number | undefined;
  } {
    const { p } = this.potentialsOf(tokens, "the Gibbs density (forward-backward)");
    const d = gibbsDensity(p, beta, this.constraintsFor(tokens.length));
    return {
      freeEnergy: d.freeEnergy,
      logZ: d.logZ,
      entropy: d.entropy,
      marginals: d.marginals,
      probability: y === undefined ? undefined : Math.exp(d.logProbability(this.labelIds(y))),
    };
  }

  /**
   * Detection score of a labeling: the per-token free-energy gap
   * s(y) = (E(y) − F_β)/T = −log P_β(y|x) / (β·T) ≥ 0; lower is more compatible.
   */
  detectionScore(tokens: string[][], y: readonly string[], beta = 1): number {
    if (tokens.length === 0) return 0;
    const { p } = this.potentialsOf(tokens, "detection (free energy)");
    const d = gibbsDensity(p, beta, this.constraintsFor(tokens.length));
    // E(y) − F = (E(y) − E*) + log Z₀/β: two non-negative terms, no cancellation at large β
    return (d.gap(this.labelIds(y)) + d.logZ0 / beta) / tokens.length;
  }

  /**
   * Detection: is y compatible with x? True when its detection score is at
   * most the threshold (given, or calibrated on dev data by
   * `calibrateDetection` and saved with the model).
   */
  detect(
    tokens: string[][],
    y: readonly string[],
    threshold?: number,
  ): { compatible: boolean; score: number; threshold: number } {
    const th = threshold ?? (this.extra.detectThreshold as number | undefined);
    if (th === undefined) {
      throw new NadirError(
        "E_ARG",
        "detect: no threshold given and none calibrated (run calibrateDetection on dev data)",
      );
    }
    const beta = (this.extra.detectBeta as number | undefined) ?? 1;
    const score = this.detectionScore(tokens, y, beta);
    return { compatible: score <= th, score, threshold: th };
  }

  /**
   * What the model holds: labels, transition energies, the `top` lowest- and
   * highest-energy attributes per label, counts, the spec (`nadir dump`).
   */
  describe(top = 10): ModelDescription {
    return describeModel(this, top);
  }

  /** Does a token line of this many columns carry a gold label? */
  hasGold(columns: number): boolean {
    return this.spec.format === "conllu" || columns >= this.nColumns;
  }

  /**
   * This model's weights carried over to another architecture over the same
   * kind of data (a warm start): state weights matched by attribute name and
   * label, transitions by label names; what this model lacks starts at 0.
   */
  weightsFor(fx: FeatureExtractor, arch: LinearChain, labels: readonly string[]): Float64Array {
    const theirs = new Map<string, number>();
    for (let a = 0; a < arch.A; a++) theirs.set(fx.attributeName(a), a);
    const attrMap = new Int32Array(this.arch.A);
    for (let a = 0; a < this.arch.A; a++) attrMap[a] = theirs.get(this.fx.attributeName(a)) ?? -1;
    const labelMap = Int32Array.from(this.labels, (l) => labels.indexOf(l));
    const W = new Float64Array(arch.K);
    this.arch.mapWeights(this.W, arch, attrMap, labelMap, (t, v) => {
      W[t] = v;
    });
    return W;
  }

  /**
   * The same energy keeping only its non-zero state weights, as CSR rows:
   * identical energies (a zero adds nothing), a smaller file, and faster
   * potentials — a perceptron leaves most (attribute, label) weights at 0.
   */
  compact(): Model {
    const c = this.arch.compact(this.W);
    if (c === null) return this;
    const m = new Model(this.spec, this.labels, this.fx, c.W, this.nColumns, c.rows);
    Object.assign(m.extra, this.extra);
    return m;
  }

  /**
   * Write the model atomically. Attributes whose weights are all zero are
   * dropped. Layout (then gzip, whose CRC guards against corruption):
   * "NADIRMDL" · u32 version · u32 header bytes · header JSON · pad to 8 ·
   * Float64 weights (K) · Int32 attribute tuples (A' × stride).
   */
  save(path: string): void {
    writeFileAtomic(path, this.toBytes());
  }

  /** The bytes of the model file (see `save`), without touching a file system. */
  toBytes(): Uint8Array {
    // the attributes with a non-zero state weight, renumbered densely
    const { keep, W: W2, rows } = this.arch.pack(this.W);
    const sparse = rows !== null;
    const rowPtr = rows?.rowPtr ?? new Int32Array(0);
    const rowLabel = rows?.rowLabel ?? new Int32Array(0);
    const st = this.fx.state(keep);
    const keys = st.keys as Int32Array;
    const header = {
      format: "nadir-model",
      version: MODEL_VERSION,
      spec: this.spec.source,
      labels: this.labels,
      nColumns: this.nColumns,
      vocabs: st.vocabs,
      stride: st.stride,
      attributes: keep.length,
      sparse,
      K: W2.length,
      extra: this.extra,
    };
    return encodeContainer(
      MODEL_FORMAT,
      header,
      { W: W2, keys: keys.slice(), rowPtr, rowLabel },
      6,
    );
  }

  /** Read and check a model file: gzip integrity, magic, version, sizes, finite weights. */
  static load(path: string): Model {
    let raw: Uint8Array;
    try {
      raw = readFileBytes(path);
    } catch (e) {
      throw new NadirError("E_MODEL", `cannot read model: ${(e as Error).message}`, { file: path });
    }
    return Model.fromBytes(raw, path);
  }

  /**
   * Check and decode the bytes of a model file (as `toBytes` writes them);
   * `name` stands for the file in error messages.
   */
  static fromBytes(bytes: Uint8Array, name = "<bytes>"): Model {
    if (isCrfsuiteModel(bytes)) {
      // a CRFsuite model (crfsuite learn, python-crfsuite): its weights as energies
      const c = crfsuiteModelArgs(bytes, name);
      return new Model(c.spec, c.labels, c.fx, c.W, c.nColumns, c.rows);
    }
    const path = name;
    const bad = (msg: string): never => {
      throw new NadirError("E_MODEL", `not a valid nadir model: ${msg}`, { file: path });
    };
    const d = decodeContainer(bytes, MODEL_FORMAT, bad, [1]);
    const { h, tables } = d.legacy
      ? readModelV1(d.bytes, bad)
      : { h: checkHeader(d.header, bad), tables: d.sections };
    let spec: GraphSpec;
    try {
      spec = parseSpec(h.spec, "embedded spec");
    } catch (e) {
      return bad((e as Error).message);
    }
    const L = h.labels.length;
    const A = h.attributes;
    const tailSize =
      L * L +
      2 * L +
      (orderOf(spec) === 2 ? L * L * L : 0) +
      (spec.structure === "skip-chain" ? L * L : 0);
    const nState = h.K - tailSize;
    if (nState < 0 || (!h.sparse && nState !== A * L)) {
      return bad(`expected ${A * L + tailSize} weights for the dictionaries, header says ${h.K}`);
    }
    const table = <C extends SectionArray>(
      key: string,
      type: new (n: number) => C,
      n: number,
    ): C => {
      const t = tables[key];
      if (!(t instanceof type) || t.length !== n)
        return bad(`expected ${n} values in the ${key} table, got ${t ? t.length : "none"}`);
      return t;
    };
    // weights saved as float32 (a smaller file, e.g. the playground's) are widened on load
    const W =
      tables.W instanceof Float32Array && tables.W.length === h.K
        ? Float64Array.from(tables.W)
        : table("W", Float64Array, h.K);
    for (let k = 0; k < W.length; k++)
      if (!Number.isFinite(W[k]!)) return bad(`weight ${k} is ${W[k]}`);
    const keys = table("keys", Int32Array, A * h.stride);
    let rows: StateRows | null = null;
    if (h.sparse) {
      const rowPtr = table("rowPtr", Int32Array, A + 1);
      const rowLabel = table("rowLabel", Int32Array, nState);
      for (let a = 0; a < A; a++)
        if (rowPtr[a + 1]! < rowPtr[a]!) return bad("state rows are not increasing");
      if (rowPtr[0] !== 0 || rowPtr[A] !== nState)
        return bad("state rows do not cover the state weights");
      for (let k = 0; k < nState; k++)
        if (rowLabel[k]! < 0 || rowLabel[k]! >= L) return bad(`state label ${k} out of range`);
      rows = { rowPtr, rowLabel };
    }
    let fx: FeatureExtractor;
    try {
      fx = new FeatureExtractor(spec, { vocabs: h.vocabs, stride: h.stride, keys });
    } catch (e) {
      return bad((e as Error).message);
    }
    const model = new Model(spec, h.labels, fx, W, h.nColumns, rows);
    if (h.extra && typeof h.extra === "object") Object.assign(model.extra, h.extra);
    return model;
  }
}

/**
 * The largest number of weights a model may have (default 2²⁸ = 268,435,456,
 * 2 GiB per copy of W; training holds a few copies). Raise it with the
 * environment variable NADIR_MAX_WEIGHTS.
 */
export function maxWeights(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.NADIR_MAX_WEIGHTS;
  const n = env === undefined || env === "" ? Number.NaN : Number(env);
  return Number.isSafeInteger(n) && n > 0 ? n : 2 ** 28;
}

/**
 * Refuse, before anything is allocated, a model whose weight vector
 * K = states + L² + 2L (+ L³ second-order, + L² skip edges) exceeds the
 * limit: a huge label set otherwise ends in "Invalid typed array length".
 */
function checkSize(
  A: number,
  L: number,
  rows: StateRows | null,
  order: 1 | 2,
  skip: boolean,
): void {
  const states = rows ? rows.rowPtr[A]! : A * L;
  const K = states + L * L + 2 * L + (order === 2 ? L * L * L : 0) + (skip ? L * L : 0);
  const max = maxWeights();
  if (K > max) {
    const parts = rows
      ? `${states.toLocaleString("en")} state weights`
      : `${A.toLocaleString("en")} attributes × ${L.toLocaleString("en")} labels`;
    throw new NadirError(
      "E_TOO_LARGE",
      `the model would have ${K.toLocaleString("en")} weights (${parts}, plus ${order === 2 ? "L³ + " : ""}L² transitions for ${L.toLocaleString("en")} labels), above the limit of ${max.toLocaleString("en")}; check the label column of the data, use fewer attributes (--min-count, features "observed"), or raise the limit with NADIR_MAX_WEIGHTS=<n> (8 bytes per weight, a few copies while training)`,
    );
  }
}

/** The header of a model file. */
interface ModelHeader {
  spec: unknown;
  labels: string[];
  nColumns: number;
  vocabs: string[][];
  stride: number;
  attributes: number;
  sparse?: boolean;
  K: number;
  extra?: Record<string, unknown>;
}

function checkHeader(h: Record<string, unknown>, bad: (msg: string) => never): ModelHeader {
  if (
    !Array.isArray(h.labels) ||
    !Array.isArray(h.vocabs) ||
    !Number.isInteger(h.attributes) ||
    !Number.isInteger(h.stride) ||
    !Number.isInteger(h.K) ||
    (h.attributes as number) < 0 ||
    (h.stride as number) < 0 ||
    (h.K as number) < 0
  ) {
    return bad("header lacks labels, vocabularies, attributes or K");
  }
  return h as unknown as ModelHeader;
}

/**
 * Version 1 model files (before the container; gzip's CRC only):
 * "NADIRMDL" · u32 1 · u32 header bytes · header JSON · pad to 8 ·
 * Float64 weights (K) · Int32 attribute tuples (A × stride) · when sparse,
 * Int32 row pointers (A + 1) and row labels (the rest).
 */
function readModelV1(
  buf: Uint8Array,
  bad: (msg: string) => never,
): { h: ModelHeader; tables: Record<string, SectionArray> } {
  const hlen = u32(buf, 12);
  if (16 + hlen > buf.length) return bad("header runs past the end of the file");
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Text(buf, 16, 16 + hlen));
  } catch (e) {
    return bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null) return bad("header is not a JSON object");
  const h = checkHeader(raw as Record<string, unknown>, bad);
  const headLen = 16 + hlen;
  let at = headLen + ((8 - (headLen % 8)) % 8);
  const take = <C extends SectionArray>(
    type: { new (n: number): C; BYTES_PER_ELEMENT: number },
    n: number,
  ): C => {
    const bytes = n * type.BYTES_PER_ELEMENT;
    if (at + bytes > buf.length)
      return bad(`expected more bytes of tables than the ${buf.length - at} left`);
    const a = new type(n);
    new Uint8Array(a.buffer).set(buf.subarray(at, at + bytes));
    at += bytes;
    return a;
  };
  const W = take(Float64Array, h.K);
  const keys = take(Int32Array, h.attributes * h.stride);
  const rowPtr = take(Int32Array, h.sparse ? h.attributes + 1 : 0);
  const rest = buf.length - at;
  if (!h.sparse && rest !== 0) return bad(`expected no bytes after the tables, got ${rest}`);
  if (rest % 4 !== 0) return bad(`expected whole Int32 row labels, got ${rest} bytes`);
  const rowLabel = take(Int32Array, rest / 4);
  return { h, tables: { W, keys, rowPtr, rowLabel } };
}
