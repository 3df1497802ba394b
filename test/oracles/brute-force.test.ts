import { describe, expect, it } from "vitest";
import { chainPotentials } from "../../src/graph/chain.ts";
import { allLabelings, logSumExp, minSum, rankAll, semiringSum } from "./brute-force.ts";

describe("brute-force oracle", () => {
  const p = chainPotentials(2, 2, Float64Array.of(0, 1, 2, 0), Float64Array.of(0, 3, 1, 0));

  it("enumerates labelings in lexicographic order", () => {
    expect(allLabelings([2, 3]).map((y) => Array.from(y))).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect(allLabelings([]).length).toBe(1);
    expect(allLabelings([2, 0]).length).toBe(0);
  });

  it("ranks by energy, min-sum agrees, log-sum-exp is log Z", () => {
    // energies: 00 → 2, 01 → 3, 10 → 4, 11 → 1
    expect(rankAll(p).map((r) => [...r.labels, r.energy])).toEqual([
      [1, 1, 1],
      [0, 0, 2],
      [0, 1, 3],
      [1, 0, 4],
    ]);
    expect(semiringSum(p, minSum)).toBe(1);
    const z = Math.exp(-2) + Math.exp(-3) + Math.exp(-4) + Math.exp(-1);
    expect(semiringSum(p, logSumExp(1))).toBeCloseTo(Math.log(z), 12);
  });
});
