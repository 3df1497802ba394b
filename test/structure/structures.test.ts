/**
 * Every structure against brute force on tiny random examples (seeded
 * fast-check): the energy against a reference computed from W directly (not
 * through potentials), argmin, the most offending answer, the loss-augmented
 * answer and the free energy against enumeration, and accumulate /
 * accumulateMarginals against the directional derivative of the reference
 * energy (exact: the energy is linear in W).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Instance } from "../../src/architecture/features.ts";
import { LinearChain } from "../../src/architecture/linear-chain.ts";
import { Rng } from "../../src/core/rng.ts";
import { exhaustiveBackend } from "../../src/inference/exhaustive.ts";
import type { Backend } from "../../src/inference/types.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import { structuresFor } from "../../src/structure/index.ts";

type Kind = "chain" | "chain2" | "skip";

interface Case {
  kind: Kind;
  arch: LinearChain;
  x: Instance;
  W: Float64Array;
}

const A = 4;

function makeCase(kind: Kind, L: number, T: number, seed: number): Case {
  const rng = new Rng(seed);
  const offsets = new Int32Array(T + 1);
  const attrs: number[] = [];
  for (let t = 0; t < T; t++) {
    const row = new Set<number>();
    const k = 1 + rng.int(2);
    while (row.size < k) row.add(rng.int(A));
    attrs.push(...row);
    offsets[t + 1] = attrs.length;
  }
  const labels = Int32Array.from({ length: T }, () => rng.int(L));
  const x: Instance = { T, offsets, attrs: Int32Array.from(attrs), labels };
  if (kind === "skip") {
    const pairs: number[] = [];
    for (let i = 0; i + 2 < T; i++) if (rng.next() < 0.6) pairs.push(i, i + 2 + rng.int(T - i - 2));
    if (pairs.length === 0 && T >= 3) pairs.push(0, T - 1);
    x.skips = Int32Array.from(pairs);
  }
  const arch = new LinearChain(A, L, null, kind === "chain2" ? 2 : 1, kind === "skip");
  const W = Float64Array.from({ length: arch.K }, () => Math.round(8 * rng.normal()) / 4);
  return { kind, arch, x, W };
}

/** E(W, y, x) straight from the weight layout. */
function refEnergy(c: Case, W: Float64Array, y: ArrayLike<number>): number {
  const { arch, x } = c;
  const L = arch.L;
  let e = W[arch.startOffset + y[0]!]! + W[arch.endOffset + y[x.T - 1]!]!;
  for (let t = 0; t < x.T; t++) {
    for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++)
      e += W[arch.stateIndex(x.attrs[j]!, y[t]!)]!;
    if (t > 0) e += W[arch.transOffset + y[t - 1]! * L + y[t]!]!;
    if (arch.order === 2 && t > 1)
      e += W[arch.trans2Offset + (y[t - 2]! * L + y[t - 1]!) * L + y[t]!]!;
  }
  const s = x.skips ?? new Int32Array(0);
  for (let i = 0; i < s.length; i += 2) e += W[arch.skipOffset + y[s[i]!]! * L + y[s[i + 1]!]!]!;
  return e;
}

function allLabelings(T: number, L: number): Int32Array[] {
  const out: Int32Array[] = [];
  const y = new Int32Array(T);
  for (;;) {
    out.push(y.slice());
    let t = T - 1;
    while (t >= 0 && y[t] === L - 1) y[t--] = 0;
    if (t < 0) return out;
    y[t]!++;
  }
}

const hamming = (a: Int32Array, b: Int32Array) =>
  a.reduce((d, v, t) => d + (v === b[t] ? 0 : 1), 0);

/** d · ∇_W E(y): exact for an energy linear in W. */
function directional(c: Case, d: Float64Array, y: Int32Array): number {
  return refEnergy(c, d, y) - refEnergy(c, new Float64Array(d.length), y);
}

const caseArb = fc
  .record({
    kind: fc.constantFrom<Kind>("chain", "chain2", "skip"),
    L: fc.integer({ min: 2, max: 3 }),
    T: fc.integer({ min: 1, max: 5 }),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
    exhaustive: fc.boolean(),
  })
  .map((r) => ({ ...makeCase(r.kind, r.L, r.T, r.seed), exhaustive: r.exhaustive }));

describe("structures against brute force", () => {
  it("energy, argmin, offending, augmented and accumulate on chains, second-order chains and skip-chain graphs", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { arch, x, W } = c;
        // the default (Viterbi kernels; BP on skip edges) or the exhaustive backend routed through each structure
        const backend: Backend = c.exhaustive ? exhaustiveBackend : viterbiBackend;
        const st = structuresFor(arch, backend).of(x);
        st.bind(x, W, 1);
        const ys = allLabelings(x.T, arch.L);
        const E = ys.map((y) => refEnergy(c, W, y));
        for (let i = 0; i < ys.length; i++) expect(st.energy(ys[i]!)).toBeCloseTo(E[i]!, 9);
        const exact = c.kind !== "skip" || c.exhaustive; // BP on a loopy skip graph is approximate
        const min = Math.min(...E);
        const out = new Int32Array(x.T);
        const e = st.argmin(undefined, out);
        expect(e).toBeCloseTo(refEnergy(c, W, out), 9);
        if (exact) expect(e).toBeCloseTo(min, 9);

        const gold = x.labels;
        const offBrute = Math.min(...E.filter((_, i) => hamming(ys[i]!, gold) > 0), Infinity);
        const off = new Int32Array(x.T);
        const eo = st.offending(gold, undefined, off);
        if (exact) expect(eo).toBeCloseTo(offBrute, 9);
        if (Number.isFinite(eo)) expect(hamming(off, gold)).toBeGreaterThan(0);

        const m = 0.75;
        const augBrute = Math.min(...E.map((v, i) => v - m * hamming(ys[i]!, gold)));
        const aug = new Int32Array(x.T);
        const ea = st.augmented(gold, m, undefined, aug);
        expect(ea).toBeCloseTo(refEnergy(c, W, aug) - m * hamming(aug, gold), 9);
        if (exact) expect(ea).toBeCloseTo(augBrute, 9);

        // accumulate: grad = dEC ∂E(gold)/∂W + dEI ∂E(other)/∂W, checked along a random direction
        const rng = new Rng(x.T * 7919 + arch.L);
        const d = Float64Array.from({ length: arch.K }, () => rng.normal());
        for (const [dEC, dEI] of [
          [1, -1],
          [0.5, 2],
          [1, 0],
        ] as const) {
          const grad = new Float64Array(arch.K);
          st.accumulate(gold, dEC, off, dEI, grad);
          const want = dEC * directional(c, d, gold) + dEI * directional(c, d, off);
          const got = grad.reduce((s, g, k) => s + g * d[k]!, 0);
          expect(got).toBeCloseTo(want, 8);
        }
      }),
      { seed: 20261203, numRuns: 300 },
    );
  });

  it("free energy and marginal accumulation on chains: F = −(1/β) log Σ exp(−βE), grad = E_P[∂E/∂W]", () => {
    fc.assert(
      fc.property(
        caseArb.filter((c) => c.kind === "chain"),
        fc.constantFrom(0.5, 1, 3),
        (c, beta) => {
          const { arch, x, W } = c;
          const st = structuresFor(arch, viterbiBackend).of(x);
          st.bind(x, W, 1);
          const ys = allLabelings(x.T, arch.L);
          const E = ys.map((y) => refEnergy(c, W, y));
          const lo = Math.min(...E);
          const Z = E.reduce((s, e) => s + Math.exp(-beta * (e - lo)), 0);
          const F = lo - Math.log(Z) / beta;
          expect(st.marginals(beta, undefined, true)).toBeCloseTo(F, 9);
          const rng = new Rng(x.T * 31 + 1);
          const d = Float64Array.from({ length: arch.K }, () => rng.normal());
          let want = 0;
          for (let i = 0; i < ys.length; i++)
            want += (Math.exp(-beta * (E[i]! - lo)) / Z) * directional(c, d, ys[i]!);
          const grad = new Float64Array(arch.K);
          st.accumulateMarginals(1, grad);
          expect(grad.reduce((s, g, k) => s + g * d[k]!, 0)).toBeCloseTo(want, 8);
        },
      ),
      { seed: 7, numRuns: 150 },
    );
  });

  it("a second-order chain refuses the free energy and samples with the loss-level reason", () => {
    const s = structuresFor(new LinearChain(A, 2, null, 2), viterbiBackend);
    expect(s.refuses("free-energy")).toMatch(/second-order chains do not offer/);
    expect(s.refuses("sample")).toMatch(/samples of/);
    expect(s.refuses("offending")).toBeNull();
  });
});
