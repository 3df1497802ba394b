import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { Backend } from "../inference/types.ts";
import { type Loss, type LossValue, makeLoss } from "../loss/index.ts";
import { type Example, type Sampling, type Structures, structuresFor } from "../structure/index.ts";

export interface ObjectiveSettings {
  loss: Loss;
  /** how the most offending incorrect answer is found */
  offending: "exact" | "hamming";
  /** the inference backend the user chose (viterbi on chains by default) */
  backend: Backend;
  /** decoding constraints for a sequence of length T */
  constraintsFor: (T: number) => Constraints | undefined;
  /** the random stream of sampling losses (cd); default: seed 1 */
  rng?: Rng;
  /** Gibbs sweeps from the data for cd on loopy graphs (CD-k; default 1) */
  cdSweeps?: number;
}

/**
 * One training example's loss through the architecture: asks the example's
 * structure (chain, second-order chain, factor graph), through the chosen
 * backend, for exactly what the loss needs — the machine's answer, the most
 * offending incorrect answer, a sample, or the free energy with marginals —
 * evaluates the loss on those energies, and turns dL/dE into weight gradients:
 *
 *   ∂L/∂W = dL/dE_C · ∂E(Yⁱ)/∂W + dL/dE_I · ∂E(Ȳ)/∂W + dL/dF_β · E_{P_β}[∂E/∂W]
 *
 * (∂F_β/∂W is the Gibbs expectation of ∂E/∂W, computed from the marginals.)
 * With `offending: "hamming"` Ȳ = argmin E(Y) − m·Δ(Y, Yⁱ) and the loss sees
 * E_I = E(Ȳ) − m·Δ(Ȳ, Yⁱ): the margin becomes m times the Hamming distance
 * (margin rescaling) instead of the constant m.
 */
export class EnergyObjective<X extends Example = Instance> {
  readonly set: ObjectiveSettings;
  readonly structures: Structures<X>;
  private readonly lossForEI: Loss;
  private readonly value: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 };
  private other = new Int32Array(64);
  private readonly sampling: Sampling;
  /** Did the last evaluate add anything into its gradient? (false: the loss was flat there) */
  accumulated = false;
  /**
   * When the last evaluate's gradient was only E(gold) − E(other) written by
   * the architecture's accumulateDifference: that other labeling (valid until
   * the next evaluate), so a sparse gradient marks only the differing positions.
   */
  difference: Int32Array | null = null;
  /** The architecture when it is linear in W and the loss is NLL (the gold term is fixed), else null. */
  private readonly fixedGold: Architecture | null;
  /** Σ φ(xⁱ, Yⁱ) over the range last asked of evaluateRange. */
  private gold: { data: readonly X[]; from: number; to: number; G: Float64Array } | null = null;

  /** Over an architecture's sentences (their structures through set.backend), or over given structures (a grid's). */
  constructor(source: Architecture | Structures<X>, set: ObjectiveSettings) {
    this.set = set;
    this.sampling = {
      beta: 1,
      rng: set.rng ?? new Rng(1),
      c: undefined,
      gold: new Int32Array(0),
      sweeps: set.cdSweeps ?? 1,
    };
    this.structures =
      "of" in source ? source : (structuresFor(source, set.backend) as unknown as Structures<X>);
    // refused before any data is read, not at the first example
    const why = this.structures.refuses(set.loss.needs);
    if (why !== null) throw new NadirError("E_ARG", `${set.loss.name}: ${why}`);
    this.fixedGold =
      !("of" in source) && source.linearEnergy === true && set.loss.name === "nll" ? source : null;
    this.lossForEI =
      set.offending === "hamming"
        ? makeLoss(set.loss.name, { ...set.loss.params, margin: 0 })
        : set.loss;
  }

  /**
   * Σ L(W; xⁱ) over data[from, to) (examples without a usable gold labeling
   * skipped), adding ∂/∂W into grad: a batch trainer's shard.
   *
   * NLL on an architecture linear in W (E(W, Y) = W·φ(Y)) has L = E_C − F_β
   * with E_C = W·φ(Yⁱ): the gold term Σ φ(Yⁱ) is the same at every W, so it
   * is summed once per range and each call adds W·Σφ and Σφ, then only the
   * free energies and marginals are computed (no gold energy, no gold scatter).
   */
  evaluateRange(
    data: readonly X[],
    from: number,
    to: number,
    W: Float64Array,
    grad: Float64Array,
  ): number {
    const arch = this.fixedGold;
    let f = 0;
    if (arch === null) {
      for (let i = from; i < to; i++) {
        const v = this.evaluate(data[i]!, W, 1, grad, 1);
        if (!Number.isNaN(v)) f += v;
      }
      return f;
    }
    let gc = this.gold;
    if (gc === null || gc.data !== data || gc.from !== from || gc.to !== to) {
      const G = new Float64Array(arch.K);
      for (let i = from; i < to; i++) {
        const x = data[i]!;
        if (usable(x)) arch.accumulate(x as unknown as Instance, x.labels, 1, G);
      }
      gc = this.gold = { data, from, to, G };
    }
    const G = gc.G;
    for (let k = 0; k < G.length; k++) {
      const gk = G[k]!;
      if (gk !== 0) {
        f += W[k]! * gk;
        grad[k] = grad[k]! + gk;
      }
    }
    const loss = this.set.loss;
    const lv = this.value;
    for (let i = from; i < to; i++) {
      const x = data[i]!;
      if (!usable(x)) continue;
      const st = this.structures.of(x);
      st.bind(x, W, 1);
      const F = st.marginals(loss.params.beta, this.set.constraintsFor(x.T), true);
      loss.evaluate(0, F, lv); // the E_C part is in W·Σφ above
      f += lv.value;
      if (lv.dF !== 0) st.accumulateMarginals(lv.dF, grad);
    }
    return f;
  }

  /**
   * L(W; x) for W = s·V; adds gscale · ∂L/∂W into grad. Returns the loss
   * value, or NaN when the example carries no usable gold labeling.
   */
  evaluate(x: X, V: Float64Array, s: number, grad: Float64Array | null, gscale = 1): number {
    const set = this.set;
    const T = x.T;
    this.accumulated = false;
    this.difference = null;
    if (T === 0) return 0;
    const gold = x.labels;
    for (let t = 0; t < T; t++) if (gold[t]! < 0) return Number.NaN;
    const st = this.structures.of(x);
    st.bind(x, V, s);
    const EC = st.energy(gold);
    const loss = set.loss;
    const lv = this.value;
    if (this.other.length < T) this.other = new Int32Array(Math.max(T, this.other.length * 2));
    const other = this.other;
    let hasOther = false;
    const c = set.constraintsFor(T);
    switch (loss.needs) {
      case "none":
        loss.evaluate(EC, 0, lv);
        break;
      case "answer":
        loss.evaluate(EC, st.argmin(c, other), lv);
        hasOther = true;
        break;
      case "offending": {
        if (set.offending === "hamming") {
          this.lossForEI.evaluate(EC, st.augmented(gold, loss.params.margin, c, other), lv);
          hasOther = true;
        } else {
          const EI = st.offending(gold, c, other);
          loss.evaluate(EC, EI, lv);
          hasOther = Number.isFinite(EI);
          if (!hasOther) lv.dEI = 0;
        }
        break;
      }
      case "free-energy": {
        const F = st.marginals(loss.params.beta, c, grad !== null);
        loss.evaluate(EC, F, lv);
        if (grad && lv.dF !== 0) {
          st.accumulateMarginals(gscale * lv.dF, grad);
          this.accumulated = true;
        }
        break;
      }
      case "sample":
        this.sampling.beta = loss.params.beta;
        this.sampling.c = c;
        this.sampling.gold = gold;
        loss.evaluate(EC, st.sample(this.sampling, other), lv);
        hasOther = true;
        break;
    }
    if (grad && (lv.dEC !== 0 || (hasOther && lv.dEI !== 0))) {
      const diff = st.accumulate(
        gold,
        gscale * lv.dEC,
        hasOther ? other : null,
        gscale * lv.dEI,
        grad,
      );
      if (diff && !this.accumulated) this.difference = other;
      this.accumulated = true;
    }
    return lv.value;
  }
}

/** Does x have positions and a gold label at each (what evaluate scores)? */
function usable(x: Example): boolean {
  if (x.T === 0) return false;
  const gold = x.labels;
  for (let t = 0; t < x.T; t++) if (gold[t]! < 0) return false;
  return true;
}
