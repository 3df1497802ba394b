import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import { bpBackend } from "../inference/bp.ts";
import { lossAugmented, mostOffendingClamped } from "../inference/offending.ts";
import { gibbsSample } from "../inference/sampling.ts";
import { sumProduct } from "../inference/sum-product.ts";
import { type Backend, hasMarginals } from "../inference/types.ts";
import { ArchStructure, type Sampling } from "./types.ts";

/**
 * A factor graph (a skip-chain sentence with its skip edges, a grid): answers
 * by the chosen backend when it handles the graph, else by min-sum BP (exact
 * on trees, approximate on loopy graphs); the exact most offending answer by
 * clamping; free energy and factor marginals by the chosen backend when it
 * computes them (mean field), else sum-product BP (Bethe on loopy graphs);
 * samples by Gibbs sweeps started at the data (CD-k).
 */
export class GraphStructure extends ArchStructure {
  readonly name = "graph";
  private readonly chosen: Backend;
  private g: FactorGraph | null = null;
  private factorMarginals: Float64Array = new Float64Array(0);

  constructor(arch: Architecture, backend: Backend) {
    if (!arch.graphPotentials || !arch.accumulateGraphMarginals) {
      throw new NadirError(
        "E_ARG",
        "a factor-graph structure needs an architecture with graphPotentials and accumulateGraphMarginals",
      );
    }
    super(arch, backend);
    this.chosen = backend;
    this.exact = false;
  }

  bind(x: Instance, W: Float64Array, s: number): void {
    this.x = x;
    this.g = this.arch.graphPotentials!(x, W, s);
    // the chosen backend, or BP where it cannot handle the graph
    this.backend = this.chosen.supports(this.g) === null ? this.chosen : bpBackend;
  }

  energy(y: ArrayLike<number>): number {
    return this.g!.energy(y);
  }

  argmin(c: Constraints | undefined, out: Int32Array): number {
    const r = this.backend.minimize(this.g!, c);
    this.exact = r.exact;
    out.set(r.labels);
    return r.energy;
  }

  offending(gold: Int32Array, c: Constraints | undefined, out: Int32Array): number {
    const r = mostOffendingClamped(this.backend, this.g!, gold, c);
    if (r === null) return Number.POSITIVE_INFINITY;
    out.set(r.labels);
    return r.energy;
  }

  augmented(gold: Int32Array, m: number, c: Constraints | undefined, out: Int32Array): number {
    const r = lossAugmented(this.backend, this.g!, gold, m, c);
    out.set(r.labels);
    return r.augmentedEnergy;
  }

  marginals(beta: number, _c: Constraints | undefined, keep: boolean): number {
    const b = this.chosen;
    const sp =
      hasMarginals(b) && b.supports(this.g!) === null
        ? b.marginals(this.g!, beta)
        : sumProduct(this.g!, beta);
    if (keep) this.factorMarginals = sp.factorMarginals;
    return sp.freeEnergy;
  }

  accumulateMarginals(scale: number, grad: Float64Array): void {
    this.arch.accumulateGraphMarginals!(this.x!, this.factorMarginals, scale, grad);
  }

  sample(q: Sampling, out: Int32Array): number {
    // CD-k: k Gibbs sweeps started at the data
    const { beta, rng, c, gold, sweeps } = q;
    const r = gibbsSample(this.g!, 1, {
      beta,
      burnIn: 0,
      thin: sweeps,
      rng,
      init: gold,
      ...(c ? { constraints: c } : {}),
    });
    const y = r.samples[0]!;
    out.set(y);
    return this.g!.energy(y);
  }
}
