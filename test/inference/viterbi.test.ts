import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { viterbi, viterbiBackend, viterbiInto } from "../../src/inference/viterbi.ts";
import { rankAll } from "../oracles/brute-force.ts";

function randomChain(rng: Rng, T: number, L: number) {
  const r = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

function nadirError(f: () => unknown): NadirError {
  try {
    f();
  } catch (e) {
    if (e instanceof NadirError) return e;
    throw e;
  }
  throw new Error("expected a NadirError");
}

describe("viterbi", () => {
  it("T = 0: the empty labeling, energy 0", () => {
    const p = chainPotentials(0, 3, new Float64Array(0), new Float64Array(9));
    const r = viterbi(p);
    expect(r.labels.length).toBe(0);
    expect(r.energy).toBe(0);
    expect(r.exact).toBe(true);
    expect(
      viterbi(p, { allowed: new Uint8Array(0), forbiddenStart: Uint8Array.of(1, 1, 1) }).energy,
    ).toBe(0);
  });

  it("T = 1: argmin of start + unary + end", () => {
    const p = chainPotentials(
      1,
      3,
      Float64Array.of(3, 1, 2),
      new Float64Array(9),
      Float64Array.of(0, 5, 0),
      Float64Array.of(0, 0, -0.5),
    );
    const r = viterbi(p);
    expect(Array.from(r.labels)).toEqual([2]);
    expect(r.energy).toBe(1.5);
    expect(Array.from(viterbi(p, { allowed: Uint8Array.of(1, 1, 0) }).labels)).toEqual([0]);
    expect(Array.from(viterbi(p, { forbiddenStart: Uint8Array.of(0, 1, 1) }).labels)).toEqual([0]);
  });

  it("L = 1: the only labeling", () => {
    const p = chainPotentials(
      4,
      1,
      Float64Array.of(1, 2, 3, 4),
      Float64Array.of(0.5),
      Float64Array.of(1),
      Float64Array.of(2),
    );
    const r = viterbi(p);
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 0]);
    expect(r.energy).toBe(1 + 10 + 1.5 + 2);
    expect(() => viterbi(p, { forbiddenTransitions: Uint8Array.of(1) })).toThrow(
      "viterbi: no labeling satisfies the constraints",
    );
  });

  it("breaks ties to the lexicographically smallest labeling", () => {
    const p = chainPotentials(3, 3, new Float64Array(9), new Float64Array(9));
    expect(Array.from(viterbi(p).labels)).toEqual([0, 0, 0]);
    // (1,0,0), (1,1,0) and (1,1,1) all cost 1; (0,…) costs at least 2
    const q = chainPotentials(3, 2, Float64Array.of(2, 0, 0, 0, 0, 1), Float64Array.of(0, 1, 1, 0));
    expect(Array.from(viterbi(q).labels)).toEqual([1, 0, 0]);
    expect(rankAll(q)[0]!.labels).toEqual(viterbi(q).labels);
  });

  it("fills a caller's buffer; a longer buffer yields a subarray view", () => {
    const rng = new Rng(7);
    const p = randomChain(rng, 5, 4);
    const expected = viterbi(p);
    const out = new Int32Array(5);
    const r = viterbi(p, undefined, out);
    expect(r.labels).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(expected.labels));
    const big = new Int32Array(9).fill(-7);
    const r2 = viterbi(p, undefined, big);
    expect(r2.labels.buffer).toBe(big.buffer);
    expect(r2.labels.length).toBe(5);
    expect(big[5]).toBe(-7);
    expect(viterbiInto(p, big)).toBe(expected.energy);
    expect(nadirError(() => viterbi(p, undefined, new Int32Array(4))).code).toBe("E_ARG");
  });

  it("reuses and grows its workspaces across lengths (long, short, long)", () => {
    const rng = new Rng(11);
    for (const [T, L] of [
      [3, 2],
      [30, 5],
      [2, 7],
      [40, 3],
      [1, 1],
      [25, 23],
      [6, 4],
    ] as const) {
      const p = randomChain(rng, T, L);
      const r = viterbi(p);
      expect(r.energy).toBe(chainEnergy(p, r.labels));
      if (L ** T <= 5000) expect(r.energy).toBeCloseTo(rankAll(p)[0]!.energy, 9);
    }
  });

  it("is not fooled by reused potentials that are longer than needed", () => {
    const p = chainPotentials(2, 2, Float64Array.of(0, 1, 0, 1, -100, -100), new Float64Array(4));
    expect(Array.from(viterbi(p).labels)).toEqual([0, 0]);
  });

  it("infeasible constraints: E_UNSUPPORTED", () => {
    const p = chainPotentials(3, 2, new Float64Array(6), new Float64Array(4));
    const e = nadirError(() => viterbi(p, { allowed: Uint8Array.of(1, 1, 0, 0, 1, 1) }));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toBe("viterbi: no labeling satisfies the constraints");
    // 0 → 1 and 1 → 0 forbidden, start 0 forbidden, position 2 must be 0
    const c = {
      forbiddenTransitions: Uint8Array.of(0, 1, 1, 0),
      forbiddenStart: Uint8Array.of(1, 0),
      allowed: Uint8Array.of(1, 1, 1, 1, 1, 0),
    };
    expect(() => viterbi(p, c)).toThrow(NadirError);
  });

  it("checks constraint sizes (E_ARG, expected vs. got)", () => {
    const p = chainPotentials(3, 4, new Float64Array(12), new Float64Array(16));
    const e1 = nadirError(() => viterbi(p, { allowed: new Uint8Array(10).fill(1) }));
    expect(e1.code).toBe("E_ARG");
    expect(e1.message).toBe("viterbi: constraints.allowed expected 12 entries (T×L = 3×4), got 10");
    expect(nadirError(() => viterbi(p, { forbiddenTransitions: new Uint8Array(4) })).message).toBe(
      "viterbi: constraints.forbiddenTransitions expected 16 entries (L×L = 4×4), got 4",
    );
    expect(nadirError(() => viterbi(p, { forbiddenStart: new Uint8Array(3) })).message).toBe(
      "viterbi: constraints.forbiddenStart expected 4 entries (L), got 3",
    );
  });

  it("the backend refuses a factor graph with a reason", () => {
    const p = chainPotentials(2, 2, new Float64Array(4), new Float64Array(4));
    const g = chainToFactorGraph(p);
    const why = "viterbi needs chain potentials; got a factor graph — use exhaustive or bp";
    expect(viterbiBackend.supports(p)).toBeNull();
    expect(viterbiBackend.supports(g)).toBe(why);
    const e = nadirError(() => viterbiBackend.minimize(g));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toBe(why);
    expect(() => viterbiBackend.kbest(g, 2)).toThrow(why);
    expect(viterbiBackend.name).toBe("viterbi");
    expect(viterbiBackend.exactness).toBe("chains");
  });
});
