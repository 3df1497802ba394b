/**
 * Binary graph cuts (Kolmogorov–Zabih construction + BK maxflow) against the
 * brute-force oracle on random small submodular graphs (≤ 10 variables,
 * random loopy pairwise structure), with clamping (fresh and dynamic), the
 * refusal of non-submodular input, the exact most-offending search and
 * loss-augmented search over the "mincut" backend, and α-expansion / α-β swap
 * on 2-label graphs (where they must be exact).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import {
  binaryGraphCut,
  binaryRefusal,
  mincutBackend,
} from "../../src/inference/mincut/construct.ts";
import {
  alphaBetaSwap,
  alphaExpansion,
  expansionBackend,
  swapBackend,
} from "../../src/inference/mincut/expansion.ts";
import { lossAugmented, mostOffendingClamped } from "../../src/inference/offending.ts";
import type { Constraints } from "../../src/inference/types.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { energyArb, labelingArb, type Mode, sameEnergy } from "../conformance/arbitraries.ts";
import {
  type AnyPotentials,
  allLabelings,
  domainsOf,
  oracleEnergy,
  rankAll,
  satisfies,
} from "../oracles/brute-force.ts";

const RUNS = 500;

interface BinaryCase {
  mode: Mode;
  g: FactorGraph;
}

const modeArb = fc.constantFrom<Mode>("int", "int", "dyadic", "real");

function energies(mode: Mode, n: number): fc.Arbitrary<number[]> {
  return fc.array(energyArb(mode), { minLength: n, maxLength: n });
}

/**
 * A 2×2 table made submodular: when E(0,1) + E(1,0) < E(0,0) + E(1,1) the
 * diagonal and the anti-diagonal trade places (exactly, in floating point).
 */
function submodularTable(t: number[]): number[] {
  const [a, b, c, d] = t as [number, number, number, number];
  return b + c - (a + d) < 0 ? [b, a, d, c] : [a, b, c, d];
}

/**
 * Random binary graphs: 1…maxVars variables (about one in ten of domain 1), a
 * constant, unaries on some variables, pairwise factors on random pairs
 * (loops, parallel factors and both scope orders included), all submodular.
 */
function binaryGraphArb(maxVars = 10, maxPairs = 16): fc.Arbitrary<BinaryCase> {
  return fc
    .record({
      domains: fc.array(fc.constantFrom(2, 2, 2, 2, 2, 2, 2, 2, 2, 1), {
        minLength: 1,
        maxLength: maxVars,
      }),
      mode: modeArb,
      nPairs: fc.integer({ min: 0, max: maxPairs }),
    })
    .chain(({ domains, mode, nPairs }) => {
      const n = domains.length;
      const pairArb =
        n < 2
          ? fc.constant(null)
          : fc
              .uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 2, maxLength: 2 })
              .chain((scope) =>
                energies(mode, domains[scope[0]!]! * domains[scope[1]!]!).map((t) => ({
                  scope,
                  table: t.length === 4 ? submodularTable(t) : t,
                })),
              );
      return fc
        .record({
          constant: fc.option(energyArb(mode), { nil: undefined }),
          unary: fc.array(fc.option(energies(mode, 2), { nil: undefined }), {
            minLength: n,
            maxLength: n,
          }),
          pairs: fc.array(pairArb, { minLength: nPairs, maxLength: nPairs }),
        })
        .map(({ constant, unary, pairs }) => {
          const b = new FactorGraphBuilder();
          for (const d of domains) b.addVariable(d);
          if (constant !== undefined) b.addFactor([], [constant]);
          unary.forEach((u, v) => {
            if (u !== undefined) b.addFactor([v], u.slice(0, domains[v]!));
          });
          for (const p of pairs) if (p !== null) b.addFactor(p.scope, p.table);
          return { mode, g: b.build() };
        });
    });
}

/** A 0/1 mask of the graph's nVars × maxDomain entries, each set with probability `density`. */
function maskArb(g: FactorGraph): fc.Arbitrary<Uint8Array> {
  const n = g.nVars * g.maxDomain;
  return fc
    .constantFrom(0.5, 0.8, 0.95)
    .chain((d) =>
      fc
        .array(fc.noBias(fc.integer({ min: 0, max: 999 })), { minLength: n, maxLength: n })
        .map((a) => Uint8Array.from(a, (x) => (x < 1000 * d ? 1 : 0))),
    );
}

function key(y: ArrayLike<number>): string {
  return Array.from(y).join(",");
}

function isInfeasible(e: unknown): boolean {
  return (
    e instanceof NadirError && e.code === "E_UNSUPPORTED" && /no labeling satisfies/.test(e.message)
  );
}

/**
 * The minimum energy over the allowed labelings by enumeration (null when
 * none); energies by `FactorGraph.energy`, which the conformance suite checks
 * against the ndarray-view oracle (answers are checked against that oracle).
 */
function oracleMin(p: AnyPotentials, c: Constraints | undefined): number | null {
  let best: number | null = null;
  for (const y of allLabelings(domainsOf(p))) {
    if (!satisfies(p, c, y)) continue;
    const e = p.kind === "chain" ? chainEnergy(p, y) : p.energy(y);
    if (best === null || e < best) best = e;
  }
  return best;
}

/** minimize equals the oracle's minimum `min` (or both infeasible); the answer is valid. */
function checkMin(
  mode: Mode,
  p: AnyPotentials,
  c: Constraints | undefined,
  solve: () => { labels: Int32Array; energy: number; exact: boolean },
  min: number | null = oracleMin(p, c),
): void {
  if (min === null) {
    expect(() => solve()).toThrow(/no labeling satisfies/);
    return;
  }
  const r = solve();
  expect(r.exact).toBe(true);
  expect(r.labels.length).toBe(domainsOf(p).length);
  expect(satisfies(p, c, r.labels)).toBe(true);
  expect(sameEnergy(mode, oracleEnergy(p, r.labels), r.energy)).toBe(true);
  expect(sameEnergy(mode, r.energy, min)).toBe(true);
}

const fresh = binaryGraphCut({ dynamic: false });

describe("binary graph cuts (mincut backend)", () => {
  it("equal the exhaustive minimum on random small submodular graphs", () => {
    let loopy = 0;
    fc.assert(
      fc.property(binaryGraphArb(), ({ mode, g }) => {
        expect(binaryRefusal(g)).toBeNull();
        expect(mincutBackend.supports(g)).toBeNull();
        const min = oracleMin(g, undefined);
        checkMin(mode, g, undefined, () => mincutBackend.minimize(g), min);
        checkMin(mode, g, undefined, () => fresh.minimize(g), min);
        let pairs = 0;
        for (const f of g.factors) if (f.arity === 2) pairs++;
        if (pairs >= g.nVars) loopy++;
      }),
      { seed: 9201, numRuns: RUNS },
    );
    expect(loopy).toBeGreaterThan(100);
  });

  it("honor clamping: equal the exhaustive minimum restricted to the allowed labels", () => {
    let infeasible = 0;
    const arb = binaryGraphArb().chain((bc) =>
      fc.array(maskArb(bc.g), { minLength: 1, maxLength: 4 }).map((masks) => ({ ...bc, masks })),
    );
    fc.assert(
      fc.property(arb, ({ mode, g, masks }) => {
        // Several masks in a row on the same graph: the dynamic backend re-solves by dynamic cuts.
        for (const allowed of masks) {
          const c = { allowed };
          const min = oracleMin(g, c);
          if (min === null) infeasible++;
          checkMin(mode, g, c, () => mincutBackend.minimize(g, c), min);
          checkMin(mode, g, c, () => fresh.minimize(g, c), min);
        }
        checkMin(mode, g, undefined, () => mincutBackend.minimize(g));
      }),
      { seed: 9202, numRuns: RUNS },
    );
    expect(infeasible).toBeGreaterThan(20);
  });

  it("dynamic clamping through long sequences equals fresh solves (one graph, 40 masks)", () => {
    const arb = binaryGraphArb(10, 20).chain((bc) =>
      fc.array(maskArb(bc.g), { minLength: 40, maxLength: 40 }).map((masks) => ({ ...bc, masks })),
    );
    const dyn = binaryGraphCut();
    fc.assert(
      fc.property(arb, ({ mode, g, masks }) => {
        for (const allowed of masks) {
          let a: number | string;
          let b: number | string;
          try {
            a = dyn.minimize(g, { allowed }).energy;
          } catch (e) {
            if (!isInfeasible(e)) throw e;
            a = "infeasible";
          }
          try {
            b = fresh.minimize(g, { allowed }).energy;
          } catch (e) {
            if (!isInfeasible(e)) throw e;
            b = "infeasible";
          }
          if (typeof a === "number" && typeof b === "number") {
            expect(sameEnergy(mode, a, b)).toBe(true);
          } else expect(a).toBe(b);
        }
      }),
      { seed: 9203, numRuns: 100 },
    );
  });

  it("solves binary chains (L ≤ 2) like Viterbi", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1, max: 2 }),
        modeArb,
        fc.infiniteStream(fc.integer({ min: -30, max: 30 })),
        (T, L, mode, stream) => {
          const it_ = stream[Symbol.iterator]();
          const take = (n: number) =>
            Float64Array.from({ length: n }, () => {
              const x = it_.next().value as number;
              return mode === "int" ? x : x / 8;
            });
          const tr = Array.from(take(L * L));
          const transition = Float64Array.from(L === 2 ? submodularTable(tr) : tr);
          const p = chainPotentials(T, L, take(T * L), transition, take(L), take(L));
          expect(mincutBackend.supports(p)).toBeNull();
          const r = mincutBackend.minimize(p);
          expect(r.energy).toBe(chainEnergy(p, r.labels));
          expect(sameEnergy(mode, r.energy, viterbi(p).energy)).toBe(true);
        },
      ),
      { seed: 9204, numRuns: 300 },
    );
  });

  it("refuses a non-submodular pairwise term, naming the factor, its variables and the violation", () => {
    const arb = binaryGraphArb(8, 6)
      .filter(({ g }) => g.nVars >= 2 && g.domains[0] === 2 && g.domains[1] === 2)
      .chain((bc) =>
        fc
          .tuple(
            fc.integer({ min: 1, max: 6 }),
            fc.integer({ min: 1, max: 6 }),
            fc.integer({ min: -3, max: 3 }),
            fc.integer({ min: -3, max: 3 }),
            fc.boolean(),
          )
          .map(([v, w, x, y, flip]) => ({ ...bc, v, w, x, y, flip })),
      );
    fc.assert(
      fc.property(arb, ({ g, v, w, x, y, flip }) => {
        // Rebuild with one extra factor whose E(0,1) + E(1,0) falls short by v + w.
        const b = new FactorGraphBuilder();
        for (const d of g.domains) b.addVariable(d);
        for (const f of g.factors) b.addFactor(f.scope, f.table);
        const scope = flip ? [1, 0] : [0, 1];
        const f = b.addFactor(scope, [x + v, x, y, y + w]);
        const bad = b.build();
        const want =
          `mincut: factor ${f} over variables (${scope.join(", ")}) is not submodular: ` +
          `E(0,1) + E(1,0) = ${x + y} < E(0,0) + E(1,1) = ${x + v + y + w} (violated by ${v + w})`;
        expect(mincutBackend.supports(bad)).toBe(want);
        try {
          mincutBackend.minimize(bad);
          expect.unreachable();
        } catch (e) {
          expect(e).toBeInstanceOf(NadirError);
          expect((e as NadirError).code).toBe("E_UNSUPPORTED");
          expect((e as NadirError).message).toBe(want);
        }
        expect(() => mostOffendingClamped(mincutBackend, bad, new Int32Array(bad.nVars))).toThrow(
          want,
        );
      }),
      { seed: 9205, numRuns: 200 },
    );
  });

  it("refuses larger domains, factors of arity 3 and non-submodular chain transitions", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(2, 2);
    b.addVariable(3);
    const g3 = b.build();
    expect(mincutBackend.supports(g3)).toBe(
      "mincut: needs binary variables (domain ≤ 2); variable 2 has domain 3",
    );
    const c = new FactorGraphBuilder();
    c.addVariables(3, 2);
    c.addFactor([0, 1], [0, 1, 1, 0]);
    c.addFactor([2, 0, 1], new Float64Array(8));
    expect(mincutBackend.supports(c.build())).toBe(
      "mincut: factor 1 over variables (2, 0, 1) has arity 3; graph cuts take factors of arity ≤ 2",
    );
    const chain = chainPotentials(3, 2, new Float64Array(6), Float64Array.from([1, 0, 0, 1]));
    expect(mincutBackend.supports(chain)).toBe(
      "mincut: the chain transition is not submodular: E(0,1) + E(1,0) = 0 < E(0,0) + E(1,1) = 2 (violated by 2)",
    );
    expect(() => mincutBackend.minimize(chain)).toThrow(/not submodular/);
    expect(
      mincutBackend.supports(chainPotentials(3, 3, new Float64Array(9), new Float64Array(9))),
    ).toMatch(/L = 3/);
    // Constraint sizes are checked at the boundary.
    expect(() => mincutBackend.minimize(g3, { allowed: new Uint8Array(1) })).toThrow(NadirError);
  });
});

/** The oracle's most offending energy: the lowest over allowed Y ≠ gold (null when none). */
function oracleOffending(p: AnyPotentials, gold: Int32Array, c?: Constraints): number | null {
  const ranked = rankAll(p, c).filter((r) => key(r.labels) !== key(gold));
  return ranked.length === 0 ? null : ranked[0]!.energy;
}

describe("exact searches over mincut", () => {
  const caseArb = binaryGraphArb().chain((bc) =>
    fc
      .record({
        gold: labelingArb(Array.from(bc.g.domains)),
        allowed: fc.option(maskArb(bc.g), { nil: undefined }),
        scale: fc.constantFrom(0, 0.5, 1, 2, 3),
      })
      .map((r) => ({ ...bc, ...r })),
  );

  it("mostOffendingClamped(mincut) equals brute force on random submodular graphs", () => {
    let nulls = 0;
    fc.assert(
      fc.property(caseArb, ({ mode, g, gold, allowed }) => {
        const c = allowed === undefined ? undefined : { allowed };
        const want = oracleOffending(g, gold, c);
        const r = mostOffendingClamped(mincutBackend, g, gold, c);
        if (want === null) {
          nulls++;
          expect(r).toBeNull();
          return;
        }
        expect(r).not.toBeNull();
        expect(key(r!.labels)).not.toBe(key(gold));
        expect(satisfies(g, c, r!.labels)).toBe(true);
        expect(r!.exact).toBe(true);
        expect(sameEnergy(mode, r!.energy, want)).toBe(true);
        expect(sameEnergy(mode, oracleEnergy(g, r!.labels), r!.energy)).toBe(true);
        // The same through a backend without dynamic cuts.
        const r2 = mostOffendingClamped(fresh, g, gold, c);
        expect(sameEnergy(mode, r2!.energy, want)).toBe(true);
      }),
      { seed: 9301, numRuns: RUNS },
    );
    expect(nulls).toBeGreaterThan(5);
  });

  it("lossAugmented(mincut) equals brute force (Hamming Δ folds into the unaries)", () => {
    fc.assert(
      fc.property(caseArb, ({ mode, g, gold, allowed, scale }) => {
        const c = allowed === undefined ? undefined : { allowed };
        const ys = allLabelings(Array.from(g.domains)).filter((y) => satisfies(g, c, y));
        if (ys.length === 0) {
          expect(() => lossAugmented(mincutBackend, g, gold, scale, c)).toThrow(
            /no labeling satisfies/,
          );
          return;
        }
        let best = Number.POSITIVE_INFINITY;
        for (const y of ys) {
          let d = 0;
          for (let i = 0; i < y.length; i++) if (y[i] !== gold[i]) d++;
          best = Math.min(best, oracleEnergy(g, y) - scale * d);
        }
        const r = lossAugmented(mincutBackend, g, gold, scale, c);
        expect(satisfies(g, c, r.labels)).toBe(true);
        expect(r.exact).toBe(true);
        expect(sameEnergy(mode, r.augmentedEnergy, best)).toBe(true);
        expect(sameEnergy(mode, r.energy, oracleEnergy(g, r.labels))).toBe(true);
      }),
      { seed: 9302, numRuns: RUNS },
    );
  });
});

describe("expansion and swap on 2-label graphs", () => {
  it("equal exhaustive search (exact), with non-increasing sweep energies", () => {
    const arb = binaryGraphArb().chain((bc) =>
      fc.option(maskArb(bc.g), { nil: undefined }).map((allowed) => ({ ...bc, allowed })),
    );
    fc.assert(
      fc.property(arb, ({ mode, g, allowed }) => {
        const c = allowed === undefined ? undefined : { allowed };
        expect(expansionBackend.supports(g)).toBeNull();
        expect(swapBackend.supports(g)).toBeNull();
        const min = oracleMin(g, c);
        for (const solve of [alphaExpansion, alphaBetaSwap]) {
          checkMin(mode, g, c, () => solve(g, c), min);
          if (min === null) continue;
          const r = solve(g, c);
          expect(r.sweeps.length).toBeGreaterThan(0);
          for (let s = 1; s < r.sweeps.length; s++) {
            expect(r.sweeps[s]!).toBeLessThanOrEqual(r.sweeps[s - 1]!);
          }
          expect(r.sweeps[r.sweeps.length - 1]).toBe(r.energy);
        }
      }),
      { seed: 9401, numRuns: RUNS },
    );
  });

  it("refuse non-submodular 2-label tables (the move condition) with the factor named", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(3, 2);
    b.addFactor([0, 1], [0, 1, 1, 0]);
    b.addFactor([2, 1], [1, 0, 0, 1]);
    const g = b.build();
    expect(expansionBackend.supports(g)).toMatch(/^expansion: factor 1 over variables \(2, 1\)/);
    expect(swapBackend.supports(g)).toBe(
      "swap: factor 1 over variables (2, 1) breaks the swap condition V(α,β) + V(β,α) ≥ V(α,α) + V(β,β) at α=0, β=1: 0 + 0 < 1 + 1 (by 2); use exhaustive",
    );
    expect(() => expansionBackend.minimize(g)).toThrow(NadirError);
    expect(() => swapBackend.minimize(g)).toThrow(/breaks the swap condition/);
  });
});
