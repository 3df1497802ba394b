import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { meanField } from "../inference/mean-field.ts";
import { sumProduct } from "../inference/sum-product.ts";
import {
  accumulateGrid,
  accumulateGridMarginals,
  GridCut,
  type GridInstance,
  gridEnergy,
  gridFactorGraph,
} from "./grid.ts";
import { type GridSpec, type GridTrainOptions, gridTrainOptions } from "./spec.ts";

/**
 * Training a grid energy with the structured hinge loss through graph cuts
 * (a structured SVM by stochastic subgradient descent, margin rescaling):
 *
 *   L(W) = c2/2·‖W‖² + (1/N) Σᵢ (1/Pᵢ)·max_y [ E(W, yⁱ, xⁱ) − E(W, y, xⁱ) + m·Δ(y, yⁱ) ]
 *
 * Δ is the Hamming distance; the max is the loss-augmented answer
 * ŷ = argmin_y E(W, y, xⁱ) − m·Δ(y, yⁱ), found exactly by one minimum cut (Δ
 * folds into the unaries, the pairwise terms stay submodular). Dividing by
 * the image's pixel count Pᵢ makes the loss a per-pixel margin violation,
 * comparable across image sizes. A step on image i:
 *
 *   W ← W − η_t·( (∂E(yⁱ)/∂W − ∂E(ŷ)/∂W)/Pᵢ + c2·W ),  η_t = η₀/√t
 *
 * then w_potts and w_const are projected back to ≥ 0 (every pairwise term
 * stays submodular, so the next cut is exact). With `average` the result is
 * the average of the iterates W_1 … W_T weighted by the step number t
 * (Σ t·W_t / Σ t: early iterates fade out at rate 1/T², which converges much
 * faster than the uniform average — Lacoste-Julien, Schmidt and Bach, 2012).
 *
 * After each epoch the trainer reports the mean online hinge of that epoch's
 * steps and, at the weights it would return, the mean hinge over all
 * training images, the objective, and the pixel error of argmin_y E.
 */

/** A training example: an image's grid instance and its gold mask (1 = foreground). */
export interface GridExample {
  inst: GridInstance;
  gold: Uint8Array;
  name?: string;
}

export interface GridEpochReport {
  epoch: number;
  /** mean per-pixel hinge of the epoch's steps (at the weights before each step) */
  onlineHinge: number;
  /** mean per-pixel hinge over the training set at the returned weights */
  hinge: number;
  /** hinge + c2/2·‖W‖² */
  objective: number;
  /** pixel error of argmin_y E over the training set at the returned weights */
  error: number;
  seconds: number;
}

export interface GridTrainResult {
  W: Float64Array;
  reports: GridEpochReport[];
  options: GridTrainOptions;
}

/**
 * The Gibbs marginals of a grid energy at β, approximately: each pixel's
 * foreground probability, each edge's probability of disagreement, and the
 * free energy (mean field: the variational upper bound; BP: Bethe).
 */
export function gridMarginals(
  inst: GridInstance,
  W: Float64Array,
  beta: number,
  method: "meanfield" | "bp",
): { q: Float64Array; differ: Float64Array; freeEnergy: number } {
  const g = gridFactorGraph(inst, W);
  const q = new Float64Array(inst.P);
  const differ = new Float64Array(inst.edgeP.length);
  if (method === "meanfield") {
    const r = meanField(g, { beta, tolerance: 1e-6, maxIterations: 50 });
    for (let p = 0; p < inst.P; p++) q[p] = r.marginals[2 * p + 1]!;
    for (let k = 0; k < differ.length; k++) {
      const a = q[inst.edgeP[k]!]!;
      const b = q[inst.edgeQ[k]!]!;
      differ[k] = a * (1 - b) + (1 - a) * b;
    }
    return { q, differ, freeEnergy: r.freeEnergy };
  }
  const r = sumProduct(g, beta, { damping: 0.3, maxIterations: 50, tolerance: 1e-6 });
  for (let p = 0; p < inst.P; p++) q[p] = r.variableMarginals[2 * p + 1]!;
  // the pairwise factors follow the P unary ones, one per edge, tables [00, 01, 10, 11]
  for (let k = 0; k < differ.length; k++) {
    const off = g.factorTableOffset[inst.P + k]!;
    differ[k] = r.factorMarginals[off + 1]! + r.factorMarginals[off + 2]!;
  }
  return { q, differ, freeEnergy: r.freeEnergy };
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/** The mean per-pixel hinge and pixel error of W over a set of examples. */
export function gridLoss(
  examples: readonly GridExample[],
  W: Float64Array,
  margin: number,
  cut = new GridCut(),
): { hinge: number; error: number } {
  let hinge = 0;
  let error = 0;
  for (const ex of examples) {
    const P = ex.inst.P;
    const r = cut.minimize(ex.inst, W, { gold: ex.gold, margin });
    const h =
      (gridEnergy(ex.inst, W, ex.gold) - r.energy + margin * hamming(r.labels, ex.gold)) / P;
    hinge += Math.max(0, h);
    error += hamming(cut.minimize(ex.inst, W).labels, ex.gold) / P;
  }
  const n = Math.max(1, examples.length);
  return { hinge: hinge / n, error: error / n };
}

/**
 * Train the grid energy of `spec` on examples (options over the spec's
 * `train` defaults). `onEpoch` sees each epoch's report.
 */
export function trainGrid(
  spec: GridSpec,
  examples: readonly GridExample[],
  options: Partial<GridTrainOptions> = {},
  onEpoch?: (r: GridEpochReport) => void,
): GridTrainResult {
  const opt = gridTrainOptions(spec.train, options as Record<string, unknown>, "train options");
  if (examples.length === 0) throw new NadirError("E_ARG", "trainGrid: no training images");
  const F = spec.features.length;
  const K = 2 * F + 2;
  for (const [i, ex] of examples.entries()) {
    if (ex.inst.F !== F)
      throw new NadirError(
        "E_ARG",
        `trainGrid: example ${i} has ${ex.inst.F} features, the spec ${F}`,
      );
    if (ex.gold.length !== ex.inst.P)
      throw new NadirError(
        "E_ARG",
        `trainGrid: example ${i}: expected ${ex.inst.P} gold labels, got ${ex.gold.length}`,
      );
    for (let p = 0; p < ex.gold.length; p++) {
      if (ex.gold[p]! > 1)
        throw new NadirError(
          "E_ARG",
          `trainGrid: example ${i}: gold label ${p} expected 0 or 1, got ${ex.gold[p]}`,
        );
    }
  }
  const W = new Float64Array(K);
  const sum = new Float64Array(K);
  const grad = new Float64Array(K);
  const avg = new Float64Array(K);
  const cut = new GridCut();
  const rng = new Rng(opt.seed);
  const order = Array.from(examples.keys());
  const { margin, c2, eta } = opt;
  const reports: GridEpochReport[] = [];
  let t = 0;
  for (let epoch = 1; epoch <= opt.epochs; epoch++) {
    const t0 = performance.now();
    rng.shuffle(order);
    let online = 0;
    for (const i of order) {
      const ex = examples[i]!;
      const P = ex.inst.P;
      t++;
      for (let k = 0; k < K; k++) grad[k] = c2 * W[k]!;
      if (opt.loss === "nll") {
        // L = (E(yⁱ) − F_β)/P;  ∂L/∂W = (∂E(yⁱ)/∂W − E_P[∂E/∂W])/P
        const m = gridMarginals(ex.inst, W, opt.beta, opt.marginals);
        online += (gridEnergy(ex.inst, W, ex.gold) - m.freeEnergy) / P;
        accumulateGrid(ex.inst, ex.gold, 1 / P, grad);
        accumulateGridMarginals(ex.inst, m.q, m.differ, -1 / P, grad);
      } else {
        const r = cut.minimize(ex.inst, W, { gold: ex.gold, margin });
        const h =
          (gridEnergy(ex.inst, W, ex.gold) - r.energy + margin * hamming(r.labels, ex.gold)) / P;
        online += Math.max(0, h);
        if (h > 0) {
          accumulateGrid(ex.inst, ex.gold, 1 / P, grad);
          accumulateGrid(ex.inst, r.labels, -1 / P, grad);
        }
      }
      const step = eta / Math.sqrt(t);
      for (let k = 0; k < K; k++) W[k] = W[k]! - step * grad[k]!;
      // Projection: the pairwise weights stay ≥ 0 (submodular).
      if (W[2 * F]! < 0) W[2 * F] = 0;
      if (W[2 * F + 1]! < 0) W[2 * F + 1] = 0;
      for (let k = 0; k < K; k++) sum[k] = sum[k]! + t * W[k]!;
    }
    const out = opt.average ? avg : W;
    if (opt.average) for (let k = 0; k < K; k++) avg[k] = sum[k]! / ((t * (t + 1)) / 2);
    const { hinge, error } = gridLoss(examples, out, margin, cut);
    let norm = 0;
    for (let k = 0; k < K; k++) norm += out[k]! * out[k]!;
    const report: GridEpochReport = {
      epoch,
      onlineHinge: online / examples.length,
      hinge,
      objective: hinge + (c2 / 2) * norm,
      error,
      seconds: (performance.now() - t0) / 1000,
    };
    reports.push(report);
    onEpoch?.(report);
  }
  return { W: Float64Array.from(opt.average ? avg : W), reports, options: opt };
}
