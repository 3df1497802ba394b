/**
 * One suite every backend must pass on chains: each entry of BACKENDS is
 * checked against the brute-force oracle on hundreds of tiny random chains
 * (T ≤ 6, L ≤ 4; integer energies with many ties, dyadic and real ones).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import type { FactorGraph } from "../../src/graph/factor-graph.ts";
import { hasKBest } from "../../src/inference/registry.ts";
import type { Constraints, InferenceResult } from "../../src/inference/types.ts";
import { oracleEnergy, rankAll, satisfies } from "../oracles/brute-force.ts";
import {
  chainArb,
  chainConstraintsArb,
  labelingArb,
  type Mode,
  sameEnergy,
} from "./arbitraries.ts";
import { BACKENDS } from "./backends.ts";

const RUNS = 500;

function key(y: Int32Array): string {
  return Array.from(y).join(",");
}

/** Check one answer: a valid labeling whose energy (two ways) is the reported one. */
function checkAnswer(
  mode: Mode,
  p: ChainPotentials,
  g: FactorGraph,
  r: InferenceResult,
  c?: Constraints,
): void {
  expect(r.labels.length).toBe(p.T);
  for (const l of r.labels) expect(l >= 0 && l < p.L).toBe(true);
  expect(satisfies(p, c, r.labels)).toBe(true);
  expect(sameEnergy(mode, chainEnergy(p, r.labels), r.energy)).toBe(true);
  expect(sameEnergy(mode, g.energy(r.labels), r.energy)).toBe(true);
}

/** Call `f`; return its result, or "infeasible" when it throws the E_UNSUPPORTED infeasibility error. */
function orInfeasible<R>(f: () => R): R | "infeasible" {
  try {
    return f();
  } catch (e) {
    if (
      e instanceof NadirError &&
      e.code === "E_UNSUPPORTED" &&
      /no labeling satisfies/.test(e.message)
    ) {
      return "infeasible";
    }
    throw e;
  }
}

const kArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 12 }) },
  { weight: 1, arbitrary: fc.constant(5000) },
);

describe.each(BACKENDS)("conformance on chains: $backend.name", (entry) => {
  const b = entry.backend;

  it("supports chain potentials", () => {
    fc.assert(
      fc.property(chainArb(), ({ p }) => b.supports(p) === null),
      { seed: 101, numRuns: 50 },
    );
  });

  it("minimize equals the exhaustive minimum; the labeling's energy is the reported one", () => {
    fc.assert(
      fc.property(chainArb(), ({ mode, p }) => {
        const ranked = rankAll(p);
        const r = b.minimize(p);
        checkAnswer(mode, p, chainToFactorGraph(p), r);
        expect(sameEnergy(mode, r.energy, ranked[0]!.energy)).toBe(true);
        if (entry.lexTies && mode !== "real") expect(key(r.labels)).toBe(key(ranked[0]!.labels));
      }),
      { seed: 1234, numRuns: RUNS },
    );
  });

  it.runIf(hasKBest(b))("k-best equals the k lowest energies, ordered and distinct", () => {
    if (!hasKBest(b)) return;
    fc.assert(
      fc.property(chainArb(), kArb, ({ mode, p }, k) => {
        const ranked = rankAll(p);
        const rs = b.kbest(p, k);
        const g = chainToFactorGraph(p);
        expect(rs.length).toBe(Math.min(k, p.L ** p.T));
        const seen = new Set<string>();
        for (let i = 0; i < rs.length; i++) {
          const r = rs[i]!;
          checkAnswer(mode, p, g, r);
          expect(sameEnergy(mode, r.energy, ranked[i]!.energy)).toBe(true);
          if (i > 0) expect(r.energy).toBeGreaterThanOrEqual(rs[i - 1]!.energy);
          seen.add(key(r.labels));
          if (entry.lexTies && mode !== "real") expect(key(r.labels)).toBe(key(ranked[i]!.labels));
        }
        expect(seen.size).toBe(rs.length);
      }),
      { seed: 2345, numRuns: RUNS },
    );
  });

  it.runIf(entry.constraints)(
    "constrained minimize equals exhaustive search over the allowed labelings",
    () => {
      const arb = chainArb().chain((cc) =>
        chainConstraintsArb(cc.p.T, cc.p.L).map((c) => ({ ...cc, c })),
      );
      let infeasibleCases = 0;
      fc.assert(
        fc.property(arb, ({ mode, p, c }) => {
          const ranked = rankAll(p, c);
          const r = orInfeasible(() => b.minimize(p, c));
          if (ranked.length === 0) {
            infeasibleCases++;
            expect(r).toBe("infeasible");
            return;
          }
          expect(r).not.toBe("infeasible");
          if (r === "infeasible") return;
          checkAnswer(mode, p, chainToFactorGraph(p), r, c);
          expect(sameEnergy(mode, r.energy, ranked[0]!.energy)).toBe(true);
          if (entry.lexTies && mode !== "real") expect(key(r.labels)).toBe(key(ranked[0]!.labels));
        }),
        { seed: 3456, numRuns: RUNS },
      );
      expect(infeasibleCases).toBeGreaterThan(10);
    },
  );

  it.runIf(entry.constraints && hasKBest(b))(
    "constrained k-best equals the k lowest allowed labelings ([] when none)",
    () => {
      if (!hasKBest(b)) return;
      const arb = chainArb().chain((cc) =>
        chainConstraintsArb(cc.p.T, cc.p.L).map((c) => ({ ...cc, c })),
      );
      fc.assert(
        fc.property(arb, kArb, ({ mode, p, c }, k) => {
          const ranked = rankAll(p, c);
          const rs = b.kbest(p, k, c);
          const g = chainToFactorGraph(p);
          expect(rs.length).toBe(Math.min(k, ranked.length));
          const seen = new Set<string>();
          for (let i = 0; i < rs.length; i++) {
            const r = rs[i]!;
            checkAnswer(mode, p, g, r, c);
            expect(sameEnergy(mode, r.energy, ranked[i]!.energy)).toBe(true);
            if (i > 0) expect(r.energy).toBeGreaterThanOrEqual(rs[i - 1]!.energy);
            seen.add(key(r.labels));
            if (entry.lexTies && mode !== "real") {
              expect(key(r.labels)).toBe(key(ranked[i]!.labels));
            }
          }
          expect(seen.size).toBe(rs.length);
        }),
        { seed: 4567, numRuns: RUNS },
      );
    },
  );

  it("on the factor-graph conversion: solves it exactly, or refuses it with a reason", () => {
    fc.assert(
      fc.property(chainArb(), ({ mode, p }) => {
        const g = chainToFactorGraph(p);
        const why = b.supports(g);
        if (entry.graphs === "none") {
          expect(typeof why).toBe("string");
          expect(() => b.minimize(g)).toThrow(NadirError);
          return;
        }
        expect(why).toBeNull();
        const r = b.minimize(g);
        expect(sameEnergy(mode, r.energy, rankAll(p)[0]!.energy)).toBe(true);
        expect(sameEnergy(mode, g.energy(r.labels), r.energy)).toBe(true);
      }),
      { seed: 5678, numRuns: 200 },
    );
  });
});

describe("chain potentials and their factor graph", () => {
  it("have the same energy on random labelings (bit for bit), and match the oracle", () => {
    const arb = chainArb().chain((cc) =>
      labelingArb(new Array<number>(cc.p.T).fill(cc.p.L)).map((y) => ({ ...cc, y })),
    );
    fc.assert(
      fc.property(arb, ({ mode, p, y }) => {
        const g = chainToFactorGraph(p);
        expect(g.nVars).toBe(p.T);
        expect(g.energy(y)).toBe(chainEnergy(p, y));
        expect(sameEnergy(mode, oracleEnergy(g, y), chainEnergy(p, y))).toBe(true);
        expect(sameEnergy(mode, oracleEnergy(p, y), chainEnergy(p, y))).toBe(true);
      }),
      { seed: 6789, numRuns: RUNS },
    );
  });
});
