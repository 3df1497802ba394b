/**
 * α-expansion and α-β swap on random multi-label pairwise graphs (Potts,
 * truncated linear, truncated quadratic; loopy structures; fixed seeds):
 * valid labelings, sweep energies never increasing, energies ≥ the exhaustive
 * minimum, expansion within 2c of it (2× for Potts), and — checked by
 * enumerating every move — a local minimum for the moves each makes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import {
  alphaBetaSwap,
  alphaExpansion,
  expansion,
  expansionBackend,
  type MoveResult,
  swapBackend,
} from "../../src/inference/mincut/expansion.ts";
import type { Constraints } from "../../src/inference/types.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { allLabelings, oracleEnergy, satisfies } from "../oracles/brute-force.ts";

/** Pairs (i, j) of a random loopy structure over n variables: a path plus random chords. */
function pairsArb(n: number, maxExtra: number): fc.Arbitrary<number[][]> {
  if (n < 2) return fc.constant([]);
  return fc
    .array(fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 2, maxLength: 2 }), {
      maxLength: maxExtra,
    })
    .map((extra) => {
      const out: number[][] = [];
      for (let v = 1; v < n; v++) out.push([v - 1, v]);
      for (const p of extra) out.push(p);
      return out;
    });
}

interface Case {
  g: FactorGraph;
  L: number;
}

/**
 * n ≤ maxVars variables with L labels, unaries in [0, 9] (integers or reals),
 * and on each pair the table weight·V(a, b), weight a random integer in [0, 4].
 */
function pairwiseArb(
  V: (a: number, b: number) => number,
  opts: { maxL?: number; maxVars?: number } = {},
): fc.Arbitrary<Case> {
  const { maxL = 4, maxVars = 7 } = opts;
  return fc
    .record({
      n: fc.integer({ min: 1, max: maxVars }),
      L: fc.integer({ min: 3, max: maxL }),
      real: fc.boolean(),
    })
    .chain(({ n, L, real }) => {
      const u = real
        ? fc.noBias(fc.integer({ min: 0, max: 1e6 })).map((k) => (k * 9) / 1e6)
        : fc.integer({ min: 0, max: 9 });
      return fc
        .record({
          unary: fc.array(fc.array(u, { minLength: L, maxLength: L }), {
            minLength: n,
            maxLength: n,
          }),
          pairs: pairsArb(n, n).chain((ps) =>
            fc
              .array(fc.integer({ min: 0, max: 4 }), {
                minLength: ps.length,
                maxLength: ps.length,
              })
              .map((w) => ps.map((p, k) => ({ p, w: w[k]! }))),
          ),
        })
        .map(({ unary, pairs }) => {
          const b = new FactorGraphBuilder();
          b.addVariables(n, L);
          unary.forEach((row, i) => {
            b.addFactor([i], row);
          });
          for (const { p, w } of pairs) {
            const t: number[] = [];
            for (let a = 0; a < L; a++) for (let c = 0; c < L; c++) t.push(w * V(a, c));
            b.addFactor(p, t);
          }
          return { g: b.build(), L };
        });
    });
}

const potts = (a: number, b: number) => (a === b ? 0 : 1);
const truncLinear = (a: number, b: number) => Math.min(Math.abs(a - b), 2);
const truncQuadratic = (a: number, b: number) => Math.min((a - b) ** 2, 4);

function maskArb(g: FactorGraph): fc.Arbitrary<Uint8Array> {
  const n = g.nVars * g.maxDomain;
  return fc
    .constantFrom(0.35, 0.8)
    .chain((d) =>
      fc
        .array(fc.noBias(fc.integer({ min: 0, max: 999 })), { minLength: n, maxLength: n })
        .map((a) => Uint8Array.from(a, (x) => (x < 1000 * d ? 1 : 0))),
    );
}

function minEnergy(g: FactorGraph, c?: Constraints): number | null {
  let best: number | null = null;
  for (const y of allLabelings(Array.from(g.domains))) {
    if (!satisfies(g, c, y)) continue;
    const e = g.energy(y);
    if (best === null || e < best) best = e;
  }
  return best;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b));

/** A valid answer: allowed labels, energy two ways, sweeps non-increasing and ending at it. */
function checkAnswer(g: FactorGraph, r: MoveResult, c?: Constraints): void {
  g.checkLabels(r.labels);
  expect(satisfies(g, c, r.labels)).toBe(true);
  expect(r.energy).toBe(g.energy(r.labels));
  expect(close(oracleEnergy(g, r.labels), r.energy)).toBe(true);
  expect(r.exact).toBe(false);
  expect(r.sweeps.length).toBeGreaterThan(0);
  for (let s = 1; s < r.sweeps.length; s++)
    expect(r.sweeps[s]!).toBeLessThanOrEqual(r.sweeps[s - 1]!);
  expect(r.sweeps[r.sweeps.length - 1]).toBe(r.energy);
}

/** Every expansion move from y (each subset of variables switching to α) by enumeration: none is lower. */
function isExpansionLocalMin(g: FactorGraph, y: Int32Array, c?: Constraints): boolean {
  const n = g.nVars;
  const e0 = g.energy(y);
  const z = new Int32Array(n);
  for (let alpha = 0; alpha < g.maxDomain; alpha++) {
    for (let m = 1; m < 1 << n; m++) {
      for (let v = 0; v < n; v++) z[v] = (m >> v) & 1 ? alpha : y[v]!;
      if (satisfies(g, c, z) && g.energy(z) < e0 - 1e-9) return false;
    }
  }
  return true;
}

/** Every α-β swap move from y by enumeration: none is lower. */
function isSwapLocalMin(g: FactorGraph, y: Int32Array, c?: Constraints): boolean {
  const n = g.nVars;
  const e0 = g.energy(y);
  const z = new Int32Array(n);
  for (let a = 0; a < g.maxDomain; a++) {
    for (let b = a + 1; b < g.maxDomain; b++) {
      for (let m = 0; m < 1 << n; m++) {
        for (let v = 0; v < n; v++) {
          const l = y[v]!;
          z[v] = l === a || l === b ? ((m >> v) & 1 ? b : a) : l;
        }
        if (satisfies(g, c, z) && g.energy(z) < e0 - 1e-9) return false;
      }
    }
  }
  return true;
}

describe("α-expansion", () => {
  it("on random Potts problems: valid, ≥ the exhaustive minimum, within 2× of it, a local minimum", () => {
    let strictlyAbove = 0;
    fc.assert(
      fc.property(pairwiseArb(potts), ({ g }) => {
        expect(expansionBackend.supports(g)).toBeNull();
        const r = alphaExpansion(g);
        checkAnswer(g, r);
        const min = minEnergy(g)!;
        expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
        expect(r.energy).toBeLessThanOrEqual(2 * min + 1e-9);
        if (r.energy > min + 1e-9) strictlyAbove++;
        expect(isExpansionLocalMin(g, r.labels)).toBe(true);
      }),
      { seed: 9501, numRuns: 300 },
    );
    // On tiny problems expansion is usually optimal; a few cases exercise the bound.
    expect(strictlyAbove).toBeGreaterThan(0);
  });

  it("on truncated-linear metrics: within 2c = 4× of the minimum, a local minimum", () => {
    fc.assert(
      fc.property(pairwiseArb(truncLinear), ({ g }) => {
        const r = expansionBackend.minimize(g) as MoveResult;
        checkAnswer(g, r);
        const min = minEnergy(g)!;
        expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
        expect(r.energy).toBeLessThanOrEqual(4 * min + 1e-9);
        expect(isExpansionLocalMin(g, r.labels)).toBe(true);
      }),
      { seed: 9502, numRuns: 200 },
    );
  });

  it("honors clamping (random allowed masks) and is a local minimum among allowed moves", () => {
    const arb = pairwiseArb(potts, { maxVars: 6 }).chain((c) =>
      maskArb(c.g).map((allowed) => ({ ...c, allowed })),
    );
    let infeasible = 0;
    fc.assert(
      fc.property(arb, ({ g, allowed }) => {
        const c = { allowed };
        const min = minEnergy(g, c);
        if (min === null) {
          infeasible++;
          expect(() => alphaExpansion(g, c)).toThrow(/no labeling satisfies/);
          return;
        }
        const r = alphaExpansion(g, c);
        checkAnswer(g, r, c);
        expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
        expect(isExpansionLocalMin(g, r.labels, c)).toBe(true);
      }),
      { seed: 9503, numRuns: 200 },
    );
    expect(infeasible).toBeGreaterThan(0);
  });

  it("refuses non-metric tables (truncated quadratic), naming the factor and the labels", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(3, 3);
    b.addFactor([0], [0, 1, 2]);
    const t: number[] = [];
    for (let a = 0; a < 3; a++) for (let c = 0; c < 3; c++) t.push(truncQuadratic(a, c));
    b.addFactor([2, 1], t);
    const g = b.build();
    const why = expansionBackend.supports(g);
    expect(why).toBe(
      "expansion: factor 1 over variables (2, 1) breaks the expansion condition V(α,α) + V(β,γ) ≤ V(β,α) + V(α,γ) at α=1, β=0, γ=2: 0 + 4 > 1 + 1 (by 2); use swap or exhaustive",
    );
    try {
      alphaExpansion(g);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NadirError);
      expect((e as NadirError).code).toBe("E_UNSUPPORTED");
      expect((e as NadirError).message).toBe(why);
    }
    expect(swapBackend.supports(g)).toBeNull();
    const ab = new FactorGraphBuilder();
    ab.addVariables(3, 2);
    ab.addFactor([0, 1, 2], new Float64Array(8));
    expect(expansionBackend.supports(ab.build())).toBe(
      "expansion: factor 0 over variables (0, 1, 2) has arity 3; graph cuts take factors of arity ≤ 2",
    );
  });

  it("solves chain potentials (Potts transition): ≥ Viterbi, energy = chainEnergy", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 3, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 50, maxLength: 50 }),
        fc.integer({ min: 0, max: 5 }),
        (T, L, us, w) => {
          const unary = Float64Array.from({ length: T * L }, (_, k) => us[k % 50]!);
          const tr = Float64Array.from({ length: L * L }, (_, k) =>
            Math.floor(k / L) === k % L ? 0 : w,
          );
          const p = chainPotentials(T, L, unary, tr);
          const r = expansionBackend.minimize(p);
          expect(r.energy).toBe(chainEnergy(p, r.labels));
          const best = viterbi(p).energy;
          expect(r.energy).toBeGreaterThanOrEqual(best);
          expect(r.energy).toBeLessThanOrEqual(2 * best);
        },
      ),
      { seed: 9504, numRuns: 200 },
    );
  });

  it("stops after maxSweeps and checks its options", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(4, 3);
    for (let v = 0; v < 4; v++) b.addFactor([v], [v % 3, 1, 2 - (v % 3)]);
    for (let v = 1; v < 4; v++) b.addFactor([v - 1, v], [0, 1, 1, 1, 0, 1, 1, 1, 0]);
    const g = b.build();
    const r = expansion({ maxSweeps: 1 }).minimize(g) as MoveResult;
    expect(r.sweeps.length).toBe(1);
    expect(() => expansion({ maxSweeps: 0 })).toThrow(NadirError);
    expect(() => alphaExpansion(g, undefined, { maxSweeps: 1.5 })).toThrow(/maxSweeps/);
  });
});

describe("α-β swap", () => {
  it("on random Potts and truncated-quadratic problems: valid, ≥ the minimum, a local minimum", () => {
    const arb = fc.oneof(pairwiseArb(potts), pairwiseArb(truncQuadratic));
    fc.assert(
      fc.property(arb, ({ g }) => {
        expect(swapBackend.supports(g)).toBeNull();
        const r = alphaBetaSwap(g);
        checkAnswer(g, r);
        expect(r.energy).toBeGreaterThanOrEqual(minEnergy(g)! - 1e-9);
        expect(isSwapLocalMin(g, r.labels)).toBe(true);
      }),
      { seed: 9601, numRuns: 300 },
    );
  });

  it("honors clamping (random allowed masks)", () => {
    const arb = pairwiseArb(truncQuadratic, { maxVars: 6 }).chain((c) =>
      maskArb(c.g).map((allowed) => ({ ...c, allowed })),
    );
    fc.assert(
      fc.property(arb, ({ g, allowed }) => {
        const c = { allowed };
        const min = minEnergy(g, c);
        if (min === null) {
          expect(() => swapBackend.minimize(g, c)).toThrow(/no labeling satisfies/);
          return;
        }
        const r = alphaBetaSwap(g, c);
        checkAnswer(g, r, c);
        expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
        expect(isSwapLocalMin(g, r.labels, c)).toBe(true);
      }),
      { seed: 9602, numRuns: 200 },
    );
  });

  it("refuses tables with V(α,β) + V(β,α) < V(α,α) + V(β,β)", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(2, 3);
    b.addFactor([0, 1], [0, 1, 1, 1, 0, 0, 1, 0, 5]);
    expect(swapBackend.supports(b.build())).toBe(
      "swap: factor 0 over variables (0, 1) breaks the swap condition V(α,β) + V(β,α) ≥ V(α,α) + V(β,β) at α=0, β=2: 1 + 1 < 0 + 5 (by 3); use exhaustive",
    );
  });
});
