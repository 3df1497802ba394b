/**
 * Implicit regression and the collapse experiment.
 *
 * Learn Y = X² with the energy E(X, Y) = ‖G₁(X) − G₂(Y)‖₁, G₁ and G₂ small
 * sigmoid networks (1 → hidden → out, sigmoid hidden layer, linear output),
 * trained by plain SGD (`sgdStep` of the modules) with a loss of the loss
 * table (src/loss: its value and dL/dE_C, dL/dE_I, dL/dF, backpropagated
 * through the modules). The experiment compares three of them:
 *
 * - `energy`:        L = E(Xⁱ, Yⁱ). Nothing pulls other Y up: it collapses.
 * - `square-square`: L = E(Xⁱ, Yⁱ)² + max(0, m − E(Xⁱ, Ȳ))².
 * - `nll`:           L = E(Xⁱ, Yⁱ) − F, F = −(1/β) log Σ_k exp(−β E(Xⁱ, y_k)).
 *
 * What each need of the table is here:
 * - "offending": Ȳ the lowest-energy grid Y with |Y − Yⁱ| > ε (or found by
 *   gradient descent outside that ball, `inference: "gradient"`);
 * - "answer": the lowest-energy grid Y;
 * - "free-energy": F over the Y grid, its gradient Σ_k P_β(y_k)·∂E(Xⁱ, y_k)
 *   (grid points of probability < 1e-12 skipped in the backward pass); Yⁱ
 *   is snapped to its nearest grid point so that L ≥ 0 (a proper discrete NLL);
 * - "sample": one grid Y drawn from P_β(Y | Xⁱ);
 * - "none": nothing.
 *
 * Inference: Y*(X) = argmin over the Y grid.
 */

import {
  L1Distance,
  Linear,
  type Module,
  Sequential,
  Sigmoid,
  sgdStep,
  zeroGrad,
} from "../architecture/modules.ts";
import { Rng } from "../core/rng.ts";
import { type LossName, type LossValue, makeLoss } from "../loss/losses.ts";
import {
  type EnergyGrad,
  type GradientSearchOptions,
  minimizeEnergy,
  mostOffendingContinuous,
} from "./continuous.ts";

export type { LossName };
/** The three losses of the experiment (names of the loss table). */
export const LOSSES: readonly LossName[] = ["energy", "square-square", "nll"];

export interface CollapseOptions {
  seed: number;
  nTrain: number;
  nTest: number;
  epochs: number;
  lr: number;
  hidden: number;
  out: number;
  /** Y grid: gridN points evenly over [gridMin, gridMax]. */
  gridMin: number;
  gridMax: number;
  gridN: number;
  /** margin m (square-square, hinge…) and the exclusion radius ε of the most offending Ȳ. */
  margin: number;
  epsilon: number;
  /** inverse temperature β (nll, mee, and the Gibbs distribution of cd). */
  beta: number;
  /** Half-width of the uniform init of the first layers' weights and biases. */
  inputScale: number;
  /** Half-width of the uniform init of the output layers' weights and biases. */
  outputScale: number;
  /** L2 weight decay on the weight matrices (same for every loss). */
  weightDecay: number;
  /**
   * How Y is inferred (and square-square's most offending Ȳ found): "grid"
   * search, or "gradient" descent through the modules with restarts over
   * [gridMin, gridMax]. NLL's partition function is summed on the grid in both.
   */
  inference: "grid" | "gradient";
}

export const DEFAULT_COLLAPSE: CollapseOptions = {
  seed: 1,
  nTrain: 200,
  nTest: 200,
  epochs: 200,
  lr: 0.02,
  hidden: 8,
  out: 4,
  gridMin: -1.5,
  gridMax: 1.5,
  gridN: 301,
  margin: 0.5,
  epsilon: 0.5,
  beta: 10,
  inputScale: 3,
  outputScale: 1 / Math.sqrt(8),
  weightDecay: 0,
  inference: "grid",
};

export interface Metrics {
  /** Mean squared error of the grid-search Y* against X² on the test X. */
  mse: number;
  /** max − min of E(X, ·) over the Y grid, averaged over the test X. */
  spread: number;
  /**
   * The same over the range of the training targets, Y ∈ [0, 1] (101 points):
   * where the loss acts. A collapsed surface is flat there; outside it the
   * networks are never trained and keep some slope.
   */
  spreadData: number;
}

const DATA_GRID = (() => {
  const g = new Float64Array(101);
  for (let k = 0; k < g.length; k++) g[k] = k / 100;
  return g;
})();

/** Mean over xs of max − min of E(x, ·) over the points ys. */
function meanSpread(model: ImplicitRegressor, xs: Float64Array, ys: Float64Array): number {
  const E = new Float64Array(ys.length);
  let spread = 0;
  for (let i = 0; i < xs.length; i++) {
    model.energies(xs[i]!, ys, E);
    let lo = E[0]!;
    let hi = E[0]!;
    for (let k = 1; k < ys.length; k++) {
      if (E[k]! < lo) lo = E[k]!;
      if (E[k]! > hi) hi = E[k]!;
    }
    spread += hi - lo;
  }
  return xs.length === 0 ? 0 : spread / xs.length;
}

export function grid(opts: Pick<CollapseOptions, "gridMin" | "gridMax" | "gridN">): Float64Array {
  const g = new Float64Array(opts.gridN);
  const step = (opts.gridMax - opts.gridMin) / (opts.gridN - 1);
  for (let k = 0; k < opts.gridN; k++) g[k] = opts.gridMin + k * step;
  return g;
}

/** X ~ U[−1, 1] (seeded). */
export function sampleX(n: number, rng: Rng): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = 2 * rng.next() - 1;
  return x;
}

/** E(X, Y) = ‖G₁(X) − G₂(Y)‖₁. */
export class ImplicitRegressor {
  readonly g1: Sequential;
  readonly g2: Sequential;
  readonly dist = new L1Distance();
  private readonly xin = new Float64Array(1);
  private readonly yin = new Float64Array(1);
  private readonly h1: Float64Array;
  private readonly one = new Float64Array([1]);

  constructor(
    hidden: number,
    out: number,
    rng: Rng,
    inputScale = 1,
    outputScale = 1 / Math.sqrt(hidden),
  ) {
    this.g1 = new Sequential([
      new Linear(1, hidden, rng, inputScale),
      new Sigmoid(),
      new Linear(hidden, out, rng, outputScale),
    ]);
    this.g2 = new Sequential([
      new Linear(1, hidden, rng, inputScale),
      new Sigmoid(),
      new Linear(hidden, out, rng, outputScale),
    ]);
    this.h1 = new Float64Array(out);
  }

  get modules(): Module[] {
    return [this.g1, this.g2];
  }

  energy(x: number, y: number): number {
    this.xin[0] = x;
    this.h1.set(this.g1.forward([this.xin]));
    this.yin[0] = y;
    return this.dist.forward([this.h1, this.g2.forward([this.yin])])[0]!;
  }

  /** E(x, ys[k]) for every k into `out`. */
  energies(x: number, ys: Float64Array, out: Float64Array): Float64Array {
    this.xin[0] = x;
    this.h1.set(this.g1.forward([this.xin]));
    for (let k = 0; k < ys.length; k++) {
      this.yin[0] = ys[k]!;
      out[k] = this.dist.forward([this.h1, this.g2.forward([this.yin])])[0]!;
    }
    return out;
  }

  /**
   * E(x, y) and ∂E/∂y, by the modules' backward pass with respect to their
   * input (it also adds to the parameters' gradients: zero them before a
   * training step's own backward passes).
   */
  energyGrad(x: number, y: number): [number, number] {
    const e = this.energy(x, y); // caches G₁(x), G₂(y) and the distance's inputs
    const [, db] = this.dist.backward(this.one);
    const [dy] = this.g2.backward(db!);
    return [e, dy![0]!];
  }

  /** The energy of Y at this x as a function for continuous inference (src/regress/continuous.ts). */
  at(x: number): EnergyGrad {
    return (y, g) => {
      const [e, d] = this.energyGrad(x, y[0]!);
      g[0] = d;
      return e;
    };
  }

  /** Gradient-descent inference: argmin_Y E(x, Y) over [lo, hi] with restarts. */
  inferGradient(x: number, search: Partial<GradientSearchOptions>): number {
    return minimizeEnergy(this.at(x), search).y;
  }

  /** Grid-search inference: the grid Y of lowest energy. */
  infer(x: number, ys: Float64Array, work = new Float64Array(ys.length)): number {
    this.energies(x, ys, work);
    let best = 0;
    for (let k = 1; k < ys.length; k++) if (work[k]! < work[best]!) best = k;
    return ys[best]!;
  }
}

/**
 * One training step's gradient: forward G₁(x), then for each (y, coef) pair
 * forward G₂(y), backprop coef·∂E/∂·, and finally backprop G₁ once with the
 * summed gradient. Returns nothing; grads are accumulated.
 */
class Stepper {
  private readonly xin = new Float64Array(1);
  private readonly yin = new Float64Array(1);
  private readonly h1: Float64Array;
  private readonly dH1: Float64Array;
  private readonly dOut = new Float64Array(1);

  private readonly m: ImplicitRegressor;

  constructor(m: ImplicitRegressor, out: number) {
    this.m = m;
    this.h1 = new Float64Array(out);
    this.dH1 = new Float64Array(out);
  }

  begin(x: number): void {
    this.xin[0] = x;
    this.h1.set(this.m.g1.forward([this.xin]));
    this.dH1.fill(0);
  }

  add(y: number, coef: number): void {
    this.yin[0] = y;
    this.m.dist.forward([this.h1, this.m.g2.forward([this.yin])]);
    this.dOut[0] = coef;
    const [da, db] = this.m.dist.backward(this.dOut);
    for (let j = 0; j < this.dH1.length; j++) this.dH1[j] = this.dH1[j]! + da![j]!;
    this.m.g2.backward(db!);
  }

  end(): void {
    // G₁'s cache is still that of begin(): G₁ ran no forward since.
    this.m.g1.backward(this.dH1);
  }
}

/** The grid index of the lowest energy among those with |ys[k] − y| > ε (or any when ε < 0). */
function lowest(E: Float64Array, ys: Float64Array, y: number, epsilon: number): number {
  let bar = -1;
  for (let k = 0; k < ys.length; k++)
    if (Math.abs(ys[k]! - y) > epsilon && (bar < 0 || E[k]! < E[bar]!)) bar = k;
  return bar;
}

/**
 * Train an implicit regressor on xs (targets xs²) with the loss called
 * `loss` (a name of the loss table; m, β from opts, the table's defaults for
 * its other parameters). `onEpoch` sees the model after each epoch.
 */
export function train(
  loss: LossName | string,
  xs: Float64Array,
  opts: CollapseOptions,
  rng: Rng,
  onEpoch?: (epoch: number, model: ImplicitRegressor) => void,
): ImplicitRegressor {
  const L = makeLoss(loss, { margin: opts.margin, beta: opts.beta });
  const model = new ImplicitRegressor(
    opts.hidden,
    opts.out,
    rng,
    opts.inputScale,
    opts.outputScale,
  );
  const ys = grid(opts);
  const E = new Float64Array(ys.length);
  const p = new Float64Array(ys.length);
  const step = new Stepper(model, opts.out);
  const order = new Int32Array(xs.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const gStep = (opts.gridMax - opts.gridMin) / (opts.gridN - 1);
  const search = searchOf(opts);
  const lv: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 };
  const sampler = new Rng(opts.seed + 31); // cd's draws: apart from the shuffles
  const beta = L.params.beta;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    rng.shuffle(order);
    for (let t = 0; t < order.length; t++) {
      const x = xs[order[t]!]!;
      let y = x * x;
      // gradient search for Ȳ runs backward passes: before this step's zeroGrad
      const offending =
        L.needs === "offending" && opts.inference === "gradient"
          ? mostOffendingContinuous(model.at(x), y, opts.epsilon, search)
          : undefined;
      zeroGrad(model.modules);
      let other = Number.NaN; // the Y of E_I, when the loss has one
      let z = 0; // Σ_k exp(−β (E_k − min E)) when the loss sees the grid's Gibbs distribution
      switch (L.needs) {
        case "none":
          L.evaluate(model.energy(x, y), 0, lv);
          break;
        case "offending":
        case "answer": {
          let ei: number;
          if (offending) {
            other = offending.y;
            ei = offending.energy;
          } else {
            model.energies(x, ys, E);
            const k = lowest(E, ys, y, L.needs === "offending" ? opts.epsilon : -1);
            other = ys[k]!;
            ei = E[k]!;
          }
          L.evaluate(model.energy(x, y), ei, lv);
          break;
        }
        case "free-energy":
        case "sample": {
          model.energies(x, ys, E);
          let emin = Number.POSITIVE_INFINITY;
          for (let k = 0; k < ys.length; k++) if (E[k]! < emin) emin = E[k]!;
          for (let k = 0; k < ys.length; k++) {
            p[k] = Math.exp(-beta * (E[k]! - emin));
            z += p[k]!;
          }
          if (L.needs === "sample") {
            let u = sampler.next() * z;
            let k = 0;
            for (; k < ys.length - 1; k++) {
              u -= p[k]!;
              if (u < 0) break;
            }
            other = ys[k]!;
            L.evaluate(model.energy(x, y), E[k]!, lv);
          } else {
            const yi = Math.min(
              opts.gridN - 1,
              Math.max(0, Math.round((y - opts.gridMin) / gStep)),
            );
            y = ys[yi]!;
            L.evaluate(E[yi]!, emin - Math.log(z) / beta, lv);
          }
          break;
        }
      }
      step.begin(x);
      step.add(y, lv.dEC);
      if (lv.dEI !== 0 && !Number.isNaN(other)) step.add(other, lv.dEI);
      if (lv.dF !== 0) {
        for (let k = 0; k < ys.length; k++) {
          const pk = p[k]! / z;
          if (pk > 1e-12) step.add(ys[k]!, lv.dF * pk);
        }
      }
      step.end();
      sgdStep(model.modules, opts.lr, opts.weightDecay);
    }
    onEpoch?.(epoch + 1, model); // (the playground redraws E(X, Y) here)
  }
  return model;
}

/** The continuous search of the experiment: the grid's interval, 7 restarts, 60 steps each. */
function searchOf(opts: CollapseOptions): Partial<GradientSearchOptions> {
  return { lo: opts.gridMin, hi: opts.gridMax, restarts: 7, steps: 60 };
}

export function evaluate(
  model: ImplicitRegressor,
  xs: Float64Array,
  ys: Float64Array,
  opts: Pick<CollapseOptions, "inference" | "gridMin" | "gridMax"> = DEFAULT_COLLAPSE,
): Metrics {
  let se = 0;
  const search = searchOf(opts as CollapseOptions);
  for (let i = 0; i < xs.length; i++) {
    const yhat =
      opts.inference === "gradient" ? model.inferGradient(xs[i]!, search) : model.infer(xs[i]!, ys);
    const r = yhat - xs[i]! * xs[i]!;
    se += r * r;
  }
  return {
    mse: se / xs.length,
    spread: meanSpread(model, xs, ys),
    spreadData: meanSpread(model, xs, DATA_GRID),
  };
}

export interface CollapseResult {
  loss: LossName;
  model: ImplicitRegressor;
  metrics: Metrics;
}

/** Train and evaluate all three losses from the same data and initial seed. */
export function runCollapse(opts: CollapseOptions = DEFAULT_COLLAPSE): CollapseResult[] {
  const xs = sampleX(opts.nTrain, new Rng(opts.seed));
  const test = sampleX(opts.nTest, new Rng(opts.seed + 1_000_003));
  const ys = grid(opts);
  return LOSSES.map((loss) => {
    const model = train(loss, xs, opts, new Rng(opts.seed + 17));
    return { loss, model, metrics: evaluate(model, test, ys, opts) };
  });
}
