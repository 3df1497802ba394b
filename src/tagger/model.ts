import type { Architecture } from "../architecture/architecture.ts";
import {
  Dictionary,
  encodeSentence,
  type FeatureExtractor,
  type Instance,
} from "../architecture/features.ts";
import { type Encoding, encodingConstraints, withEnd } from "../architecture/labels.ts";
import { LinearChain, type StateRows } from "../architecture/linear-chain.ts";
import type { NetworkChain } from "../architecture/network.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { readFileBytes } from "../core/host.ts";
import { writeFileAtomic } from "../core/io.ts";
import type { ChainPotentials } from "../graph/chain.ts";
import type { Constraints } from "../graph/constraints.ts";
import { gibbsDensity } from "../inference/forward-backward.ts";
import { kbestViterbi } from "../inference/kbest.ts";
import type { Backend, InferenceResult } from "../inference/types.ts";
import { crfsuiteModelArgs, isCrfsuiteModel } from "../interop/crfsuite-model.ts";
import { chooseBackend, type Structures, structuresFor } from "../structure/index.ts";
import { describeModel, type ModelDescription } from "./inspect.ts";
import { decodeModelFile, encodeModelFile, orderOf } from "./model-file.ts";

export { MODEL_VERSION, orderOf } from "./model-file.ts";

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
  /** The linear chain: the whole energy, or the linear part of a network's (a prefix of W). */
  readonly arch: LinearChain;
  /** A network under the chain (a spec's `network` section), or null. */
  readonly network: NetworkChain | null;
  /** The energy's parameters: the chain's weights, then the network's. */
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
    network: NetworkChain | null = null,
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
    this.network = network;
    this.arch =
      network?.linear ??
      new LinearChain(
        fx.numAttributes,
        labels.length,
        rows,
        orderOf(spec),
        spec.structure === "skip-chain",
      );
    const K = network?.K ?? this.arch.K;
    W ??= new Float64Array(K);
    if (W.length !== K) {
      throw new NadirError("E_MODEL", `weights: expected ${K} values, got ${W.length}`);
    }
    // a trained model's network: cache each word's first-layer projection while tagging
    if (network) network.frozen = true;
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
    const x = encodeSentence(this.fx, { tokens, ...where }, this.labelDict, withGold);
    return this.network ? this.network.bind(x, tokens) : x;
  }

  /** The energy as trainers and structures see it: the network chain, or the linear chain. */
  get architecture(): Architecture {
    return this.network ?? this.arch;
  }

  /** Chain potentials of an encoded sentence (unary T×L from the whole energy, network included). */
  potentials(x: Instance): ChainPotentials {
    return this.architecture.potentials(x, this.W, new Float64Array(x.T * this.arch.L));
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
      this.structs = { inference, structures: structuresFor(this.architecture, backend) };
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
    return { x, p: this.potentials(x) };
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
    if (this.network) return this; // the network's layout keeps every row
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
    return encodeModelFile(this);
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
    const m = decodeModelFile(bytes, name);
    const model = new Model(m.spec, m.labels, m.fx, m.W, m.nColumns, m.rows, m.network);
    Object.assign(model.extra, m.extra);
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
