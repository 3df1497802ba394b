/**
 * Brute-force oracles for tests: enumerate every labeling, written
 * independently of src/inference (and of the factor graph's strides: graph
 * energies go through each factor's ndarray view). Generic over a semiring —
 * fine here, never in a kernel.
 */
import type { ChainPotentials } from "../../src/graph/chain.ts";
import type { FactorGraph } from "../../src/graph/factor-graph.ts";
import type { Constraints } from "../../src/inference/types.ts";

export type AnyPotentials = ChainPotentials | FactorGraph;

export interface Semiring<S> {
  zero: S;
  one: S;
  plus(a: S, b: S): S;
  times(a: S, b: S): S;
  /** The semiring value of one energy term. */
  lift(energy: number): S;
}

/** Min-sum: the minimum energy. */
export const minSum: Semiring<number> = {
  zero: Number.POSITIVE_INFINITY,
  one: 0,
  plus: (a, b) => Math.min(a, b),
  times: (a, b) => a + b,
  lift: (e) => e,
};

/** Sum-product of Gibbs weights exp(−β·E): the partition function Z(β), in log space. */
export function logSumExp(beta: number): Semiring<number> {
  return {
    zero: Number.NEGATIVE_INFINITY,
    one: 0,
    plus: (a, b) => {
      if (a === Number.NEGATIVE_INFINITY) return b;
      if (b === Number.NEGATIVE_INFINITY) return a;
      const m = Math.max(a, b);
      return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
    },
    times: (a, b) => a + b,
    lift: (e) => -beta * e,
  };
}

/** Domain sizes of the variables. */
export function domainsOf(p: AnyPotentials): number[] {
  return p.kind === "chain" ? new Array<number>(p.T).fill(p.L) : Array.from(p.domains);
}

/** Every labeling, in lexicographic order (the empty labeling when there are no variables). */
export function allLabelings(domains: readonly number[]): Int32Array[] {
  const out: Int32Array[] = [];
  const y = new Int32Array(domains.length);
  const rec = (v: number) => {
    if (v === domains.length) {
      out.push(y.slice());
      return;
    }
    for (let l = 0; l < domains[v]!; l++) {
      y[v] = l;
      rec(v + 1);
    }
  };
  rec(0);
  return out;
}

/** The energy terms of a labeling: start, unaries, transitions, end — or one per factor. */
export function energyTerms(p: AnyPotentials, y: Int32Array): number[] {
  if (p.kind === "chain") {
    const { T, L } = p;
    if (T === 0) return [];
    const terms = [p.start[y[0]!]!];
    for (let t = 0; t < T; t++) terms.push(p.unary[t * L + y[t]!]!);
    for (let t = 1; t < T; t++) terms.push(p.transition[y[t - 1]! * L + y[t]!]!);
    terms.push(p.end[y[T - 1]!]!);
    return terms;
  }
  return p.factors.map((f) => f.view().get(...Array.from(f.scope, (v) => y[v]!)));
}

export function oracleEnergy(p: AnyPotentials, y: Int32Array): number {
  return energyTerms(p, y).reduce((a, b) => a + b, 0);
}

/** Whether a labeling satisfies the constraints (`allowed` has row stride L / maxDomain). */
export function satisfies(p: AnyPotentials, c: Constraints | undefined, y: Int32Array): boolean {
  if (c === undefined) return true;
  const stride = p.kind === "chain" ? p.L : p.maxDomain;
  for (let v = 0; v < y.length; v++) {
    if (c.allowed !== undefined && c.allowed[v * stride + y[v]!] === 0) return false;
  }
  if (p.kind === "chain" && y.length > 0) {
    if (c.forbiddenStart !== undefined && c.forbiddenStart[y[0]!] !== 0) return false;
    if (c.forbiddenTransitions !== undefined) {
      for (let t = 1; t < y.length; t++) {
        if (c.forbiddenTransitions[y[t - 1]! * p.L + y[t]!] !== 0) return false;
      }
    }
  }
  return true;
}

export interface Ranked {
  labels: Int32Array;
  energy: number;
}

export function lexCompare(a: Int32Array, b: Int32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Every feasible labeling with its energy, sorted by (energy, lexicographic order). */
export function rankAll(p: AnyPotentials, c?: Constraints): Ranked[] {
  return allLabelings(domainsOf(p))
    .filter((y) => satisfies(p, c, y))
    .map((labels) => ({ labels, energy: oracleEnergy(p, labels) }))
    .sort((a, b) => a.energy - b.energy || lexCompare(a.labels, b.labels));
}

/** ⊕ over feasible labelings of ⊗ over their energy terms. */
export function semiringSum<S>(p: AnyPotentials, sr: Semiring<S>, c?: Constraints): S {
  let acc = sr.zero;
  for (const y of allLabelings(domainsOf(p))) {
    if (!satisfies(p, c, y)) continue;
    let w = sr.one;
    for (const e of energyTerms(p, y)) w = sr.times(w, sr.lift(e));
    acc = sr.plus(acc, w);
  }
  return acc;
}

/** The Gibbs distribution of a chain at β by enumeration (see {@link chainGibbs}). */
export interface GibbsOracle {
  /** −∞ when no labeling is feasible. */
  logZ: number;
  freeEnergy: number;
  /** T×L. */
  unary: Float64Array;
  /** (T−1)×L×L, [(t−1)·L² + l·L + l'] = μₜ₋₁,ₜ(l, l'). */
  pairwise: Float64Array;
  /** L×L, the sum over t of `pairwise`. */
  pairwiseSum: Float64Array;
  expectedEnergy: number;
  /** −Σ P log P, nats. */
  entropy: number;
  /** Every feasible labeling with its energy, P and log P. */
  labelings: { labels: Int32Array; energy: number; logP: number }[];
}

/**
 * Log Z, F, marginals, ⟨E⟩ and H of P(y) ∝ exp(−β E(y)) over the feasible
 * labelings of a chain, by enumeration. `ranked` (from rankAll) may be passed
 * to reuse one enumeration for several β.
 */
export function chainGibbs(
  p: ChainPotentials,
  beta: number,
  c?: Constraints,
  ranked: Ranked[] = rankAll(p, c),
): GibbsOracle {
  const { T, L } = p;
  const unary = new Float64Array(T * L);
  const pairwise = new Float64Array(Math.max(0, T - 1) * L * L);
  const pairwiseSum = new Float64Array(L * L);
  let m = Number.NEGATIVE_INFINITY;
  for (const r of ranked) m = Math.max(m, -beta * r.energy);
  let s = 0;
  for (const r of ranked) s += Math.exp(-beta * r.energy - m);
  const logZ = ranked.length === 0 ? Number.NEGATIVE_INFINITY : m + Math.log(s);
  let expected = 0;
  let h = 0;
  const labelings = ranked.map((r) => {
    const logP = -beta * r.energy - logZ;
    const q = Math.exp(logP);
    expected += q * r.energy;
    h -= q * logP;
    for (let t = 0; t < T; t++) {
      const u = t * L + r.labels[t]!;
      unary[u] = unary[u]! + q;
    }
    for (let t = 1; t < T; t++) {
      const i = r.labels[t - 1]! * L + r.labels[t]!;
      const j = (t - 1) * L * L + i;
      pairwise[j] = pairwise[j]! + q;
      pairwiseSum[i] = pairwiseSum[i]! + q;
    }
    return { labels: r.labels, energy: r.energy, logP };
  });
  return {
    logZ,
    freeEnergy: -logZ / beta,
    unary,
    pairwise,
    pairwiseSum,
    expectedEnergy: expected,
    entropy: h,
    labelings,
  };
}

/** The Gibbs distribution of a factor graph at β by enumeration (see {@link graphGibbs}). */
export interface GraphGibbsOracle {
  /** −∞ when no labeling is feasible. */
  logZ: number;
  freeEnergy: number;
  /** P(y_v = l) at [v·maxDomain + l]. */
  variable: Float64Array;
  /** P(factor f's scope takes table entry i), laid out like the graph's concatenated tables. */
  factor: Float64Array;
}

/**
 * Log Z, F and the variable and factor marginals of P(y) ∝ exp(−β E(y)) over
 * the feasible labelings of a factor graph, by enumeration (energies and
 * table entries through each factor's ndarray view, not its strides).
 */
export function graphGibbs(g: FactorGraph, beta: number, c?: Constraints): GraphGibbsOracle {
  const ranked = rankAll(g, c);
  let m = Number.NEGATIVE_INFINITY;
  for (const r of ranked) m = Math.max(m, -beta * r.energy);
  let s = 0;
  for (const r of ranked) s += Math.exp(-beta * r.energy - m);
  const logZ = ranked.length === 0 ? Number.NEGATIVE_INFINITY : m + Math.log(s);
  const variable = new Float64Array(g.nVars * g.maxDomain);
  const factor = new Float64Array(g.tables.length);
  // Table index of each entry of a factor's view: the row-major position over its shape.
  const offsets: number[] = [];
  let off = 0;
  for (const f of g.factors) {
    offsets.push(off);
    off += f.table.length;
  }
  for (const r of ranked) {
    const q = Math.exp(-beta * r.energy - logZ);
    for (let v = 0; v < g.nVars; v++) {
      const i = v * g.maxDomain + r.labels[v]!;
      variable[i] = variable[i]! + q;
    }
    g.factors.forEach((f, k) => {
      let idx = 0;
      for (let j = 0; j < f.scope.length; j++) idx = idx * f.shape[j]! + r.labels[f.scope[j]!]!;
      const i = offsets[k]! + idx;
      factor[i] = factor[i]! + q;
    });
  }
  return { logZ, freeEnergy: -logZ / beta, variable, factor };
}
