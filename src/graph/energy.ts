import { type ChainPotentials, chainEnergy } from "./chain.ts";
import type { FactorGraph } from "./factor-graph.ts";

/** E(y) for chain potentials or a factor graph (trusts `y`). */
export function labelingEnergy(p: ChainPotentials | FactorGraph, y: ArrayLike<number>): number {
  return p.kind === "chain" ? chainEnergy(p, y) : p.energy(y);
}

/** Number of variables: T for a chain, nVars for a graph. */
export function variableCount(p: ChainPotentials | FactorGraph): number {
  return p.kind === "chain" ? p.T : p.nVars;
}

/** Domain size of variable v (L for every position of a chain). */
export function domainSize(p: ChainPotentials | FactorGraph, v: number): number {
  return p.kind === "chain" ? p.L : p.domains[v]!;
}

/** Row stride of a flat per-variable label mask (`Constraints.allowed`): L, or the largest domain. */
export function labelStride(p: ChainPotentials | FactorGraph): number {
  return p.kind === "chain" ? p.L : p.maxDomain;
}
