import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import {
  exhaustive,
  exhaustiveBackend,
  exhaustiveKBest,
  exhaustiveMinimize,
} from "../../src/inference/exhaustive.ts";

function nadirError(f: () => unknown): NadirError {
  try {
    f();
  } catch (e) {
    if (e instanceof NadirError) return e;
    throw e;
  }
  throw new Error("expected a NadirError");
}

describe("exhaustive", () => {
  it("refuses above the limit with E_TOO_LARGE, saying how many", () => {
    const p = chainPotentials(12, 4, new Float64Array(48), new Float64Array(16));
    const e = nadirError(() => exhaustiveBackend.minimize(p));
    expect(e.code).toBe("E_TOO_LARGE");
    expect(e.message).toMatch(
      /^exhaustive: 4\^12 = 16777216 configurations exceed the limit 1000000 /,
    );
    expect(exhaustiveBackend.supports(p)).toBe(e.message);
    expect(nadirError(() => exhaustiveBackend.kbest(p, 2)).code).toBe("E_TOO_LARGE");
    // allowed masks shrink the enumeration: 4^2·1^10 = 16
    const allowed = new Uint8Array(48);
    for (let t = 0; t < 12; t++) allowed[t * 4] = 1;
    allowed[1] = allowed[2] = allowed[3] = allowed[5] = allowed[6] = allowed[7] = 1;
    expect(exhaustiveBackend.minimize(p, { allowed }).energy).toBe(0);
  });

  it("has a configurable limit; the message groups mixed domains", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(3, 2);
    b.addVariables(2, 3);
    const g = b.build();
    const small = exhaustive({ maxConfigurations: 50 });
    expect(small.supports(g)).toMatch(
      /^exhaustive: 2\^3·3\^2 = 72 configurations exceed the limit 50 /,
    );
    expect(exhaustive({ maxConfigurations: 72 }).supports(g)).toBeNull();
    expect(nadirError(() => exhaustive({ maxConfigurations: 0 })).code).toBe("E_ARG");
    expect(nadirError(() => exhaustiveMinimize(g, undefined, { maxConfigurations: 10 })).code).toBe(
      "E_TOO_LARGE",
    );
  });

  it("breaks ties lexicographically, in minimize and k-best", () => {
    const p = chainPotentials(2, 3, new Float64Array(6), new Float64Array(9));
    expect(Array.from(exhaustiveMinimize(p).labels)).toEqual([0, 0]);
    expect(exhaustiveKBest(p, 4).map((r) => Array.from(r.labels))).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
    ]);
    const q = chainPotentials(2, 2, Float64Array.of(0, 0, 1, 0), new Float64Array(4));
    expect(exhaustiveKBest(q, 3).map((r) => [...r.labels, r.energy])).toEqual([
      [0, 1, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
  });

  it("handles T = 0, empty graphs, constants and L = 1", () => {
    const p0 = chainPotentials(0, 2, new Float64Array(0), new Float64Array(4));
    expect(exhaustiveMinimize(p0)).toEqual({ labels: new Int32Array(0), energy: 0, exact: true });
    expect(exhaustiveKBest(p0, 3).length).toBe(1);
    const b = new FactorGraphBuilder();
    b.addFactor([], [4.5]);
    expect(exhaustiveMinimize(b.build()).energy).toBe(4.5);
    const p1 = chainPotentials(3, 1, Float64Array.of(1, 1, 1), Float64Array.of(2));
    expect(exhaustiveKBest(p1, 10).map((r) => r.energy)).toEqual([7]);
  });

  it("solves factor graphs with allowed masks (row stride maxDomain)", () => {
    const b = new FactorGraphBuilder();
    b.addVariable(2);
    b.addVariable(3);
    b.addFactor([0, 1], [5, 4, 3, 2, 1, 0]);
    const g = b.build();
    expect(Array.from(exhaustiveMinimize(g).labels)).toEqual([1, 2]);
    // forbid x1 = 2 (row 1, stride 3)
    const allowed = Uint8Array.of(1, 1, 0, 1, 1, 0);
    const r = exhaustiveMinimize(g, { allowed });
    expect(Array.from(r.labels)).toEqual([1, 1]);
    expect(r.energy).toBe(1);
    const e = nadirError(() => exhaustiveMinimize(g, { allowed: new Uint8Array(5) }));
    expect(e.message).toBe(
      "exhaustive: constraints.allowed expected 6 entries (nVars×maxDomain = 2×3), got 5",
    );
    const e2 = nadirError(() => exhaustiveMinimize(g, { forbiddenStart: new Uint8Array(3) }));
    expect(e2.code).toBe("E_UNSUPPORTED");
    expect(nadirError(() => exhaustiveMinimize(g, { allowed: new Uint8Array(6) })).message).toBe(
      "exhaustive: no labeling satisfies the constraints",
    );
    expect(exhaustiveKBest(g, 3, { allowed: new Uint8Array(6) })).toEqual([]);
  });

  it("agrees between a chain and its factor graph", () => {
    const p = chainPotentials(3, 2, Float64Array.of(1, 0, 0, 2, 1, 1), Float64Array.of(0, 1, 2, 0));
    const a = exhaustiveKBest(p, 8);
    const b = exhaustiveKBest(chainToFactorGraph(p), 8);
    expect(b).toEqual(a);
  });
});
