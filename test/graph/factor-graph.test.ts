import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";

function graphError(f: () => unknown): NadirError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NadirError);
    return e as NadirError;
  }
  throw new Error("expected a NadirError, got none");
}

/** x0 ∈ {0,1,2}, x1 ∈ {0,1,2,3}, x2 ∈ {0,1}. */
function handExample(): FactorGraph {
  const b = new FactorGraphBuilder();
  b.addVariable(3);
  b.addVariable(4);
  b.addVariable(2);
  b.addFactor([0], [1, 2, 3]); // f0
  // f1 over (x0, x1): entry (a, c) = 10·a + c
  b.addFactor([0, 1], [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
  // f2 over (x2, x0, x1) — not in id order: entry (z, a, c) = 100·z + 4·a + c... as a table
  const t = new Float64Array(2 * 3 * 4);
  for (let z = 0; z < 2; z++)
    for (let a = 0; a < 3; a++)
      for (let c = 0; c < 4; c++) t[z * 12 + a * 4 + c] = 1000 * z + 0.5 * a - c;
  b.addFactor([2, 0, 1], t);
  b.addFactor([], [7]); // f3: a constant
  return b.build();
}

describe("FactorGraphBuilder validation (E_GRAPH, expected vs. got)", () => {
  const cases: [string, (b: FactorGraphBuilder) => void, RegExp][] = [
    [
      "empty domain",
      (b) => {
        b.addVariable(2);
        b.addVariable(0);
      },
      /^variable 1: expected a domain size ≥ 1, got 0$/,
    ],
    [
      "non-integer domain",
      (b) => {
        b.addVariable(2.5);
      },
      /^variable 0: expected a domain size ≥ 1, got 2.5$/,
    ],
    [
      "scope out of range",
      (b) => {
        b.addVariables(3, 2);
        b.addFactor([0, 3], new Float64Array(4));
      },
      /^factor 0: scope\[1\] expected a variable id in \[0, 3\), got 3$/,
    ],
    [
      "negative scope entry",
      (b) => {
        b.addVariables(3, 2);
        b.addFactor([1], [0, 0]);
        b.addFactor([-1], [0, 0]);
      },
      /^factor 1: scope\[0\] expected a variable id in \[0, 3\), got -1$/,
    ],
    [
      "repeated variable in a scope",
      (b) => {
        b.addVariables(3, 2);
        b.addFactor([2, 0, 2], new Float64Array(8));
      },
      /^factor 0: scope expected distinct variables, got variable 2 twice in \[2, 0, 2\]$/,
    ],
    [
      "table size mismatch",
      (b) => {
        b.addVariable(3);
        b.addVariable(4);
        b.addFactor([0], [0, 0, 0]);
        b.addFactor([1], [0, 0, 0, 0]);
        b.addFactor([0], [0, 0, 0]);
        b.addFactor([0, 1], new Float64Array(10));
      },
      /^factor 3: table expected 12 entries \(3×4\), got 10$/,
    ],
    [
      "constant factor with a wrong table",
      (b) => {
        b.addFactor([], [1, 2]);
      },
      /^factor 0: table expected 1 entries \(a constant\), got 2$/,
    ],
    [
      "NaN energy",
      (b) => {
        b.addVariable(2);
        b.addFactor([0], [0, Number.NaN]);
      },
      /^factor 0: table\[1\] expected a finite energy, got NaN$/,
    ],
    [
      "+Infinity energy",
      (b) => {
        b.addVariable(2);
        b.addFactor([0], [Number.POSITIVE_INFINITY, 0]);
      },
      /^factor 0: table\[0\] expected a finite energy, got Infinity$/,
    ],
    [
      "-Infinity energy",
      (b) => {
        b.addVariables(2, 2);
        b.addFactor([0, 1], [0, 0, 0, Number.NEGATIVE_INFINITY]);
      },
      /^factor 0: table\[3\] expected a finite energy, got -Infinity$/,
    ],
  ];
  it.each(cases)("%s", (_name, setup, message) => {
    const b = new FactorGraphBuilder();
    setup(b);
    const e = graphError(() => b.build());
    expect(e.code).toBe("E_GRAPH");
    expect(e.message).toMatch(message);
  });

  it("accepts a scope variable added after the factor", () => {
    const b = new FactorGraphBuilder();
    b.addFactor([0], [1, 2]);
    b.addVariable(2);
    expect(b.build().energy(Int32Array.of(1))).toBe(2);
  });
});

describe("FactorGraph", () => {
  it("computes the energy of a hand example", () => {
    const g = handExample();
    expect(g.kind).toBe("graph");
    expect(g.nVars).toBe(3);
    expect(g.nFactors).toBe(4);
    expect(Array.from(g.domains)).toEqual([3, 4, 2]);
    expect(g.maxDomain).toBe(4);
    // y = (2, 1, 1): f0 = 3, f1 = 21, f2 = 1000 + 1 − 1 = 1000, f3 = 7
    expect(g.energy(Int32Array.of(2, 1, 1))).toBe(3 + 21 + 1000 + 7);
    // y = (0, 3, 0): 1 + 3 + (0 + 0 − 3) + 7
    expect(g.energy(Int32Array.of(0, 3, 0))).toBe(8);
    expect(g.energy([1, 0, 0])).toBe(2 + 10 + 0.5 + 7);
  });

  it("lays out tables row-major, last scope variable fastest, with ndarray views", () => {
    const g = handExample();
    const f1 = g.factors[1]!;
    expect(Array.from(f1.scope)).toEqual([0, 1]);
    expect(Array.from(f1.shape)).toEqual([3, 4]);
    expect(Array.from(f1.strides)).toEqual([4, 1]);
    expect(f1.arity).toBe(2);
    const v = f1.view();
    expect(v.shape).toEqual([3, 4]);
    expect(v.get(2, 3)).toBe(23);
    expect(v.get(1, 0)).toBe(10);
    const f2 = g.factors[2]!;
    expect(Array.from(f2.strides)).toEqual([12, 4, 1]);
    expect(f2.view().shape).toEqual([2, 3, 4]);
    expect(f2.view().get(1, 2, 3)).toBe(1000 + 1 - 3);
    expect(f2.index(Int32Array.of(2, 3, 1))).toBe(12 + 8 + 3);
    expect(g.factors[3]!.arity).toBe(0);
    expect(g.factors[3]!.table[0]).toBe(7);
  });

  it("exposes the per-variable factor adjacency as CSR, with slots", () => {
    const g = handExample();
    expect(Array.from(g.varFactorPtr)).toEqual([0, 3, 5, 6]);
    expect(Array.from(g.varFactorIds)).toEqual([0, 1, 2, 1, 2, 2]);
    // x0 is slot 0 of f0, slot 0 of f1, slot 1 of f2; x1 slot 1 of f1, 2 of f2; x2 slot 0 of f2
    expect(Array.from(g.varFactorSlot)).toEqual([0, 0, 1, 1, 2, 0]);
    expect(Array.from(g.factorScopePtr)).toEqual([0, 1, 3, 6, 6]);
    expect(Array.from(g.factorTableOffset)).toEqual([0, 3, 15, 39, 40]);
  });

  it("is frozen and copies its inputs", () => {
    const b = new FactorGraphBuilder();
    b.addVariable(2);
    const scope = [0];
    const table = new Float64Array([1, 2]);
    b.addFactor(scope, table);
    table[0] = 99;
    scope[0] = 5;
    const g = b.build();
    expect(g.energy(Int32Array.of(0))).toBe(1);
    expect(Object.isFrozen(g)).toBe(true);
    expect(Object.isFrozen(g.factors)).toBe(true);
    expect(Object.isFrozen(g.factors[0])).toBe(true);
    // building again gives an independent graph
    b.addVariable(3);
    expect(b.build().nVars).toBe(2);
    expect(g.nVars).toBe(1);
  });

  it("handles the empty graph", () => {
    const g = new FactorGraphBuilder().build();
    expect(g.nVars).toBe(0);
    expect(g.maxDomain).toBe(0);
    expect(g.energy(new Int32Array(0))).toBe(0);
    g.checkLabels(new Int32Array(0));
  });

  it("checkLabels says expected vs. got (E_ARG)", () => {
    const g = handExample();
    g.checkLabels(Int32Array.of(2, 3, 1));
    const e1 = graphError(() => g.checkLabels(Int32Array.of(0, 0)));
    expect(e1.code).toBe("E_ARG");
    expect(e1.message).toBe("labels: expected 3 entries, got 2");
    const e2 = graphError(() => g.checkLabels(Int32Array.of(0, 4, 0)));
    expect(e2.message).toBe("labels[1]: expected a label in [0, 4), got 4");
    const e3 = graphError(() => g.checkLabels([0, 0, -1]));
    expect(e3.message).toBe("labels[2]: expected a label in [0, 2), got -1");
  });
});
