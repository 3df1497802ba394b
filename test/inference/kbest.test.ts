import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { kbestViterbi } from "../../src/inference/kbest.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { rankAll } from "../oracles/brute-force.ts";

function randomChain(rng: Rng, T: number, L: number) {
  const r = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

describe("kbestViterbi", () => {
  it("k = 0 gives []; k < 0 or fractional is an E_ARG", () => {
    const p = randomChain(new Rng(1), 3, 2);
    expect(kbestViterbi(p, 0)).toEqual([]);
    for (const k of [-1, 1.5, Number.NaN]) {
      try {
        kbestViterbi(p, k);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(NadirError);
        expect((e as NadirError).code).toBe("E_ARG");
        expect((e as NadirError).message).toBe(`kbest: expected k to be an integer ≥ 0, got ${k}`);
      }
    }
  });

  it("T = 0: one empty labeling", () => {
    const p = chainPotentials(0, 2, new Float64Array(0), new Float64Array(4));
    const rs = kbestViterbi(p, 3);
    expect(rs.length).toBe(1);
    expect(rs[0]!.labels.length).toBe(0);
    expect(rs[0]!.energy).toBe(0);
  });

  it("returns every labeling, sorted, when k exceeds their number (T = 1, L = 1, small chains)", () => {
    const rng = new Rng(2);
    for (const [T, L] of [
      [1, 3],
      [3, 1],
      [2, 3],
      [4, 2],
    ] as const) {
      const p = randomChain(rng, T, L);
      const rs = kbestViterbi(p, 1000);
      const ranked = rankAll(p);
      expect(rs.length).toBe(L ** T);
      rs.forEach((r, i) => {
        expect(r.energy).toBeCloseTo(ranked[i]!.energy, 9);
        expect(r.energy).toBe(chainEnergy(p, r.labels));
      });
    }
  });

  it("returns [] when the constraints exclude everything, fewer when they exclude most", () => {
    const p = randomChain(new Rng(3), 3, 2);
    expect(kbestViterbi(p, 5, { allowed: Uint8Array.of(0, 0, 1, 1, 1, 1) })).toEqual([]);
    const rs = kbestViterbi(p, 5, { allowed: Uint8Array.of(1, 0, 1, 0, 1, 1) });
    expect(rs.map((r) => Array.from(r.labels))).toEqual(
      rankAll(p, { allowed: Uint8Array.of(1, 0, 1, 0, 1, 1) }).map((r) => Array.from(r.labels)),
    );
    expect(rs.length).toBe(2);
  });

  it("on a training-sized chain (T = 25, L = 23): starts at Viterbi, ordered, distinct", () => {
    const p = randomChain(new Rng(4), 25, 23);
    const rs = kbestViterbi(p, 50);
    expect(rs.length).toBe(50);
    expect(Array.from(rs[0]!.labels)).toEqual(Array.from(viterbi(p).labels));
    for (let i = 1; i < rs.length; i++)
      expect(rs[i]!.energy).toBeGreaterThanOrEqual(rs[i - 1]!.energy);
    expect(new Set(rs.map((r) => r.labels.join(","))).size).toBe(50);
    // Every labeling one label away from the best that is not in the list costs at least the 50th.
    const best = rs[0]!.labels;
    const listed = new Set(rs.map((r) => r.labels.join(",")));
    for (let t = 0; t < 25; t++) {
      for (let l = 0; l < 23; l++) {
        const y = best.slice();
        y[t] = l;
        if (!listed.has(y.join(",")))
          expect(chainEnergy(p, y)).toBeGreaterThanOrEqual(rs[49]!.energy);
      }
    }
  });
});
