import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import type { Rng } from "../core/rng.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { Backend } from "../inference/types.ts";

/** What a sampling loss asks of a structure. */
export interface Sampling {
  /** inverse temperature β of P_β(y) ∝ exp(−β E(y)) */
  beta: number;
  rng: Rng;
  c: Constraints | undefined;
  /** the data's labeling: where Gibbs sweeps start (CD-k) */
  gold: Int32Array;
  /** Gibbs sweeps on loopy graphs */
  sweeps: number;
}

/** What every structure's examples have: a size and the gold labeling (−1: unknown). */
export interface Example {
  readonly T: number;
  readonly labels: Int32Array;
}

/**
 * One example's energy as a structure (chain, second-order chain, factor
 * graph): every question a loss or a decoder asks of it, answered through the
 * backend the user chose. `bind` computes the potentials of x at W·s once;
 * the other methods read them. Label arrays passed as `out` hold at least T
 * entries; energies are E(W·s, y, x).
 */
export abstract class Structure<X extends Example = Instance> {
  /** "chain", "chain2", "graph", "grid" */
  abstract readonly name: string;
  /** The backend answering argmin, offending and augmented here. */
  backend: Backend;
  /** Whether the last argmin is known to be exact (a chain kernel, or the backend said so). */
  exact = true;
  /** The bound example. */
  protected x: X | null = null;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Compute the potentials of x at W·s (every other call reads them). */
  abstract bind(x: X, W: Float64Array, s: number): void;
  /** E(y). */
  abstract energy(y: ArrayLike<number>): number;
  /** ŷ = argmin_y E(y) under c, written to out; returns E(ŷ). */
  abstract argmin(c: Constraints | undefined, out: Int32Array): number;
  /** The most offending incorrect answer Ȳ = argmin_{y ≠ gold} E(y); returns E(Ȳ), +∞ when none exists (out untouched). */
  abstract offending(gold: Int32Array, c: Constraints | undefined, out: Int32Array): number;
  /** The loss-augmented answer argmin_y E(y) − m·Δ(y, gold) (Δ: Hamming); returns E(ȳ) − m·Δ(ȳ, gold). */
  abstract augmented(
    gold: Int32Array,
    m: number,
    c: Constraints | undefined,
    out: Int32Array,
  ): number;
  /** F_β = −(1/β) log Z(β) with the Gibbs marginals kept for accumulateMarginals (only when `keep`). */
  abstract marginals(beta: number, c: Constraints | undefined, keep: boolean): number;
  /** grad += scale · E_{P_β}[∂E/∂W], from the last marginals(…, true). */
  abstract accumulateMarginals(scale: number, grad: Float64Array): void;
  /** One sample of P_β(y) written to out (exact on chains; Gibbs sweeps from gold on graphs); returns its energy. */
  abstract sample(q: Sampling, out: Int32Array): number;

  /** grad += scale · ∂E(y)/∂W for the bound example. */
  protected abstract accumulateLabeling(y: Int32Array, scale: number, grad: Float64Array): void;

  /**
   * grad += dEC · ∂E(gold)/∂W + dEI · ∂E(other)/∂W (other may be null).
   * Returns true when only the architecture's accumulateDifference(gold,
   * other) wrote (the terms where the labelings differ), false otherwise.
   */
  accumulate(
    gold: Int32Array,
    dEC: number,
    other: Int32Array | null,
    dEI: number,
    grad: Float64Array,
  ): boolean {
    if (dEC !== 0) this.accumulateLabeling(gold, dEC, grad);
    if (other && dEI !== 0) this.accumulateLabeling(other, dEI, grad);
    return false;
  }
}

/** A structure over an architecture's sentences (chain, second-order chain, skip-chain graph). */
export abstract class ArchStructure extends Structure<Instance> {
  protected readonly arch: Architecture;

  constructor(arch: Architecture, backend: Backend) {
    super(backend);
    this.arch = arch;
  }

  protected accumulateLabeling(y: Int32Array, scale: number, grad: Float64Array): void {
    this.arch.accumulate(this.x!, y, scale, grad);
  }
}

/** A structure for each kind of example (an architecture's sentences, a grid's images). */
export interface Structures<X extends Example = Instance> {
  /** The structure of x (a skip-chain sentence without skip edges is a chain). */
  of(x: X): Structure<X>;
  /** Why these structures cannot answer a loss's `needs`, or null. */
  refuses(need: string): string | null;
  /** How inference is done, for reports: e.g. "viterbi (exact)". */
  describe(): string;
}
