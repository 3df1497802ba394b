/**
 * Samplers against the exhaustive Gibbs oracle, by Pearson's χ² test at a
 * fixed seed: sampleChain's exact samples against the joint distribution of
 * small chains (with constraints), Gibbs sampling's thinned samples against the
 * exact marginals of small loopy graphs. Tolerance: the χ² statistic must stay
 * below its 1 − 10⁻⁴ quantile (Wilson–Hilferty), so a correct sampler fails a
 * case with probability 10⁻⁴ — and the seeds are fixed, so these runs pass.
 */
import { describe, expect, it } from "vitest";
import { encodingConstraints } from "../../src/architecture/labels.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { gibbsSample, sampleChain } from "../../src/inference/sampling.ts";
import { chainGibbs, graphGibbs, rankAll } from "../oracles/brute-force.ts";

/** The 1 − 10⁻⁴ quantile of χ² with df degrees of freedom (Wilson–Hilferty). */
function chi2Limit(df: number): number {
  const z = 3.719;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Pearson's χ² of observed counts against expected probabilities (cells with p > 0). */
function chi2(observed: number[], probs: number[], n: number): { stat: number; df: number } {
  let stat = 0;
  let cells = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! <= 0) {
      expect(observed[i]).toBe(0); // impossible labelings are never drawn
      continue;
    }
    const e = n * probs[i]!;
    stat += (observed[i]! - e) ** 2 / e;
    cells++;
  }
  return { stat, df: Math.max(1, cells - 1) };
}

describe("sampleChain (exact samples on chains)", () => {
  it("joint frequencies pass χ² against the exact distribution on 20 random chains", () => {
    const rng = new Rng(31);
    for (let rep = 0; rep < 20; rep++) {
      const T = 2 + (rep % 3);
      const L = 2 + (rep % 2);
      const p = chainPotentials(
        T,
        L,
        Float64Array.from({ length: T * L }, () => rng.normal()),
        Float64Array.from({ length: L * L }, () => rng.normal()),
        Float64Array.from({ length: L }, () => rng.normal()),
        Float64Array.from({ length: L }, () => rng.normal()),
      );
      const beta = [0.5, 1, 2][rep % 3]!;
      const exact = chainGibbs(p, beta);
      const index = new Map(exact.labelings.map((r, i) => [Array.from(r.labels).join(","), i]));
      const n = 20_000;
      const counts = new Array(exact.labelings.length).fill(0);
      for (const y of sampleChain(p, n, { beta, seed: 100 + rep }))
        counts[index.get(Array.from(y).join(","))!]++;
      const { stat, df } = chi2(
        counts,
        exact.labelings.map((r) => Math.exp(r.logP)),
        n,
      );
      expect(stat).toBeLessThan(chi2Limit(df));
    }
  });

  it("honours encoding constraints: no sample is ill-formed, frequencies still pass χ²", () => {
    const labels = ["B-NP", "I-NP", "O"];
    const c = encodingConstraints("iob2", labels);
    const rng = new Rng(5);
    const T = 4;
    const L = 3;
    const p = chainPotentials(
      T,
      L,
      Float64Array.from({ length: T * L }, () => rng.normal()),
      Float64Array.from({ length: L * L }, () => rng.normal()),
    );
    const exact = chainGibbs(p, 1, c);
    const feasible = new Map(exact.labelings.map((r, i) => [Array.from(r.labels).join(","), i]));
    const all = rankAll(p);
    expect(feasible.size).toBeLessThan(all.length);
    const n = 20_000;
    const counts = new Array(exact.labelings.length).fill(0);
    for (const y of sampleChain(p, n, { seed: 9, constraints: c })) {
      const i = feasible.get(Array.from(y).join(","));
      expect(i).toBeDefined();
      counts[i!]++;
    }
    const { stat, df } = chi2(
      counts,
      exact.labelings.map((r) => Math.exp(r.logP)),
      n,
    );
    expect(stat).toBeLessThan(chi2Limit(df));
  });

  it("is reproducible by seed", () => {
    const p = chainPotentials(3, 2, new Float64Array([0, 1, 1, 0, 0.5, 0]), new Float64Array(4));
    expect(sampleChain(p, 5, { seed: 3 })).toEqual(sampleChain(p, 5, { seed: 3 }));
    expect(sampleChain(p, 50, { seed: 3 })).not.toEqual(sampleChain(p, 50, { seed: 4 }));
  });
});

describe("gibbsSample (single-site Gibbs on any factor graph)", () => {
  it("marginal frequencies pass χ² against the exact marginals on small loopy graphs", () => {
    const rng = new Rng(77);
    for (let rep = 0; rep < 8; rep++) {
      // a 2×3 grid with random pairwise energies and a triangle factor
      const b = new FactorGraphBuilder();
      b.addVariables(6, 2 + (rep % 2));
      const D = 2 + (rep % 2);
      for (let v = 0; v < 6; v++)
        b.addFactor(
          [v],
          Array.from({ length: D }, () => rng.normal()),
        );
      const edges = [
        [0, 1],
        [1, 2],
        [3, 4],
        [4, 5],
        [0, 3],
        [1, 4],
        [2, 5],
      ];
      for (const [a, c] of edges)
        b.addFactor(
          [a!, c!],
          Array.from({ length: D * D }, () => 0.7 * rng.normal()),
        );
      b.addFactor(
        [0, 2, 4],
        Array.from({ length: D ** 3 }, () => 0.5 * rng.normal()),
      );
      const g = b.build();
      const exact = graphGibbs(g, 1);
      const n = 4000;
      const r = gibbsSample(g, n, { seed: 50 + rep, burnIn: 200, thin: 10 });
      expect(r.samples).toHaveLength(n);
      for (let v = 0; v < 6; v++) {
        const obs = Array.from({ length: D }, (_, l) => Math.round(r.marginals[v * D + l]! * n));
        const probs = Array.from({ length: D }, (_, l) => exact.variable[v * D + l]!);
        const { stat, df } = chi2(obs, probs, n);
        expect(stat).toBeLessThan(chi2Limit(df));
      }
    }
  });

  it("never visits a forbidden label; bad arguments are NadirErrors", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(3, 3);
    b.addFactor([0, 1], [0, 1, 2, 1, 0, 1, 2, 1, 0]);
    b.addFactor([1, 2], [0, 1, 2, 1, 0, 1, 2, 1, 0]);
    const g = b.build();
    const allowed = new Uint8Array([1, 0, 1, 1, 1, 1, 0, 1, 1]);
    const r = gibbsSample(g, 500, { seed: 1, constraints: { allowed } });
    for (const y of r.samples) {
      expect(y[0]).not.toBe(1);
      expect(y[2]).not.toBe(0);
    }
    expect(() => gibbsSample(g, 10, { beta: -1 })).toThrow(/beta/);
    expect(() => gibbsSample(g, 10, { thin: 0 })).toThrow(/thin/);
    expect(() => gibbsSample(g, 10, { init: [0, 0] })).toThrow(/init expected 3/);
  });
});
