import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { kbestViterbi, MAX_KBEST } from "../../src/inference/kbest.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { nadirError } from "../fixtures/helpers.ts";
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

  it(`k above ${MAX_KBEST} is an E_TOO_LARGE naming the limit`, () => {
    const p = randomChain(new Rng(5), 3, 2);
    const e = nadirError(() => kbestViterbi(p, MAX_KBEST + 1));
    expect(e.code).toBe("E_TOO_LARGE");
    expect(e.message).toContain(String(MAX_KBEST));
    expect(kbestViterbi(p, MAX_KBEST)).toHaveLength(8);
  });

  it("under constraints with many ties: exactly the oracle's list (labels and order)", () => {
    const rng = new Rng(6);
    for (let run = 0; run < 200; run++) {
      const T = 1 + rng.int(5);
      const L = 1 + rng.int(4);
      const ints = (n: number) => Float64Array.from({ length: n }, () => rng.int(3) - 1);
      const p = chainPotentials(T, L, ints(T * L), ints(L * L), ints(L), ints(L));
      const mask = (n: number, d: number) =>
        Uint8Array.from({ length: n }, () => (rng.next() < d ? 1 : 0));
      const c = {
        allowed: mask(T * L, 0.8),
        forbiddenTransitions: mask(L * L, 0.3),
        forbiddenStart: mask(L, 0.2),
      };
      const k = 1 + rng.int(40);
      const want = rankAll(p, c).slice(0, k);
      const got = kbestViterbi(p, k, c);
      expect(got.map((r) => Array.from(r.labels))).toEqual(want.map((r) => Array.from(r.labels)));
      expect(got.map((r) => r.energy)).toEqual(want.map((r) => r.energy));
    }
  });

  it("a 20,000-token chain: k = 5 in order, distinct, from Viterbi (memory O(k·T + T·L), not k·T²)", () => {
    // the previous Lawler scheme allocated T labelings of T labels per answer: 5 × 20k × 80 kB = 8 GB
    const p = randomChain(new Rng(7), 20_000, 4);
    const rs = kbestViterbi(p, 5);
    expect(rs).toHaveLength(5);
    expect(Array.from(rs[0]!.labels)).toEqual(Array.from(viterbi(p).labels));
    for (let i = 1; i < 5; i++) expect(rs[i]!.energy).toBeGreaterThanOrEqual(rs[i - 1]!.energy);
    expect(new Set(rs.map((r) => r.labels.join(","))).size).toBe(5);
    for (const r of rs) expect(r.energy).toBe(chainEnergy(p, r.labels));
  });
});
