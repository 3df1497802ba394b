import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { type ChainPotentials, chainPotentials } from "../../src/graph/chain.ts";
import {
  type ChainMarginals,
  emptyChainMarginals,
  entropy,
  expectedEnergy,
  forwardBackward,
  freeEnergy,
  gibbsProbability,
  logGibbsProbability,
} from "../../src/inference/forward-backward.ts";
import type { Constraints } from "../../src/inference/types.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { chainArb, chainConstraintsArb } from "../conformance/arbitraries.ts";
import { allLabelings, chainGibbs, domainsOf, rankAll } from "../oracles/brute-force.ts";

const RUNS = 300;
const BETAS = [0.01, 0.5, 1, 3, 100];
const KERNELS = ["log", "scaled", "auto"] as const;
/** Relative tolerance; marginals below FLOOR count as 0 (both kernels and the oracle are exact to it). */
const REL = 1e-9;
const FLOOR = 1e-290;

function nadirError(f: () => unknown): NadirError {
  try {
    f();
  } catch (e) {
    if (e instanceof NadirError) return e;
    throw e;
  }
  throw new Error("expected a NadirError");
}

/** |got − want| ≤ rel·max(|got|, |want|) + abs, or throw saying where. */
function assertClose(got: number, want: number, what: string, rel = REL, abs = FLOOR): void {
  const ok =
    got === want || Math.abs(got - want) <= rel * Math.max(Math.abs(got), Math.abs(want)) + abs;
  if (!ok) throw new Error(`${what}: got ${got}, want ${want} (diff ${got - want})`);
}

/** log Z and F: relative to max(1, |value|) (log Z may cancel to about 0). */
function assertCloseScalar(got: number, want: number, what: string): void {
  assertClose(got, want, what, REL, REL);
}

function assertArrayClose(got: Float64Array, want: Float64Array, n: number, what: string): void {
  for (let i = 0; i < n; i++) assertClose(got[i]!, want[i]!, `${what}[${i}]`);
}

/** Run the kernel; "underflow" when the forced scaled kernel refuses. */
function run(
  p: ChainPotentials,
  beta: number,
  kernel: (typeof KERNELS)[number],
  constraints?: Constraints,
): ChainMarginals | "underflow" {
  try {
    return forwardBackward(p, beta, { kernel, pairwise: "each", constraints });
  } catch (e) {
    if (kernel === "scaled" && e instanceof NadirError && /underflows/.test(e.message)) {
      return "underflow";
    }
    throw e;
  }
}

function checkAgainstOracle(
  p: ChainPotentials,
  beta: number,
  m: ChainMarginals,
  o: ReturnType<typeof chainGibbs>,
  what: string,
): void {
  const { T, L } = p;
  assertCloseScalar(m.logZ, o.logZ, `${what} logZ`);
  assertCloseScalar(m.freeEnergy, o.freeEnergy, `${what} F`);
  assertArrayClose(m.unary, o.unary, T * L, `${what} unary`);
  assertArrayClose(m.pairwiseSum, o.pairwiseSum, L * L, `${what} pairwiseSum`);
  assertArrayClose(m.pairwise!, o.pairwise, Math.max(0, T - 1) * L * L, `${what} pairwise`);
  // ⟨E⟩ and H: sums of products of energies with marginals, so compare on the scale of Σ|E|.
  const scale = 1 + o.labelings.reduce((s, r) => Math.max(s, Math.abs(r.energy)), 0);
  assertClose(expectedEnergy(p, m), o.expectedEnergy, `${what} ⟨E⟩`, 0, 1e-9 * scale);
  assertClose(entropy(p, m, beta), o.entropy, `${what} H`, 0, 1e-9 * (1 + beta * scale));
}

/** Marginals are in [0, 1], sum to 1 at each position, and the pairwise ones sum to the unary ones. */
function checkConsistency(p: ChainPotentials, m: ChainMarginals, tol = 1e-9): void {
  const { T, L } = p;
  const LL = L * L;
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let l = 0; l < L; l++) {
      const u = m.unary[t * L + l]!;
      if (!(u >= 0 && u <= 1)) throw new Error(`unary[${t}, ${l}] = ${u} not in [0, 1]`);
      s += u;
    }
    assertClose(s, 1, `Σ unary at ${t}`, 0, tol);
  }
  const pw = m.pairwise;
  if (pw === undefined) return;
  for (let t = 1; t < T; t++) {
    for (let l = 0; l < L; l++) {
      let out = 0;
      let into = 0;
      for (let l2 = 0; l2 < L; l2++) {
        out += pw[(t - 1) * LL + l * L + l2]!;
        into += pw[(t - 1) * LL + l2 * L + l]!;
      }
      assertClose(out, m.unary[(t - 1) * L + l]!, `Σ_l' pairwise(${t - 1}: ${l}, ·)`, 0, tol);
      assertClose(into, m.unary[t * L + l]!, `Σ_l pairwise(${t}: ·, ${l})`, 0, tol);
    }
  }
  for (let i = 0; i < LL; i++) {
    let s = 0;
    for (let t = 1; t < T; t++) s += pw[(t - 1) * LL + i]!;
    assertClose(m.pairwiseSum[i]!, s, `pairwiseSum[${i}]`, 0, tol * T);
  }
}

function uniformChain(rng: Rng, T: number, L: number, scale: number): ChainPotentials {
  const r = (n: number) => Float64Array.from({ length: n }, () => scale * (2 * rng.next() - 1));
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

describe("forward-backward: edge cases and errors", () => {
  it("T = 0: log Z = 0, F = 0, empty marginals", () => {
    const p = chainPotentials(0, 3, new Float64Array(0), new Float64Array(9));
    for (const kernel of KERNELS) {
      const m = forwardBackward(p, 1, { kernel, pairwise: "each" });
      expect(m.logZ).toBe(0);
      expect(m.freeEnergy).toBe(0);
      expect(m.unary.length).toBe(0);
      expect(m.pairwise!.length).toBe(0);
      expect(Array.from(m.pairwiseSum)).toEqual(new Array(9).fill(0));
      expect(expectedEnergy(p, m)).toBe(0);
      expect(entropy(p, m, 1)).toBe(0);
    }
    expect(freeEnergy(p, 2)).toBe(0);
    expect(gibbsProbability(p, new Int32Array(0), 2)).toBe(1);
  });

  it("T = 1, L = 1: a single labeling has probability 1 and F = its energy", () => {
    const p = chainPotentials(
      1,
      1,
      Float64Array.of(2),
      Float64Array.of(7),
      Float64Array.of(1),
      Float64Array.of(-0.5),
    );
    for (const kernel of KERNELS) {
      const m = forwardBackward(p, 3, { kernel });
      expect(m.freeEnergy).toBeCloseTo(2.5, 14);
      expect(m.unary[0]).toBe(1);
      expect(Array.from(m.pairwiseSum)).toEqual([0]);
    }
  });

  it("rejects a β that is not finite and > 0 (E_ARG), and unknown options", () => {
    const p = chainPotentials(2, 2, new Float64Array(4), new Float64Array(4));
    for (const beta of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(nadirError(() => forwardBackward(p, beta)).code).toBe("E_ARG");
      expect(nadirError(() => freeEnergy(p, beta)).code).toBe("E_ARG");
      expect(nadirError(() => gibbsProbability(p, Int32Array.of(0, 0), beta)).code).toBe("E_ARG");
    }
    const bad = { kernel: "fast" } as unknown as { kernel: "log" };
    expect(nadirError(() => forwardBackward(p, 1, bad)).code).toBe("E_ARG");
    expect(nadirError(() => gibbsProbability(p, Int32Array.of(0, 2), 1)).code).toBe("E_ARG");
    expect(nadirError(() => gibbsProbability(p, Int32Array.of(0), 1)).code).toBe("E_ARG");
    expect(
      nadirError(() => forwardBackward(p, 1, { constraints: { allowed: new Uint8Array(3) } })).code,
    ).toBe("E_ARG");
  });

  it("no labeling satisfies the constraints → E_UNSUPPORTED, for every kernel and freeEnergy", () => {
    const p = chainPotentials(3, 2, new Float64Array(6), new Float64Array(4));
    const cases: Constraints[] = [
      { allowed: Uint8Array.of(1, 1, 0, 0, 1, 1) },
      { forbiddenStart: Uint8Array.of(1, 1) },
      { forbiddenTransitions: Uint8Array.of(1, 1, 1, 1) },
      { allowed: Uint8Array.of(1, 0, 0, 1, 1, 1), forbiddenTransitions: Uint8Array.of(0, 1, 0, 0) },
    ];
    for (const c of cases) {
      for (const kernel of KERNELS) {
        const e = nadirError(() => forwardBackward(p, 1, { kernel, constraints: c }));
        expect(e.code).toBe("E_UNSUPPORTED");
        expect(e.message).toBe("forward-backward: no labeling satisfies the constraints");
      }
      expect(nadirError(() => freeEnergy(p, 1, c)).message).toBe(
        "forward-backward: no labeling satisfies the constraints",
      );
    }
  });

  it("pairwise: none → no pairwise work; sum → no per-position array; expectedEnergy needs the sum", () => {
    const p = uniformChain(new Rng(5), 4, 3, 2);
    const none = forwardBackward(p, 1, { pairwise: "none" });
    expect(none.pairwiseSum.length).toBe(0);
    expect(none.pairwise).toBeUndefined();
    expect(nadirError(() => expectedEnergy(p, none)).code).toBe("E_ARG");
    const sum = forwardBackward(p, 1);
    expect(sum.pairwise).toBeUndefined();
    expect(sum.pairwiseSum.length).toBe(9);
    const each = forwardBackward(p, 1, { pairwise: "each" });
    assertArrayClose(sum.pairwiseSum, each.pairwiseSum, 9, "sum vs each");
    assertArrayClose(none.unary, each.unary, 12, "none vs each");
    const q = uniformChain(new Rng(6), 5, 3, 2);
    expect(nadirError(() => expectedEnergy(q, sum)).code).toBe("E_ARG");
  });

  it("out: reused (grown, never shrunk) and equal to fresh results", () => {
    const rng = new Rng(11);
    const out = emptyChainMarginals();
    const big = uniformChain(rng, 9, 4, 3);
    const small = uniformChain(rng, 4, 4, 3);
    for (const kernel of ["log", "scaled"] as const) {
      const r1 = forwardBackward(big, 0.7, { kernel, pairwise: "each", out });
      expect(r1).toBe(out);
      const { unary, pairwiseSum, pairwise } = out;
      const r2 = forwardBackward(small, 0.7, { kernel, pairwise: "each", out });
      expect(r2).toBe(out);
      expect(out.unary).toBe(unary);
      expect(out.pairwiseSum).toBe(pairwiseSum);
      expect(out.pairwise).toBe(pairwise);
      expect([out.T, out.L, out.kernel]).toEqual([4, 4, kernel]);
      const fresh = forwardBackward(small, 0.7, { kernel, pairwise: "each" });
      expect(out.logZ).toBe(fresh.logZ);
      assertArrayClose(out.unary, fresh.unary, 16, "unary");
      assertArrayClose(out.pairwiseSum, fresh.pairwiseSum, 16, "pairwiseSum");
      assertArrayClose(out.pairwise!, fresh.pairwise!, 48, "pairwise");
      expect(expectedEnergy(small, out)).toBeCloseTo(expectedEnergy(small, fresh), 12);
    }
  });
});

describe("forward-backward against brute-force enumeration (T ≤ 6, L ≤ 4)", () => {
  it("log Z, F, unary / pairwise (each and sum) marginals, ⟨E⟩, H: every kernel, every β", () => {
    const scaledOk = new Map<number, number>(BETAS.map((b) => [b, 0]));
    let nonEmpty = 0;
    fc.assert(
      fc.property(chainArb(6, 4), ({ p }) => {
        const ranked = rankAll(p);
        if (p.T > 0) nonEmpty++;
        for (const beta of BETAS) {
          const o = chainGibbs(p, beta, undefined, ranked);
          assertCloseScalar(freeEnergy(p, beta), o.freeEnergy, `freeEnergy β=${beta}`);
          for (const kernel of KERNELS) {
            const m = run(p, beta, kernel);
            if (m === "underflow") continue;
            if (kernel === "scaled") scaledOk.set(beta, scaledOk.get(beta)! + 1);
            if (kernel === "auto" && p.T > 0 && beta <= 3) expect(m.kernel).toBe("scaled");
            checkAgainstOracle(p, beta, m, o, `${kernel} β=${beta}`);
          }
        }
      }),
      { seed: 4242, numRuns: RUNS },
    );
    // The scaled kernel never refuses at moderate β; at β = 100 (spreads of up to 2000 nats) it may.
    for (const beta of [0.01, 0.5, 1, 3]) expect(scaledOk.get(beta)).toBe(RUNS);
    // …but it accepts some non-empty chains there (small spreads) and is checked on them.
    expect(scaledOk.get(100)!).toBeGreaterThan(RUNS - nonEmpty + 20);
  });

  it("with random constraints: equal to enumeration over the allowed labelings", () => {
    const arb = chainArb(6, 4).chain((cc) =>
      chainConstraintsArb(cc.p.T, cc.p.L).map((c) => ({ ...cc, c })),
    );
    let infeasibleCases = 0;
    let feasibleCases = 0;
    fc.assert(
      fc.property(arb, ({ p, c }) => {
        const ranked = rankAll(p, c);
        if (ranked.length === 0) {
          infeasibleCases++;
          for (const kernel of KERNELS) {
            const e = nadirError(() => forwardBackward(p, 1, { kernel, constraints: c }));
            expect(e.code).toBe("E_UNSUPPORTED");
            expect(e.message).toMatch(/no labeling satisfies/);
          }
          expect(nadirError(() => freeEnergy(p, 1, c)).code).toBe("E_UNSUPPORTED");
          return;
        }
        feasibleCases++;
        for (const beta of BETAS) {
          const o = chainGibbs(p, beta, c, ranked);
          assertCloseScalar(freeEnergy(p, beta, c), o.freeEnergy, `freeEnergy β=${beta}`);
          for (const kernel of KERNELS) {
            const m = run(p, beta, kernel, c);
            if (m === "underflow") continue;
            checkAgainstOracle(p, beta, m, o, `${kernel} β=${beta}`);
          }
        }
      }),
      { seed: 5353, numRuns: RUNS },
    );
    expect(infeasibleCases).toBeGreaterThan(10);
    expect(feasibleCases).toBeGreaterThan(50);
  });

  it("marginals sum to 1 at every position and pairwise marginals sum to the unary ones", () => {
    const arb = chainArb(6, 4).chain((cc) =>
      fc.option(chainConstraintsArb(cc.p.T, cc.p.L), { nil: undefined }).map((c) => ({ ...cc, c })),
    );
    fc.assert(
      fc.property(arb, fc.constantFrom(...BETAS), ({ p, c }, beta) => {
        if (rankAll(p, c).length === 0) return;
        for (const kernel of KERNELS) {
          const m = run(p, beta, kernel, c);
          if (m !== "underflow") checkConsistency(p, m);
        }
      }),
      { seed: 6464, numRuns: RUNS },
    );
  });

  it("gibbsProbability sums to 1 over all labelings and matches the oracle", () => {
    fc.assert(
      fc.property(chainArb(6, 4), fc.constantFrom(...BETAS), ({ p }, beta) => {
        const o = chainGibbs(p, beta);
        const F = freeEnergy(p, beta);
        let s = 0;
        for (const y of allLabelings(domainsOf(p))) s += gibbsProbability(p, y, beta, F);
        assertClose(s, 1, "Σ P(y)", 0, 1e-9);
        for (const r of o.labelings.slice(0, 8)) {
          const lp = logGibbsProbability(p, r.labels, beta);
          assertClose(lp, r.logP, "log P(y)", REL, REL * (1 + beta * Math.abs(r.energy)));
          const tol = REL * (1 + beta * Math.abs(r.energy));
          assertClose(gibbsProbability(p, r.labels, beta), Math.exp(r.logP), "P(y)", tol, 0);
        }
      }),
      { seed: 7575, numRuns: RUNS },
    );
  });

  it("F_β → the Viterbi energy as β grows: E_min − log(L^T)/β ≤ F_β ≤ E_min, monotone in β", () => {
    const ladder = [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 1e4];
    const arb = chainArb(6, 4).chain((cc) =>
      fc.option(chainConstraintsArb(cc.p.T, cc.p.L), { nil: undefined }).map((c) => ({ ...cc, c })),
    );
    fc.assert(
      fc.property(arb, ({ p, c }) => {
        if (p.T === 0 || rankAll(p, c).length === 0) return;
        const eMin = viterbi(p, c).energy;
        const slack = 1e-9 * (1 + Math.abs(eMin));
        let prev = Number.NEGATIVE_INFINITY;
        for (const beta of ladder) {
          const F = freeEnergy(p, beta, c);
          expect(F).toBeLessThanOrEqual(eMin + slack);
          expect(F).toBeGreaterThanOrEqual(eMin - (p.T * Math.log(p.L)) / beta - slack);
          expect(F).toBeGreaterThanOrEqual(prev - slack);
          prev = F;
          const m = forwardBackward(p, beta, { constraints: c });
          assertClose(m.freeEnergy, F, `F β=${beta}`, REL, REL);
        }
      }),
      { seed: 8686, numRuns: RUNS },
    );
  });
});

describe("forward-backward: stability on long chains (T = 10,000, L = 20, energies of scale 100)", () => {
  const T = 10_000;
  const L = 20;
  const p = uniformChain(new Rng(2024), T, L, 100);
  const eMin = viterbi(p).energy;

  it.each([0.01, 1, 100])(
    "β = %s: finite, marginals in [0, 1] summing to 1, kernels agree",
    (beta) => {
      const log = forwardBackward(p, beta, { kernel: "log", pairwise: "each" });
      expect(log.kernel).toBe("log");
      expect(Number.isFinite(log.logZ)).toBe(true);
      checkConsistency(p, log, 1e-9);
      let s = 0;
      for (let i = 0; i < L * L; i++) s += log.pairwiseSum[i]!;
      assertClose(s, T - 1, "Σ pairwiseSum", 1e-12, 0);
      // F_β ≤ E_min ≤ F_β + log(L^T)/β
      expect(log.freeEnergy).toBeLessThanOrEqual(eMin + 1e-9 * Math.abs(eMin));
      expect(log.freeEnergy).toBeGreaterThanOrEqual(eMin - (T * Math.log(L)) / beta);
      assertClose(freeEnergy(p, beta), log.freeEnergy, "freeEnergy vs forwardBackward", 1e-12, 0);
      const auto = forwardBackward(p, beta, { pairwise: "each" });
      expect(Number.isFinite(auto.logZ)).toBe(true);
      checkConsistency(p, auto, 1e-9);
      if (beta === 100) {
        // exp(−β·ΔE) underflows: auto falls back to log; scaled alone refuses.
        expect(auto.kernel).toBe("log");
        expect(nadirError(() => forwardBackward(p, beta, { kernel: "scaled" })).message).toMatch(
          /scaled kernel underflows/,
        );
      } else {
        expect(auto.kernel).toBe("scaled");
      }
      assertClose(auto.logZ, log.logZ, "logZ", 1e-9, 0);
      assertArrayClose(auto.unary, log.unary, T * L, "unary");
      assertArrayClose(auto.pairwiseSum, log.pairwiseSum, L * L, "pairwiseSum");
      assertArrayClose(auto.pairwise!, log.pairwise!, (T - 1) * L * L, "pairwise");
      const h = entropy(p, log, beta);
      expect(Number.isFinite(h)).toBe(true);
      expect(h).toBeLessThanOrEqual(T * Math.log(L) * (1 + 1e-9));
    },
  );

  it("energies of magnitude ~1e3 at β = 100 (log Z ≈ 1e9): finite and sound", () => {
    const q = uniformChain(new Rng(77), T, L, 1000);
    const m = forwardBackward(q, 100, { pairwise: "each" });
    expect(m.kernel).toBe("log");
    expect(Number.isFinite(m.logZ)).toBe(true);
    checkConsistency(q, m, 1e-9);
    const e = viterbi(q).energy;
    expect(m.freeEnergy).toBeLessThanOrEqual(e + 1e-9 * Math.abs(e));
    expect(m.freeEnergy).toBeGreaterThanOrEqual(e - (T * Math.log(L)) / 100);
  });
});

describe("forward-backward: automatic fallback from the scaled kernel", () => {
  // Transitions favor 0 → 0, but the unaries force label 1 at t = 1: every
  // weight reaching t = 1 is exp(−1000) = 0 in probability space.
  const p = chainPotentials(
    3,
    2,
    Float64Array.of(0, 0, 10, 0, 0, 0),
    Float64Array.of(0, 10, 10, 10),
  );

  it("auto returns the log kernel's exact answer where scaled alone underflows", () => {
    const e = nadirError(() => forwardBackward(p, 100, { kernel: "scaled" }));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toMatch(/scaled kernel underflows/);
    const m = forwardBackward(p, 100, { pairwise: "each" });
    expect(m.kernel).toBe("log");
    checkAgainstOracle(p, 100, m, chainGibbs(p, 100), "auto β=100");
    checkConsistency(p, m);
    // At β = 1 the same chain is well within the scaled kernel's range.
    expect(forwardBackward(p, 1).kernel).toBe("scaled");
  });

  // Switching labels is forbidden; label 0 costs 1 in the second half, label 1 in the
  // first: two equally likely labelings. At t = 3 the forward mass sits on 0 and the
  // backward mass on 1, so Σ α̂β̂ ≈ 2·exp(−400) < 2⁻⁵⁰⁰ at β = 100 — though no factor
  // spans more than 100 nats (the scaled backward pass has already accumulated pairwise
  // marginals of t ≥ 4 when it gives up).
  const q = chainPotentials(
    8,
    2,
    Float64Array.of(0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0),
    new Float64Array(4),
  );
  const c: Constraints = { forbiddenTransitions: Uint8Array.of(0, 1, 1, 0) };

  it("falls back when a normalizer underflows although every factor's spread is small", () => {
    expect(
      nadirError(() => forwardBackward(q, 100, { kernel: "scaled", constraints: c })).message,
    ).toMatch(/scaled kernel underflows/);
    const m = forwardBackward(q, 100, { pairwise: "each", constraints: c });
    expect(m.kernel).toBe("log");
    checkAgainstOracle(q, 100, m, chainGibbs(q, 100, c), "auto β=100");
    for (let i = 0; i < 16; i++) assertClose(m.unary[i]!, 0.5, "unary", 1e-12, 0);
    assertClose(m.logZ, Math.LN2 - 400, "logZ", 1e-14, 0);
    expect(forwardBackward(q, 1, { constraints: c }).kernel).toBe("scaled");
  });

  it("a reused out is correct after a failed scaled attempt (pairwiseSum re-zeroed)", () => {
    const out = emptyChainMarginals();
    for (const pairwise of ["sum", "each"] as const) {
      forwardBackward(q, 100, { pairwise, constraints: c, out });
      expect(out.kernel).toBe("log");
      for (let i = 0; i < 4; i++)
        assertClose(out.pairwiseSum[i]!, i === 0 || i === 3 ? 3.5 : 0, "Σ pairwise", 1e-12, 0);
    }
    checkAgainstOracle(q, 100, out, chainGibbs(q, 100, c), "out β=100");
  });
});
