/**
 * The most offending incorrect answer and loss-augmented search against the
 * brute-force oracle: on hundreds of tiny random chains (T ≤ 6, L ≤ 4, with
 * and without constraints) and small loopy factor graphs (grids up to 3×3
 * with pairwise factors, plus a few triple factors; domains 2–3).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../../src/graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { exhaustiveBackend } from "../../src/inference/exhaustive.ts";
import {
  lossAugmented,
  mostOffendingChain,
  mostOffendingClamped,
} from "../../src/inference/offending.ts";
import type { Backend, Constraints, InferenceResult } from "../../src/inference/types.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import {
  type AnyPotentials,
  allLabelings,
  domainsOf,
  oracleEnergy,
  rankAll,
  satisfies,
} from "../oracles/brute-force.ts";
import {
  chainArb,
  chainConstraintsArb,
  energyArb,
  graphConstraintsArb,
  labelingArb,
  type Mode,
  sameEnergy,
} from "./arbitraries.ts";

const RUNS = 500;

function key(y: ArrayLike<number>): string {
  return Array.from(y).join(",");
}

function firstDiff(y: Int32Array, gold: Int32Array): number {
  for (let i = 0; i < y.length; i++) if (y[i] !== gold[i]) return i;
  return y.length;
}

function hammingRef(a: Int32Array, b: Int32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/**
 * The oracle's most offending answer: the lowest energy over allowed Y ≠ gold,
 * and the documented tie-break among the minimizers (smallest first difference
 * from gold, then lexicographically smallest). null when there is none.
 */
function oracleOffending(
  p: AnyPotentials,
  gold: Int32Array,
  c: Constraints | undefined,
): { energy: number; labels: Int32Array } | null {
  const ranked = rankAll(p, c).filter((r) => key(r.labels) !== key(gold));
  if (ranked.length === 0) return null;
  const min = ranked[0]!.energy;
  let best = ranked[0]!;
  for (const r of ranked) {
    if (r.energy !== min) break;
    if (firstDiff(r.labels, gold) < firstDiff(best.labels, gold)) best = r;
  }
  return { energy: min, labels: best.labels };
}

/** Check an answer against the oracle's (energies two ways, tie-break in exact modes). */
function checkOffending(
  mode: Mode,
  p: AnyPotentials,
  gold: Int32Array,
  c: Constraints | undefined,
  r: InferenceResult | null,
  lexTies: boolean,
): void {
  const want = oracleOffending(p, gold, c);
  if (want === null) {
    expect(r).toBeNull();
    return;
  }
  expect(r).not.toBeNull();
  if (r === null) return;
  expect(r.labels.length).toBe(gold.length);
  expect(key(r.labels)).not.toBe(key(gold));
  expect(satisfies(p, c, r.labels)).toBe(true);
  expect(r.exact).toBe(true);
  const e = p.kind === "chain" ? chainEnergy(p, r.labels) : p.energy(r.labels);
  expect(sameEnergy(mode, r.energy, e)).toBe(true);
  expect(sameEnergy(mode, oracleEnergy(p, r.labels), r.energy)).toBe(true);
  expect(sameEnergy(mode, r.energy, want.energy)).toBe(true);
  if (lexTies && mode !== "real") expect(key(r.labels)).toBe(key(want.labels));
}

interface ChainOffCase {
  mode: Mode;
  p: ChainPotentials;
  gold: Int32Array;
  c: Constraints | undefined;
}

/** A random chain, a random gold labeling, and constraints about half the time. */
const chainCaseArb: fc.Arbitrary<ChainOffCase> = chainArb().chain((cc) =>
  fc
    .record({
      gold: labelingArb(new Array<number>(cc.p.T).fill(cc.p.L)),
      c: fc.option(chainConstraintsArb(cc.p.T, cc.p.L), { nil: undefined }),
    })
    .map(({ gold, c }) => ({ ...cc, gold, c })),
);

/**
 * Cases whose gold violates an `allowed` mask: the mask forbids gold at one
 * random position (the search is still over the allowed Y ≠ gold).
 */
const goldViolatingArb: fc.Arbitrary<ChainOffCase> = chainCaseArb
  .filter((cc) => cc.p.T > 0)
  .chain((cc) =>
    fc.integer({ min: 0, max: cc.p.T - 1 }).map((t) => {
      const { T, L } = cc.p;
      const allowed = cc.c?.allowed?.slice() ?? new Uint8Array(T * L).fill(1);
      allowed[t * L + cc.gold[t]!] = 0;
      return { ...cc, c: { ...cc.c, allowed } };
    }),
  );

describe("mostOffendingChain against brute force", () => {
  it("equals the minimum over allowed Y ≠ gold (null exactly when none), ties as documented", () => {
    let nulls = 0;
    let constrained = 0;
    let goldViolates = 0;
    fc.assert(
      fc.property(chainCaseArb, ({ mode, p, gold, c }) => {
        const r = mostOffendingChain(p, gold, c);
        if (r === null) nulls++;
        if (c !== undefined) constrained++;
        if (!satisfies(p, c, gold)) goldViolates++;
        checkOffending(mode, p, gold, c, r, true);
        if (r !== null) expect(r.energy).toBe(chainEnergy(p, r.labels));
      }),
      { seed: 8101, numRuns: RUNS },
    );
    expect(nulls).toBeGreaterThan(10);
    expect(constrained).toBeGreaterThan(100);
    expect(goldViolates).toBeGreaterThan(20);
  });

  it("when gold violates the allowed mask, searches the allowed labelings only", () => {
    fc.assert(
      fc.property(goldViolatingArb, ({ mode, p, gold, c }) => {
        expect(satisfies(p, c, gold)).toBe(false);
        checkOffending(mode, p, gold, c, mostOffendingChain(p, gold, c), true);
      }),
      { seed: 8103, numRuns: 300 },
    );
  });

  it("with a reused out buffer longer than T gives the same answers", () => {
    const out = new Int32Array(16).fill(-7);
    fc.assert(
      fc.property(chainCaseArb, ({ p, gold, c }) => {
        const fresh = mostOffendingChain(p, gold, c);
        const reused = mostOffendingChain(p, gold, c, out);
        if (fresh === null) {
          expect(reused).toBeNull();
          return;
        }
        expect(reused).not.toBeNull();
        expect(reused!.labels.buffer).toBe(out.buffer);
        expect(key(reused!.labels)).toBe(key(fresh.labels));
        expect(reused!.energy).toBe(fresh.energy);
      }),
      { seed: 8102, numRuns: 200 },
    );
  });
});

const CLAMP_BACKENDS: Backend[] = [viterbiBackend, exhaustiveBackend];

describe.each(CLAMP_BACKENDS)("mostOffendingClamped on chains: $name", (backend) => {
  it("equals the minimum over allowed Y ≠ gold (null exactly when none), ties as documented", () => {
    fc.assert(
      fc.property(chainCaseArb, ({ mode, p, gold, c }) => {
        const r = mostOffendingClamped(backend, p, gold, c);
        checkOffending(mode, p, gold, c, r, true);
        const chain = mostOffendingChain(p, gold, c);
        if (r !== null && mode !== "real") expect(key(r.labels)).toBe(key(chain!.labels));
      }),
      { seed: 8201, numRuns: RUNS },
    );
  });

  it("when gold violates the allowed mask, searches the allowed labelings only", () => {
    fc.assert(
      fc.property(goldViolatingArb, ({ mode, p, gold, c }) => {
        checkOffending(mode, p, gold, c, mostOffendingClamped(backend, p, gold, c), true);
      }),
      { seed: 8202, numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------
// Small loopy factor graphs.

const graphModeArb = fc.constantFrom<Mode>("int", "int", "dyadic", "real");

function tableArb(mode: Mode, n: number): fc.Arbitrary<number[]> {
  return fc.array(energyArb(mode), { minLength: n, maxLength: n });
}

interface GraphOffCase {
  mode: Mode;
  g: FactorGraph;
  gold: Int32Array;
  c: Constraints | undefined;
}

/**
 * Grids R×C (R, C ≤ 3) with domains 2–3: unary factors on most variables,
 * pairwise factors on most grid edges (so most grids with R, C ≥ 2 are loopy),
 * and 0–2 triple factors over random distinct variables.
 */
function gridArb(): fc.Arbitrary<{ mode: Mode; g: FactorGraph }> {
  return fc
    .record({
      R: fc.integer({ min: 1, max: 3 }),
      C: fc.integer({ min: 1, max: 3 }),
      mode: graphModeArb,
    })
    .chain(({ R, C, mode }) => {
      const n = R * C;
      const edges: [number, number][] = [];
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) {
          const v = r * C + c;
          if (c + 1 < C) edges.push([v, v + 1]);
          if (r + 1 < R) edges.push([v, v + C]);
        }
      }
      const triple =
        n < 3
          ? fc.constant<number[]>([])
          : fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 3, maxLength: 3 });
      return fc
        .record({
          domains: fc.array(fc.integer({ min: 2, max: 3 }), { minLength: n, maxLength: n }),
          unaryOn: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
            minLength: n,
            maxLength: n,
          }),
          edgeOn: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
            minLength: edges.length,
            maxLength: edges.length,
          }),
          triples: fc.array(triple, { minLength: 0, maxLength: 2 }),
        })
        .chain(({ domains, unaryOn, edgeOn, triples }) => {
          const scopes: number[][] = [];
          for (let v = 0; v < n; v++) if (unaryOn[v]! < 0.8) scopes.push([v]);
          edges.forEach((e, i) => {
            if (edgeOn[i]! < 0.85) scopes.push(e);
          });
          for (const t of triples) if (t.length === 3) scopes.push(t);
          const tables = scopes.map((s) =>
            tableArb(
              mode,
              s.reduce((acc, v) => acc * domains[v]!, 1),
            ),
          );
          return fc.tuple(...tables).map((ts) => {
            const b = new FactorGraphBuilder();
            for (const d of domains) b.addVariable(d);
            scopes.forEach((s, i) => {
              b.addFactor(s, ts[i]!);
            });
            return { mode, g: b.build() };
          });
        });
    });
}

const graphCaseArb: fc.Arbitrary<GraphOffCase> = gridArb().chain((gc) =>
  fc
    .record({
      gold: labelingArb(Array.from(gc.g.domains)),
      c: fc.option(graphConstraintsArb(gc.g), { nil: undefined }),
    })
    .map(({ gold, c }) => ({ ...gc, gold, c })),
);

describe("mostOffendingClamped on small loopy factor graphs (exhaustive backend)", () => {
  it("equals the brute-force minimum over allowed Y ≠ gold, null exactly when none", () => {
    let loopy = 0;
    fc.assert(
      fc.property(graphCaseArb, ({ mode, g, gold, c }) => {
        if (g.nVars >= 4 && g.nFactors > g.nVars) loopy++;
        const r = mostOffendingClamped(exhaustiveBackend, g, gold, c);
        checkOffending(mode, g, gold, c, r, true);
      }),
      { seed: 8301, numRuns: 200 },
    );
    expect(loopy).toBeGreaterThan(50);
  });
});

// ---------------------------------------------------------------------------
// Loss-augmented search.

/** min over allowed Y of E(Y) − scale·Δ(Y, gold), or null when nothing is allowed. */
function oracleAugmented(
  p: AnyPotentials,
  gold: Int32Array,
  scale: number,
  c: Constraints | undefined,
): number | null {
  let best: number | null = null;
  for (const y of allLabelings(domainsOf(p))) {
    if (!satisfies(p, c, y)) continue;
    const v = oracleEnergy(p, y) - scale * hammingRef(y, gold);
    if (best === null || v < best) best = v;
  }
  return best;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * (1 + Math.abs(a) + Math.abs(b));
}

const scaleArb = fc.oneof(
  fc.double({ min: 0, max: 3, noNaN: true }),
  fc.constantFrom(0, 0.5, 1, 2, 3),
);

function checkAugmented(
  p: AnyPotentials,
  gold: Int32Array,
  scale: number,
  c: Constraints | undefined,
  run: () => ReturnType<typeof lossAugmented>,
): void {
  const want = oracleAugmented(p, gold, scale, c);
  if (want === null) {
    expect(run).toThrow(NadirError);
    return;
  }
  const r = run();
  expect(r.labels.length).toBe(gold.length);
  expect(satisfies(p, c, r.labels)).toBe(true);
  const e = p.kind === "chain" ? chainEnergy(p, r.labels) : p.energy(r.labels);
  expect(r.energy).toBe(e);
  expect(close(r.augmentedEnergy, r.energy - scale * hammingRef(r.labels, gold))).toBe(true);
  expect(close(r.augmentedEnergy, want)).toBe(true);
}

describe("lossAugmented against brute-force argmin of E(Y) − scale·Δ(Y, gold)", () => {
  it("on chains via viterbi (with and without constraints)", () => {
    fc.assert(
      fc.property(chainCaseArb, scaleArb, ({ p, gold, c }, scale) => {
        checkAugmented(p, gold, scale, c, () => lossAugmented(viterbiBackend, p, gold, scale, c));
      }),
      { seed: 8401, numRuns: RUNS },
    );
  });

  it("on small loopy graphs via exhaustive (with and without allowed masks)", () => {
    fc.assert(
      fc.property(graphCaseArb, scaleArb, ({ g, gold, c }, scale) => {
        checkAugmented(g, gold, scale, c, () =>
          lossAugmented(exhaustiveBackend, g, gold, scale, c),
        );
      }),
      { seed: 8402, numRuns: 200 },
    );
  });
});
