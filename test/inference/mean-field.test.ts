/**
 * Naive mean field against the exhaustive Gibbs oracle: the variational free
 * energy bounds the exact one from above on random graphs (with and without
 * allowed masks), each undamped sweep lowers it, independent variables get
 * their exact marginals, and weakly coupled trees nearly so.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { meanField, meanFieldBackend } from "../../src/inference/mean-field.ts";
import { graphArb, graphConstraintsArb } from "../conformance/arbitraries.ts";
import { graphGibbs } from "../oracles/brute-force.ts";

describe("mean field", () => {
  it("F_MF ≥ F_β on 300 random graphs at three temperatures (the variational bound)", () => {
    const arb = graphArb(5, 3, 6).chain((gc) =>
      graphConstraintsArb(gc.g).map((c) => ({ ...gc, c })),
    );
    let checked = 0;
    fc.assert(
      fc.property(arb, fc.constantFrom(0.3, 1, 4), ({ g, c }, beta) => {
        const exact = graphGibbs(g, beta, c);
        if (exact.logZ === Number.NEGATIVE_INFINITY) {
          expect(() => meanField(g, { beta, constraints: c })).toThrow(NadirError);
          return;
        }
        let r: ReturnType<typeof meanField>;
        try {
          r = meanField(g, { beta, constraints: c });
        } catch (e) {
          // a variable with no allowed label: the oracle's Z is then 0 too
          expect(e).toBeInstanceOf(NadirError);
          return;
        }
        checked++;
        const scale = 1 + Math.abs(exact.freeEnergy);
        expect(r.freeEnergy).toBeGreaterThanOrEqual(exact.freeEnergy - 1e-9 * scale);
        expect(r.logZ).toBeLessThanOrEqual(exact.logZ + 1e-9 * scale * beta);
        // the marginals are distributions over the allowed labels
        for (let v = 0; v < g.nVars; v++) {
          let s = 0;
          for (let l = 0; l < g.domains[v]!; l++) {
            const x = r.marginals[v * g.maxDomain + l]!;
            if (c.allowed && !c.allowed[v * g.maxDomain + l]) expect(x).toBe(0);
            s += x;
          }
          expect(s).toBeCloseTo(1, 9);
        }
      }),
      { seed: 8101, numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(200);
  });

  it("each undamped sweep lowers the variational free energy; damped updates converge to a bound too", () => {
    fc.assert(
      fc.property(graphArb(6, 3, 8), ({ g }) => {
        const r = meanField(g, { beta: 2, tolerance: 1e-12, maxIterations: 100 });
        for (let i = 1; i < r.trace.length; i++)
          expect(r.trace[i]!).toBeLessThanOrEqual(
            r.trace[i - 1]! + 1e-9 * (1 + Math.abs(r.trace[i - 1]!)),
          );
        const d = meanField(g, { beta: 2, damping: 0.5, tolerance: 1e-10, maxIterations: 2000 });
        expect(d.converged).toBe(true);
        // mean field is not convex: damping may settle in another fixed point, still an upper bound
        expect(d.freeEnergy).toBeGreaterThanOrEqual(
          graphGibbs(g, 2).freeEnergy - 1e-9 * (1 + Math.abs(d.freeEnergy)),
        );
      }),
      { seed: 8102, numRuns: 100 },
    );
  });

  it("independent variables: the exact marginals and free energy", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(3, 3);
    b.addFactor([0], [0, 1, 2]);
    b.addFactor([1], [3, -1, 0.5]);
    b.addFactor([2], [0, 0, 0]);
    const g = b.build();
    const r = meanField(g, { beta: 1.5 });
    const exact = graphGibbs(g, 1.5);
    expect(r.freeEnergy).toBeCloseTo(exact.freeEnergy, 12);
    for (let i = 0; i < exact.variable.length; i++)
      expect(r.marginals[i]!).toBeCloseTo(exact.variable[i]!, 12);
    expect(r.iterations).toBeLessThanOrEqual(3);
  });

  it("weakly coupled chains: marginals within 0.02 of forward–backward's, the bound tight to 1e-2", () => {
    const rng = new Rng(5);
    for (let rep = 0; rep < 20; rep++) {
      const T = 5;
      const L = 3;
      const unary = Float64Array.from({ length: T * L }, () => 2 * rng.normal());
      const trans = Float64Array.from({ length: L * L }, () => 0.1 * rng.normal());
      const p = chainPotentials(T, L, unary, trans);
      const b = new FactorGraphBuilder();
      b.addVariables(T, L);
      for (let t = 0; t < T; t++) b.addFactor([t], unary.subarray(t * L, t * L + L));
      for (let t = 1; t < T; t++) b.addFactor([t - 1, t], trans);
      const exact = graphGibbs(b.build(), 1);
      const r = meanField(p);
      for (let i = 0; i < T * L; i++)
        expect(Math.abs(r.marginals[i]! - exact.variable[i]!)).toBeLessThan(0.02);
      expect(r.freeEnergy - exact.freeEnergy).toBeLessThan(1e-2);
      expect(r.freeEnergy).toBeGreaterThanOrEqual(exact.freeEnergy - 1e-12);
    }
  });

  it("as a decoder: a labeling of the graph with its true energy; bad options are refused", () => {
    fc.assert(
      fc.property(graphArb(5, 3, 6), ({ g }) => {
        const r = meanFieldBackend.minimize(g);
        expect(r.exact).toBe(false);
        expect(r.labels.length).toBe(g.nVars);
        expect(r.energy).toBeCloseTo(g.energy(r.labels), 9);
      }),
      { seed: 8103, numRuns: 100 },
    );
    const g = new FactorGraphBuilder();
    g.addVariables(1, 2);
    expect(() => meanField(g.build(), { beta: 0 })).toThrow(/beta/);
    expect(() => meanField(g.build(), { damping: 1 })).toThrow(/damping/);
  });
});
