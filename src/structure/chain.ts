import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../graph/chain.ts";
import type { Constraints } from "../graph/constraints.ts";
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
import { sampleChain } from "../inference/sampling.ts";
import type { Backend, Potentials } from "../inference/types.ts";
import { viterbiBackend, viterbiInto } from "../inference/viterbi.ts";
import { ArchStructure, type Sampling } from "./types.ts";

/** The backend must answer on p, or a clear error naming it, the structure and its reason. */
export function requireSupport(backend: Backend, p: Potentials, what: string): void {
  const why = backend.supports(p);
  if (why !== null) {
    throw new NadirError(
      "E_UNSUPPORTED",
      `inference backend '${backend.name}' cannot answer on ${what}: ${why} (choose another with --inference)`,
    );
  }
}

/**
 * A first-order chain: E(y) = start(y₀) + Σₜ U[t, yₜ] + Σₜ A[yₜ₋₁, yₜ] + end(y_T−1).
 * With Viterbi (the default) answers come from the chain kernels (exact);
 * any other backend answers on the same potentials if its `supports` agrees.
 * Free energy and marginals by forward–backward (exact); samples exact.
 */
export class ChainStructure extends ArchStructure {
  readonly name = "chain";
  private readonly kernel: boolean;
  private p: ChainPotentials | null = null;
  private marg: ChainMarginals = emptyChainMarginals();

  constructor(arch: Architecture, backend: Backend) {
    super(arch, backend);
    this.kernel = backend === viterbiBackend;
  }

  bind(x: Instance, W: Float64Array, s: number): void {
    this.x = x;
    this.p = this.arch.potentials(x, W, undefined, s);
  }

  /** The bound potentials. */
  potentials(): ChainPotentials {
    return this.p!;
  }

  energy(y: ArrayLike<number>): number {
    return chainEnergy(this.p!, y);
  }

  argmin(c: Constraints | undefined, out: Int32Array): number {
    const p = this.p!;
    if (this.kernel) return viterbiInto(p, out, c);
    requireSupport(this.backend, p, "a chain");
    const r = this.backend.minimize(p, c);
    this.exact = r.exact;
    out.set(r.labels.subarray(0, p.T));
    return r.energy;
  }

  offending(gold: Int32Array, c: Constraints | undefined, out: Int32Array): number {
    const p = this.p!;
    if (this.kernel) return mostOffendingChainInto(p, gold, out, c);
    const r = mostOffendingClamped(this.backend, p, gold, c);
    if (r === null) return Number.POSITIVE_INFINITY;
    out.set(r.labels.subarray(0, p.T));
    return r.energy;
  }

  augmented(gold: Int32Array, m: number, c: Constraints | undefined, out: Int32Array): number {
    const r = lossAugmented(this.backend, this.p!, gold, m, c);
    out.set(r.labels.subarray(0, this.p!.T));
    return r.augmentedEnergy;
  }

  marginals(beta: number, c: Constraints | undefined, keep: boolean): number {
    this.marg = forwardBackward(this.p!, beta, {
      out: this.marg,
      constraints: c,
      pairwise: keep ? "sum" : "none",
    });
    return this.marg.freeEnergy;
  }

  accumulateMarginals(scale: number, grad: Float64Array): void {
    this.arch.accumulateMarginals(this.x!, this.marg.unary, this.marg.pairwiseSum, scale, grad);
  }

  sample(q: Sampling, out: Int32Array): number {
    // exact: forward filtering, then sampling along the chain
    const { beta, rng, c } = q;
    const [y] = sampleChain(this.p!, 1, { beta, rng, ...(c ? { constraints: c } : {}) });
    out.set(y!);
    return chainEnergy(this.p!, y!);
  }

  override accumulate(
    gold: Int32Array,
    dEC: number,
    other: Int32Array | null,
    dEI: number,
    grad: Float64Array,
  ): boolean {
    if (!other || dEC === 0 || dEC !== -dEI) return super.accumulate(gold, dEC, other, dEI, grad);
    // the common case (perceptron, hinge, log…): one pass over the differing positions
    const x = this.x!;
    for (let t = 0; t < x.T; t++) {
      if (other[t] !== gold[t]) {
        this.arch.accumulateDifference(x, gold, other, dEC, grad);
        return true;
      }
    }
    return true;
  }
}
