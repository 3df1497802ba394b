import { describe, expect, it } from "vitest";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { labelingEnergy, labelStride, variableCount } from "../../src/graph/energy.ts";
import { allLabelings } from "../oracles/brute-force.ts";

describe("chainToFactorGraph", () => {
  it("matches chainEnergy on every labeling of a hand example", () => {
    const p = chainPotentials(
      3,
      2,
      Float64Array.of(1, 2, 3, 4, 5, 6),
      Float64Array.of(0.1, 0.2, 0.3, 0.4),
      Float64Array.of(10, 20),
      Float64Array.of(100, 200),
    );
    const g = chainToFactorGraph(p);
    expect(g.nVars).toBe(3);
    expect(Array.from(g.domains)).toEqual([2, 2, 2]);
    // start, end, u0, u1, t01, u2, t12
    expect(g.factors.map((f) => Array.from(f.scope))).toEqual([
      [0],
      [2],
      [0],
      [1],
      [0, 1],
      [2],
      [1, 2],
    ]);
    for (const y of allLabelings([2, 2, 2])) expect(g.energy(y)).toBe(chainEnergy(p, y));
    // y = (1, 0, 1): 20 + 2 + 3 + 6 + 0.3 + 0.2 + 200
    expect(labelingEnergy(g, Int32Array.of(1, 0, 1))).toBeCloseTo(231.5, 12);
  });

  it("handles T = 0, T = 1 and L = 1", () => {
    const p0 = chainPotentials(0, 3, new Float64Array(0), new Float64Array(9));
    const g0 = chainToFactorGraph(p0);
    expect(g0.nVars).toBe(0);
    expect(g0.energy(new Int32Array(0))).toBe(0);

    const p1 = chainPotentials(
      1,
      2,
      Float64Array.of(1, 2),
      new Float64Array(4),
      Float64Array.of(3, 4),
      Float64Array.of(5, 6),
    );
    const g1 = chainToFactorGraph(p1);
    expect(g1.energy(Int32Array.of(1))).toBe(chainEnergy(p1, Int32Array.of(1)));
    expect(g1.energy(Int32Array.of(1))).toBe(12);

    const pl = chainPotentials(3, 1, Float64Array.of(1, 2, 3), Float64Array.of(0.5));
    expect(chainToFactorGraph(pl).energy(new Int32Array(3))).toBe(7);
  });

  it("reads only the first T·L unary entries (reused workspaces)", () => {
    const p = chainPotentials(2, 2, Float64Array.of(1, 2, 3, 4, 99, 99), new Float64Array(4));
    const g = chainToFactorGraph(p);
    expect(g.tables.length).toBe(2 + 2 + 4 + 4);
    expect(g.energy(Int32Array.of(1, 1))).toBe(6);
    expect(variableCount(p)).toBe(2);
    expect(labelStride(p)).toBe(2);
    expect(labelStride(g)).toBe(2);
  });
});
