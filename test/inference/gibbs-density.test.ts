import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { forwardBackward, gibbsDensity } from "../../src/inference/forward-backward.ts";
import { rankAll } from "../oracles/brute-force.ts";

function randomChain(rng: Rng, T: number, L: number, scale = 1) {
  const r = (n: number) => Float64Array.from({ length: n }, () => scale * rng.normal());
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

/** Enumeration: log Z₀, F, H and P(y) at β, relative to the minimum. */
function oracle(
  p: ReturnType<typeof randomChain>,
  beta: number,
  c?: Parameters<typeof rankAll>[1],
) {
  const all = rankAll(p, c);
  const Emin = all[0]!.energy;
  const w = all.map((r) => Math.exp(-beta * (r.energy - Emin)));
  const Z0 = w.reduce((a, b) => a + b, 0);
  const P = w.map((x) => x / Z0);
  const H = -P.reduce((h, q) => (q > 0 ? h + q * Math.log(q) : h), 0);
  const mu = new Float64Array(p.T * p.L);
  all.forEach((r, i) => {
    for (let t = 0; t < p.T; t++) mu[t * p.L + r.labels[t]!]! += P[i]!;
  });
  return { all, Emin, logZ0: Math.log(Z0), F: Emin - Math.log(Z0) / beta, H, P, mu };
}

describe("gibbsDensity (relative to the minimum energy)", () => {
  it("matches enumeration at moderate β, with and without constraints", () => {
    const rng = new Rng(11);
    for (let run = 0; run < 60; run++) {
      const T = 1 + rng.int(4);
      const L = 1 + rng.int(4);
      const p = randomChain(rng, T, L);
      const beta = [0.1, 0.5, 1, 3][run % 4]!;
      const c =
        run % 2
          ? {
              allowed: Uint8Array.from({ length: T * L }, (_, i) =>
                i % L === 0 || rng.next() < 0.7 ? 1 : 0,
              ),
              forbiddenTransitions: Uint8Array.from({ length: L * L }, (_, i) =>
                i % (L + 1) !== 0 && rng.next() < 0.3 ? 1 : 0,
              ),
            }
          : undefined;
      const o = oracle(p, beta, c);
      const d = gibbsDensity(p, beta, c);
      expect(d.minEnergy).toBeCloseTo(o.Emin, 12);
      expect(d.logZ0).toBeCloseTo(o.logZ0, 10);
      expect(d.freeEnergy).toBeCloseTo(o.F, 10);
      expect(d.entropy).toBeCloseTo(o.H, 10);
      for (let i = 0; i < T * L; i++) expect(d.marginals[i]!).toBeCloseTo(o.mu[i]!, 10);
      o.all.forEach((r, i) => {
        expect(Math.exp(d.logProbability(r.labels))).toBeCloseTo(o.P[i]!, 10);
        expect(d.gap(r.labels)).toBeCloseTo(chainEnergy(p, r.labels) - o.Emin, 10);
      });
      if (!c) {
        const m = forwardBackward(p, beta, { kernel: "log" });
        expect(d.logZ).toBeCloseTo(m.logZ, 9);
      }
    }
  });

  it("at β up to 1e300: P ≤ 1, H ≥ 0 and → 0 for a unique minimum, nothing infinite", () => {
    const rng = new Rng(12);
    for (let run = 0; run < 20; run++) {
      const p = randomChain(rng, 2 + rng.int(30), 2 + rng.int(8), 10);
      for (const beta of [1e3, 1e6, 1e9, 1e50, 1e150, 1e300]) {
        const d = gibbsDensity(p, beta);
        expect(Number.isFinite(d.logZ)).toBe(true);
        expect(Number.isFinite(d.freeEnergy)).toBe(true);
        expect(d.entropy).toBeGreaterThanOrEqual(0);
        expect(d.logZ0).toBeGreaterThanOrEqual(0);
        if (beta >= 1e6) expect(d.entropy).toBeLessThan(1e-9);
        // the minimizer gets P = 1 (within rounding of log Z₀ ≈ 0), never more
        const T = p.T;
        const y = new Int32Array(T);
        for (let t = 0; t < T; t++) {
          let b = 0;
          for (let l = 1; l < p.L; l++)
            if (d.marginals[t * p.L + l]! > d.marginals[t * p.L + b]!) b = l;
          y[t] = b;
        }
        const P = Math.exp(d.logProbability(y));
        expect(P).toBeLessThanOrEqual(1);
        if (beta >= 1e6) expect(P).toBeGreaterThan(1 - 1e-9);
        expect(d.gap(y)).toBe(0);
        for (const m of d.marginals) expect(m >= 0 && m <= 1 + 1e-12).toBe(true);
      }
    }
  });

  it("two exact minimizers: H → log 2 and each P → 1/2 as β grows", () => {
    // E(y) = 0 for y ∈ {00, 11}, 1 otherwise
    const p = chainPotentials(
      2,
      2,
      new Float64Array(4),
      Float64Array.of(0, 1, 1, 0),
      new Float64Array(2),
      new Float64Array(2),
    );
    for (const beta of [1e6, 1e100, 1e300]) {
      const d = gibbsDensity(p, beta);
      expect(d.entropy).toBeCloseTo(Math.log(2), 12);
      expect(Math.exp(d.logProbability(Int32Array.of(1, 1)))).toBeCloseTo(0.5, 12);
      expect(d.logProbability(Int32Array.of(0, 1))).toBeCloseTo(-beta - Math.log(2), 6);
      expect(Math.exp(d.logProbability(Int32Array.of(0, 1)))).toBe(0);
      expect(d.freeEnergy).toBeCloseTo(-Math.log(2) / beta, 12);
    }
  });
});
