import type { ChainPotentials } from "../graph/chain.ts";
import type { Chain2Potentials } from "../graph/chain2.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import type { Instance } from "./features.ts";

/**
 * The seam between trainers and a parameterized energy E(W, Y, X), like
 * CRFsuite's `encoder_t`: the architecture owns its weight layout; trainers,
 * structures and workers see only potentials at W and the accumulation of
 * scale · ∂E/∂W into a gradient of length K. A network under the chain and the
 * sparse linear chain both implement it.
 */
/** An architecture's sizes and layout as plain data (structured-cloneable: workers rebuild from it). */
export interface ArchitectureDescription {
  /** which architecture: "linear-chain", … (see architecture/registry.ts) */
  readonly kind: string;
  readonly [key: string]: unknown;
}

/** Parallel arrays of gradient entries (index, value), reused across steps. */
export interface TouchedEntries {
  idx: Int32Array;
  val: Float64Array;
}

/**
 * A gradient of length K of which one example touches only some entries (a
 * linear chain: the state rows of its attributes and the tail), so that an
 * online step costs O(touched) however large K is.
 */
export interface SparseGradient {
  /** the K entries; accumulate into it after `touch` */
  readonly g: Float64Array;
  /** Mark what x's terms can touch (before the step that reads them). */
  touch(x: Instance): void;
  /**
   * Mark only what the architecture's accumulateDifference(x, y, ŷ, …) can
   * touch — the terms of the positions where y and ŷ differ (and the tail) —
   * when that was all that was accumulated for x.
   */
  touchDifference(x: Instance, y: Int32Array, yHat: Int32Array): void;
  /** The touched non-zero entries into out (grown when short); returns their count. */
  gather(out: TouchedEntries): number;
  /** Zero the touched entries and forget them. */
  clear(): void;
  /** Forget the touched entries when nothing was accumulated into g (it is still all zero). */
  forget(): void;
}

export interface Architecture {
  /** labels */
  readonly L: number;
  /** parameters: the length of W and of every gradient */
  readonly K: number;
  /** 1: first-order chain; 2: second-order chain (then potentials2 exists) */
  readonly order: 1 | 2;
  /** skip edges between sentence positions (then graphPotentials exists) */
  readonly skip: boolean;
  /**
   * E(W, y, x) = W·φ(x, y) exactly (no other dependence on W), so
   * ∂E(y)/∂W = φ(x, y) is the same at every W: batch trainers may sum the
   * gold labelings' φ once (see EnergyObjective.evaluateRange).
   */
  readonly linearEnergy?: boolean;
  /** Its sizes and layout as plain data; architectureFrom(describe()) builds an equal architecture. */
  describe(): ArchitectureDescription;
  /** A gradient buffer for online steps (sparse where the architecture is). */
  gradient(): SparseGradient;
  /** Chain potentials of x at W·scale (unary T×L, transition L×L, start, end). */
  potentials(x: Instance, W: Float64Array, out?: Float64Array, scale?: number): ChainPotentials;
  /** Second-order potentials (order 2). */
  potentials2?(x: Instance, W: Float64Array): Chain2Potentials;
  /** The sentence's factor graph with its skip edges at W·scale (skip). */
  graphPotentials?(x: Instance, W: Float64Array, scale?: number): FactorGraph;
  /** grad += scale · ∂E(W, y, x)/∂W. */
  accumulate(x: Instance, y: Int32Array, scale: number, grad: Float64Array): void;
  /** grad += scale · (∂E(y)/∂W − ∂E(ŷ)/∂W), touching only where y and ŷ differ. */
  accumulateDifference(
    x: Instance,
    y: Int32Array,
    yHat: Int32Array,
    scale: number,
    grad: Float64Array,
  ): void;
  /** grad += scale · E_P[∂E/∂W] from chain marginals (unary T×L, summed pairwise L×L). */
  accumulateMarginals(
    x: Instance,
    unary: Float64Array,
    pairwiseSum: Float64Array,
    scale: number,
    grad: Float64Array,
  ): void;
  /** grad += scale · E_P[∂E/∂W] from the factor marginals of graphPotentials' graph (skip). */
  accumulateGraphMarginals?(
    x: Instance,
    factorMarginals: Float64Array,
    scale: number,
    grad: Float64Array,
  ): void;
}
