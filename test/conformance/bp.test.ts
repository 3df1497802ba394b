/**
 * Message passing against the brute-force oracle: min-sum BP (exact on
 * trees/forests with factors of arity ≤ 3, valid on loopy grids), TRW-S
 * (its lower bound never exceeds the minimum and meets it on trees), and
 * sum-product BP (log Z and marginals exact on trees at several β).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { topology } from "../../src/graph/topology.ts";
import { bpBackend, bpMinimize } from "../../src/inference/bp.ts";
import { exhaustiveMinimize } from "../../src/inference/exhaustive.ts";
import { mostOffendingClamped } from "../../src/inference/offending.ts";
import { sumProduct } from "../../src/inference/sum-product.ts";
import { trwsMinimize } from "../../src/inference/trws.ts";
import type { Constraints } from "../../src/inference/types.ts";
import { graphGibbs, oracleEnergy, rankAll, satisfies } from "../oracles/brute-force.ts";
import {
  energyArb,
  graphConstraintsArb,
  labelingArb,
  type Mode,
  sameEnergy,
} from "./arbitraries.ts";

const modeArb = fc.constantFrom<Mode>("int", "int", "dyadic", "real");

function key(y: ArrayLike<number>): string {
  return Array.from(y).join(",");
}

function close(a: number, b: number, rel = 1e-9): boolean {
  return Math.abs(a - b) <= rel * (1 + Math.abs(a) + Math.abs(b));
}

function tablesArb(mode: Mode, sizes: number[]): fc.Arbitrary<number[][]> {
  return fc.tuple(
    ...sizes.map((n) => fc.array(energyArb(mode), { minLength: n, maxLength: n })),
  ) as fc.Arbitrary<number[][]>;
}

function build(domains: number[], scopes: number[][], tables: number[][]): FactorGraph {
  const b = new FactorGraphBuilder();
  for (const d of domains) b.addVariable(d);
  scopes.forEach((s, i) => {
    b.addFactor(s, tables[i]!);
  });
  return b.build();
}

interface Case {
  mode: Mode;
  g: FactorGraph;
}

/**
 * Random forests of factors: ≤ 8 variables with domains 2–4; candidate scopes
 * of 2 (or, with `triples`, sometimes 3) variables are kept when they join
 * distinct components (so the bipartite factor graph stays acyclic); unary
 * factors on most variables, sometimes a constant. Scope order is random.
 */
function forestArb(triples: boolean): fc.Arbitrary<Case> {
  return fc
    .record({
      domains: fc.array(fc.integer({ min: 2, max: 4 }), { minLength: 1, maxLength: 8 }),
      mode: modeArb,
      constant: fc.boolean(),
    })
    .chain(({ domains, mode, constant }) => {
      const n = domains.length;
      const cand =
        n < 2
          ? fc.constant<number[][]>([])
          : fc.array(
              fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), {
                minLength: 2,
                maxLength: triples && n >= 3 ? 3 : 2,
              }),
              { minLength: 0, maxLength: 2 * n },
            );
      return fc
        .record({
          cand,
          unaryOn: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        })
        .chain(({ cand, unaryOn }) => {
          const root = Array.from(domains, (_, i) => i);
          const find = (x: number): number => {
            while (root[x] !== x) x = root[x]!;
            return x;
          };
          const scopes: number[][] = [];
          for (const s of cand) {
            const rs = s.map(find);
            if (new Set(rs).size !== rs.length) continue;
            for (const r of rs) root[r] = rs[0]!;
            scopes.push(s);
          }
          domains.forEach((_, v) => {
            if (unaryOn[v]) scopes.push([v]);
          });
          if (constant) scopes.push([]);
          const sizes = scopes.map((s) => s.reduce((a, v) => a * domains[v]!, 1));
          return tablesArb(mode, sizes).map((ts) => ({ mode, g: build(domains, scopes, ts) }));
        });
    });
}

/**
 * Grids R×C (R, C ≤ 3) with domains 2–3: unary factors on most variables,
 * pairwise factors on most grid edges, and (with `triples`) 0–2 triple
 * factors over random distinct variables.
 */
function gridArb(triples: boolean): fc.Arbitrary<Case> {
  return fc
    .record({
      R: fc.integer({ min: 2, max: 3 }),
      C: fc.integer({ min: 2, max: 3 }),
      mode: modeArb,
    })
    .chain(({ R, C, mode }) => {
      const n = R * C;
      const edges: number[][] = [];
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) {
          const v = r * C + c;
          if (c + 1 < C) edges.push([v, v + 1]);
          if (r + 1 < R) edges.push([v, v + C]);
        }
      }
      const triple = fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), {
        minLength: 3,
        maxLength: 3,
      });
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
          flip: fc.array(fc.boolean(), { minLength: edges.length, maxLength: edges.length }),
          triples: triples
            ? fc.array(triple, { minLength: 0, maxLength: 2 })
            : fc.constant<number[][]>([]),
        })
        .chain(({ domains, unaryOn, edgeOn, flip, triples: ts }) => {
          const scopes: number[][] = [];
          for (let v = 0; v < n; v++) if (unaryOn[v]! < 0.8) scopes.push([v]);
          edges.forEach((e, i) => {
            if (edgeOn[i]! < 0.9) scopes.push(flip[i] ? [e[1]!, e[0]!] : e);
          });
          for (const t of ts) scopes.push(t);
          const sizes = scopes.map((s) => s.reduce((a, v) => a * domains[v]!, 1));
          return tablesArb(mode, sizes).map((tabs) => ({ mode, g: build(domains, scopes, tabs) }));
        });
    });
}

const withMask = (arb: fc.Arbitrary<Case>) =>
  arb.chain((cc) =>
    graphConstraintsArb(cc.g).map((c) => ({ ...cc, c: c.allowed ? c : undefined })),
  );

/**
 * The exhaustive minimum over the allowed labelings (the exhaustive backend,
 * itself conformance-tested against the brute-force oracle; much faster than
 * rankAll on 4^8 labelings), or null when none is allowed.
 */
function minimum(g: FactorGraph, c: Constraints | undefined): number | null {
  try {
    return exhaustiveMinimize(g, c).energy;
  } catch (e) {
    if (isInfeasible(e)) return null;
    throw e;
  }
}

function isInfeasible(e: unknown): boolean {
  return (
    e instanceof NadirError &&
    e.code === "E_UNSUPPORTED" &&
    /no labeling satisfies the constraints/.test(e.message)
  );
}

describe("min-sum BP on random trees and forests (arity ≤ 3)", () => {
  it("equals the exhaustive minimum; its labeling's energy is the reported one", () => {
    let triples = 0;
    let forests = 0;
    fc.assert(
      fc.property(forestArb(true), ({ mode, g }) => {
        expect(topology(g)).not.toBe("loopy");
        if (g.factors.some((f) => f.arity === 3)) triples++;
        if (g.factors.filter((f) => f.arity >= 2).length < g.nVars - 1) forests++;
        const min = minimum(g, undefined)!;
        const r = bpMinimize(g);
        g.checkLabels(r.labels);
        expect(r.exact).toBe(true);
        expect(r.converged).toBe(true);
        expect(r.energy).toBe(g.energy(r.labels));
        expect(sameEnergy(mode, oracleEnergy(g, r.labels), r.energy)).toBe(true);
        expect(sameEnergy(mode, r.energy, min)).toBe(true);
      }),
      { seed: 9101, numRuns: 600 },
    );
    expect(triples).toBeGreaterThan(100);
    expect(forests).toBeGreaterThan(100);
  });

  it("with random allowed masks equals exhaustive search over the allowed labelings", () => {
    let infeasible = 0;
    fc.assert(
      fc.property(withMask(forestArb(true)), ({ mode, g, c }) => {
        const min = minimum(g, c);
        if (min === null) {
          infeasible++;
          let err: unknown = null;
          try {
            bpMinimize(g, c);
          } catch (e) {
            err = e;
          }
          expect(isInfeasible(err)).toBe(true);
          return;
        }
        const r = bpMinimize(g, c);
        expect(satisfies(g, c, r.labels)).toBe(true);
        expect(r.energy).toBe(g.energy(r.labels));
        expect(sameEnergy(mode, r.energy, min)).toBe(true);
      }),
      { seed: 9102, numRuns: 500 },
    );
    expect(infeasible).toBeGreaterThan(2);
  });

  it("mostOffendingClamped over BP equals the brute-force most offending answer", () => {
    const arb = withMask(forestArb(true)).chain((cc) =>
      labelingArb(Array.from(cc.g.domains)).map((gold) => ({ ...cc, gold })),
    );
    fc.assert(
      fc.property(arb, ({ mode, g, c, gold }) => {
        const want = rankAll(g, c).filter((r) => key(r.labels) !== key(gold));
        const r = mostOffendingClamped(bpBackend, g, gold, c);
        if (want.length === 0) {
          expect(r).toBeNull();
          return;
        }
        expect(r).not.toBeNull();
        if (r === null) return;
        expect(key(r.labels)).not.toBe(key(gold));
        expect(satisfies(g, c, r.labels)).toBe(true);
        expect(r.exact).toBe(true);
        expect(r.energy).toBe(g.energy(r.labels));
        expect(sameEnergy(mode, r.energy, want[0]!.energy)).toBe(true);
      }),
      { seed: 9103, numRuns: 300 },
    );
  });
});

describe("message passing on small loopy grids", () => {
  it("BP returns a valid labeling (never below the minimum) with honest reporting", () => {
    let loopy = 0;
    fc.assert(
      fc.property(
        withMask(gridArb(true)),
        fc.constantFrom("sequential", "flooding"),
        fc.constantFrom(0, 0.5),
        ({ mode, g, c }, schedule, damping) => {
          if (topology(g) === "loopy") loopy++;
          const min = minimum(g, c);
          if (min === null) {
            expect(() => bpMinimize(g, c)).toThrow(NadirError);
            return;
          }
          const r = bpMinimize(g, c, { schedule, damping, maxIterations: 50 });
          g.checkLabels(r.labels);
          expect(satisfies(g, c, r.labels)).toBe(true);
          expect(r.energy).toBe(g.energy(r.labels));
          expect(sameEnergy(mode, oracleEnergy(g, r.labels), r.energy)).toBe(true);
          expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
          expect(r.iterations).toBeGreaterThanOrEqual(1);
          expect(r.iterations).toBeLessThanOrEqual(50);
          if (!r.converged) expect(r.iterations).toBe(50);
          expect(r.exact).toBe(topology(g) !== "loopy");
        },
      ),
      { seed: 9201, numRuns: 250 },
    );
    expect(loopy).toBeGreaterThan(150);
  });

  it("TRW-S: the lower bound never exceeds the minimum; the labeling is valid", () => {
    let tight = 0;
    fc.assert(
      fc.property(withMask(gridArb(false)), ({ g, c }) => {
        const min = minimum(g, c);
        if (min === null) {
          expect(() => trwsMinimize(g, c)).toThrow(NadirError);
          return;
        }
        const r = trwsMinimize(g, c);
        g.checkLabels(r.labels);
        expect(satisfies(g, c, r.labels)).toBe(true);
        expect(r.energy).toBe(g.energy(r.labels));
        expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
        expect(r.lowerBound).toBeLessThanOrEqual(min + 1e-9 * (1 + Math.abs(min)));
        if (r.exact) {
          tight++;
          expect(close(r.energy, min)).toBe(true);
        }
      }),
      { seed: 9202, numRuns: 250 },
    );
    expect(tight).toBeGreaterThan(20);
  });
});

describe("TRW-S on random pairwise trees and forests", () => {
  it("its lower bound equals the minimum (the labeling is optimal when it says exact)", () => {
    let exact = 0;
    fc.assert(
      fc.property(withMask(forestArb(false)), ({ g, c }) => {
        const min = minimum(g, c);
        if (min === null) return;
        const r = trwsMinimize(g, c);
        expect(close(r.lowerBound, min)).toBe(true);
        expect(r.converged).toBe(true);
        expect(r.energy).toBe(g.energy(r.labels));
        expect(r.energy).toBeGreaterThanOrEqual(min - 1e-9);
        expect(satisfies(g, c, r.labels)).toBe(true);
        if (r.exact) {
          exact++;
          expect(close(r.energy, min)).toBe(true);
        }
      }),
      { seed: 9301, numRuns: 500 },
    );
    expect(exact).toBeGreaterThan(400);
  });
});

describe("sum-product BP on random trees and forests (arity ≤ 3)", () => {
  /** |a − b| small relative to b; marginals below 1e-250 only absolutely (denormals). */
  function nearProb(a: number, b: number): boolean {
    return Math.abs(a - b) <= 1e-9 * b + 1e-250;
  }

  it("log Z, F, variable and factor marginals equal brute force at β ∈ {0.5, 1, 5}", () => {
    fc.assert(
      fc.property(withMask(forestArb(true)), fc.constantFrom(0.5, 1, 5), ({ g, c }, beta) => {
        const want = graphGibbs(g, beta, c);
        const opts: { constraints?: Constraints } = c === undefined ? {} : { constraints: c };
        if (want.logZ === Number.NEGATIVE_INFINITY) {
          expect(() => sumProduct(g, beta, opts)).toThrow(NadirError);
          return;
        }
        const r = sumProduct(g, beta, opts);
        expect(r.exact).toBe(true);
        expect(r.approximation).toBe("exact");
        expect(close(r.logZ, want.logZ)).toBe(true);
        expect(close(r.freeEnergy, want.freeEnergy)).toBe(true);
        expect(close(r.betheFreeEnergy, want.freeEnergy, 1e-8)).toBe(true);
        for (let i = 0; i < want.variable.length; i++) {
          expect(nearProb(r.variableMarginals[i]!, want.variable[i]!)).toBe(true);
        }
        for (let i = 0; i < want.factor.length; i++) {
          expect(nearProb(r.factorMarginals[i]!, want.factor[i]!)).toBe(true);
        }
      }),
      { seed: 9401, numRuns: 600 },
    );
  });
});
