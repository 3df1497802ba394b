/**
 * Conformance of the min-cut backends ("mincut", "expansion", "swap").
 * They do not go into BACKENDS (backends.ts): the shared suites generate
 * domains up to 3, factors of arity 3 and non-submodular tables, which these
 * backends refuse by design. Here, on the same generators, each backend must
 * either refuse with a reason (supports() a string, minimize() the same
 * message as NadirError E_UNSUPPORTED) or answer: "mincut" exactly (the
 * oracle's minimum, honoring `allowed`), "expansion"/"swap" with a valid
 * allowed labeling no better than the oracle (exact with ≤ 2 labels). On
 * binarized versions of the generators (arity-3 factors dropped, 2×2 tables
 * made submodular) "mincut" must never refuse.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { mincutBackend } from "../../src/inference/mincut/construct.ts";
import { expansionBackend, swapBackend } from "../../src/inference/mincut/expansion.ts";
import type { Backend, Constraints } from "../../src/inference/types.ts";
import { type AnyPotentials, oracleEnergy, rankAll, satisfies } from "../oracles/brute-force.ts";
import { chainArb, graphArb, graphConstraintsArb, type Mode, sameEnergy } from "./arbitraries.ts";

const RUNS = 500;

/** The graph with arity-3 factors dropped and every 2×2 table made submodular (diagonals swapped). */
function binarize(g: FactorGraph): FactorGraph {
  const b = new FactorGraphBuilder();
  for (const d of g.domains) b.addVariable(d);
  for (const f of g.factors) {
    if (f.arity > 2) continue;
    const t = Array.from(f.table);
    if (t.length === 4 && f.arity === 2) {
      const [a, bb, c, d] = t as [number, number, number, number];
      b.addFactor(f.scope, bb + c - (a + d) < 0 ? [bb, a, d, c] : t);
    } else b.addFactor(f.scope, t);
  }
  return b.build();
}

/** Check one backend on one problem; returns "refused", "infeasible" or "solved". */
function check(
  entry: { backend: Backend; exact: "always" | "binary" },
  mode: Mode,
  p: AnyPotentials,
  c: Constraints | undefined,
): "refused" | "infeasible" | "solved" {
  const b = entry.backend;
  const why = b.supports(p);
  if (why !== null) {
    expect(typeof why).toBe("string");
    try {
      b.minimize(p, c);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NadirError);
      expect((e as NadirError).code).toBe("E_UNSUPPORTED");
      expect((e as NadirError).message).toBe(why);
    }
    return "refused";
  }
  const ranked = rankAll(p, c);
  if (ranked.length === 0) {
    expect(() => b.minimize(p, c)).toThrow(/no labeling satisfies/);
    return "infeasible";
  }
  const r = b.minimize(p, c);
  const n = p.kind === "chain" ? p.T : p.nVars;
  expect(r.labels.length).toBe(n);
  if (p.kind !== "chain") p.checkLabels(r.labels);
  expect(satisfies(p, c, r.labels)).toBe(true);
  expect(sameEnergy(mode, oracleEnergy(p, r.labels), r.energy)).toBe(true);
  const min = ranked[0]!.energy;
  const L = p.kind === "chain" ? (p.T === 0 ? 0 : p.L) : p.maxDomain;
  if (entry.exact === "always" || L <= 2) {
    expect(r.exact).toBe(true);
    expect(sameEnergy(mode, r.energy, min)).toBe(true);
  } else {
    expect(r.exact).toBe(false);
    expect(r.energy >= min || sameEnergy(mode, r.energy, min)).toBe(true);
  }
  return "solved";
}

const ENTRIES = [
  { backend: mincutBackend, exact: "always" as const },
  { backend: expansionBackend, exact: "binary" as const },
  { backend: swapBackend, exact: "binary" as const },
];

describe.each(ENTRIES)("min-cut conformance: $backend.name", (entry) => {
  it("on the shared random factor graphs (with allowed masks): refuses with a reason or answers", () => {
    const seen = { refused: 0, infeasible: 0, solved: 0 };
    const arb = graphArb().chain((gc) => graphConstraintsArb(gc.g).map((c) => ({ ...gc, c })));
    fc.assert(
      fc.property(arb, ({ mode, g, c }) => {
        seen[check(entry, mode, g, c)]++;
      }),
      { seed: 9701, numRuns: RUNS },
    );
    expect(seen.refused).toBeGreaterThan(20);
    expect(seen.solved).toBeGreaterThan(50);
  });

  it("on binarized random factor graphs: answers (mincut never refuses)", () => {
    const seen = { refused: 0, infeasible: 0, solved: 0 };
    const arb = graphArb(6, 2, 8).chain((gc) => {
      const g = binarize(gc.g);
      return graphConstraintsArb(g).map((c) => ({ mode: gc.mode, g, c }));
    });
    fc.assert(
      fc.property(arb, ({ mode, g, c }) => {
        const got = check(entry, mode, g, c);
        seen[got]++;
        expect(got).not.toBe("refused");
      }),
      { seed: 9702, numRuns: RUNS },
    );
    expect(seen.solved).toBeGreaterThan(200);
  });

  it("on the shared random chains: refuses or answers; binary submodular chains are solved", () => {
    const seen = { refused: 0, infeasible: 0, solved: 0 };
    const arb = chainArb(6, 3).chain((cc) =>
      fc
        .option(
          fc
            .array(fc.noBias(fc.integer({ min: 0, max: 9 })), {
              minLength: cc.p.T * cc.p.L,
              maxLength: cc.p.T * cc.p.L,
            })
            .map((a) => ({ allowed: Uint8Array.from(a, (x) => (x < 8 ? 1 : 0)) })),
          { nil: undefined },
        )
        .map((c) => ({ ...cc, c })),
    );
    fc.assert(
      fc.property(arb, ({ mode, p, c }) => {
        seen[check(entry, mode, p, c)]++;
        if (p.L === 2 && entry.backend === mincutBackend) {
          const t = p.transition;
          const [a, b, cc, d] = [t[0]!, t[1]!, t[2]!, t[3]!];
          const q = chainPotentials(
            p.T,
            2,
            p.unary,
            Float64Array.from(b + cc - (a + d) < 0 ? [b, a, d, cc] : [a, b, cc, d]),
            p.start,
            p.end,
          );
          expect(check(entry, mode, q, c)).not.toBe("refused");
        }
      }),
      { seed: 9703, numRuns: RUNS },
    );
    expect(seen.solved).toBeGreaterThan(100);
  });

  it("refuses the chain-only constraints instead of ignoring them", () => {
    const p = chainPotentials(2, 2, new Float64Array(4), new Float64Array(4));
    expect(() => entry.backend.minimize(p, { forbiddenStart: new Uint8Array(2) })).toThrow(
      /honors constraints.allowed only/,
    );
  });
});
