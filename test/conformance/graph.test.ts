/**
 * Conformance on general factor graphs (arity 0…3, mixed domain sizes): every
 * backend of BACKENDS that claims graphs ("tree" or "all") must match the
 * brute-force oracle on the graphs it claims; the others must refuse graphs
 * with a reason.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { topology } from "../../src/graph/topology.ts";
import { hasKBest } from "../../src/inference/registry.ts";
import { oracleEnergy, rankAll } from "../oracles/brute-force.ts";
import { graphArb, graphConstraintsArb, sameEnergy } from "./arbitraries.ts";
import { BACKENDS } from "./backends.ts";

function key(y: Int32Array): string {
  return Array.from(y).join(",");
}

describe.each(BACKENDS)("conformance on factor graphs: $backend.name", (entry) => {
  const b = entry.backend;
  const claims = (g: Parameters<typeof topology>[0]) =>
    entry.graphs === "all" || (entry.graphs === "tree" && topology(g) !== "loopy");

  it("graph energy matches the oracle (ndarray views) on every labeling", () => {
    fc.assert(
      fc.property(graphArb(), ({ mode, g }) => {
        for (const r of rankAll(g)) {
          expect(sameEnergy(mode, g.energy(r.labels), r.energy)).toBe(true);
        }
      }),
      { seed: 7001, numRuns: 200 },
    );
  });

  it("minimize (with random allowed masks) equals the oracle, or refuses with a reason", () => {
    const arb = graphArb().chain((gc) => graphConstraintsArb(gc.g).map((c) => ({ ...gc, c })));
    fc.assert(
      fc.property(arb, ({ mode, g, c }) => {
        if (!claims(g)) {
          expect(typeof b.supports(g)).toBe("string");
          return;
        }
        expect(b.supports(g)).toBeNull();
        const cc = entry.constraints ? c : undefined;
        const ranked = rankAll(g, cc);
        if (ranked.length === 0) {
          expect(() => b.minimize(g, cc)).toThrow(NadirError);
          return;
        }
        const r = b.minimize(g, cc);
        g.checkLabels(r.labels);
        expect(sameEnergy(mode, r.energy, ranked[0]!.energy)).toBe(true);
        expect(sameEnergy(mode, oracleEnergy(g, r.labels), r.energy)).toBe(true);
        if (entry.lexTies && mode !== "real") expect(key(r.labels)).toBe(key(ranked[0]!.labels));
      }),
      { seed: 7002, numRuns: 500 },
    );
  });

  it.runIf(hasKBest(b))("k-best equals the oracle's k lowest", () => {
    if (!hasKBest(b)) return;
    fc.assert(
      fc.property(graphArb(), fc.integer({ min: 1, max: 10 }), ({ mode, g }, k) => {
        if (!claims(g)) return;
        const ranked = rankAll(g);
        const rs = b.kbest(g, k);
        expect(rs.length).toBe(Math.min(k, ranked.length));
        rs.forEach((r, i) => {
          expect(sameEnergy(mode, r.energy, ranked[i]!.energy)).toBe(true);
          if (entry.lexTies && mode !== "real") expect(key(r.labels)).toBe(key(ranked[i]!.labels));
        });
        expect(new Set(rs.map((r) => key(r.labels))).size).toBe(rs.length);
      }),
      { seed: 7003, numRuns: 300 },
    );
  });
});
