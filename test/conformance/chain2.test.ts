/** Second-order chains: exact decoding, the most offending answer and the factor-graph conversion against brute force. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Chain2Potentials,
  chain2Energy,
  chain2ToFactorGraph,
} from "../../src/graph/chain2.ts";
import { bpBackend } from "../../src/inference/bp.ts";
import { mostOffending2, viterbi2 } from "../../src/inference/viterbi2.ts";
import { allLabelings } from "../oracles/brute-force.ts";
import { chainArb, energyArb, type Mode } from "./arbitraries.ts";

const chain2Arb = chainArb(6, 4).chain(({ p, mode }) =>
  fc
    .array(energyArb(mode as Mode), { minLength: p.L ** 3, maxLength: p.L ** 3 })
    .map((a): { q: Chain2Potentials; mode: Mode } => ({
      q: { kind: "chain2", chain: p, transition2: Float64Array.from(a) },
      mode,
    })),
);

function close(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function brute(q: Chain2Potentials, keep: (y: Int32Array) => boolean = () => true): number {
  let best = Number.POSITIVE_INFINITY;
  for (const y of allLabelings(new Array(q.chain.T).fill(q.chain.L)))
    if (keep(y)) best = Math.min(best, chain2Energy(q, y));
  return best;
}

describe("second-order Viterbi", () => {
  it("equals the exhaustive minimum on 600 random second-order chains (T ≤ 6, L ≤ 4)", () => {
    fc.assert(
      fc.property(chain2Arb, ({ q }) => {
        const r = viterbi2(q);
        expect(close(r.energy, chain2Energy(q, r.labels))).toBe(true);
        expect(close(r.energy, q.chain.T === 0 ? 0 : brute(q))).toBe(true);
      }),
      { seed: 2024, numRuns: 600 },
    );
  });

  it("honors allowed masks (clamping) exactly", () => {
    fc.assert(
      fc.property(chain2Arb, fc.integer({ min: 0, max: 2 ** 30 }), ({ q }, bits) => {
        const { T, L } = q.chain;
        const allowed = new Uint8Array(T * L);
        for (let i = 0; i < T * L; i++)
          allowed[i] = (bits >> (i % 30)) & 1 || i % L === (bits & 3) % L ? 1 : 0;
        const want = brute(q, (y) => y.every((l, t) => allowed[t * L + l] === 1));
        if (want === Number.POSITIVE_INFINITY) {
          expect(() => viterbi2(q, { allowed })).toThrow(/no labeling/);
          return;
        }
        const r = viterbi2(q, { allowed });
        expect(close(r.energy, want)).toBe(true);
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it("most offending incorrect answer equals brute force over Y ≠ gold", () => {
    fc.assert(
      fc.property(chain2Arb, fc.integer({ min: 0, max: 1e9 }), ({ q }, g) => {
        const { T, L } = q.chain;
        const gold = Int32Array.from({ length: T }, (_, t) => Math.floor(g / (t + 1)) % L);
        const want = brute(q, (y) => y.some((l, t) => l !== gold[t]));
        const r = mostOffending2(q, gold);
        if (want === Number.POSITIVE_INFINITY) expect(r).toBeNull();
        else {
          expect(r).not.toBeNull();
          expect(r!.labels.some((l, t) => l !== gold[t])).toBe(true);
          expect(close(r!.energy, want)).toBe(true);
        }
      }),
      { seed: 11, numRuns: 400 },
    );
  });

  it("the factor-graph conversion gives the same energies, and BP's labeling is never below the minimum", () => {
    fc.assert(
      fc.property(chain2Arb, ({ q }) => {
        if (q.chain.T === 0) return;
        const g = chain2ToFactorGraph(q);
        for (const y of allLabelings(new Array(q.chain.T).fill(q.chain.L)).slice(0, 50)) {
          expect(close(g.energy(y), chain2Energy(q, y))).toBe(true);
        }
        const r = bpBackend.minimize(g);
        expect(r.energy).toBeGreaterThanOrEqual(brute(q) - 1e-9);
      }),
      { seed: 5, numRuns: 300 },
    );
  });
});
