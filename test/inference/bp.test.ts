import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { bp, bpBackend, bpMessagesPerSweep, bpMinimize } from "../../src/inference/bp.ts";
import { BP_OPTIONS } from "../../src/inference/bp-graph.ts";
import { exhaustiveMinimize } from "../../src/inference/exhaustive.ts";
import { forwardBackward } from "../../src/inference/forward-backward.ts";
import { minFactorToSlot, minPair, minPotts } from "../../src/inference/min-sum-kernels.ts";
import { sumProduct } from "../../src/inference/sum-product.ts";
import { trws, trwsBackend, trwsMinimize } from "../../src/inference/trws.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { chainArb, chainConstraintsArb } from "../conformance/arbitraries.ts";
import { graphGibbs } from "../oracles/brute-force.ts";

function nadirError(f: () => unknown): NadirError {
  try {
    f();
  } catch (e) {
    if (e instanceof NadirError) return e;
    throw e;
  }
  throw new Error("expected a NadirError");
}

/** An R×C 4-connected Potts grid: random unaries in [0, scale), Potts weight w (diagonal 0). */
function pottsGrid(R: number, C: number, L: number, w: number, seed: number): FactorGraph {
  const rng = new Rng(seed);
  const b = new FactorGraphBuilder();
  b.addVariables(R * C, L);
  for (let v = 0; v < R * C; v++)
    b.addFactor(
      [v],
      Array.from({ length: L }, () => rng.next()),
    );
  const t = Array.from({ length: L * L }, (_, i) => (Math.floor(i / L) === i % L ? 0 : w));
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const v = r * C + c;
      if (c + 1 < C) b.addFactor([v, v + 1], t);
      if (r + 1 < R) b.addFactor([v, v + C], t);
    }
  }
  return b.build();
}

/** A frustrated binary triangle (seed 4) on which undamped flooding BP oscillates. */
function frustratedTriangle(): FactorGraph {
  const rng = new Rng(4);
  const b = new FactorGraphBuilder();
  b.addVariables(3, 2);
  for (const [u, v] of [
    [0, 1],
    [1, 2],
    [0, 2],
  ] as const) {
    const j = rng.normal() * 2;
    b.addFactor([u, v], [j, -j, -j, j]);
  }
  for (let v = 0; v < 3; v++) b.addFactor([v], [rng.normal() * 0.1, 0]);
  return b.build();
}

describe("min-sum BP: convergence, damping, schedules", () => {
  const grid = pottsGrid(8, 8, 3, 0.5, 1);

  it("converges on a 4-connected Potts grid and says so", () => {
    for (const schedule of ["sequential", "flooding"] as const) {
      const r = bpMinimize(grid, undefined, { schedule });
      expect(r.converged).toBe(true);
      expect(r.iterations).toBeGreaterThan(1);
      expect(r.iterations).toBeLessThan(100);
      expect(r.exact).toBe(false);
      expect(r.energy).toBe(grid.energy(r.labels));
    }
  });

  it("the sequential schedule needs fewer sweeps than flooding here", () => {
    const s = bpMinimize(grid, undefined, { schedule: "sequential" });
    const f = bpMinimize(grid, undefined, { schedule: "flooding" });
    expect(s.iterations).toBeLessThan(f.iterations);
  });

  it("reports not converged when the iteration cap stops it", () => {
    const r = bpMinimize(grid, undefined, { maxIterations: 1 });
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(1);
    expect(r.energy).toBe(grid.energy(r.labels));
  });

  it("damping makes flooding converge where it oscillates undamped", () => {
    const g = frustratedTriangle();
    const plain = bpMinimize(g, undefined, { schedule: "flooding", maxIterations: 200 });
    expect(plain.converged).toBe(false);
    expect(plain.iterations).toBe(200);
    const damped = bpMinimize(g, undefined, {
      schedule: "flooding",
      damping: 0.5,
      maxIterations: 200,
    });
    expect(damped.converged).toBe(true);
    expect(damped.iterations).toBeLessThan(200);
  });

  it("damping slows convergence on the grid but reaches a fixed point", () => {
    const plain = bpMinimize(grid, undefined, { schedule: "flooding" });
    const damped = bpMinimize(grid, undefined, { schedule: "flooding", damping: 0.5 });
    expect(damped.converged).toBe(true);
    expect(damped.iterations).toBeGreaterThan(plain.iterations);
  });

  it("a looser tolerance stops earlier", () => {
    const tight = bpMinimize(grid, undefined, { schedule: "flooding", damping: 0.5 });
    const loose = bpMinimize(grid, undefined, {
      schedule: "flooding",
      damping: 0.5,
      tolerance: 1e-2,
    });
    expect(loose.converged).toBe(true);
    expect(loose.iterations).toBeLessThan(tight.iterations);
  });

  it("counts messages per sweep: 2 per (factor, slot) of factors of arity ≥ 2", () => {
    // 8×8 grid: 2·8·7 = 112 pairwise factors, 224 edges, 448 messages.
    expect(bpMessagesPerSweep(grid)).toBe(448);
  });
});

describe("min-sum BP on trees", () => {
  it("decodes by back-tracking, so ties cannot break the labeling", () => {
    // Anti-ferromagnetic pair, no unaries: both beliefs tie (0, 0); argmin of
    // each belief alone would give (0, 0) with energy 1.
    const b = new FactorGraphBuilder();
    b.addVariables(2, 2);
    b.addFactor([0, 1], [1, 0, 0, 1]);
    const g = b.build();
    const r = bpMinimize(g);
    expect(r.energy).toBe(0);
    expect(r.exact).toBe(true);
    expect(r.iterations).toBe(1);
    expect(r.converged).toBe(true);
  });

  it("all-tied star with a triple factor: a consistent minimum", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(5, 3);
    b.addFactor(
      [0, 1, 2],
      new Array(27).fill(0).map((_, i) => (i % 4 === 0 ? 0 : 1)),
    );
    b.addFactor([2, 3], [1, 0, 1, 0, 1, 0, 1, 0, 1]);
    b.addFactor([4, 0], [0, 1, 1, 1, 0, 1, 1, 1, 0]);
    const g = b.build();
    const r = bpMinimize(g);
    expect(r.energy).toBe(exhaustiveMinimize(g).energy);
  });

  it("handles graphs without variables, constants and domains of size 1", () => {
    const b = new FactorGraphBuilder();
    b.addFactor([], [2.5]);
    const empty = bpMinimize(b.build());
    expect(empty.labels.length).toBe(0);
    expect(empty.energy).toBe(2.5);
    const c = new FactorGraphBuilder();
    c.addVariable(1);
    c.addVariable(3);
    c.addFactor([0, 1], [3, 1, 2]);
    c.addFactor([], [-1]);
    const r = bpMinimize(c.build());
    expect(Array.from(r.labels)).toEqual([0, 1]);
    expect(r.energy).toBe(0);
  });

  it("on chain potentials equals Viterbi (with chain-only constraints too)", () => {
    const arb = chainArb().chain((cc) =>
      chainConstraintsArb(cc.p.T, cc.p.L).map((c) => ({ ...cc, c })),
    );
    fc.assert(
      fc.property(arb, ({ p, c }) => {
        let want: number | null = null;
        try {
          want = viterbi(p, c).energy;
        } catch (e) {
          if (!(e instanceof NadirError)) throw e;
        }
        if (want === null) {
          expect(nadirError(() => bpMinimize(p, c)).code).toBe("E_UNSUPPORTED");
          return;
        }
        const r = bpMinimize(p, c);
        expect(r.exact).toBe(true);
        expect(Math.abs(r.energy - want)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want)));
      }),
      { seed: 9501, numRuns: 300 },
    );
  });
});

describe("min-sum kernels", () => {
  it("the O(L) Potts kernel equals the O(L²) ones bit for bit (any sign, +Infinity inputs)", () => {
    const arb = fc.record({
      L: fc.integer({ min: 2, max: 6 }),
      same: fc.integer({ min: -4, max: 4 }).map((x) => x / 2),
      diff: fc.double({ min: -3, max: 3, noNaN: true }),
      h: fc.array(fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.constant(Infinity)), {
        minLength: 6,
        maxLength: 6,
      }),
    });
    fc.assert(
      fc.property(arb, ({ L, same, diff, h }) => {
        const hv = Float64Array.from(h.slice(0, L));
        const t = new Float64Array(L * L).map((_, i) =>
          Math.floor(i / L) === i % L ? same : diff,
        );
        const a = new Float64Array(L);
        const b = new Float64Array(L);
        const c = new Float64Array(L);
        minPotts(hv, 0, L, same, diff, a, 0);
        minPair(true, hv, 0, t, 0, L, L, b, 0);
        minPair(false, hv, 0, t, 0, L, L, c, 0);
        expect(Array.from(a)).toEqual(Array.from(b));
        expect(Array.from(a)).toEqual(Array.from(c));
      }),
      { seed: 9601, numRuns: 300 },
    );
  });

  it("the general-arity kernel equals the pairwise ones on a pairwise factor", () => {
    const rng = new Rng(3);
    const La = 3;
    const Lb = 4;
    const t = Float64Array.from({ length: La * Lb }, () => rng.normal());
    const S = 4;
    const msg = Float64Array.from({ length: 2 * S }, () => rng.normal());
    const edgeVar = Int32Array.of(0, 1);
    const domains = Int32Array.of(La, Lb);
    const x = new Int32Array(2);
    const arg = new Int32Array(S);
    const g0 = new Float64Array(S);
    const g1 = new Float64Array(S);
    minFactorToSlot(t, 0, La * Lb, 2, 0, edgeVar, domains, msg, S, 0, x, g0, 0, arg, 0);
    minFactorToSlot(t, 0, La * Lb, 2, 0, edgeVar, domains, msg, S, 1, x, g1, 0, arg, 0);
    const p0 = new Float64Array(La);
    const p1 = new Float64Array(Lb);
    minPair(false, msg, S, t, 0, La, Lb, p0, 0);
    minPair(true, msg, 0, t, 0, La, Lb, p1, 0);
    expect(Array.from(g0.subarray(0, La))).toEqual(Array.from(p0));
    expect(Array.from(g1.subarray(0, Lb))).toEqual(Array.from(p1));
  });
});

describe("TRW-S", () => {
  it("proves the optimum of a small Potts grid and beats or ties loopy BP", () => {
    const g = pottsGrid(8, 8, 3, 0.5, 1);
    const r = trwsMinimize(g);
    expect(r.exact).toBe(true);
    expect(r.converged).toBe(true);
    expect(r.energy - r.lowerBound).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(r.energy)));
    expect(r.energy).toBe(g.energy(r.labels));
    expect(r.energy).toBeLessThanOrEqual(bpMinimize(g).energy);
  });

  it("on a chain in variable order is exact after one iteration", () => {
    const rng = new Rng(8);
    const T = 7;
    const L = 3;
    const p = chainPotentials(
      T,
      L,
      Float64Array.from({ length: T * L }, () => rng.normal()),
      Float64Array.from({ length: L * L }, () => rng.normal()),
    );
    const r = trwsMinimize(p);
    const v = viterbi(p);
    expect(r.iterations).toBe(1);
    expect(r.exact).toBe(true);
    expect(Math.abs(r.lowerBound - v.energy)).toBeLessThan(1e-12);
    expect(r.energy).toBe(v.energy);
  });

  it("the bound does not decrease with more iterations", () => {
    const g = frustratedTriangle();
    let prev = -Infinity;
    for (const m of [1, 2, 3, 5, 10]) {
      const r = trwsMinimize(g, undefined, { maxIterations: m, tolerance: 0 });
      expect(r.lowerBound).toBeGreaterThanOrEqual(prev - 1e-12);
      expect(r.lowerBound).toBeLessThanOrEqual(exhaustiveMinimize(g).energy + 1e-12);
      prev = r.lowerBound;
    }
  });

  it("honors allowed masks", () => {
    const g = pottsGrid(3, 3, 3, 1, 5);
    const allowed = new Uint8Array(9 * 3).fill(1);
    allowed[0] = 0;
    allowed[1] = 0; // variable 0 clamped to label 2
    const r = trwsMinimize(g, { allowed });
    expect(r.labels[0]).toBe(2);
    expect(r.lowerBound).toBeLessThanOrEqual(exhaustiveMinimize(g, { allowed }).energy + 1e-9);
  });
});

describe("sum-product BP", () => {
  it("on chain potentials matches forward-backward", () => {
    fc.assert(
      fc.property(chainArb(), fc.constantFrom(0.5, 1, 5), ({ p }, beta) => {
        const fb = forwardBackward(p, beta);
        const sp = sumProduct(p, beta);
        expect(Math.abs(sp.logZ - fb.logZ)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(fb.logZ)));
        for (let i = 0; i < p.T * p.L; i++) {
          expect(Math.abs(sp.variableMarginals[i]! - fb.unary[i]!)).toBeLessThan(1e-9);
        }
      }),
      { seed: 9701, numRuns: 200 },
    );
  });

  it("on a loopy grid reports the Bethe approximation, close to the truth for weak couplings", () => {
    const g = pottsGrid(3, 3, 2, 0.3, 3);
    const r = sumProduct(g, 1);
    expect(r.exact).toBe(false);
    expect(r.approximation).toBe("bethe");
    expect(r.converged).toBe(true);
    expect(r.freeEnergy).toBe(r.betheFreeEnergy);
    expect(r.logZ).toBeCloseTo(-r.freeEnergy, 12);
    const want = graphGibbs(g, 1);
    expect(Math.abs(r.logZ - want.logZ)).toBeLessThan(0.02);
    for (let i = 0; i < want.variable.length; i++) {
      expect(Math.abs(r.variableMarginals[i]! - want.variable[i]!)).toBeLessThan(0.02);
    }
  });

  it("at a fixed point, factor marginals sum to the variable marginals", () => {
    const g = pottsGrid(4, 4, 3, 0.7, 9);
    for (const schedule of ["sequential", "flooding"] as const) {
      const r = sumProduct(g, 2, { schedule, tolerance: 1e-12, maxIterations: 1000 });
      expect(r.converged).toBe(true);
      for (const f of g.factors) {
        if (f.arity !== 2) continue;
        const off = g.factorTableOffset[f.id]!;
        const [a, b] = [f.scope[0]!, f.scope[1]!];
        for (let x = 0; x < 3; x++) {
          let ra = 0;
          let rb = 0;
          for (let y = 0; y < 3; y++) {
            ra += r.factorMarginals[off + x * 3 + y]!;
            rb += r.factorMarginals[off + y * 3 + x]!;
          }
          expect(Math.abs(ra - r.variableMarginals[a * 3 + x]!)).toBeLessThan(1e-9);
          expect(Math.abs(rb - r.variableMarginals[b * 3 + x]!)).toBeLessThan(1e-9);
        }
      }
    }
  });

  it("a graph of constants only: log Z = −β·Σ constants", () => {
    const b = new FactorGraphBuilder();
    b.addFactor([], [1.5]);
    b.addFactor([], [0.5]);
    const r = sumProduct(b.build(), 2);
    expect(r.logZ).toBe(-4);
    expect(r.freeEnergy).toBe(2);
    expect(Array.from(r.factorMarginals)).toEqual([1, 1]);
  });
});

describe("errors", () => {
  const grid = pottsGrid(3, 3, 2, 1, 2);
  const triple = (() => {
    const b = new FactorGraphBuilder();
    b.addVariables(3, 2);
    b.addFactor([0, 1], [0, 1, 1, 0]);
    b.addFactor([0, 1, 2], new Array(8).fill(0));
    return b.build();
  })();

  it("bad options are E_ARG, saying expected vs. got", () => {
    const bad = [
      { damping: 1 },
      { damping: -0.1 },
      { damping: Number.NaN },
      { tolerance: -1 },
      { tolerance: Infinity },
      { maxIterations: 0 },
      { maxIterations: 1.5 },
      { schedule: "random" as "flooding" },
    ];
    for (const o of bad) {
      const e = nadirError(() => bp(o));
      expect(e.code).toBe("E_ARG");
      expect(e.message).toMatch(/bp: \w+ expected .*, got/);
      expect(nadirError(() => bpMinimize(grid, undefined, o)).code).toBe("E_ARG");
      expect(nadirError(() => sumProduct(grid, 1, o)).code).toBe("E_ARG");
    }
    expect(nadirError(() => trws({ maxIterations: 0 })).code).toBe("E_ARG");
    expect(nadirError(() => sumProduct(grid, 0)).code).toBe("E_ARG");
    expect(nadirError(() => sumProduct(grid, Number.NaN)).code).toBe("E_ARG");
  });

  it("the options are declared once with defaults", () => {
    expect(BP_OPTIONS.map((o) => o.name)).toEqual([
      "schedule",
      "damping",
      "tolerance",
      "max-iterations",
    ]);
  });

  it("a variable without an allowed label is E_UNSUPPORTED 'no labeling satisfies the constraints'", () => {
    const allowed = new Uint8Array(9 * 2).fill(1);
    allowed[8] = 0;
    allowed[9] = 0;
    for (const f of [
      () => bpMinimize(grid, { allowed }),
      () => trwsMinimize(grid, { allowed }),
      () => sumProduct(grid, 1, { constraints: { allowed } }),
    ]) {
      const e = nadirError(f);
      expect(e.code).toBe("E_UNSUPPORTED");
      expect(e.message).toMatch(/no labeling satisfies the constraints/);
    }
  });

  it("constraint sizes and chain-only constraints on graphs are refused", () => {
    expect(nadirError(() => bpMinimize(grid, { allowed: new Uint8Array(3) })).code).toBe("E_ARG");
    expect(
      nadirError(() => bpMinimize(grid, { forbiddenTransitions: new Uint8Array(4) })).code,
    ).toBe("E_UNSUPPORTED");
    const p = chainPotentials(3, 2, new Float64Array(6), new Float64Array(4));
    const ft = { forbiddenTransitions: Uint8Array.of(0, 1, 0, 0) };
    expect(nadirError(() => trwsMinimize(p, ft)).code).toBe("E_UNSUPPORTED");
    expect(nadirError(() => sumProduct(p, 1, { constraints: ft })).code).toBe("E_UNSUPPORTED");
    // Every transition forbidden: BP finds the chain infeasible.
    const all = { forbiddenTransitions: new Uint8Array(4).fill(1) };
    expect(nadirError(() => bpMinimize(p, all)).message).toMatch(/no labeling satisfies/);
  });

  it("supports: bp accepts everything; exactOnly and trws refuse with a reason", () => {
    expect(bpBackend.supports(grid)).toBeNull();
    expect(bpBackend.supports(triple)).toBeNull();
    expect(bpBackend.exactness).toBe("trees (approximate on loopy graphs)");
    const exact = bp({ exactOnly: true });
    expect(exact.supports(grid)).toMatch(/cycle/);
    expect(exact.supports(pottsGrid(1, 4, 2, 1, 1))).toBeNull();
    expect(nadirError(() => exact.minimize(grid)).code).toBe("E_UNSUPPORTED");
    expect(trwsBackend.supports(grid)).toBeNull();
    expect(trwsBackend.supports(triple)).toMatch(/factor 1 has arity 3/);
    const e = nadirError(() => trwsBackend.minimize(triple));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toMatch(/factor 1 has arity 3/);
  });
});
