/**
 * Training the log-bilinear completion energy on running text.
 *
 * Each step samples a position t of the token stream (seeded), takes its
 * window as the context and the word at t as the correct answer, and moves the
 * parameters by sparse AdaGrad along the derivatives of the loss:
 * - hinge: L = max(0, m + E(c) − E_I) where E_I = min_{w ≠ c} E(w) is the most
 *   offending incorrect word, searched over the whole vocabulary (energies of
 *   `batch` contexts are computed together, one pass over the target rows);
 *   the step touches the two target rows.
 * - nll: L = E(c) − F_β with F_β = −(1/β) log Σ_w exp(−β E(w)). With
 *   `noise` = k > 0 (the default) it is trained by noise-contrastive estimation
 *   (Gutmann & Hyvärinen 2010; Mnih & Teh 2012): the correct word against k
 *   words drawn from the noise distribution q ∝ count^`noisePower`, each
 *   classified by the logistic loss on s(w) = −E(w) − log(k q(w)):
 *     L_NCE = softplus(−s(c)) + Σ_j softplus(s(n_j)),
 *   whose optimum is the NLL optimum with self-normalized energies (Z ≈ 1), at
 *   O(k·D) per step instead of O(V·D). Each of those terms is a row of the
 *   loss table (src/loss) on a two-answer problem per word, "data" with energy
 *   E(w) against "noise" with energy −log(k q(w)): `nceLoss` = "log" (the
 *   default) is exactly NCE; another row of the table (e.g. "hinge") trains
 *   by negative sampling with that loss instead. With `noise` = 0 the exact NLL over the
 *   vocabulary: full normalization for the value and F, and the expectation
 *   Σ_w P_β(w) ∂E(w)/∂W of its gradient estimated from `nllSamples` draws of
 *   the exact P_β (all words above `nllCutoff` when nllSamples = 0).
 * With `threads` > 1, that many worker threads update shared parameters
 * without locks (Hogwild!, Recht et al. 2011): updates are sparse, so they rarely
 * collide. threads = 1 runs in the calling thread and is reproducible.
 */
import { Worker } from "node:worker_threads";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { workerUrl } from "../core/threads.ts";
import { type Loss, type LossName, type LossValue, makeLoss } from "../loss/index.ts";
import type { EncodedCorpus } from "./corpus.ts";
import { Lbl, type LblParams, zeroParams } from "./lbl.ts";
import { AliasTable } from "./noise.ts";
import { countTokens, encode, FIRST_WORD, splitSentences, Vocab } from "./text.ts";
import { logPartition } from "./topk.ts";

export type CompletionLoss = "hinge" | "nll";

export interface CompletionProgress {
  steps: number;
  seconds: number;
  /** mean loss per step since the previous report */
  avgLoss: number;
}

export interface CompletionTrainOptions {
  loss: CompletionLoss;
  /** the vocabulary: at most this many words ... */
  vocabSize: number;
  /** ... each seen at least this many times */
  minCount: number;
  dim: number;
  left: number;
  right: number;
  lr: number;
  margin: number;
  beta: number;
  /** wall-clock budget in minutes (0: no limit; then maxSteps must be set) */
  minutes: number;
  /** stop after this many steps (0: no limit) */
  maxSteps: number;
  seed: number;
  /** nll: noise words per example for NCE (0: exact normalization over the vocabulary) */
  noise: number;
  /** nll with NCE: the noise distribution is q(w) ∝ count(w)^noisePower */
  noisePower: number;
  /**
   * nll with NCE: the loss-table row applied to each word's data-vs-noise pair
   * ("log": NCE proper; "hinge", "mce", ...: negative sampling with that loss)
   */
  nceLoss: LossName;
  nllCutoff: number;
  /** exact nll: draws from P_β for the gradient's expectation term (0: every word) */
  nllSamples: number;
  /** let the step size fall linearly to 1% of lr over the budget (time or steps) */
  decay: boolean;
  /**
   * AdaGrad's squared-gradient sums per entry ("entry") or per row of each
   * table ("row": one square root per row, faster)
   */
  adagrad: "entry" | "row";
  /**
   * nll with NCE: frequent words are kept as the word to predict with
   * probability min(1, √(subsample / f(w))) (f: relative frequency; Mikolov et
   * al. 2013), so steps go to the rarer words; the biases are corrected by
   * −log keep(w) after training, which restores the energies' optimum (0: off)
   */
  subsample: number;
  /** AdaGrad's initial squared-gradient sums (> 0: a warm start's first steps are smaller) */
  accInit: number;
  /** hinge and exact nll: contexts whose energies are computed together */
  batch: number;
  /** train on sentences (windows padded at sentence ends), as the questions are */
  sentences: boolean;
  /** worker threads updating shared parameters (1: the calling thread, reproducible) */
  threads: number;
  /** seconds between progress reports */
  progressSeconds: number;
  onProgress?: (info: CompletionProgress) => void;
  /** called with the model before training starts (its parameters are live during training) */
  onModel?: (model: Lbl) => void;
}

export const COMPLETION_DEFAULTS: CompletionTrainOptions = {
  loss: "nll",
  vocabSize: 40000,
  minCount: 2,
  dim: 64,
  left: 10,
  right: 10,
  lr: 0.1,
  margin: 1,
  beta: 1,
  minutes: 5,
  maxSteps: 0,
  seed: 1,
  noise: 10,
  noisePower: 0.75,
  nceLoss: "log",
  nllCutoff: 1e-6,
  nllSamples: 32,
  batch: 16,
  adagrad: "entry",
  subsample: 0,
  accInit: 0,
  decay: false,
  sentences: true,
  threads: 1,
  progressSeconds: 30,
};

export interface TrainResult {
  model: Lbl;
  steps: number;
  seconds: number;
  avgLoss: number;
}

/**
 * One word's term of NCE through the loss table: the word is either data or
 * noise, answer "data" with energy E(w), answer "noise" with energy −log(k q(w))
 * (so that P(data | w) = σ(−E − log(k q(w))), Mnih & Teh 2012). A data word's
 * correct answer is "data": loss(E_C = E, E_I = −log kq), ∂L/∂E = dEC; a noise
 * word's is "noise": loss(E_C = −log kq, E_I = E), ∂L/∂E = dEI. With the
 * table's "log" loss, softplus(E_C − E_I), these are NCE's softplus(−s) and
 * softplus(s) with s = −E − log(k q(w)). Returns the loss; ∂L/∂E into out[0].
 */
export function nceTerm(
  loss: Loss,
  E: number,
  logKq: number,
  data: boolean,
  out: Float64Array,
  lv: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 },
): number {
  if (data) {
    loss.evaluate(E, -logKq, lv);
    out[0] = lv.dEC;
  } else {
    loss.evaluate(-logKq, E, lv);
    out[0] = lv.dEI;
  }
  return lv.value;
}

/** The losses of the table that nceTerm can use: functions of E_C and E_I. */
export function checkNceLoss(name: string, params: { margin?: number } = {}): Loss {
  const loss = makeLoss(name, params);
  if (loss.needs !== "offending" && loss.needs !== "answer")
    throw new NadirError(
      "E_ARG",
      `nceLoss: '${name}' is not a loss of E_C and E_I; use log (NCE), hinge, mce, lvq2, perceptron`,
    );
  return loss;
}

/** The noise distribution of NCE over the vocabulary: q(w) ∝ count(w)^power, reserved ids 0. */
export function noiseWeights(freq: Float64Array, power: number): Float64Array {
  return Float64Array.from(freq, (c, w) => (w >= FIRST_WORD ? (c + 1) ** power : 0));
}

/** Per word, the probability of keeping it as a target (see `subsample`); null when off. */
export function keepProbabilities(freq: Float64Array, subsample: number): Float64Array | null {
  if (!(subsample > 0)) return null;
  let tot = 0;
  for (let w = FIRST_WORD; w < freq.length; w++) tot += freq[w]!;
  return Float64Array.from(freq, (c, w) =>
    w >= FIRST_WORD && c > 0 ? Math.min(1, Math.sqrt((subsample * tot) / c)) : 1,
  );
}

/** Fold the subsampling back into the biases: E(w) + log keep(w) (the unsubsampled optimum). */
export function unsubsample(model: Lbl, keep: Float64Array | null): void {
  if (!keep) return;
  const b = model.p.b;
  for (let w = FIRST_WORD; w < model.V; w++) b[w] = b[w]! - Math.log(keep[w]!);
}

/**
 * One training thread's state: the model (possibly over shared memory), its
 * AdaGrad sums, scratch buffers and the NCE noise sampler.
 */
export class CompletionLearner {
  private readonly loss;
  private readonly nceLoss: Loss;
  private readonly lv: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 };
  private readonly noise: AliasTable | null;
  private readonly logKq: Float64Array | null;
  private readonly EB: Float64Array;
  private readonly rs: Float64Array;
  private readonly ctxs: Int32Array;
  private readonly targets: Int32Array;
  private readonly ws: Int32Array;
  private readonly gs: Float64Array;
  private readonly cdf: Float64Array;
  private readonly g1 = new Float64Array(1);
  private readonly keep: Float64Array | null;
  /** the step size is lr · lrScale (see setProgress) */
  lrScale = 1;

  readonly model: Lbl;
  readonly acc: LblParams;
  readonly o: CompletionTrainOptions;
  readonly rng: Rng;

  constructor(
    model: Lbl,
    acc: LblParams,
    o: CompletionTrainOptions,
    rng: Rng,
    /** NCE noise weights (required when loss = nll and noise > 0) */
    noiseW?: Float64Array,
    /** NCE: per word, the probability of keeping it as a target (subsampling) */
    keep: Float64Array | null = null,
  ) {
    this.keep = keep;
    this.model = model;
    this.acc = acc;
    this.o = o;
    this.rng = rng;
    this.loss = makeLoss(o.loss, { margin: o.margin, beta: o.beta });
    this.nceLoss = checkNceLoss(o.nceLoss, { margin: o.margin });
    const V = model.V;
    const nce = o.loss === "nll" && o.noise > 0;
    if (nce) {
      if (!noiseW || noiseW.length !== V)
        throw new NadirError("E_ARG", "NCE needs noise weights over the vocabulary");
      this.noise = new AliasTable(noiseW);
      this.logKq = Float64Array.from(this.noise.p, (q) => Math.log(o.noise * Math.max(q, 1e-300)));
    } else {
      this.noise = null;
      this.logKq = null;
    }
    const B = nce ? 1 : Math.max(1, o.batch);
    this.EB = new Float64Array(nce ? 0 : B * V);
    this.rs = new Float64Array(B * model.D);
    this.ctxs = new Int32Array(B * model.C);
    this.targets = new Int32Array(B);
    const n = Math.max(nce ? o.noise + 1 : 2, o.loss === "nll" && !nce ? V : 0, o.nllSamples + 1);
    this.ws = new Int32Array(n);
    this.gs = new Float64Array(n);
    this.cdf = new Float64Array(nce ? 0 : V);
  }

  /**
   * With `decay`, the step size falls linearly to 1% of lr as the training
   * budget is used up (fraction in [0, 1] of the time or the steps).
   */
  setProgress(fraction: number): void {
    if (this.o.decay) this.lrScale = Math.max(0.01, 1 - fraction);
  }

  /** `n` steps on positions drawn uniformly from `pos` of the id stream; returns the summed loss. */
  run(ids: Int32Array, pos: Int32Array, n: number): number {
    return this.noise ? this.runNce(ids, pos, n) : this.runFull(ids, pos, n);
  }

  private runNce(ids: Int32Array, pos: Int32Array, n: number): number {
    const { model, acc, rng, ws, gs, lv, nceLoss } = this;
    const noise = this.noise!;
    const logKq = this.logKq!;
    const K = this.o.noise;
    const lr = this.o.lr * this.lrScale;
    const ctx = this.ctxs;
    const g1 = this.g1;
    const rowwise = this.o.adagrad === "row";
    let lossSum = 0;
    const keep = this.keep;
    for (let step = 0; step < n; step++) {
      let t = pos[rng.int(pos.length)]!;
      if (keep) while (rng.next() >= keep[ids[t]!]!) t = pos[rng.int(pos.length)]!;
      model.contextAt(ids, t, ctx);
      model.predict(ctx);
      ws[0] = ids[t]!;
      for (let j = 1; j <= K; j++) ws[j] = noise.sample(rng);
      for (let j = 0; j <= K; j++) {
        const w = ws[j]!;
        lossSum += nceTerm(nceLoss, model.energyOf(w), logKq[w]!, j === 0, g1, lv);
        gs[j] = g1[0]!;
      }
      if (rowwise) model.adagradRowStep(ctx, ws, gs, K + 1, acc, lr);
      else model.adagradStep(ctx, ws, gs, K + 1, acc, lr);
    }
    return lossSum;
  }

  private runFull(ids: Int32Array, pos: Int32Array, n: number): number {
    const { model, acc, rng, ws, gs, o, EB, rs, ctxs, targets, lv, loss } = this;
    const V = model.V;
    const C = model.C;
    const D = model.D;
    const B = targets.length;
    let lossSum = 0;
    for (let done = 0; done < n; ) {
      const nb = Math.min(B, n - done);
      for (let k = 0; k < nb; k++) {
        const t = pos[rng.int(pos.length)]!;
        targets[k] = ids[t]!;
        model.contextAt(ids, t, ctxs.subarray(k * C, k * C + C));
      }
      // energies of the whole batch with the weights at the start of the batch;
      // the updates below are then applied example by example
      model.energiesBatch(ctxs, nb, EB, rs);
      for (let k = 0; k < nb; k++) {
        const E = EB.subarray(k * V, k * V + V);
        const c = targets[k]!;
        const EC = E[c]!;
        let m = 0;
        if (o.loss === "hinge") {
          let off = -1;
          let EI = Number.POSITIVE_INFINITY;
          for (let w = FIRST_WORD; w < V; w++) {
            const e = E[w]!;
            if (e < EI && w !== c) {
              EI = e;
              off = w;
            }
          }
          loss.evaluate(EC, EI, lv);
          if (off >= 0 && (lv.dEC !== 0 || lv.dEI !== 0)) {
            ws[0] = c;
            gs[0] = lv.dEC;
            ws[1] = off;
            gs[1] = lv.dEI;
            m = 2;
          }
        } else {
          const logZ = logPartition(E, o.beta);
          loss.evaluate(EC, -logZ / o.beta, lv);
          m = this.nllTerms(E, c, logZ, lv);
        }
        if (m > 0) {
          model.r.set(rs.subarray(k * D, (k + 1) * D));
          model.adagradStep(ctxs.subarray(k * C, k * C + C), ws, gs, m, acc, o.lr * this.lrScale);
        }
        lossSum += lv.value;
      }
      done += nb;
    }
    return lossSum;
  }

  /** Exact NLL: the words and ∂L/∂E(w) of one step into ws/gs; returns their count. */
  private nllTerms(E: Float64Array, c: number, logZ: number, lv: LossValue): number {
    const { o, rng, ws, gs, cdf } = this;
    const V = E.length;
    let n = 0;
    if (o.nllSamples > 0) {
      // unbiased estimate of Σ_w P_β(w) ∂E(w)/∂W from S draws of the exact P_β
      let cum = 0;
      for (let w = 0; w < V; w++) {
        cum += w >= FIRST_WORD ? Math.exp(-o.beta * E[w]! - logZ) : 0;
        cdf[w] = cum;
      }
      ws[0] = c;
      gs[0] = lv.dEC;
      n = 1;
      const S = o.nllSamples;
      for (let s = 0; s < S; s++) {
        const u = rng.next() * cum;
        let lo = FIRST_WORD;
        let hi = V - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cdf[mid]! > u) hi = mid;
          else lo = mid + 1;
        }
        ws[n] = lo;
        gs[n] = lv.dF / S;
        n++;
      }
      return n;
    }
    for (let w = FIRST_WORD; w < V; w++) {
      let g = lv.dF * Math.exp(-o.beta * E[w]! - logZ);
      if (w === c) g += lv.dEC;
      if (g >= o.nllCutoff || g <= -o.nllCutoff) {
        ws[n] = w;
        gs[n] = g;
        n++;
      }
    }
    return n;
  }
}

/** Positions of the stream that hold a real word (the training examples). */
export function examplePositions(ids: Int32Array): Int32Array {
  let n = 0;
  for (let t = 0; t < ids.length; t++) if (ids[t]! >= FIRST_WORD) n++;
  const pos = new Int32Array(n);
  for (let t = 0, k = 0; t < ids.length; t++) if (ids[t]! >= FIRST_WORD) pos[k++] = t;
  return pos;
}

/**
 * Build the vocabulary from tokenized documents, initialize and train. With
 * `init`, start from a copy of that model instead (its vocabulary, dimension
 * and window; a warm start).
 */
export async function trainCompletion(
  docs: readonly (readonly string[])[],
  options: Partial<CompletionTrainOptions> = {},
  init?: Lbl,
): Promise<TrainResult> {
  const o = { ...COMPLETION_DEFAULTS, ...options };
  if (init) Object.assign(o, { dim: init.D, left: init.left, right: init.right });
  validate(o);
  const counts = countTokens(docs);
  const vocab = init?.vocab ?? Vocab.build(counts, o.vocabSize, o.minCount);
  const freq = new Float64Array(vocab.size);
  for (let w = FIRST_WORD; w < vocab.size; w++) freq[w] = counts.get(vocab.words[w]!) ?? 0;
  const units = o.sentences ? docs.flatMap((d) => splitSentences(d)) : docs;
  const ids = encode(units, vocab, Math.max(o.left, o.right));
  return trainEncoded({ vocab, freq, ids }, o, init);
}

/**
 * Train on an encoded corpus (corpus.ts: read file by file, e.g. gzipped
 * etexts); its padding must be at least the window. With `init`, a warm start
 * from that model (its dimension and window): the rows of the words both
 * vocabularies share are copied, the corpus's other words start as usual.
 */
export async function trainEncoded(
  corpus: Pick<EncodedCorpus, "vocab" | "freq" | "ids">,
  options: Partial<CompletionTrainOptions> = {},
  init?: Lbl,
): Promise<TrainResult> {
  const o = { ...COMPLETION_DEFAULTS, ...options };
  if (init) Object.assign(o, { dim: init.D, left: init.left, right: init.right });
  validate(o);
  const { vocab, freq, ids } = corpus;
  const rng = new Rng(o.seed);
  const shared = o.threads > 1;
  const params = zeroParams(vocab.size, o.dim, o.left + o.right, "f32", shared);
  const model = new Lbl(vocab, o.dim, o.left, o.right, params);
  if (init) {
    const same =
      init.vocab.size === vocab.size && init.vocab.words.every((w, i) => vocab.words[i] === w);
    if (same) for (const k of ["R", "Q", "b", "W"] as const) params[k].set(init.p[k]);
    else warmStart(model.init(rng, freq), init);
    model.meta = { init: init.meta };
  } else model.init(rng, freq);
  o.onModel?.(model);
  const keep = o.loss === "nll" && o.noise > 0 ? keepProbabilities(freq, o.subsample) : null;
  const r = shared
    ? await trainThreads(model, ids, freq, o, keep)
    : trainOn(model, ids, o, rng, noiseWeights(freq, o.noisePower), keep);
  unsubsample(model, keep);
  return r;
}

/**
 * Copy into `model` the parameters of `from` (same D and window) for the
 * words both vocabularies hold, and its position weights. The reserved rows
 * (<unk>, <s>) are copied too.
 */
export function warmStart(model: Lbl, from: Lbl): Lbl {
  if (from.D !== model.D || from.left !== model.left || from.right !== model.right)
    throw new NadirError(
      "E_ARG",
      `warm start: the model has D = ${from.D}, window ${from.left}/${from.right}; expected D = ${model.D}, ${model.left}/${model.right}`,
    );
  const D = model.D;
  const { R, Q, b, W } = model.p;
  for (let w = 0; w < model.V; w++) {
    const v = from.vocab.id(model.vocab.words[w]!);
    if (w >= FIRST_WORD && v < FIRST_WORD) continue;
    const src = w < FIRST_WORD ? w : v;
    R.set(from.p.R.subarray(src * D, src * D + D), w * D);
    Q.set(from.p.Q.subarray(src * D, src * D + D), w * D);
    b[w] = from.p.b[src]!;
  }
  W.set(from.p.W);
  return model;
}

function validate(o: CompletionTrainOptions): void {
  if (o.minutes <= 0 && o.maxSteps <= 0)
    throw new NadirError("E_ARG", "completion training needs a time budget or a step count");
  if (!Number.isInteger(o.threads) || o.threads < 1)
    throw new NadirError("E_ARG", `threads must be a positive integer, got ${o.threads}`);
  if (!Number.isInteger(o.noise) || o.noise < 0)
    throw new NadirError("E_ARG", `noise must be a non-negative integer, got ${o.noise}`);
  if (o.loss === "nll" && o.noise > 0) checkNceLoss(o.nceLoss, { margin: o.margin });
}

/**
 * Train `model` in place in the calling thread on the id stream (positions
 * holding real words are examples). `noiseW`: NCE noise weights (nll, noise > 0).
 */
export function trainOn(
  model: Lbl,
  ids: Int32Array,
  o: CompletionTrainOptions,
  rng: Rng,
  noiseW?: Float64Array,
  keep: Float64Array | null = null,
): TrainResult {
  validate(o);
  const pos = examplePositions(ids);
  if (pos.length === 0) return { model, steps: 0, seconds: 0, avgLoss: 0 };
  const acc = zeroParams(model.V, model.D, model.C, "f32");
  for (const k of ["R", "Q", "b", "W"] as const) acc[k].fill(o.accInit);
  const learner = new CompletionLearner(model, acc, o, rng, noiseW, keep);
  const start = performance.now();
  const budget = o.minutes > 0 ? o.minutes * 60_000 : Number.POSITIVE_INFINITY;
  const maxSteps = o.maxSteps > 0 ? o.maxSteps : Number.POSITIVE_INFINITY;
  const chunk = o.loss === "nll" && o.noise > 0 ? 10_000 : Math.max(1, o.batch) * 16;
  let steps = 0;
  let lossSum = 0;
  let window = 0;
  let avgLoss = 0;
  let lastReport = start;
  while (steps < maxSteps && performance.now() - start <= budget) {
    const n = Math.min(chunk, maxSteps - steps);
    learner.setProgress(Math.max((performance.now() - start) / budget, steps / maxSteps));
    lossSum += learner.run(ids, pos, n);
    steps += n;
    window += n;
    const now = performance.now();
    if (now - lastReport >= o.progressSeconds * 1000) {
      avgLoss = lossSum / window;
      o.onProgress?.({ steps, seconds: (now - start) / 1000, avgLoss });
      lossSum = 0;
      window = 0;
      lastReport = now;
    }
  }
  if (window > 0) avgLoss = lossSum / window;
  const seconds = (performance.now() - start) / 1000;
  stamp(model, o, steps, seconds, avgLoss);
  return { model, steps, seconds, avgLoss };
}

function stamp(
  model: Lbl,
  o: CompletionTrainOptions,
  steps: number,
  seconds: number,
  avgLoss: number,
): void {
  model.meta = {
    ...model.meta,
    loss: o.loss,
    estimator: o.loss === "nll" ? (o.noise > 0 ? `nce-${o.noise}` : "exact") : "most-offending",
    ...(o.loss === "nll" && o.noise > 0
      ? { nceLoss: o.nceLoss, adagrad: o.adagrad, subsample: o.subsample }
      : {}),
    dim: model.D,
    window: [model.left, model.right],
    steps,
    seconds,
    threads: o.threads,
    lr: o.lr,
    margin: o.margin,
    beta: o.beta,
    seed: o.seed,
    avgLoss,
  };
}

/** What a training worker receives (plain data and shared buffers). */
export interface CompletionWorkerData {
  words: readonly string[];
  D: number;
  left: number;
  right: number;
  params: LblParams;
  acc: LblParams;
  ids: Int32Array;
  noiseW: Float64Array;
  keep: Float64Array | null;
  options: Omit<CompletionTrainOptions, "onProgress" | "onModel">;
  seed: number;
  slot: number;
  /** Date.now() at the start and the deadline (ms), or 0 */
  start: number;
  deadline: number;
  maxSteps: number;
  /** per slot: [steps, loss sum] */
  counters: Float64Array;
  /** [0]: 1 asks the workers to stop */
  stop: Int32Array;
}

async function trainThreads(
  model: Lbl,
  ids: Int32Array,
  freq: Float64Array,
  o: CompletionTrainOptions,
  keep: Float64Array | null,
): Promise<TrainResult> {
  const { onProgress, onModel: _, ...options } = o;
  const T = o.threads;
  const sharedIds = new Int32Array(new SharedArrayBuffer(ids.length * 4));
  sharedIds.set(ids);
  const acc = zeroParams(model.V, model.D, model.C, "f32", true);
  for (const k of ["R", "Q", "b", "W"] as const) acc[k].fill(o.accInit);
  const counters = new Float64Array(new SharedArrayBuffer(T * 2 * 8));
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const start = performance.now();
  const startMs = Date.now();
  const deadline = o.minutes > 0 ? startMs + o.minutes * 60_000 : 0;
  const perThread = o.maxSteps > 0 ? Math.ceil(o.maxSteps / T) : 0;
  const workers: Worker[] = [];
  const finished = Array.from({ length: T }, (_, slot) => {
    const data: CompletionWorkerData = {
      words: model.vocab.words,
      D: model.D,
      left: model.left,
      right: model.right,
      params: model.p,
      acc,
      ids: sharedIds,
      noiseW: noiseWeights(freq, o.noisePower),
      keep,
      options,
      seed: o.seed + 7919 * slot,
      slot,
      start: startMs,
      deadline,
      maxSteps: perThread,
      counters,
      stop,
    };
    const worker = new Worker(workerUrl(import.meta.url, "../complete/worker"), {
      workerData: data,
    });
    workers.push(worker);
    return new Promise<void>((resolve, reject) => {
      worker.once("error", reject);
      worker.once("exit", (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`completion training thread exited with code ${code}`)),
      );
    });
  });
  const all = Promise.all(finished);
  let settled = false;
  let failure: unknown = null;
  all.then(
    () => {
      settled = true;
    },
    (e) => {
      settled = true;
      failure = e;
    },
  );
  const total = (): [number, number] => {
    let s = 0;
    let l = 0;
    for (let i = 0; i < T; i++) {
      s += counters[2 * i]!;
      l += counters[2 * i + 1]!;
    }
    return [s, l];
  };
  let prev: [number, number] = [0, 0];
  let avgLoss = 0;
  let reported = 0;
  while (!settled) {
    // wake up for the next report, or as soon as every thread is done
    await Promise.race([
      all.catch(() => undefined),
      new Promise((r) => setTimeout(r, Math.min(1000, o.progressSeconds * 1000))),
    ]);
    if (settled || !onProgress) continue;
    const now = performance.now();
    const due = Math.floor((now - start) / (o.progressSeconds * 1000));
    if (due > reported) {
      reported = due;
      const [s, l] = total();
      if (s > prev[0]) avgLoss = (l - prev[1]) / (s - prev[0]);
      prev = [s, l];
      onProgress({ steps: s, seconds: (now - start) / 1000, avgLoss });
    }
  }
  if (failure) {
    Atomics.store(stop, 0, 1);
    await Promise.allSettled(workers.map((w) => w.terminate()));
    throw failure;
  }
  const [steps, l] = total();
  if (steps > prev[0]) avgLoss = (l - prev[1]) / (steps - prev[0]);
  const seconds = (performance.now() - start) / 1000;
  stamp(model, o, steps, seconds, avgLoss);
  return { model, steps, seconds, avgLoss };
}
