import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { Rng } from "../core/rng.ts";
import {
  checkpointArray,
  checkpointNumber,
  checkResume,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import {
  divergedError,
  firstNonFinite,
  largestMagnitude,
  OVERFLOW,
  smallerStep,
} from "./finite.ts";
import type { TrainOptions } from "./options.ts";
import type { EpochReport } from "./selection.ts";
import { epochReport, restoreSelector, Selector, selectorCheckpoint } from "./selection.ts";

export type { EpochReport } from "./selection.ts";

/**
 * Write ŷ = argmin_y E(W, y, x) (with any decoding constraints) into
 * out[0 … T) and return the perceptron loss E(W, yⁱ, x) − E(W, ŷ, x) ≥ 0 —
 * both energies from the example's Structure (src/structure).
 */
export type Decoder = (x: Instance, W: Float64Array, out: Int32Array) => number;

export interface PerceptronResult {
  W: Float64Array;
  /** the raw weights after the last step, when W is their average (parameter mixing mixes these) */
  last?: Float64Array;
  bestEpoch: number;
  reports: EpochReport[];
}

/**
 * The (averaged) structured perceptron: for each training pair, decode
 * ŷ = argmin E(W, y, xⁱ) and, if ŷ ≠ yⁱ, step on the perceptron loss
 * E(W, yⁱ, xⁱ) − E(W, ŷ, xⁱ): push down the energy of the correct labeling,
 * pull up the energy of the machine's answer (W ← W − ∂E(yⁱ)/∂W + ∂E(ŷ)/∂W).
 *
 * Averaging is lazy (Daumé's formulation of the timestamp trick): beside W we
 * keep U = Σ c·Δ over updates, c counting examples, and the average of all
 * intermediate weight vectors is W − U/c, so an update costs only the
 * weights it touches.
 *
 * `checkpoint` writes the whole state after every epoch (W, U, c, the RNG
 * and the order, the kept best); `resume` continues from one, so that an
 * interrupted run ends with the same weights as an uninterrupted one.
 */
export function trainPerceptron(
  arch: Architecture,
  data: readonly Instance[],
  opts: TrainOptions,
  decode: Decoder,
  hooks: {
    /** dev score of a weight vector (higher is better) */
    evaluate?: (W: Float64Array) => number;
    onEpoch?: (r: EpochReport) => void;
    onProgress?: (done: number, total: number) => void;
    /** corrections (index, delta) to apply after each update, e.g. a submodular projection */
    project?: (w: (k: number) => number) => [number, number][];
  } = {},
  init?: Float64Array,
  /**
   * Buffers to reuse (parameter mixing calls this once per shard and epoch):
   * W receives the raw weights, avg the average, U is scratch — all K long.
   */
  work?: { W: Float64Array; U?: Float64Array; avg?: Float64Array },
): PerceptronResult {
  const K = arch.K;
  const W = work ? work.W : new Float64Array(K);
  if (init) W.set(init);
  else if (work) W.fill(0);
  const U = opts.average ? (work?.U ? work.U.fill(0) : new Float64Array(K)) : null;
  // The averaged weights are materialized per epoch only when a dev set scores them.
  const avg = opts.average && hooks.evaluate ? new Float64Array(K) : W;
  const select = new Selector(opts.keepBest, opts.patience);
  const order = new Int32Array(data.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const rng = new Rng(opts.seed);
  let maxT = 1;
  for (const x of data) maxT = Math.max(maxT, x.T);
  let yHat = new Int32Array(maxT);
  let c = 1;
  const reports: EpochReport[] = [];
  const progressEvery = Math.max(1, Math.floor(data.length / 100));
  const kind = opts.average ? "perceptron-averaged" : "perceptron";
  const hint = smallerStep(opts.eta, "perceptron");
  let first = 1;
  if (opts.resume) {
    // The whole state of the run: W, U and the step count c, the RNG and the
    // current order (shuffles compound), and the kept best.
    const path = opts.resume;
    const ck = loadCheckpoint(path);
    checkResume(ck, kind, K, path);
    W.set(checkpointArray(ck, "W", K, path));
    if (U) U.set(checkpointArray(ck, "U", K, path));
    const o = checkpointArray(ck, "order", order.length, path);
    for (let i = 0; i < order.length; i++) order[i] = o[i]!;
    c = checkpointNumber(ck, "c", path);
    rng.state = checkpointNumber(ck, "rng", path);
    first = checkpointNumber(ck, "epoch", path) + 1;
    restoreSelector(select, ck, path);
  }

  for (let epoch = first; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    if (opts.shuffle) rng.shuffle(order);
    let mistakes = 0;
    let lossSum = 0;
    for (let n = 0; n < order.length; n++) {
      const x = data[order[n]!]!;
      if (x.T > 0) {
        if (yHat.length < x.T) yHat = new Int32Array(x.T);
        const out = yHat;
        let gap: number;
        try {
          gap = decode(x, W, out);
        } catch (e) {
          // non-finite weights make every energy infinite ("no labeling satisfies…")
          const big = largestMagnitude(W);
          if (big >= OVERFLOW) {
            throw divergedError(
              `epoch ${epoch}`,
              `the weights reached ${big} and the energies overflowed (${(e as Error).message})`,
              hint,
            );
          }
          throw e;
        }
        const y = x.labels;
        let differs = false;
        for (let t = 0; t < x.T; t++) {
          if (y[t] !== out[t]) {
            differs = true;
            break;
          }
        }
        if (differs) {
          mistakes++;
          lossSum += gap;
          arch.accumulateDifference(x, y, out, -1, W);
          if (U) arch.accumulateDifference(x, y, out, -c, U);
          if (hooks.project) {
            for (const [k, d] of hooks.project((k) => W[k]!)) {
              W[k] = W[k]! + d;
              if (U) U[k] = U[k]! + c * d;
            }
          }
        }
      }
      c++;
      if (hooks.onProgress && n % progressEvery === 0) hooks.onProgress(n, order.length);
    }
    if (U && avg !== W) averageInto(avg, W, U, c);
    const bad = firstNonFinite(avg !== W ? avg : W);
    const badU = U && bad < 0 ? firstNonFinite(U) : -1;
    if (bad >= 0 || badU >= 0 || lossSum - lossSum !== 0) {
      throw divergedError(
        `epoch ${epoch}`,
        bad >= 0
          ? `weight ${bad} became ${(avg !== W ? avg : W)[bad]}`
          : badU >= 0
            ? `the averaging sum of weight ${badU} became ${U![badU]}`
            : `the summed perceptron loss became ${lossSum}`,
        hint,
      );
    }
    const dev = hooks.evaluate ? hooks.evaluate(avg) : undefined;
    const stop = select.see(epoch, dev, avg);
    const r = epochReport(epoch, mistakes, lossSum, data.length, dev, t0);
    reports.push(r);
    hooks.onEpoch?.(r);
    if (opts.checkpoint) {
      const sel = selectorCheckpoint(select);
      const arrays: Record<string, Float64Array> = { W, order: Float64Array.from(order) };
      if (U) arrays.U = U;
      saveCheckpoint(opts.checkpoint, {
        header: { kind, K, epoch, c, rng: rng.state, ...sel.header },
        arrays: { ...arrays, ...sel.arrays },
      });
    }
    if (stop) break;
  }
  if (select.best) return { W: select.best, bestEpoch: select.bestEpoch, reports };
  const last = reports.at(-1)?.epoch ?? opts.epochs;
  if (U && avg === W) {
    const out = work?.avg ?? new Float64Array(K);
    averageInto(out, W, U, c);
    return { W: out, last: W, bestEpoch: last, reports };
  }
  return { W: avg, last: W, bestEpoch: last, reports };
}

/** out = W − U/c: the average of the weight vectors over all c steps. */
function averageInto(out: Float64Array, W: Float64Array, U: Float64Array, c: number): void {
  const K = W.length;
  for (let k = 0; k < K; k++) out[k] = W[k]! - U[k]! / c;
}
