import type { ChainPotentials } from "./chain.ts";
import { chainEnergy } from "./chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "./factor-graph.ts";

/**
 * Potentials of a second-order chain: those of a first-order chain plus a
 * table over label triples,
 *
 *   E(y) = E_chain(y) + Σ_{t ≥ 2} transition2[(y_{t−2}·L + y_{t−1})·L + y_t].
 *
 * Deliberately not one of the `Potentials` a first-order backend accepts:
 * decode it with `viterbi2` (exact) or convert it with `chain2ToFactorGraph`
 * (triple factors: loopy, so BP is approximate there).
 */
export interface Chain2Potentials {
  readonly kind: "chain2";
  readonly chain: ChainPotentials;
  /** L×L×L, (y_{t−2}, y_{t−1}, y_t) row-major */
  readonly transition2: Float64Array;
}

/** E(y) under second-order chain potentials. */
export function chain2Energy(p: Chain2Potentials, y: ArrayLike<number>): number {
  const { T, L } = p.chain;
  let e = chainEnergy(p.chain, y);
  const tr2 = p.transition2;
  for (let t = 2; t < T; t++) e += tr2[(y[t - 2]! * L + y[t - 1]!) * L + y[t]!]!;
  return e;
}

/**
 * The same energy as a factor graph: unary factors (with start/end folded in),
 * one factor per position triple holding transition(y_{t−1}, y_t) +
 * transition2(y_{t−2}, y_{t−1}, y_t), and the first transition as a pair factor.
 */
export function chain2ToFactorGraph(p: Chain2Potentials): FactorGraph {
  const { T, L, unary, transition, start, end } = p.chain;
  const b = new FactorGraphBuilder();
  for (let t = 0; t < T; t++) b.addVariable(L);
  for (let t = 0; t < T; t++) {
    const u = new Float64Array(L);
    for (let l = 0; l < L; l++) {
      u[l] = unary[t * L + l]! + (t === 0 ? start[l]! : 0) + (t === T - 1 ? end[l]! : 0);
    }
    b.addFactor([t], u);
  }
  if (T >= 2) b.addFactor([0, 1], transition.subarray(0, L * L));
  for (let t = 2; t < T; t++) {
    const tab = new Float64Array(L * L * L);
    for (let a = 0; a < L; a++) {
      for (let c = 0; c < L; c++) {
        for (let d = 0; d < L; d++) {
          const i = (a * L + c) * L + d;
          tab[i] = transition[c * L + d]! + p.transition2[i]!;
        }
      }
    }
    b.addFactor([t - 2, t - 1, t], tab);
  }
  return b.build();
}
