import type { Instance } from "../architecture/features.ts";
import type { LinearChain } from "../architecture/linear-chain.ts";
import type { NetworkChain } from "../architecture/network.ts";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Backend, Constraints } from "../inference/types.ts";
import { makeLoss } from "../loss/index.ts";
import { EnergyObjective } from "./objective.ts";

/**
 * Mini-batch training of a network chain through EnergyObjective (any loss of
 * the table, any backend): per batch of sentences the gradient of the summed
 * loss, then a lazy Adam step — the dense block (transitions, layers) every
 * batch, the sparse parameters (linear state weights, embedding rows) only
 * where the batch touched them (their moments are not decayed in between).
 */
export interface DeepTrainOptions {
  loss: string;
  margin: number;
  beta: number;
  offending: "exact" | "hamming";
  epochs: number;
  batch: number;
  /** Adam step size of the network and of the linear part */
  lr: number;
  linearLr: number;
  /** lr × decay^epoch */
  decay: number;
  seed: number;
  /** L2 on the dense layers, per example (0: none) */
  l2: number;
  /** skip the backward pass at positions whose unary gradient is below this (max |·|; 0: exact) */
  skipBelow: number;
  /** select and return the average of W over all steps (Polyak; the averaged perceptron's regularizer) */
  average: boolean;
  /**
   * With `average`, which steps the network's parameters (embeddings, layers;
   * everything after the linear chain) are averaged over: "all" steps like
   * the linear part, the current "epoch" only (tail averaging: W̄ = mean of
   * W over the epoch's steps, restarted each epoch, so the early iterates of
   * a non-convex network do not enter), or "none" (the last W).
   */
  averageNetwork: "all" | "epoch" | "none";
  /** dropout rate of the hidden units while training */
  dropout: number;
  /**
   * The linear part's steps: "adam", or "sgd" (W −= linearLr·g: with the
   * perceptron loss, linearLr 1 and averaging, the averaged structured
   * perceptron on the sparse attributes, trained jointly with the network)
   */
  linearOptimizer: "adam" | "sgd";
  /**
   * Dropout of the sparse linear attributes while training (feature bagging):
   * each attribute occurrence of a training sentence is kept with probability
   * 1 − p at value 1/(1 − p) (inverted dropout: the expected state energy is
   * unchanged, tagging uses every attribute at value 1). The sparse part then
   * cannot fit the training set alone and the network keeps receiving
   * gradient. 0: off.
   */
  attrDropout: number;
  /**
   * Weight λ of the network's auxiliary local loss (NetworkChain.auxiliary:
   * per-position cross-entropy of softmax(−U_net) against the gold labels),
   * added to the chain loss of every training sentence. 0: off.
   */
  aux: number;
}

export const DEEP_DEFAULTS: DeepTrainOptions = {
  loss: "nll",
  margin: 1,
  beta: 1,
  offending: "exact",
  epochs: 10,
  batch: 8,
  lr: 1e-3,
  linearLr: 1e-2,
  decay: 0.8,
  seed: 1,
  l2: 0,
  skipBelow: 0,
  average: true,
  averageNetwork: "all",
  dropout: 0,
  linearOptimizer: "adam",
  attrDropout: 0,
  aux: 0,
};

export interface DeepEpoch {
  epoch: number;
  loss: number;
  dev: number | undefined;
  seconds: number;
}

export interface DeepTrainResult {
  W: Float64Array;
  bestEpoch: number;
  reports: DeepEpoch[];
}

/**
 * A view of x with each attribute occurrence kept with probability 1 − p, at
 * value v/(1 − p) (v: its value, 1 when x has none); the network inputs and
 * labels are x's (a shallow copy of x).
 */
export function dropAttributes(x: Instance, p: number, rng: Rng): Instance {
  const { T, offsets, attrs } = x;
  const vin = x.values;
  const n = offsets[T]!;
  const a = new Int32Array(n);
  const v = new Float64Array(n);
  const off = new Int32Array(T + 1);
  const inv = 1 / (1 - p);
  let m = 0;
  for (let t = 0; t < T; t++) {
    for (let j = offsets[t]!; j < offsets[t + 1]!; j++) {
      if (rng.next() < p) continue;
      a[m] = attrs[j]!;
      v[m++] = (vin ? vin[j]! : 1) * inv;
    }
    off[t + 1] = m;
  }
  // every other input (labels, skips, the network's bound inputs) is x's
  return { ...x, offsets: off, attrs: a.subarray(0, m), values: v.subarray(0, m) };
}

export function trainDeep(
  arch: NetworkChain,
  W: Float64Array,
  train: readonly Instance[],
  opts: Partial<DeepTrainOptions>,
  inference: { backend: Backend; constraintsFor: (T: number) => Constraints | undefined },
  dev?: { score: (W: Float64Array) => number },
  onEpoch?: (r: DeepEpoch) => void,
): DeepTrainResult {
  const o = { ...DEEP_DEFAULTS, ...opts };
  const loss = makeLoss(o.loss, { margin: o.margin, beta: o.beta });
  const objective = new EnergyObjective(arch as unknown as LinearChain, {
    loss,
    offending: o.offending,
    backend: inference.backend,
    constraintsFor: inference.constraintsFor,
  });
  const K = arch.K;
  const grad = new Float64Array(K);
  const m = new Float64Array(K);
  const v = new Float64Array(K);
  /** Adam step count per parameter (lazy bias correction of sparse ones) */
  const steps = new Int32Array(K);
  const mark = new Int32Array(K).fill(-1);
  let maxSparse = 0;
  for (const x of train) maxSparse = Math.max(maxSparse, arch.maxSparse(x));
  let idx = new Int32Array(maxSparse * o.batch + 16);
  const dense = arch.denseRanges;
  const linEnd = arch.linear.K;
  const rng = new Rng(o.seed);
  const order = Int32Array.from(train.keys());
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-8;
  let best = Number.NEGATIVE_INFINITY;
  let bestEpoch = 0;
  let bestW: Float64Array | null = null;
  const reports: DeepEpoch[] = [];
  let stamp = 0;
  const U = o.average ? new Float64Array(K) : null;
  let clock = 1;
  // the network's clock starts at netStart (tail averaging: each epoch's first step)
  let netStart = 0;
  const netAvg = o.averageNetwork;
  if (netAvg !== "all" && netAvg !== "epoch" && netAvg !== "none")
    throw new NadirError(
      "E_ARG",
      `averageNetwork: expected all, epoch or none, got ${JSON.stringify(netAvg)}`,
    );
  const avg = new Float64Array(o.average ? K : 0);
  /** the averaged weights W − U/C (or W); the network's with its own clock C − netStart */
  const current = (): Float64Array => {
    if (U === null) return W;
    for (let k = 0; k < linEnd; k++) avg[k] = W[k]! - U[k]! / clock;
    const cn = clock - netStart;
    for (let k = linEnd; k < K; k++) avg[k] = W[k]! - U[k]! / cn;
    return avg;
  };
  // bias corrections 1 / (1 − βᵗ) by step count
  let c1 = new Float64Array(0);
  let c2 = new Float64Array(0);
  const grow = (t: number) => {
    const n = Math.max(1024, t * 2);
    c1 = new Float64Array(n);
    c2 = new Float64Array(n);
    for (let i = 1; i < n; i++) {
      c1[i] = 1 / (1 - b1 ** i);
      c2[i] = 1 / (1 - b2 ** i);
    }
  };
  const sgdLinear = o.linearOptimizer === "sgd";
  const update = (k: number, lr: number) => {
    const g = grad[k]!;
    if (sgdLinear && k < linEnd) {
      if (g === 0) return;
      const delta = lr * g;
      W[k] = W[k]! - delta;
      if (U !== null) U[k] = U[k]! - clock * delta;
      grad[k] = 0;
      return;
    }
    const t = ++steps[k]!;
    const mk = b1 * m[k]! + (1 - b1) * g;
    const vk = b2 * v[k]! + (1 - b2) * g * g;
    m[k] = mk;
    v[k] = vk;
    if (t >= c1.length) grow(t);
    const mh = mk * c1[t]!;
    const vh = vk * c2[t]!;
    const delta = (lr * mh) / (Math.sqrt(vh) + eps);
    W[k] = W[k]! - delta;
    // Σ_c c·Δ_c: the average of W over steps is W − U/C (lazy averaging)
    if (U !== null) {
      if (k < linEnd) U[k] = U[k]! - clock * delta;
      else if (netAvg !== "none") U[k] = U[k]! - (clock - netStart) * delta;
    }
    grad[k] = 0;
  };
  arch.defer = true;
  arch.skipBelow = o.skipBelow;
  arch.dropout = o.dropout;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const t0 = performance.now();
    // never train through the tagging cache (a model's network may come frozen)
    arch.frozen = false;
    arch.invalidate();
    arch.training = true;
    if (U !== null && netAvg === "epoch") {
      // restart the network's average: its clock counts this epoch's steps
      U.fill(0, linEnd);
      netStart = clock - 1;
    }
    rng.shuffle(order);
    const lr = o.lr * o.decay ** (epoch - 1);
    const linLr = o.linearLr * o.decay ** (epoch - 1);
    let total = 0;
    for (let start = 0; start < order.length; start += o.batch) {
      const end = Math.min(order.length, start + o.batch);
      stamp++;
      let n = 0;
      for (let i = start; i < end; i++) {
        const x0 = train[order[i]!]!;
        const x = o.attrDropout > 0 ? dropAttributes(x0, o.attrDropout, rng) : x0;
        const need = n + arch.maxSparse(x);
        if (need > idx.length) {
          const grown = new Int32Array(need * 2);
          grown.set(idx.subarray(0, n));
          idx = grown;
        }
        n = arch.sparseIndices(x, mark, stamp, idx, n);
        const l = objective.evaluate(x, W, 1, grad, 1);
        if (!Number.isNaN(l)) total += l;
        if (o.aux > 0) total += arch.auxiliary(x, W, o.aux, grad);
      }
      arch.flush();
      for (let i = 0; i < n; i++) {
        const k = idx[i]!;
        update(k, k < linEnd ? linLr : lr);
      }
      for (const [a, b] of dense) {
        const lrr = a < linEnd ? linLr : lr;
        if (o.l2 > 0 && a >= linEnd) {
          const c = o.l2 * (end - start);
          for (let k = a; k < b; k++) grad[k] = grad[k]! + c * W[k]!;
        }
        for (let k = a; k < b; k++) update(k, lrr);
      }
      clock++;
    }
    arch.training = false;
    arch.invalidate();
    const Wc = current();
    const d = dev ? dev.score(Wc) : undefined;
    arch.invalidate();
    const r: DeepEpoch = {
      epoch,
      loss: total,
      dev: d,
      seconds: (performance.now() - t0) / 1000,
    };
    reports.push(r);
    onEpoch?.(r);
    const s = d ?? -total;
    if (s > best) {
      best = s;
      bestEpoch = epoch;
      bestW = Wc.slice();
    }
  }
  arch.defer = false;
  arch.skipBelow = 0;
  return { W: bestW ?? W, bestEpoch, reports };
}
