import { NadirError } from "../core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../graph/chain.ts";
import {
  backwardMinSum,
  type ChainArrays,
  ChainWorkspace,
  emptyChainArrays,
  followPointers,
  maskedArrays,
} from "./chain-kernel.ts";
import { checkConstraints, infeasible } from "./constraints.ts";
import { kbestViterbi } from "./kbest.ts";
import type { Constraints, InferenceResult, KBestBackend, Potentials } from "./types.ts";

/**
 * Viterbi: exact min-sum dynamic programming on chain potentials, O(T·L²)
 * time, no allocation beyond the returned labels (none at all with
 * {@link viterbiInto}). Workspaces live in this module and grow to the longest
 * sequence seen. Ties go to the lexicographically smallest labeling (see
 * chain-kernel.ts). The reported energy is `chainEnergy` of the labeling.
 */

const ws = new ChainWorkspace();
const arrays: ChainArrays = emptyChainArrays();

const REFUSE_GRAPH = "viterbi needs chain potentials; got a factor graph — use exhaustive or bp";

/**
 * Write the minimum-energy labeling into `out[0 … T−1]` and return its energy.
 * Throws NadirError("E_UNSUPPORTED") when no labeling satisfies the
 * constraints, NadirError("E_ARG") when `out` or a constraint is too short.
 */
export function viterbiInto(
  p: ChainPotentials,
  out: Int32Array,
  constraints?: Constraints,
): number {
  const T = p.T;
  const L = p.L;
  if (out.length < T) {
    throw new NadirError("E_ARG", `viterbi: out expected at least ${T} entries, got ${out.length}`);
  }
  if (constraints !== undefined) checkConstraints("viterbi", p, constraints);
  if (T === 0) return 0;
  ws.ensure(T, L);
  const a = maskedArrays(p, constraints, ws, arrays);
  const y0 = backwardMinSum(T, L, a.unary, a.allowed, a.transition, a.start, a.end, ws);
  if (y0 < 0) throw infeasible("viterbi");
  followPointers(T, L, ws.bp, 0, y0, out);
  return chainEnergy(p, out);
}

/**
 * The minimum-energy labeling of a chain. `out` (optional, length ≥ T) is
 * filled and returned as `labels` (a subarray view when longer than T).
 */
export function viterbi(
  p: ChainPotentials,
  constraints?: Constraints,
  out?: Int32Array,
): InferenceResult {
  if (out !== undefined && out.length < p.T) {
    throw new NadirError(
      "E_ARG",
      `viterbi: out expected at least ${p.T} entries, got ${out.length}`,
    );
  }
  const labels =
    out === undefined ? new Int32Array(p.T) : out.length === p.T ? out : out.subarray(0, p.T);
  const energy = viterbiInto(p, labels, constraints);
  return { labels, energy, exact: true };
}

function asChain(p: Potentials): ChainPotentials {
  if (p.kind !== "chain") throw new NadirError("E_UNSUPPORTED", REFUSE_GRAPH);
  return p;
}

/** The Viterbi backend: exact on chains, with k-best (see kbest.ts). */
export const viterbiBackend: KBestBackend = Object.freeze({
  name: "viterbi",
  exactness: "chains",
  supports(p: Potentials): string | null {
    return p.kind === "chain" ? null : REFUSE_GRAPH;
  },
  minimize(p: Potentials, constraints?: Constraints): InferenceResult {
    return viterbi(asChain(p), constraints);
  },
  kbest(p: Potentials, k: number, constraints?: Constraints): InferenceResult[] {
    return kbestViterbi(asChain(p), k, constraints);
  },
});
