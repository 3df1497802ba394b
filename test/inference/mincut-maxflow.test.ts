/**
 * The Boykov–Kolmogorov maxflow against an Edmonds–Karp reference written
 * here, a brute-force minimum cut over every segmentation, and from-scratch
 * solves for dynamic re-runs (random directed capacities incl. zeros, random
 * terminal weights; fixed seeds).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { MaxflowGraph, SINK, SOURCE } from "../../src/inference/mincut/maxflow.ts";

interface Net {
  n: number;
  /** Edges i→j with cap and revCap. */
  edges: { i: number; j: number; cap: number; rev: number }[];
  /** Terminal weights per node (any sign when `signed`). */
  cs: number[];
  ct: number[];
}

/** Edmonds–Karp (BFS augmenting paths) on an adjacency list; nodes n = s, n+1 = t. */
function edmondsKarp(net: Net): number {
  const N = net.n + 2;
  const s = net.n;
  const t = net.n + 1;
  const to: number[] = [];
  const cap: number[] = [];
  const adj: number[][] = Array.from({ length: N }, () => []);
  const add = (u: number, v: number, c: number, r: number) => {
    adj[u]!.push(to.length);
    to.push(v);
    cap.push(c);
    adj[v]!.push(to.length);
    to.push(u);
    cap.push(r);
  };
  for (const e of net.edges) if (e.i !== e.j) add(e.i, e.j, e.cap, e.rev);
  for (let i = 0; i < net.n; i++) {
    add(s, i, net.cs[i]!, 0);
    add(i, t, net.ct[i]!, 0);
  }
  let flow = 0;
  for (;;) {
    const via = new Array<number>(N).fill(-1);
    const seen = new Array<boolean>(N).fill(false);
    seen[s] = true;
    const queue = [s];
    while (queue.length > 0 && !seen[t]) {
      const u = queue.shift()!;
      for (const a of adj[u]!) {
        const v = to[a]!;
        if (!seen[v] && cap[a]! > 0) {
          seen[v] = true;
          via[v] = a;
          queue.push(v);
        }
      }
    }
    if (!seen[t]) return flow;
    let b = Number.POSITIVE_INFINITY;
    for (let v = t; v !== s; v = to[via[v]! ^ 1]!) b = Math.min(b, cap[via[v]!]!);
    for (let v = t; v !== s; v = to[via[v]! ^ 1]!) {
      cap[via[v]!]! -= b;
      cap[via[v]! ^ 1]! += b;
    }
    flow += b;
  }
}

/** Cut value of a segmentation (1 = sink side): terminal weights of the cut side + edges S→T. */
function cutValue(net: Net, side: ArrayLike<number>): number {
  let v = 0;
  for (let i = 0; i < net.n; i++) v += side[i] === 1 ? net.cs[i]! : net.ct[i]!;
  for (const e of net.edges) {
    if (e.i === e.j) continue;
    if (side[e.i] === 0 && side[e.j] === 1) v += e.cap;
    if (side[e.j] === 0 && side[e.i] === 1) v += e.rev;
  }
  return v;
}

/** The minimum cut over every segmentation (n ≤ 12). */
function bruteMinCut(net: Net): number {
  let best = Number.POSITIVE_INFINITY;
  const side = new Int32Array(net.n);
  for (let m = 0; m < 1 << net.n; m++) {
    for (let i = 0; i < net.n; i++) side[i] = (m >> i) & 1;
    best = Math.min(best, cutValue(net, side));
  }
  return best;
}

function build(net: Net, g = new MaxflowGraph(2, 2)): MaxflowGraph {
  g.reset();
  g.addNode(net.n);
  for (const e of net.edges) g.addEdge(e.i, e.j, e.cap, e.rev);
  for (let i = 0; i < net.n; i++) g.addTweights(i, net.cs[i]!, net.ct[i]!);
  return g;
}

function segments(g: MaxflowGraph): number[] {
  const out: number[] = [];
  for (let i = 0; i < g.nodeCount; i++) out.push(g.whatSegment(i));
  return out;
}

const capArb = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 12 }));

function netArb(maxN: number, signed: boolean): fc.Arbitrary<Net> {
  const tw = signed ? fc.integer({ min: -8, max: 12 }) : capArb;
  return fc.integer({ min: 1, max: maxN }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(
        fc.record({
          i: fc.integer({ min: 0, max: n - 1 }),
          j: fc.integer({ min: 0, max: n - 1 }),
          cap: capArb,
          rev: capArb,
        }),
        { maxLength: 3 * n },
      ),
      cs: fc.array(tw, { minLength: n, maxLength: n }),
      ct: fc.array(tw, { minLength: n, maxLength: n }),
    }),
  );
}

const realNetArb: fc.Arbitrary<Net> = fc.integer({ min: 1, max: 9 }).chain((n) => {
  const c = fc.oneof(
    fc.constant(0),
    fc.noBias(fc.integer({ min: 0, max: 1e6 })).map((k) => (k * 10) / 1e6),
  );
  return fc.record({
    n: fc.constant(n),
    edges: fc.array(
      fc.record({
        i: fc.integer({ min: 0, max: n - 1 }),
        j: fc.integer({ min: 0, max: n - 1 }),
        cap: c,
        rev: c,
      }),
      { maxLength: 3 * n },
    ),
    cs: fc.array(c, { minLength: n, maxLength: n }),
    ct: fc.array(c, { minLength: n, maxLength: n }),
  });
});

describe("MaxflowGraph (Boykov–Kolmogorov)", () => {
  it("equals Edmonds–Karp on random graphs, and the cut it reports has the flow's capacity", () => {
    const g = new MaxflowGraph(2, 2);
    fc.assert(
      fc.property(netArb(12, false), (net) => {
        build(net, g);
        const flow = g.maxflow();
        expect(flow).toBe(edmondsKarp(net));
        expect(cutValue(net, segments(g))).toBe(flow);
      }),
      { seed: 9101, numRuns: 600 },
    );
  });

  it("with real capacities agrees with Edmonds–Karp within rounding", () => {
    fc.assert(
      fc.property(realNetArb, (net) => {
        const g = build(net);
        const flow = g.maxflow();
        const want = edmondsKarp(net);
        expect(Math.abs(flow - want)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want)));
        const cut = cutValue(net, segments(g));
        expect(Math.abs(cut - flow)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(want)));
      }),
      { seed: 9102, numRuns: 300 },
    );
  });

  it("with signed terminal weights returns the minimum cut energy (brute force)", () => {
    fc.assert(
      fc.property(netArb(10, true), (net) => {
        const g = build(net);
        const flow = g.maxflow();
        expect(flow).toBe(bruteMinCut(net));
        expect(cutValue(net, segments(g))).toBe(flow);
      }),
      { seed: 9103, numRuns: 500 },
    );
  });

  it("dynamic re-runs after random terminal changes equal a from-scratch solve", () => {
    const changeArb = fc.array(
      fc.array(
        fc.record({
          node: fc.nat(),
          ds: fc.integer({ min: -10, max: 10 }),
          dt: fc.integer({ min: -10, max: 10 }),
        }),
        { minLength: 0, maxLength: 4 },
      ),
      { minLength: 1, maxLength: 6 },
    );
    const fresh = new MaxflowGraph(2, 2);
    let rounds = 0;
    fc.assert(
      fc.property(netArb(10, true), changeArb, (net, rounds_) => {
        const g = build(net);
        g.maxflow();
        const cs = net.cs.slice();
        const ct = net.ct.slice();
        for (const changes of rounds_) {
          for (const c of changes) {
            const i = c.node % net.n;
            g.addTweights(i, c.ds, c.dt);
            cs[i] = cs[i]! + c.ds;
            ct[i] = ct[i]! + c.dt;
          }
          const now: Net = { n: net.n, edges: net.edges, cs: cs.slice(), ct: ct.slice() };
          const flow = g.maxflow(true);
          build(now, fresh);
          expect(flow).toBe(fresh.maxflow());
          expect(flow).toBe(bruteMinCut(now));
          expect(cutValue(now, segments(g))).toBe(flow);
          rounds++;
        }
      }),
      { seed: 9104, numRuns: 500 },
    );
    expect(rounds).toBeGreaterThan(1000);
  });

  it("dynamic re-runs on a 24×24 grid (deep trees, many orphans) equal fresh solves", () => {
    let seed = 12345;
    const rnd = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % k;
    };
    const W = 24;
    const n = W * W;
    const net: Net = { n, edges: [], cs: [], ct: [] };
    for (let y = 0; y < W; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        if (x + 1 < W) net.edges.push({ i: p, j: p + 1, cap: rnd(30), rev: rnd(30) });
        if (y + 1 < W) net.edges.push({ i: p, j: p + W, cap: rnd(30), rev: rnd(30) });
        net.cs.push(rnd(60));
        net.ct.push(rnd(60));
      }
    }
    const g = build(net);
    expect(g.maxflow()).toBe(edmondsKarp(net));
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 1 + rnd(40); k++) {
        const i = rnd(n);
        const ds = rnd(50);
        const dt = rnd(50);
        g.addTweights(i, ds, dt);
        net.cs[i] = net.cs[i]! + ds;
        net.ct[i] = net.ct[i]! + dt;
      }
      const flow = g.maxflow(true);
      expect(flow).toBe(edmondsKarp(net));
      expect(cutValue(net, segments(g))).toBe(flow);
    }
  });

  it("reuseTrees falls back to a fresh tree build after edges are added, keeping the flow", () => {
    const g = new MaxflowGraph();
    g.addNode(3);
    g.addTweights(0, 5, 0);
    g.addTweights(2, 0, 5);
    g.addEdge(0, 1, 3);
    expect(g.maxflow()).toBe(0);
    g.addEdge(1, 2, 4);
    expect(g.maxflow(true)).toBe(3);
    expect(segments(g)).toEqual([SOURCE, SINK, SINK]); // 1 still reaches the sink
    g.addTweights(1, 2, 0);
    expect(g.maxflow(true)).toBe(4);
  });

  it("grows past its initial capacities, ignores self-loops, sums parallel edges", () => {
    const g = new MaxflowGraph(1, 1);
    g.addNode(1);
    g.addNode(2);
    g.addEdge(0, 1, 2);
    g.addEdge(0, 1, 3);
    g.addEdge(1, 1, 100);
    g.addEdge(1, 2, 10, 1);
    g.addTweights(0, 100, 0);
    g.addTweights(2, 0, 100);
    expect(g.nodeCount).toBe(3);
    expect(g.edgeCount).toBe(3);
    expect(g.maxflow()).toBe(5);
    expect(g.flowValue).toBe(5);
    expect(g.getRCap(0)).toBe(0);
    expect(g.getRCap(0, true)).toBe(2);
    expect(g.getTrCap(0)).toBe(95);
  });

  it("rejects bad ids and capacities with typed errors", () => {
    const g = new MaxflowGraph();
    g.addNode(2);
    const code = (f: () => void) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(NadirError);
        return (e as NadirError).code;
      }
      return "none";
    };
    expect(code(() => g.addEdge(0, 2, 1))).toBe("E_ARG");
    expect(code(() => g.addEdge(0, 1, -1))).toBe("E_ARG");
    expect(code(() => g.addEdge(0, 1, Number.NaN))).toBe("E_ARG");
    expect(code(() => g.addEdge(0, 1, 1, Number.POSITIVE_INFINITY))).toBe("E_ARG");
    expect(code(() => g.addTweights(-1, 1, 1))).toBe("E_ARG");
    expect(code(() => g.addTweights(0, Number.NaN, 1))).toBe("E_ARG");
    expect(code(() => g.whatSegment(5))).toBe("E_ARG");
    expect(code(() => g.addNode(-1))).toBe("E_ARG");
    expect(code(() => new MaxflowGraph(-1))).toBe("E_ARG");
    expect(() => g.addEdge(0, 2, 1)).toThrow("addEdge: expected a node id in [0, 2), got 2");
  });
});
