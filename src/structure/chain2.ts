import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { type Chain2Potentials, chain2Energy, chain2ToFactorGraph } from "../graph/chain2.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import { lossAugmented, mostOffendingClamped } from "../inference/offending.ts";
import type { Backend } from "../inference/types.ts";
import { viterbiBackend } from "../inference/viterbi.ts";
import { mostOffending2, viterbi2 } from "../inference/viterbi2.ts";
import { requireSupport } from "./chain.ts";
import { ArchStructure } from "./types.ts";

/** Why a second-order chain cannot answer a loss's need, or null. */
export function chain2Refuses(need: string): string | null {
  if (need !== "free-energy" && need !== "sample") return null;
  return `this loss needs ${need === "sample" ? "samples of" : "the free energy of"} the Gibbs distribution, which second-order chains do not offer here; use perceptron or a margin loss`;
}

/**
 * A second-order chain: the first-order energy plus C[yₜ₋₂, yₜ₋₁, yₜ].
 * With Viterbi chosen (the default) answers come from second-order Viterbi
 * (exact; the most offending answer by the Lawler/Nilsson partition); any
 * other backend answers on the equivalent factor graph (ternary factors) if
 * its `supports` agrees. Free energy and samples are not offered here.
 */
export class Chain2Structure extends ArchStructure {
  readonly name = "chain2";
  private readonly kernel: boolean;
  private p: Chain2Potentials | null = null;
  private g: FactorGraph | null = null;
  private tr2 = new Float64Array(0);
  private aug = new Float64Array(0);

  constructor(arch: Architecture, backend: Backend) {
    if (!arch.potentials2) {
      throw new NadirError(
        "E_ARG",
        "a second-order structure needs an architecture with potentials2",
      );
    }
    super(arch, backend);
    this.kernel = backend === viterbiBackend;
  }

  bind(x: Instance, W: Float64Array, s: number): void {
    const arch = this.arch;
    let p = arch.potentials2!(x, W);
    if (s !== 1) {
      const chain = arch.potentials(x, W, undefined, s);
      const n = arch.L * arch.L * arch.L;
      if (this.tr2.length < n) this.tr2 = new Float64Array(n);
      for (let i = 0; i < n; i++) this.tr2[i] = p.transition2[i]! * s;
      p = { kind: "chain2", chain, transition2: this.tr2.subarray(0, n) };
    }
    this.x = x;
    this.p = p;
    this.g = null;
  }

  /** The equivalent factor graph, for backends other than second-order Viterbi. */
  private graph(): FactorGraph {
    if (this.g === null) {
      this.g = chain2ToFactorGraph(this.p!);
      requireSupport(this.backend, this.g, "a second-order chain (as a factor graph)");
    }
    return this.g;
  }

  energy(y: ArrayLike<number>): number {
    return chain2Energy(this.p!, y);
  }

  argmin(c: Constraints | undefined, out: Int32Array): number {
    if (this.kernel) return viterbi2(this.p!, c, out).energy;
    const r = this.backend.minimize(this.graph(), c);
    this.exact = r.exact;
    out.set(r.labels.subarray(0, this.x!.T));
    return r.energy;
  }

  offending(gold: Int32Array, c: Constraints | undefined, out: Int32Array): number {
    const r = this.kernel
      ? mostOffending2(this.p!, gold, c)
      : mostOffendingClamped(this.backend, this.graph(), gold, c);
    if (r === null) return Number.POSITIVE_INFINITY;
    out.set(r.labels.subarray(0, this.x!.T));
    return r.energy;
  }

  augmented(gold: Int32Array, m: number, c: Constraints | undefined, out: Int32Array): number {
    const T = this.x!.T;
    if (!this.kernel) {
      const r = lossAugmented(this.backend, this.graph(), gold, m, c);
      out.set(r.labels.subarray(0, T));
      return r.augmentedEnergy;
    }
    // fold −m·[y ≠ gold] into the unaries and decode exactly
    const p = this.p!;
    const L = this.arch.L;
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
    viterbi2(augmented, c, out);
    let d = 0;
    for (let t = 0; t < T; t++) if (out[t] !== gold[t]) d++;
    return chain2Energy(p, out) - m * d;
  }

  marginals(): number {
    throw new NadirError("E_ARG", chain2Refuses("free-energy")!);
  }

  accumulateMarginals(): void {
    this.marginals();
  }

  sample(): number {
    throw new NadirError("E_ARG", chain2Refuses("sample")!);
  }
}
