import type { SparseGradient } from "../architecture/architecture.ts";
import { gatherNonZero } from "../architecture/dense-gradient.ts";
import { NadirError } from "../core/errors.ts";

/**
 * Online optimizers over the weights W = s·V of a linear energy: the scale s
 * makes L2 decay O(1) per step (W ← (1 − ηλ)W is s ← (1 − ηλ)s), so a step
 * costs only the entries the example touches.
 *
 * Averaging for any of them, lazily: with σ = Σ_steps s and U = Σ σ_prev·δ
 * over every change δ of V, the sum of the weight vectors after each of the
 * c steps is σ·V − U, so the average is (σ·V − U)/c. With s ≡ 1 this is
 * the perceptron's w − u/c trick; it holds through decay and rescaling.
 */
export interface OnlineOptimizer {
  readonly name: string;
  readonly V: Float64Array;
  /** current weights are scale·V */
  readonly scale: number;
  /** One step on the example's loss gradient (w.r.t. W: row-sparse, or dense) and loss value. */
  step(grad: StepGradient, loss: number): void;
  /** W[k] += δ outside a step (projections), keeping the averaging sums right. */
  adjust(k: number, delta: number): void;
  /** Current (or averaged) weights into out. */
  weights(out: Float64Array, averaged: boolean): Float64Array;
  /** Arrays and scalars for a checkpoint, and their restoration. */
  state(): OptimizerState;
  restore(s: OptimizerState): void;
}

/**
 * A loss gradient w.r.t. W: sparse as its architecture gives it (a linear
 * chain: row-sparse), or a
 * dense Float64Array of K entries (small energies such as the grid's, where
 * every weight is touched by every example; the optimizer only reads it).
 */
export type StepGradient = SparseGradient | Float64Array;

export interface OptimizerState {
  arrays: Record<string, Float64Array>;
  scalars: Record<string, number>;
}

export interface OnlineSettings {
  /** η₀, the initial step size */
  eta: number;
  /** L2 coefficient over the whole training set (λ = c2/N per example) */
  c2: number;
  /** training set size N */
  n: number;
  /** keep running sums for averaging */
  average: boolean;
  /** PA aggressiveness C (passive-aggressive only) */
  paC: number;
  /** project W onto W ≥ 0 after each step (for losses that need non-negative energies) */
  nonNegative: boolean;
  /** project only the weights k with mask[k] = 1 onto W_k ≥ 0 (e.g. a grid's pairwise weights) */
  nonNegativeMask?: Uint8Array;
  /**
   * SGD's step η_t: "bottou" η₀/(1 + η₀·λ·t) (the default), or "sqrt"
   * η₀/√t (t = 1, 2, …: the subgradient method's classic rate).
   */
  schedule?: "bottou" | "sqrt";
  /**
   * The weight of step t's iterate in the average: "uniform" (the default),
   * or "step": t, i.e. Σ t·W_t / Σ t — early iterates fade out at rate 1/T²
   * (Lacoste-Julien, Schmidt and Bach, 2012).
   */
  averageWeights?: "uniform" | "step";
}

/** The parts shared by every optimizer: V, s, and the averaging sums. */
abstract class Base implements OnlineOptimizer {
  abstract readonly name: string;
  readonly V: Float64Array;
  scale = 1;
  protected readonly U: Float64Array | null;
  protected sigma = 0;
  protected count = 0;
  /** Σ of the averaging weights of the steps so far (= count when uniform) */
  protected total = 0;
  protected readonly set: OnlineSettings;
  private readonly mask: Uint8Array | null;
  private readonly byStep: boolean;

  constructor(K: number, set: OnlineSettings) {
    this.V = new Float64Array(K);
    this.U = set.average ? new Float64Array(K) : null;
    this.set = set;
    this.mask = set.nonNegativeMask ?? null;
    this.byStep = set.averageWeights === "step";
  }

  abstract step(grad: StepGradient, loss: number): void;

  /** W[k] += δ in weight units (e.g. a projection), keeping the averaging sums right. */
  adjust(k: number, delta: number): void {
    this.add(k, delta / this.scale);
  }

  /** V[k] += δ (in V units), keeping the averaging sums right. */
  protected add(k: number, delta: number): void {
    let v = this.V[k]! + delta;
    if (v < 0 && (this.set.nonNegative || (this.mask !== null && this.mask[k] === 1))) {
      delta -= v;
      v = 0;
    }
    this.V[k] = v;
    if (this.U) this.U[k] = this.U[k]! + this.sigma * delta;
  }

  /**
   * The touched entries of the gradient with non-zero values, as parallel
   * arrays (k, g) — filled once per step so that each optimizer's update
   * loop is a plain loop (no closures in the hot path).
   */
  idx = new Int32Array(4096);
  val = new Float64Array(4096);
  protected gather(grad: StepGradient): number {
    return grad instanceof Float64Array ? gatherNonZero(grad, this) : grad.gather(this);
  }

  /** Close a step: accumulate σ and the step count; rescale V when s gets tiny. */
  protected endStep(): void {
    this.count++;
    const w = this.byStep ? this.count : 1;
    this.sigma += w * this.scale;
    this.total += w;
    if (this.scale < 1e-9) {
      const s = this.scale;
      const V = this.V;
      for (let k = 0; k < V.length; k++) V[k] = V[k]! * s;
      this.sigma /= s;
      this.scale = 1;
    }
  }

  weights(out: Float64Array, averaged: boolean): Float64Array {
    const V = this.V;
    if (averaged && this.U && this.count > 0) {
      const U = this.U;
      const sig = this.sigma;
      const c = this.total;
      for (let k = 0; k < V.length; k++) out[k] = (sig * V[k]! - U[k]!) / c;
    } else {
      const s = this.scale;
      for (let k = 0; k < V.length; k++) out[k] = s * V[k]!;
    }
    return out;
  }

  state(): OptimizerState {
    const arrays: Record<string, Float64Array> = { V: this.V };
    if (this.U) arrays.U = this.U;
    const scalars: Record<string, number> = {
      scale: this.scale,
      sigma: this.sigma,
      count: this.count,
    };
    if (this.byStep) scalars.total = this.total;
    return { arrays, scalars };
  }

  restore(s: OptimizerState): void {
    const need = (name: string): Float64Array => {
      const a = s.arrays[name];
      if (!a || a.length !== this.V.length) {
        throw new NadirError(
          "E_MODEL",
          `checkpoint: array '${name}' missing or of the wrong size for ${this.name}`,
        );
      }
      return a;
    };
    this.V.set(need("V"));
    if (this.U) this.U.set(need("U"));
    this.scale = s.scalars.scale ?? 1;
    this.sigma = s.scalars.sigma ?? 0;
    this.count = s.scalars.count ?? 0;
    this.total = s.scalars.total ?? this.count;
  }
}

/**
 * SGD with a decaying step η_t = η₀ / (1 + η₀·λ·t) (Bottou) and L2 decay
 * through the weight scale: W ← (1 − η_t λ) W − η_t g.
 */
export class Sgd extends Base {
  readonly name = "sgd";
  private t = 0;

  step(grad: StepGradient): void {
    const { eta, c2 } = this.set;
    const lambda = c2 / Math.max(1, this.set.n);
    this.t++;
    const etaT =
      this.set.schedule === "sqrt"
        ? eta / Math.sqrt(this.t)
        : eta / (1 + eta * lambda * (this.t - 1));
    if (lambda > 0) this.scale *= 1 - Math.min(0.5, etaT * lambda);
    const f = -etaT / this.scale;
    const n = this.gather(grad);
    for (let i = 0; i < n; i++) this.add(this.idx[i]!, f * this.val[i]!);
    this.endStep();
  }

  override state(): OptimizerState {
    const s = super.state();
    s.scalars.t = this.t;
    return s;
  }

  override restore(s: OptimizerState): void {
    super.restore(s);
    this.t = s.scalars.t ?? 0;
  }
}

/**
 * AdaGrad: per-coordinate steps η / √(Σ g²); L2 is applied to the touched
 * coordinates only (g ← g + λ·W there), the usual lazy approximation.
 */
export class AdaGrad extends Base {
  readonly name = "adagrad";
  private readonly G: Float64Array;

  constructor(K: number, set: OnlineSettings) {
    super(K, set);
    this.G = new Float64Array(K);
  }

  step(grad: StepGradient): void {
    const { eta, c2 } = this.set;
    const lambda = c2 / Math.max(1, this.set.n);
    const G = this.G;
    const V = this.V;
    const n = this.gather(grad);
    for (let i = 0; i < n; i++) {
      const k = this.idx[i]!;
      const g = this.val[i]! + lambda * V[k]!;
      const acc = G[k]! + g * g;
      G[k] = acc;
      this.add(k, (-eta * g) / (Math.sqrt(acc) + 1e-8));
    }
    this.endStep();
  }

  override state(): OptimizerState {
    const s = super.state();
    s.arrays.G = this.G;
    return s;
  }

  override restore(s: OptimizerState): void {
    super.restore(s);
    const G = s.arrays.G;
    if (!G || G.length !== this.G.length)
      throw new NadirError("E_MODEL", "checkpoint: AdaGrad sums missing");
    this.G.set(G);
  }
}

/**
 * Passive-aggressive (PA-I, Crammer et al. 2006): the smallest step that
 * zeroes the example's loss, capped by C: τ = min(C, loss / ‖g‖²), W ← W − τ g.
 * Made for the hinge loss; with another loss it is a normalized step.
 */
export class PassiveAggressive extends Base {
  readonly name = "pa";

  step(grad: StepGradient, loss: number): void {
    if (loss > 0) {
      // one pass over the touched entries: their non-zeros, then ‖g‖² from those
      const n = this.gather(grad);
      const val = this.val;
      let norm = 0;
      for (let i = 0; i < n; i++) norm += val[i]! * val[i]!;
      if (norm > 0) {
        const tau = Math.min(this.set.paC, loss / norm);
        for (let i = 0; i < n; i++) this.add(this.idx[i]!, -tau * val[i]!);
      }
    }
    this.endStep();
  }
}

/** The perceptron's step: W ← W − g (η = 1, no regularization). */
export class PerceptronStep extends Base {
  readonly name = "perceptron";

  step(grad: StepGradient): void {
    const n = this.gather(grad);
    for (let i = 0; i < n; i++) this.add(this.idx[i]!, -this.val[i]!);
    this.endStep();
  }
}

/** The names makeOnlineOptimizer knows. */
export const ONLINE_OPTIMIZERS = ["sgd", "adagrad", "pa", "perceptron"] as const;

export function makeOnlineOptimizer(name: string, K: number, set: OnlineSettings): OnlineOptimizer {
  switch (name) {
    case "sgd":
      return new Sgd(K, set);
    case "adagrad":
      return new AdaGrad(K, set);
    case "pa":
      return new PassiveAggressive(K, set);
    case "perceptron":
      return new PerceptronStep(K, set);
    default:
      throw new NadirError(
        "E_ARG",
        `unknown online optimizer '${name}'; expected one of ${ONLINE_OPTIMIZERS.join(", ")}`,
      );
  }
}
