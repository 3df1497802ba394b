/**
 * The simplest architectures of energy-based learning, on the same loss
 * table as the structured models: linear energies over a feature vector x.
 *
 * - binary (labels ±1): E(W, y, x) = −y·(w·x + b)/2, so the gap between the
 *   two answers is E(−y) − E(y) = y·(w·x + b). The hinge loss with margin 1 is
 *   then max(0, 1 − y·f(x)) — a **linear SVM** — and NLL at β = 1 is
 *   log(1 + e^{−y·f(x)}) — **logistic regression**.
 * - multiclass (K labels): E(W, k, x) = −(w_k·x + b_k). Hinge on the most
 *   offending class is the Crammer–Singer multiclass SVM, NLL is softmax
 *   (multinomial logistic) regression.
 *
 * Training minimizes J(W) = Σᵢ L(E_C, E_I or F) + (c2/2)·‖w‖² (the bias is
 * not regularized unless `regularizeBias`) with
 * - `lbfgs` for smooth losses (nll, log, mce, …),
 * - `dcd`, dual coordinate descent (Hsieh et al. 2008), exact for the binary
 *   hinge loss (margin 1),
 * - `sgd`, averaged stochastic subgradient descent, for any loss.
 */
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { type Loss, type LossValue, makeLoss } from "../loss/index.ts";
import { lbfgs } from "../optimize/lbfgs.ts";

/** Dense examples: n rows of d features, row-major. */
export interface Dataset {
  n: number;
  d: number;
  X: Float64Array;
  /** class ids 0 … K−1 */
  y: Int32Array;
}

export interface LinearTrainOptions {
  /** a loss of the table (default "nll") */
  loss: string;
  /** lbfgs (smooth losses), dcd (binary hinge), sgd (any); default: dcd for binary hinge, else lbfgs */
  optimizer: "auto" | "lbfgs" | "dcd" | "sgd";
  /** L2 regularization c2/2·‖w‖² (sklearn's C = 1/c2) */
  c2: number;
  /** regularize the bias too (liblinear's LinearSVC does; LogisticRegression does not) */
  regularizeBias: boolean;
  margin: number;
  beta: number;
  iterations: number;
  tolerance: number;
  epochs: number;
  eta: number;
  seed: number;
}

export const LINEAR_DEFAULTS: LinearTrainOptions = {
  loss: "nll",
  optimizer: "auto",
  c2: 1,
  regularizeBias: false,
  margin: 1,
  beta: 1,
  iterations: 1000,
  tolerance: 1e-10,
  epochs: 50,
  eta: 0.1,
  seed: 1,
};

/**
 * A trained linear energy. Binary models (K = 2) keep one weight vector w
 * (class 1 is y = +1): f(x) = w·x + b; multiclass ones K rows.
 */
export class LinearModel {
  readonly K: number;
  readonly d: number;
  /** binary: d weights then the bias; multiclass: K rows of d weights then K biases */
  readonly W: Float64Array;

  constructor(K: number, d: number, W?: Float64Array) {
    this.K = K;
    this.d = d;
    const size = K === 2 ? d + 1 : K * (d + 1);
    this.W = W ?? new Float64Array(size);
    if (this.W.length !== size)
      throw new NadirError(
        "E_MODEL",
        `linear model: expected ${size} weights, got ${this.W.length}`,
      );
  }

  /** Energies E(k, x) of every class for the row x (written into out). */
  energies(x: Float64Array, off: number, out: Float64Array): Float64Array {
    const { d, W } = this;
    if (this.K === 2) {
      let f = W[d]!;
      for (let j = 0; j < d; j++) f += W[j]! * x[off + j]!;
      out[0] = f / 2; // y = −1 (class 0): E = +f/2
      out[1] = -f / 2; // y = +1 (class 1): E = −f/2
      return out;
    }
    const biases = this.K * d;
    for (let k = 0; k < this.K; k++) {
      let s = W[biases + k]!;
      const row = k * d;
      for (let j = 0; j < d; j++) s += W[row + j]! * x[off + j]!;
      out[k] = -s;
    }
    return out;
  }

  /** The decision: the class of lowest energy for each row. */
  predict(data: Pick<Dataset, "n" | "d" | "X">): Int32Array {
    const e = new Float64Array(this.K);
    const out = new Int32Array(data.n);
    for (let i = 0; i < data.n; i++) {
      this.energies(data.X, i * data.d, e);
      let best = 0;
      for (let k = 1; k < this.K; k++) if (e[k]! < e[best]!) best = k;
      out[i] = best;
    }
    return out;
  }

  /** Gibbs probabilities P_β(k | x) for each row, n × K. */
  probabilities(data: Pick<Dataset, "n" | "d" | "X">, beta = 1): Float64Array {
    const e = new Float64Array(this.K);
    const out = new Float64Array(data.n * this.K);
    for (let i = 0; i < data.n; i++) {
      this.energies(data.X, i * data.d, e);
      let min = Number.POSITIVE_INFINITY;
      for (let k = 0; k < this.K; k++) min = Math.min(min, e[k]!);
      let z = 0;
      for (let k = 0; k < this.K; k++) z += Math.exp(-beta * (e[k]! - min));
      for (let k = 0; k < this.K; k++) out[i * this.K + k] = Math.exp(-beta * (e[k]! - min)) / z;
    }
    return out;
  }

  /** Binary models: w and b of f(x) = w·x + b (class 1 is the positive class). */
  get binary(): { w: Float64Array; b: number } {
    if (this.K !== 2)
      throw new NadirError("E_ARG", "binary weights: the model has more than 2 classes");
    return { w: this.W.subarray(0, this.d), b: this.W[this.d]! };
  }
}

/** Check a dataset at the boundary. */
export function checkDataset(data: Dataset, K: number): void {
  if (data.X.length !== data.n * data.d)
    throw new NadirError(
      "E_ARG",
      `dataset: expected ${data.n}×${data.d} features, got ${data.X.length}`,
    );
  if (data.y.length !== data.n)
    throw new NadirError("E_ARG", `dataset: expected ${data.n} labels, got ${data.y.length}`);
  for (let i = 0; i < data.X.length; i++)
    if (!Number.isFinite(data.X[i]!))
      throw new NadirError(
        "E_ARG",
        `dataset: feature ${i % data.d} of row ${Math.floor(i / data.d)} is ${data.X[i]}`,
      );
  for (let i = 0; i < data.n; i++)
    if (!(data.y[i]! >= 0 && data.y[i]! < K))
      throw new NadirError(
        "E_ARG",
        `dataset: label of row ${i} expected in 0…${K - 1}, got ${data.y[i]}`,
      );
}

/**
 * Σᵢ L(E_C, E_I or F_β) over the rows plus (c2/2)‖w‖², and its gradient
 * (into g) through ∂E(k)/∂W: the loss's derivatives w.r.t. the energies of
 * the correct class, the most offending one, or the free energy (marginals).
 */
export function linearObjective(
  model: LinearModel,
  data: Dataset,
  loss: Loss,
  c2: number,
  regularizeBias: boolean,
  g: Float64Array,
): number {
  const { K, d, W } = model;
  g.fill(0);
  const e = new Float64Array(K);
  const coef = new Float64Array(K); // ∂L/∂E(k) for this row
  const out: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 };
  const beta = loss.params.beta;
  let f = 0;
  for (let i = 0; i < data.n; i++) {
    const off = i * d;
    model.energies(data.X, off, e);
    const c = data.y[i]!;
    coef.fill(0);
    if (loss.needs === "free-energy") {
      let min = Number.POSITIVE_INFINITY;
      for (let k = 0; k < K; k++) min = Math.min(min, e[k]!);
      let z = 0;
      for (let k = 0; k < K; k++) z += Math.exp(-beta * (e[k]! - min));
      const F = min - Math.log(z) / beta;
      loss.evaluate(e[c]!, F, out);
      for (let k = 0; k < K; k++) coef[k] = out.dF * (Math.exp(-beta * (e[k]! - min)) / z);
      coef[c] = coef[c]! + out.dEC;
    } else {
      // the most offending incorrect class (or the machine's answer for "answer")
      let o = -1;
      for (let k = 0; k < K; k++) {
        if (loss.needs === "offending" && k === c) continue;
        if (o < 0 || e[k]! < e[o]!) o = k;
      }
      loss.evaluate(e[c]!, e[o]!, out);
      coef[c] = coef[c]! + out.dEC;
      coef[o] = coef[o]! + out.dEI;
    }
    f += out.value;
    if (K === 2) {
      // E(1) = −f/2, E(0) = +f/2: ∂L/∂f = (coef₀ − coef₁)/2
      const df = (coef[0]! - coef[1]!) / 2;
      if (df !== 0) {
        for (let j = 0; j < d; j++) g[j] = g[j]! + df * data.X[off + j]!;
        g[d] = g[d]! + df;
      }
    } else {
      for (let k = 0; k < K; k++) {
        const ck = coef[k]!;
        if (ck === 0) continue;
        // E(k) = −(w_k·x + b_k)
        const row = k * d;
        for (let j = 0; j < d; j++) g[row + j] = g[row + j]! - ck * data.X[off + j]!;
        g[K * d + k] = g[K * d + k]! - ck;
      }
    }
  }
  const nw = K === 2 ? d : K * d;
  for (let j = 0; j < W.length; j++) {
    if (j >= nw && !regularizeBias) continue;
    f += 0.5 * c2 * W[j]! * W[j]!;
    g[j] = g[j]! + c2 * W[j]!;
  }
  return f;
}

/** Train a linear energy on a dataset of K classes with a loss of the table. */
export function trainLinear(
  data: Dataset,
  K: number,
  options: Partial<LinearTrainOptions> = {},
): { model: LinearModel; objective: number; iterations: number; optimizer: string } {
  const o = { ...LINEAR_DEFAULTS, ...options };
  if (!Number.isInteger(K) || K < 2)
    throw new NadirError("E_ARG", `trainLinear: expected at least 2 classes, got ${K}`);
  checkDataset(data, K);
  if (!(o.c2 >= 0)) throw new NadirError("E_ARG", `trainLinear: expected c2 ≥ 0, got ${o.c2}`);
  const loss = makeLoss(o.loss, { margin: o.margin, beta: o.beta });
  if (loss.needs === "sample")
    throw new NadirError(
      "E_ARG",
      `trainLinear: ${loss.name} samples answers; with K classes use nll (its exact expectation)`,
    );
  const optimizer =
    o.optimizer !== "auto"
      ? o.optimizer
      : loss.name === "hinge" && K === 2
        ? "dcd"
        : loss.smooth
          ? "lbfgs"
          : "sgd";
  const model = new LinearModel(K, data.d);
  const g = new Float64Array(model.W.length);
  /** The trained model's report: its objective (regularizing the bias or not) and the iterations done. */
  const result = (iterations: number, regularizeBias = o.regularizeBias) => ({
    model,
    objective: linearObjective(model, data, loss, o.c2, regularizeBias, g),
    iterations,
    optimizer,
  });
  if (optimizer === "dcd") {
    if (loss.name !== "hinge" || K !== 2 || o.margin !== 1)
      throw new NadirError("E_ARG", "dcd solves the binary hinge loss with margin 1 only");
    if (!(o.c2 > 0)) throw new NadirError("E_ARG", "dcd needs c2 > 0");
    return result(dualCoordinateDescent(model, data, 1 / o.c2, o), true);
  }
  if (optimizer === "lbfgs") {
    const x = new Float64Array(model.W.length);
    const r = lbfgs(
      x,
      (W, grad) => {
        model.W.set(W);
        return linearObjective(model, data, loss, o.c2, o.regularizeBias, grad);
      },
      { maxIterations: o.iterations, epsilon: o.tolerance, delta: 0 },
    );
    model.W.set(x);
    return result(r.iterations);
  }
  // averaged stochastic (sub)gradient descent on J/n, step η₀/(1 + η₀·c2/n·t)
  const rng = new Rng(o.seed);
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const avg = new Float64Array(model.W.length);
  const one: Dataset = { n: 1, d: data.d, X: new Float64Array(data.d), y: new Int32Array(1) };
  let t = 0;
  for (let ep = 0; ep < o.epochs; ep++) {
    rng.shuffle(order);
    for (const i of order) {
      one.X.set(data.X.subarray(i * data.d, (i + 1) * data.d));
      one.y[0] = data.y[i]!;
      linearObjective(model, one, loss, o.c2 / data.n, o.regularizeBias, g);
      const eta = o.eta / (1 + o.eta * (o.c2 / data.n) * t);
      for (let j = 0; j < g.length; j++) model.W[j] = model.W[j]! - eta * g[j]!;
      t++;
      for (let j = 0; j < avg.length; j++) avg[j] = avg[j]! + (model.W[j]! - avg[j]!) / t;
    }
  }
  model.W.set(avg);
  return result(o.epochs);
}

/**
 * Dual coordinate descent for the L1-loss linear SVM
 *   min ½‖w̃‖² + C Σ max(0, 1 − yᵢ w̃·x̃ᵢ),  x̃ = [x, 1] (the bias regularized, as liblinear),
 * over the dual 0 ≤ αᵢ ≤ C, w̃ = Σ αᵢ yᵢ x̃ᵢ: one variable at a time, in a
 * shuffled order, until the projected gradient's spread is below tolerance.
 */
function dualCoordinateDescent(
  model: LinearModel,
  data: Dataset,
  C: number,
  o: LinearTrainOptions,
): number {
  const { n, d, X } = data;
  const w = model.W; // d weights + bias
  const alpha = new Float64Array(n);
  const qii = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 1; // the bias feature
    for (let j = 0; j < d; j++) s += X[i * d + j]! ** 2;
    qii[i] = s;
  }
  const rng = new Rng(o.seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  let it = 0;
  for (; it < o.iterations * 10; it++) {
    rng.shuffle(order);
    let maxPG = Number.NEGATIVE_INFINITY;
    let minPG = Number.POSITIVE_INFINITY;
    for (const i of order) {
      const yi = data.y[i] === 1 ? 1 : -1;
      let f = w[d]!;
      for (let j = 0; j < d; j++) f += w[j]! * X[i * d + j]!;
      const G = yi * f - 1;
      const a = alpha[i]!;
      const PG = a === 0 ? Math.min(G, 0) : a === C ? Math.max(G, 0) : G;
      maxPG = Math.max(maxPG, PG);
      minPG = Math.min(minPG, PG);
      if (PG !== 0) {
        const na = Math.min(Math.max(a - G / qii[i]!, 0), C);
        const step = (na - a) * yi;
        alpha[i] = na;
        for (let j = 0; j < d; j++) w[j] = w[j]! + step * X[i * d + j]!;
        w[d] = w[d]! + step;
      }
    }
    if (maxPG - minPG < Math.max(o.tolerance, 1e-12)) break;
  }
  return it + 1;
}
