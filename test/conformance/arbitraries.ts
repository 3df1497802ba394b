/** fast-check generators for the conformance suites: tiny chains, factor graphs, constraints. */
import fc from "fast-check";
import { type ChainPotentials, chainPotentials } from "../../src/graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import type { Constraints } from "../../src/inference/types.ts";

/**
 * "int": small integers (many ties, exact sums); "dyadic": multiples of 1/8
 * (exact sums, fewer ties); "real": doubles (compare with a tolerance).
 */
export type Mode = "int" | "dyadic" | "real";

export function energyArb(mode: Mode): fc.Arbitrary<number> {
  if (mode === "int") return fc.integer({ min: -3, max: 3 });
  if (mode === "dyadic") return fc.integer({ min: -80, max: 80 }).map((x) => x / 8);
  return fc.double({ min: -10, max: 10, noNaN: true });
}

const modeArb = fc.constantFrom<Mode>("int", "int", "dyadic", "real");

function energies(mode: Mode, n: number): fc.Arbitrary<Float64Array> {
  return fc.array(energyArb(mode), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a));
}

export interface ChainCase {
  mode: Mode;
  p: ChainPotentials;
}

export function chainArb(maxT = 6, maxL = 4): fc.Arbitrary<ChainCase> {
  return fc
    .record({
      T: fc.integer({ min: 0, max: maxT }),
      L: fc.integer({ min: 1, max: maxL }),
      mode: modeArb,
    })
    .chain(({ T, L, mode }) =>
      fc
        .record({
          unary: energies(mode, T * L),
          transition: energies(mode, L * L),
          start: energies(mode, L),
          end: energies(mode, L),
        })
        .map((r) => ({
          mode,
          p: chainPotentials(T, L, r.unary, r.transition, r.start, r.end),
        })),
    );
}

/** A 0/1 mask of n entries, each set with probability about `density`. */
function mask(n: number, density: number): fc.Arbitrary<Uint8Array> {
  return fc
    .array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n })
    .map((a) => Uint8Array.from(a, (x) => (x < density ? 1 : 0)));
}

/** Random constraints for a T×L chain: each part present or not, dense or sparse. */
export function chainConstraintsArb(T: number, L: number): fc.Arbitrary<Constraints> {
  const allowedDensity = fc.constantFrom(0.5, 0.8, 0.95);
  const forbiddenDensity = fc.constantFrom(0.1, 0.3, 0.6);
  return fc
    .record({
      allowed: fc.option(
        allowedDensity.chain((d) => mask(T * L, d)),
        { nil: undefined },
      ),
      forbiddenTransitions: fc.option(
        forbiddenDensity.chain((d) => mask(L * L, d)),
        { nil: undefined },
      ),
      forbiddenStart: fc.option(
        forbiddenDensity.chain((d) => mask(L, d)),
        { nil: undefined },
      ),
    })
    .map((c) => {
      const out: Constraints = {};
      if (c.allowed !== undefined) out.allowed = c.allowed;
      if (c.forbiddenTransitions !== undefined) out.forbiddenTransitions = c.forbiddenTransitions;
      if (c.forbiddenStart !== undefined) out.forbiddenStart = c.forbiddenStart;
      return out;
    });
}

export interface GraphCase {
  mode: Mode;
  g: FactorGraph;
}

/** Random factor graphs: ≤ maxVars variables with domains 1…maxDomain, factors of arity 0…3. */
export function graphArb(maxVars = 5, maxDomain = 3, maxFactors = 6): fc.Arbitrary<GraphCase> {
  return fc
    .record({
      domains: fc.array(fc.integer({ min: 1, max: maxDomain }), {
        minLength: 0,
        maxLength: maxVars,
      }),
      mode: modeArb,
      nFactors: fc.integer({ min: 0, max: maxFactors }),
    })
    .chain(({ domains, mode, nFactors }) => {
      const n = domains.length;
      const scopeArb =
        n === 0
          ? fc.constant<number[]>([])
          : fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), {
              minLength: 0,
              maxLength: Math.min(3, n),
            });
      const factorArb = scopeArb.chain((scope) =>
        energies(
          mode,
          scope.reduce((s, v) => s * domains[v]!, 1),
        ).map((table) => ({
          scope,
          table,
        })),
      );
      return fc.array(factorArb, { minLength: nFactors, maxLength: nFactors }).map((factors) => {
        const b = new FactorGraphBuilder();
        for (const d of domains) b.addVariable(d);
        for (const f of factors) b.addFactor(f.scope, f.table);
        return { mode, g: b.build() };
      });
    });
}

/** Random `allowed` masks for a graph (row stride maxDomain). */
export function graphConstraintsArb(g: FactorGraph): fc.Arbitrary<Constraints> {
  return fc
    .option(
      fc.constantFrom(0.5, 0.8).chain((d) => mask(g.nVars * g.maxDomain, d)),
      { nil: undefined },
    )
    .map((allowed) => (allowed === undefined ? {} : { allowed }));
}

/** A labeling for a chain / graph with the given domains. */
export function labelingArb(domains: readonly number[]): fc.Arbitrary<Int32Array> {
  return fc
    .tuple(...domains.map((d) => fc.integer({ min: 0, max: d - 1 })))
    .map((a) => Int32Array.from(a));
}

/** Equal energies: exactly in exact modes, within a relative 1e-9 for reals. */
export function sameEnergy(mode: Mode, a: number, b: number): boolean {
  if (mode !== "real") return a === b;
  return Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b));
}
