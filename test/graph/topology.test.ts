import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { type FactorGraph, FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import {
  chainPaths,
  components,
  topology,
  treeSchedule,
  variableNeighbors,
} from "../../src/graph/topology.ts";

/** A graph over n binary variables with the given scopes (zero tables) and a unary on each. */
function graph(n: number, scopes: number[][], unaries = true): FactorGraph {
  const b = new FactorGraphBuilder();
  b.addVariables(n, 2);
  if (unaries) for (let v = 0; v < n; v++) b.addFactor([v], [0, 0]);
  for (const s of scopes) b.addFactor(s, new Float64Array(2 ** s.length));
  return b.build();
}

describe("topology", () => {
  it("chain potentials and their factor graph are chains", () => {
    const p = chainPotentials(4, 3, new Float64Array(12), new Float64Array(9));
    expect(topology(p)).toBe("chain");
    expect(topology(chainToFactorGraph(p))).toBe("chain");
  });

  it("a path with ids out of order is a chain", () => {
    expect(
      topology(
        graph(4, [
          [2, 0],
          [0, 3],
          [3, 1],
        ]),
      ),
    ).toBe("chain");
  });

  it("disjoint paths and isolated variables are a chain", () => {
    expect(
      topology(
        graph(6, [
          [0, 1],
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe("chain");
    expect(topology(graph(3, []))).toBe("chain");
    expect(topology(new FactorGraphBuilder().build())).toBe("chain");
  });

  it("a star is a tree", () => {
    expect(
      topology(
        graph(4, [
          [0, 1],
          [0, 2],
          [0, 3],
        ]),
      ),
    ).toBe("tree");
  });

  it("a forest with a star and a path is a tree", () => {
    expect(
      topology(
        graph(7, [
          [0, 1],
          [0, 2],
          [0, 3],
          [4, 5],
          [5, 6],
        ]),
      ),
    ).toBe("tree");
  });

  it("a triangle is loopy", () => {
    expect(
      topology(
        graph(3, [
          [0, 1],
          [1, 2],
          [2, 0],
        ]),
      ),
    ).toBe("loopy");
  });

  it("a cycle inside a forest is loopy", () => {
    expect(
      topology(
        graph(7, [
          [0, 1],
          [4, 5],
          [5, 6],
          [6, 3],
          [3, 4],
        ]),
      ),
    ).toBe("loopy");
  });

  it("a lone factor of arity 3 is a tree, not a chain", () => {
    expect(topology(graph(3, [[0, 1, 2]]))).toBe("tree");
    expect(
      topology(
        graph(5, [
          [0, 1, 2],
          [2, 3],
          [3, 4],
        ]),
      ),
    ).toBe("tree");
  });

  it("a factor of arity 3 plus a pairwise factor inside its scope is loopy", () => {
    expect(
      topology(
        graph(3, [
          [0, 1, 2],
          [0, 1],
        ]),
      ),
    ).toBe("loopy");
  });

  it("two factors over the same pair are a cycle of the factor graph (loopy)", () => {
    expect(
      topology(
        graph(2, [
          [0, 1],
          [1, 0],
        ]),
      ),
    ).toBe("loopy");
  });

  it("unary and constant factors never make a cycle", () => {
    const b = new FactorGraphBuilder();
    b.addVariables(2, 3);
    b.addFactor([0], [1, 2, 3]);
    b.addFactor([0], [1, 2, 3]);
    b.addFactor([], [5]);
    b.addFactor([0, 1], new Float64Array(9));
    expect(topology(b.build())).toBe("chain");
  });
});

describe("topology helpers", () => {
  it("variableNeighbors lists distinct sorted neighbors", () => {
    const { ptr, idx } = variableNeighbors(
      graph(4, [
        [2, 0],
        [0, 1, 2],
        [3, 2],
      ]),
    );
    const of = (v: number) => Array.from(idx.subarray(ptr[v]!, ptr[v + 1]!));
    expect(of(0)).toEqual([1, 2]);
    expect(of(1)).toEqual([0, 2]);
    expect(of(2)).toEqual([0, 1, 3]);
    expect(of(3)).toEqual([2]);
  });

  it("components numbers connected parts by their smallest variable", () => {
    const c = components(
      graph(6, [
        [4, 1],
        [1, 5],
        [2, 3],
      ]),
    );
    expect(c.count).toBe(3);
    expect(Array.from(c.id)).toEqual([0, 1, 2, 2, 1, 1]);
  });

  it("chainPaths orders each path from its smaller end", () => {
    const paths = chainPaths(
      graph(6, [
        [2, 0],
        [0, 3],
        [3, 1],
        [5, 4],
      ]),
    );
    expect(paths.map((p) => Array.from(p))).toEqual([
      [1, 3, 0, 2],
      [4, 5],
    ]);
    expect(() =>
      chainPaths(
        graph(4, [
          [0, 1],
          [0, 2],
          [0, 3],
        ]),
      ),
    ).toThrow(NadirError);
  });

  it("treeSchedule gives a BFS order with parents before children", () => {
    const g = graph(
      4,
      [
        [0, 1],
        [0, 2, 3],
      ],
      false,
    );
    const { order, parent } = treeSchedule(g);
    expect(order.length).toBe(g.nVars + g.nFactors);
    expect(new Set(order).size).toBe(order.length);
    const pos = new Map(Array.from(order, (node, i) => [node, i] as const));
    for (const node of order) {
      const par = parent[node]!;
      if (par >= 0) expect(pos.get(par)!).toBeLessThan(pos.get(node)!);
    }
    expect(order[0]).toBe(0);
    expect(parent[0]).toBe(-1);
    // factor nodes are nVars + f
    expect(parent[g.nVars + 1]).toBe(0);
    expect(parent[3]).toBe(g.nVars + 1);
    expect(() =>
      treeSchedule(
        graph(3, [
          [0, 1],
          [1, 2],
          [2, 0],
        ]),
      ),
    ).toThrow(/cycle/);
  });
});
