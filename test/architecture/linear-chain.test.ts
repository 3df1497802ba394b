import { describe, expect, it } from "vitest";
import type { Instance } from "../../src/architecture/features.ts";
import { LinearChain } from "../../src/architecture/linear-chain.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy } from "../../src/graph/chain.ts";

/** A random instance over A attributes (1–4 per position, repeats allowed) and L labels. */
function randomInstance(rng: Rng, T: number, A: number, L: number): Instance {
  const offsets = new Int32Array(T + 1);
  const attrs: number[] = [];
  for (let t = 0; t < T; t++) {
    const k = 1 + rng.int(4);
    for (let i = 0; i < k; i++) attrs.push(rng.int(A));
    offsets[t + 1] = attrs.length;
  }
  const labels = Int32Array.from({ length: T }, () => rng.int(L));
  return { T, offsets, attrs: Int32Array.from(attrs), labels };
}

const randomLabels = (rng: Rng, T: number, L: number) =>
  Int32Array.from({ length: T }, () => rng.int(L));
const randomW = (rng: Rng, K: number) => Float64Array.from({ length: K }, () => rng.normal());

/** E(W, y, x) written out from the definition, independent of LinearChain's loops. */
function energyByHand(arch: LinearChain, x: Instance, W: Float64Array, y: Int32Array): number {
  const { A, L } = arch;
  const state = (a: number, l: number) => W[a * L + l]!;
  const trans = (a: number, b: number) => W[A * L + a * L + b]!;
  const start = (l: number) => W[A * L + L * L + l]!;
  const end = (l: number) => W[A * L + L * L + L + l]!;
  let e = 0;
  for (let t = 0; t < x.T; t++) {
    for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++) e += state(x.attrs[j]!, y[t]!);
    if (t > 0) e += trans(y[t - 1]!, y[t]!);
  }
  if (x.T > 0) e += start(y[0]!) + end(y[x.T - 1]!);
  return e;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe("LinearChain layout", () => {
  it("K = A·L + L² + 2L with state | transition | start | end", () => {
    const arch = new LinearChain(7, 3);
    expect(arch.transOffset).toBe(21);
    expect(arch.startOffset).toBe(30);
    expect(arch.endOffset).toBe(33);
    expect(arch.K).toBe(36);
  });
});

describe("LinearChain.potentials", () => {
  it("chainEnergy(potentials, y) equals the energy summed from W by hand", () => {
    const rng = new Rng(42);
    for (let trial = 0; trial < 60; trial++) {
      const A = 1 + rng.int(12);
      const L = 1 + rng.int(5);
      const T = 1 + rng.int(7);
      const arch = new LinearChain(A, L);
      const W = randomW(rng, arch.K);
      const x = randomInstance(rng, T, A, L);
      const p = arch.potentials(x, W);
      expect(p.T).toBe(T);
      expect(p.L).toBe(L);
      for (let k = 0; k < 5; k++) {
        const y = randomLabels(rng, T, L);
        expect(chainEnergy(p, y)).toBeCloseTo(energyByHand(arch, x, W, y), 10);
      }
    }
  });

  it("unary[t, l] is the sum of the state weights of the attributes at t", () => {
    const arch = new LinearChain(3, 2);
    const W = new Float64Array(arch.K);
    W.set([1, 10, 100, 1000, 0.5, 0.25]); // rows a0, a1, a2
    const x: Instance = {
      T: 2,
      offsets: Int32Array.of(0, 2, 4),
      attrs: Int32Array.of(0, 2, 1, 1),
      labels: Int32Array.of(0, 0),
    };
    const p = arch.potentials(x, W);
    expect(Array.from(p.unary.subarray(0, 4))).toEqual([1.5, 10.25, 200, 2000]);
  });

  it("transition/start/end are views of W; the workspace is reused unless `out` is given", () => {
    const rng = new Rng(3);
    const arch = new LinearChain(4, 3);
    const W = randomW(rng, arch.K);
    const x1 = randomInstance(rng, 5, 4, 3);
    const x2 = randomInstance(rng, 5, 4, 3);
    const p1 = arch.potentials(x1, W);
    W[arch.transOffset + 4] = 123;
    expect(p1.transition[4]).toBe(123);
    W[arch.startOffset + 1] = -7;
    expect(p1.start[1]).toBe(-7);
    W[arch.endOffset + 2] = 9;
    expect(p1.end[2]).toBe(9);
    const out = new Float64Array(15);
    const kept = arch.potentials(x1, W, out);
    expect(kept.unary).toBe(out);
    const snapshot = Array.from(out);
    arch.potentials(x2, W); // must not touch `out`
    expect(Array.from(out)).toEqual(snapshot);
    const y = randomLabels(rng, 5, 3);
    expect(chainEnergy(kept, y)).toBeCloseTo(energyByHand(arch, x1, W, y), 10);
  });
});

describe("LinearChain.accumulate: exactly ∂E(y)/∂W", () => {
  it("E is linear in W: E(W) = G·W and E(W + εD) − E(W) = ε·(D·G)", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 40; trial++) {
      const A = 1 + rng.int(10);
      const L = 1 + rng.int(4);
      const T = 1 + rng.int(6);
      const arch = new LinearChain(A, L);
      const W = randomW(rng, arch.K);
      const D = randomW(rng, arch.K);
      const x = randomInstance(rng, T, A, L);
      const y = randomLabels(rng, T, L);
      const G = new Float64Array(arch.K);
      arch.accumulate(x, y, 1, G);
      const E = (w: Float64Array) => chainEnergy(arch.potentials(x, w), y);
      expect(dot(G, W)).toBeCloseTo(E(W), 9);
      const eps = 1e-3;
      const W2 = W.map((w, k) => w + eps * D[k]!);
      expect((E(W2) - E(W)) / eps).toBeCloseTo(dot(D, G), 6);
      // per coordinate: a unit step on W_k changes E by G_k
      const k = rng.int(arch.K);
      const W3 = W.slice();
      W3[k] = W3[k]! + 1;
      expect(E(W3) - E(W)).toBeCloseTo(G[k]!, 9);
    }
  });

  it("adds scale·∂E/∂W to what grad already holds", () => {
    const rng = new Rng(8);
    const arch = new LinearChain(6, 3);
    const x = randomInstance(rng, 5, 6, 3);
    const y = randomLabels(rng, 5, 3);
    const G = new Float64Array(arch.K);
    arch.accumulate(x, y, 1, G);
    const R = randomW(rng, arch.K);
    const acc = R.slice();
    arch.accumulate(x, y, -2.5, acc);
    for (let k = 0; k < arch.K; k++) expect(acc[k]).toBeCloseTo(R[k]! - 2.5 * G[k]!, 12);
  });

  it("counts: repeated attributes, transitions, start and end", () => {
    const arch = new LinearChain(2, 2);
    const x: Instance = {
      T: 3,
      offsets: Int32Array.of(0, 2, 3, 4),
      attrs: Int32Array.of(1, 1, 0, 1),
      labels: Int32Array.of(0, 0, 0),
    };
    const G = new Float64Array(arch.K);
    arch.accumulate(x, Int32Array.of(1, 0, 1), 1, G);
    // state rows: a0 = [1 (t=1,l=0), 0], a1 = [0, 2 (t=0) + 1 (t=2)]
    expect(Array.from(G.subarray(0, 4))).toEqual([1, 0, 0, 3]);
    // transitions 1→0, 0→1
    expect(Array.from(G.subarray(arch.transOffset, arch.startOffset))).toEqual([0, 1, 1, 0]);
    expect(Array.from(G.subarray(arch.startOffset, arch.endOffset))).toEqual([0, 1]);
    expect(Array.from(G.subarray(arch.endOffset))).toEqual([0, 1]);
  });

  it("T = 0 touches nothing", () => {
    const arch = new LinearChain(2, 2);
    const G = new Float64Array(arch.K);
    const x: Instance = {
      T: 0,
      offsets: Int32Array.of(0),
      attrs: new Int32Array(0),
      labels: new Int32Array(0),
    };
    arch.accumulate(x, new Int32Array(0), 1, G);
    arch.accumulateDifference(x, new Int32Array(0), new Int32Array(0), 1, G);
    expect(G.every((v) => v === 0)).toBe(true);
  });
});

describe("LinearChain.accumulateDifference", () => {
  it("equals accumulate(y, +s) + accumulate(ŷ, −s)", () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 80; trial++) {
      const A = 1 + rng.int(8);
      const L = 1 + rng.int(4);
      const T = 1 + rng.int(7);
      const arch = new LinearChain(A, L);
      const x = randomInstance(rng, T, A, L);
      const y = randomLabels(rng, T, L);
      // ŷ: y with a few positions changed (sometimes none)
      const yHat = y.slice();
      const changes = rng.int(3);
      for (let i = 0; i < changes; i++) yHat[rng.int(T)] = rng.int(L);
      const s = [1, -1, 0.5, -3][trial % 4]!;
      const base = randomW(rng, arch.K);
      const a = base.slice();
      arch.accumulateDifference(x, y, yHat, s, a);
      const b = base.slice();
      arch.accumulate(x, y, s, b);
      arch.accumulate(x, yHat, -s, b);
      for (let k = 0; k < arch.K; k++) expect(a[k]).toBeCloseTo(b[k]!, 12);
    }
  });

  it("with ŷ = y it changes nothing", () => {
    const rng = new Rng(12);
    const arch = new LinearChain(5, 3);
    const x = randomInstance(rng, 6, 5, 3);
    const y = randomLabels(rng, 6, 3);
    const G = new Float64Array(arch.K);
    arch.accumulateDifference(x, y, y.slice(), 1, G);
    expect(G.every((v) => v === 0)).toBe(true);
  });

  it("reads only the first T entries of a longer ŷ buffer", () => {
    const rng = new Rng(13);
    const arch = new LinearChain(5, 3);
    const x = randomInstance(rng, 4, 5, 3);
    const y = randomLabels(rng, 4, 3);
    const yHat = new Int32Array(10).fill(2);
    yHat.set(randomLabels(rng, 4, 3));
    const a = new Float64Array(arch.K);
    arch.accumulateDifference(x, y, yHat, 1, a);
    const b = new Float64Array(arch.K);
    arch.accumulateDifference(x, y, yHat.slice(0, 4), 1, b);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
