import type { ChainPotentials } from "./chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "./factor-graph.ts";

/**
 * The factor graph of chain potentials: variable t (domain L) for each
 * position, and factors in this order (ids):
 *
 *   0: start (unary on variable 0)          — only when T ≥ 1
 *   1: end   (unary on variable T−1)        — only when T ≥ 1
 *   then unary₀, unary₁, trans(0,1), unary₂, trans(1,2), …, unary_{T−1}, trans(T−2,T−1)
 *
 * Start and end stay separate unary factors and the order follows the
 * summation order of `chainEnergy`, so `g.energy(y) === chainEnergy(p, y)`
 * bit for bit, for every labeling. Tables are copies.
 */
export function chainToFactorGraph(p: ChainPotentials): FactorGraph {
  const { T, L } = p;
  const b = new FactorGraphBuilder();
  b.addVariables(T, L);
  if (T === 0) return b.build();
  b.addFactor([0], p.start.subarray(0, L));
  b.addFactor([T - 1], p.end.subarray(0, L));
  const transition = p.transition.subarray(0, L * L);
  for (let t = 0; t < T; t++) {
    b.addFactor([t], p.unary.subarray(t * L, (t + 1) * L));
    if (t > 0) b.addFactor([t - 1, t], transition);
  }
  return b.build();
}
