import type { Instance } from "../architecture/features.ts";
import type { LinearChain } from "../architecture/linear-chain.ts";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { chainEnergy } from "../graph/chain.ts";
import { type Chain2Potentials, chain2Energy } from "../graph/chain2.ts";
import type { Constraints } from "../graph/constraints.ts";
import { bpBackend } from "../inference/bp.ts";
import {
  type ChainMarginals,
  emptyChainMarginals,
  forwardBackward,
} from "../inference/forward-backward.ts";
import {
  lossAugmented,
  mostOffendingChainInto,
  mostOffendingClamped,
} from "../inference/offending.ts";
import { gibbsSample, sampleChain } from "../inference/sampling.ts";
import { sumProduct } from "../inference/sum-product.ts";
import type { Backend } from "../inference/types.ts";
import { hasMarginals } from "../inference/types.ts";
import { viterbiInto } from "../inference/viterbi.ts";
import { mostOffending2, viterbi2 } from "../inference/viterbi2.ts";
import { type Loss, type LossValue, makeLoss } from "../loss/index.ts";

export interface ObjectiveSettings {
  loss: Loss;
  /** how the most offending incorrect answer is found */
  offending: "exact" | "hamming";
  /** the inference backend (viterbi on chains) */
  backend: Backend;
  /** decoding constraints for a sequence of length T */
  constraintsFor: (T: number) => Constraints | undefined;
  /** the random stream of sampling losses (cd); default: seed 1 */
  rng?: Rng;
  /** Gibbs sweeps from the data for cd on loopy graphs (CD-k; default 1) */
  cdSweeps?: number;
}

/**
 * One training example's loss through the architecture: asks the backend for
 * exactly what the loss needs — the machine's answer, the most offending
 * incorrect answer, or the free energy with marginals — evaluates the loss on
 * those energies, and turns dL/dE into weight gradients:
 *
 *   ∂L/∂W = dL/dE_C · ∂E(Yⁱ)/∂W + dL/dE_I · ∂E(Ȳ)/∂W + dL/dF_β · E_{P_β}[∂E/∂W]
 *
 * (∂F_β/∂W is the Gibbs expectation of ∂E/∂W, computed from the marginals.)
 * With `offending: "hamming"` Ȳ = argmin E(Y) − m·Δ(Y, Yⁱ) and the loss sees
 * E_I = E(Ȳ) − m·Δ(Ȳ, Yⁱ): the margin becomes m times the Hamming distance
 * (margin rescaling) instead of the constant m.
 */
export class EnergyObjective {
  readonly arch: LinearChain;
  readonly set: ObjectiveSettings;
  private readonly lossForEI: Loss;
  private readonly value: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 };
  private marg: ChainMarginals = emptyChainMarginals();
  private other = new Int32Array(64);
  private readonly rng: Rng;

  constructor(arch: LinearChain, set: ObjectiveSettings) {
    this.arch = arch;
    this.set = set;
    this.rng = set.rng ?? new Rng(1);
    if (arch.order === 2 && (set.loss.needs === "free-energy" || set.loss.needs === "sample")) {
      throw new NadirError(
        "E_ARG",
        `${set.loss.name} needs ${set.loss.needs === "sample" ? "samples of" : "the free energy of"} the Gibbs distribution, which second-order chains do not offer here; use perceptron or a margin loss`,
      );
    }
    this.lossForEI =
      set.offending === "hamming"
        ? makeLoss(set.loss.name, { ...set.loss.params, margin: 0 })
        : set.loss;
  }

  /**
   * L(W; x) for W = s·V; adds gscale · ∂L/∂W into grad. Returns the loss
   * value, or NaN when the example carries no usable gold labeling.
   */
  evaluate(x: Instance, V: Float64Array, s: number, grad: Float64Array | null, gscale = 1): number {
    const { arch, set } = this;
    const T = x.T;
    if (T === 0) return 0;
    const gold = x.labels;
    for (let t = 0; t < T; t++) if (gold[t]! < 0) return Number.NaN;
    if (arch.order === 2) return this.evaluate2(x, V, s, grad, gscale);
    if (arch.skip && x.skips && x.skips.length > 0)
      return this.evaluateGraph(x, V, s, grad, gscale);
    const p = arch.potentials(x, V, undefined, s);
    const EC = chainEnergy(p, gold);
    const loss = set.loss;
    const lv = this.value;
    if (this.other.length < T) this.other = new Int32Array(Math.max(T, this.other.length * 2));
    const other = this.other;
    let hasOther = false;
    switch (loss.needs) {
      case "none":
        loss.evaluate(EC, 0, lv);
        break;
      case "answer": {
        const EI = p.kind === "chain" ? viterbiInto(p, other, set.constraintsFor(T)) : 0;
        loss.evaluate(EC, EI, lv);
        hasOther = true;
        break;
      }
      case "offending": {
        const c = set.constraintsFor(T);
        let EI: number;
        if (set.offending === "hamming") {
          const r = lossAugmented(set.backend, p, gold, loss.params.margin, c);
          other.set(r.labels.subarray(0, T));
          EI = r.augmentedEnergy;
          this.lossForEI.evaluate(EC, EI, lv);
        } else {
          if (set.backend.name === "viterbi") {
            EI = mostOffendingChainInto(p, gold, other, c);
          } else {
            const r = mostOffendingClamped(set.backend, p, gold, c);
            EI = r ? r.energy : Number.POSITIVE_INFINITY;
            if (r) other.set(r.labels.subarray(0, T));
          }
          loss.evaluate(EC, EI, lv);
        }
        hasOther = Number.isFinite(EI);
        if (!hasOther) lv.dEI = 0;
        break;
      }
      case "free-energy": {
        const m = forwardBackward(p, loss.params.beta, {
          out: this.marg,
          constraints: set.constraintsFor(T),
          pairwise: lv.dF !== 0 || grad ? "sum" : "none",
        });
        this.marg = m;
        loss.evaluate(EC, m.freeEnergy, lv);
        if (grad && lv.dF !== 0)
          arch.accumulateMarginals(x, m.unary, m.pairwiseSum, gscale * lv.dF, grad);
        break;
      }
      case "sample": {
        // an exact sample of P_β(Y|X): forward filtering, then sampling along the chain
        const c = set.constraintsFor(T);
        const [y] = sampleChain(p, 1, {
          beta: loss.params.beta,
          rng: this.rng,
          ...(c ? { constraints: c } : {}),
        });
        other.set(y!);
        loss.evaluate(EC, chainEnergy(p, y!), lv);
        hasOther = true;
        break;
      }
    }
    if (grad) {
      if (hasOther && lv.dEC !== 0 && lv.dEC === -lv.dEI) {
        // the common case (perceptron, hinge, log…): one pass over the differing positions
        let same = true;
        for (let t = 0; t < T; t++) {
          if (other[t] !== gold[t]) {
            same = false;
            break;
          }
        }
        if (!same) arch.accumulateDifference(x, gold, other, gscale * lv.dEC, grad);
      } else {
        if (lv.dEC !== 0) arch.accumulate(x, gold, gscale * lv.dEC, grad);
        if (hasOther && lv.dEI !== 0) arch.accumulate(x, other, gscale * lv.dEI, grad);
      }
    }
    return lv.value;
  }

  private tr2 = new Float64Array(0);
  private aug = new Float64Array(0);

  /** The same for a second-order chain: answers by viterbi2 (exact), margins by clamping or Hamming folding. */
  private evaluate2(
    x: Instance,
    V: Float64Array,
    s: number,
    grad: Float64Array | null,
    gscale: number,
  ): number {
    const { arch, set } = this;
    const T = x.T;
    const L = arch.L;
    const gold = x.labels;
    let p = arch.potentials2(x, V);
    if (s !== 1) {
      const chain = arch.potentials(x, V, undefined, s);
      const n = L * L * L;
      if (this.tr2.length < n) this.tr2 = new Float64Array(n);
      for (let i = 0; i < n; i++) this.tr2[i] = p.transition2[i]! * s;
      p = { kind: "chain2", chain, transition2: this.tr2.subarray(0, n) };
    }
    const EC = chain2Energy(p, gold);
    const lv = this.value;
    const c = set.constraintsFor(T);
    let other: Int32Array | null = null;
    switch (set.loss.needs) {
      case "none":
        set.loss.evaluate(EC, 0, lv);
        break;
      case "answer": {
        const r = viterbi2(p, c, this.other);
        other = r.labels;
        set.loss.evaluate(EC, r.energy, lv);
        break;
      }
      default: {
        if (set.offending === "hamming") {
          const m = set.loss.params.margin;
          const n = T * L;
          if (this.aug.length < n) this.aug = new Float64Array(n);
          const src = p.chain.unary;
          for (let t = 0; t < T; t++) {
            for (let l = 0; l < L; l++)
              this.aug[t * L + l] = l === gold[t] ? src[t * L + l]! : src[t * L + l]! - m;
          }
          const augmented: Chain2Potentials = {
            kind: "chain2",
            chain: { ...p.chain, unary: this.aug },
            transition2: p.transition2,
          };
          const r = viterbi2(augmented, c, this.other);
          other = r.labels;
          let d = 0;
          for (let t = 0; t < T; t++) if (other[t] !== gold[t]) d++;
          this.lossForEI.evaluate(EC, chain2Energy(p, other) - m * d, lv);
        } else {
          const r = mostOffending2(p, gold, c);
          if (r === null) {
            set.loss.evaluate(EC, Number.POSITIVE_INFINITY, lv);
            lv.dEI = 0;
          } else {
            other = r.labels;
            set.loss.evaluate(EC, r.energy, lv);
          }
        }
      }
    }
    if (grad) this.accumulateAnswers(x, other, grad, gscale);
    return lv.value;
  }

  /**
   * The same on a skip-chain sentence (a loopy factor graph): answers and
   * loss-augmented answers by the backend (BP unless it handles graphs), the
   * exact most offending answer by clamping (exact on trees), and the free
   * energy and factor marginals by sum-product BP (Bethe on loopy graphs).
   */
  private evaluateGraph(
    x: Instance,
    V: Float64Array,
    s: number,
    grad: Float64Array | null,
    gscale: number,
  ): number {
    const { arch, set } = this;
    const T = x.T;
    const gold = x.labels;
    const g = arch.graphPotentials(x, V, s);
    const backend = set.backend.supports(g) === null ? set.backend : bpBackend;
    const EC = g.energy(gold);
    const lv = this.value;
    const c = set.constraintsFor(T);
    let other: Int32Array | null = null;
    switch (set.loss.needs) {
      case "none":
        set.loss.evaluate(EC, 0, lv);
        break;
      case "answer": {
        const r = backend.minimize(g, c);
        other = r.labels;
        set.loss.evaluate(EC, r.energy, lv);
        break;
      }
      case "offending": {
        if (set.offending === "hamming") {
          const r = lossAugmented(backend, g, gold, set.loss.params.margin, c);
          other = r.labels;
          this.lossForEI.evaluate(EC, r.augmentedEnergy, lv);
        } else {
          const r = mostOffendingClamped(backend, g, gold, c);
          if (r === null) {
            set.loss.evaluate(EC, Number.POSITIVE_INFINITY, lv);
            lv.dEI = 0;
          } else {
            other = r.labels;
            set.loss.evaluate(EC, r.energy, lv);
          }
        }
        break;
      }
      case "free-energy": {
        // the chosen backend's marginals when it computes them (mean field), else sum-product BP
        const beta = set.loss.params.beta;
        const sp = hasMarginals(set.backend) ? set.backend.marginals(g, beta) : sumProduct(g, beta);
        set.loss.evaluate(EC, sp.freeEnergy, lv);
        if (grad && lv.dF !== 0)
          arch.accumulateGraphMarginals(x, sp.factorMarginals, gscale * lv.dF, grad);
        break;
      }
      case "sample": {
        // CD-k: k Gibbs sweeps started at the data
        const r = gibbsSample(g, 1, {
          beta: set.loss.params.beta,
          burnIn: 0,
          thin: set.cdSweeps ?? 1,
          rng: this.rng,
          init: gold,
          ...(c ? { constraints: c } : {}),
        });
        other = r.samples[0]!;
        set.loss.evaluate(EC, g.energy(other), lv);
        break;
      }
    }
    if (grad) this.accumulateAnswers(x, other, grad, gscale);
    return lv.value;
  }

  /** grad += gscale · (dL/dE_C · ∂E(Yⁱ)/∂W + dL/dE_I · ∂E(Ȳ)/∂W), for the structures without a difference pass. */
  private accumulateAnswers(
    x: Instance,
    other: Int32Array | null,
    grad: Float64Array,
    gscale: number,
  ): void {
    const lv = this.value;
    if (lv.dEC !== 0) this.arch.accumulate(x, x.labels, gscale * lv.dEC, grad);
    if (other && lv.dEI !== 0) this.arch.accumulate(x, other, gscale * lv.dEI, grad);
  }
}
