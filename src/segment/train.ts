import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { mincutBackend } from "../inference/mincut/construct.ts";
import { type Loss, makeLoss } from "../loss/losses.ts";
import { lbfgs } from "../optimize/lbfgs.ts";
import { EnergyObjective } from "../optimize/objective.ts";
import { makeOnlineOptimizer } from "../optimize/online.ts";
import { GridCut, type GridInstance } from "./grid.ts";
import { type GridItem, gridItem, gridStructures } from "./grid-structure.ts";
import {
  GRID_TRAIN_DEFAULTS,
  type GridSpec,
  type GridTrainOptions,
  gridTrainOptions,
} from "./spec.ts";

/**
 * Training a grid energy with any loss of the loss table (src/loss) and a
 * step rule of src/optimize:
 *
 *   L(W) = c2/2·‖W‖² + (1/N) Σᵢ ℓ(E(W, yⁱ, xⁱ)/Pᵢ, E_other/Pᵢ)
 *
 * The loss sees per-pixel energies (divided by the image's pixel count Pᵢ),
 * so it is comparable across image sizes. What the grid answers per need:
 * - "offending" (hinge, log, lvq2, mce, square-square, square-exp): the
 *   loss-augmented answer ŷ = argmin_y E(W, y, xⁱ) − m·Δ(y, yⁱ) by one minimum
 *   cut (Δ, the Hamming distance, folds into the unaries; the pairwise terms
 *   stay submodular), and the loss sees E_I = E(ŷ) − m·Δ(ŷ, yⁱ) with its own
 *   margin 0 — margin rescaling, the tagger's `--offending hamming`. With the
 *   hinge this is the structured SVM, max_y [E(yⁱ) − E(y) + m·Δ(y, yⁱ)]/Pᵢ;
 * - "answer" (perceptron): the plain minimum cut argmin_y E(W, y, xⁱ);
 * - "free-energy" (nll, mee): F_β and the Gibbs marginals, approximately, by
 *   mean field (a variational upper bound) or loopy sum-product BP (Bethe);
 * - "sample" (cd): `cdSweeps` Gibbs sweeps started at yⁱ (CD-k);
 * - "none" (energy): nothing.
 * Losses that assume E ≥ 0 (square-square, square-exp) train with W ≥ 0
 * (the features are ≥ 0, so every energy is then ≥ 0).
 *
 * Step rules are the online optimizers of src/optimize/online.ts, on the
 * dense gradient of the K = 2F + 2 weights, with λ = c2 per step. "sgd" is
 * the subgradient method W ← W − η_t·(∂ℓ/∂W + c2·W), η_t = η₀/√t; with
 * `average` the result is the average of the iterates weighted by the step
 * number t (Σ t·W_t / Σ t: early iterates fade out at rate 1/T², much
 * faster than the uniform average — Lacoste-Julien, Schmidt and Bach, 2012).
 * After every step w_potts and w_const are projected back to ≥ 0, so every
 * pairwise term stays submodular and the next cut is exact. "lbfgs" runs
 * full-batch L-BFGS on L(W), for losses on the marginals (nll, mee) or none
 * (the cut's answers make the others piecewise); `epochs` bounds its
 * iterations and negative pairwise weights are clipped to 0 at the end.
 *
 * After each epoch the trainer reports the mean online loss of that epoch's
 * steps and, at the weights it would return, the mean loss over all training
 * images, the objective, and the pixel error of argmin_y E.
 */

/** A training example: an image's grid instance and its gold mask (1 = foreground). */
export interface GridExample {
  inst: GridInstance;
  gold: Uint8Array;
  name?: string;
}

export interface GridEpochReport {
  epoch: number;
  /** the loss trained (a name of the loss table) */
  lossName: string;
  /** mean per-pixel loss of the epoch's steps (at the weights before each step) */
  onlineLoss: number;
  /** mean per-pixel loss over the training set at the returned weights */
  loss: number;
  /** loss + c2/2·‖W‖² */
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

export { gridMarginals } from "./grid-structure.ts";

function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/** The loss of the options, its parameters from them. */
function lossOf(opt: GridTrainOptions): Loss {
  return makeLoss(opt.loss, {
    margin: opt.margin,
    beta: opt.beta,
    gamma: opt.gamma,
    lvqMax: opt.lvqMax,
  });
}

/**
 * One example's per-pixel loss through the grid: the shared EnergyObjective
 * (one switch on what the loss needs) over the grid's Structure, which answers
 * each need by the minimum cut, mean field / BP or Gibbs sweeps (see the top
 * of this module); adds scale·∂ℓ/∂W into `grad` when given.
 */
class GridObjective {
  private readonly objective: EnergyObjective<GridItem>;
  private readonly items = new WeakMap<GridExample, GridItem>();

  constructor(opt: GridTrainOptions, cut: GridCut, rng: Rng) {
    this.objective = new EnergyObjective(
      gridStructures(mincutBackend, { marginals: opt.marginals }, cut),
      {
        loss: lossOf(opt),
        // margin rescaling: the loss-augmented cut, E_I = E(ŷ) − m·Δ(ŷ, yⁱ)
        offending: "hamming",
        backend: mincutBackend,
        constraintsFor: () => undefined,
        rng,
        cdSweeps: opt.cdSweeps,
      },
    );
  }

  evaluate(ex: GridExample, W: Float64Array, grad: Float64Array | null, scale = 1): number {
    let x = this.items.get(ex);
    if (x === undefined) {
      x = gridItem(ex.inst, ex.gold);
      this.items.set(ex, x);
    }
    return this.objective.evaluate(x, W, 1, grad, scale);
  }
}

/**
 * The mean per-pixel loss and pixel error of W over a set of examples
 * (options over the defaults: the structured hinge with margin 1).
 */
export function gridLoss(
  examples: readonly GridExample[],
  W: Float64Array,
  options: Partial<GridTrainOptions> = {},
  cut = new GridCut(),
): { loss: number; error: number } {
  const opt = gridTrainOptions(GRID_TRAIN_DEFAULTS, options, "gridLoss options");
  return lossAndError(new GridObjective(opt, cut, new Rng(opt.seed)), examples, W, cut);
}

function lossAndError(
  obj: GridObjective,
  examples: readonly GridExample[],
  W: Float64Array,
  cut: GridCut,
): { loss: number; error: number } {
  let loss = 0;
  let error = 0;
  for (const ex of examples) {
    loss += obj.evaluate(ex, W, null);
    error += hamming(cut.minimize(ex.inst, W).labels, ex.gold) / ex.inst.P;
  }
  const n = Math.max(1, examples.length);
  return { loss: loss / n, error: error / n };
}

function checkExamples(F: number, examples: readonly GridExample[]): void {
  if (examples.length === 0) throw new NadirError("E_ARG", "trainGrid: no training images");
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
}

const squaredNorm = (W: Float64Array): number => {
  let s = 0;
  for (let k = 0; k < W.length; k++) s += W[k]! * W[k]!;
  return s;
};

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
  const opt = gridTrainOptions(spec.train, options, "train options");
  const F = spec.features.length;
  checkExamples(F, examples);
  const loss = lossOf(opt);
  if (opt.optimizer === "lbfgs" && !(loss.needs === "free-energy" || loss.needs === "none")) {
    throw new NadirError(
      "E_ARG",
      `trainGrid: --optimizer lbfgs needs a loss on the marginals (nll, mee) or energy; ${opt.loss} sees the grid's minimum cut${loss.needs === "sample" ? " (a sample)" : ""}, which is piecewise in W: use sgd, adagrad, pa or perceptron`,
    );
  }
  const cut = new GridCut();
  const rng = new Rng(opt.seed);
  const obj = new GridObjective(opt, cut, rng);
  const report = (
    epoch: number,
    onlineLoss: number,
    W: Float64Array,
    t0: number,
  ): GridEpochReport => {
    const { loss: l, error } = lossAndError(obj, examples, W, cut);
    const r: GridEpochReport = {
      epoch,
      lossName: opt.loss,
      onlineLoss,
      loss: l,
      objective: l + (opt.c2 / 2) * squaredNorm(W),
      error,
      seconds: (performance.now() - t0) / 1000,
    };
    onEpoch?.(r);
    return r;
  };
  const K = 2 * F + 2;
  const reports: GridEpochReport[] = [];
  if (opt.optimizer === "lbfgs") {
    const W = new Float64Array(K);
    const n = examples.length;
    let t0 = performance.now();
    const pos = new Float64Array(K);
    lbfgs(
      W,
      (x, g) => {
        g.fill(0);
        let f = 0;
        for (const ex of examples) f += obj.evaluate(ex, x, g, 1 / n) / n;
        for (let k = 0; k < K; k++) g[k] = g[k]! + opt.c2 * x[k]!;
        return f + (opt.c2 / 2) * squaredNorm(x);
      },
      {
        maxIterations: opt.epochs,
        onIteration: (it, f, x) => {
          // the cut of the report needs submodular pairwise weights
          pos.set(x);
          clipPairwise(pos, F);
          reports.push(report(it, f - (opt.c2 / 2) * squaredNorm(x), pos, t0));
          t0 = performance.now();
          return false;
        },
      },
    );
    clipPairwise(W, F);
    return { W, reports, options: opt };
  }
  const mask = new Uint8Array(K);
  mask[2 * F] = 1;
  mask[2 * F + 1] = 1;
  const step = makeOnlineOptimizer(opt.optimizer, K, {
    eta: opt.eta,
    c2: opt.c2,
    n: 1, // c2 is per step here: L(W) is the mean of the examples' losses plus c2/2·‖W‖²
    average: opt.average,
    paC: opt.paC,
    nonNegative: loss.needsNonNegativeEnergies,
    nonNegativeMask: mask,
    schedule: "sqrt",
    averageWeights: "step",
  });
  const W = new Float64Array(K);
  const grad = new Float64Array(K);
  const order = Array.from(examples.keys());
  for (let epoch = 1; epoch <= opt.epochs; epoch++) {
    const t0 = performance.now();
    rng.shuffle(order);
    let online = 0;
    for (const i of order) {
      grad.fill(0);
      const v = obj.evaluate(examples[i]!, step.weights(W, false), grad);
      online += v;
      step.step(grad, v);
    }
    reports.push(report(epoch, online / examples.length, step.weights(W, opt.average), t0));
  }
  return { W: step.weights(new Float64Array(K), opt.average), reports, options: opt };
}

/** w_potts, w_const ← max(0, ·): the cut needs every pairwise term submodular. */
function clipPairwise(W: Float64Array, F: number): void {
  if (W[2 * F]! < 0) W[2 * F] = 0;
  if (W[2 * F + 1]! < 0) W[2 * F + 1] = 0;
}
