import type { ChainPotentials } from "../graph/chain.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";

/** What a backend minimizes: chain potentials or a general factor graph. */
export type Potentials = ChainPotentials | FactorGraph;

/** The answer of a backend: a labeling, its energy E(y), and whether it is a proven minimum. */
export interface InferenceResult {
  labels: Int32Array;
  energy: number;
  exact: boolean;
}

export type { Constraints } from "../graph/constraints.ts";

/**
 * One interface for every inference backend. `supports` returns null when the
 * backend can handle the potentials, or a sentence saying why it cannot.
 */
export interface Backend {
  readonly name: string;
  /** always | chains | trees | binary submodular | approximate */
  readonly exactness: string;
  supports(p: Potentials): string | null;
  minimize(p: Potentials, constraints?: Constraints): InferenceResult;
}

/** Marginals of the Gibbs distribution at β on a factor graph, exact or approximate. */
export interface GraphMarginals {
  /** F_β, or an approximation of it (Bethe for loopy BP, an upper bound for mean field) */
  freeEnergy: number;
  /** P(y_v = l) at [v·maxDomain + l] */
  variableMarginals: Float64Array;
  /** factor marginals, laid out like the graph's concatenated tables */
  factorMarginals: Float64Array;
}

/** A backend that also computes Gibbs marginals (what free-energy losses need on graphs). */
export interface MarginalsBackend extends Backend {
  marginals(g: FactorGraph, beta: number, constraints?: Constraints): GraphMarginals;
}

/** Whether a backend computes marginals. */
export function hasMarginals(b: Backend): b is MarginalsBackend {
  return typeof (b as Partial<MarginalsBackend>).marginals === "function";
}

/** A backend that can enumerate the k lowest-energy labelings in order. */
export interface KBestBackend extends Backend {
  kbest(p: Potentials, k: number, constraints?: Constraints): InferenceResult[];
}
