/**
 * The grid as a Structure, against enumeration on tiny random images (seeded
 * fast-check): per-pixel energies, the minimum cut and the loss-augmented cut
 * against brute force, the same answers through the exhaustive backend, and
 * both accumulations along random directions of W (the energy is linear in W).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import { grayImage } from "../../src/data/image.ts";
import { exhaustiveBackend } from "../../src/inference/exhaustive.ts";
import { mincutBackend } from "../../src/inference/mincut/construct.ts";
import { gridEnergy, gridInstance } from "../../src/segment/grid.ts";
import { gridItem, gridStructures } from "../../src/segment/grid-structure.ts";
import { parseGridSpec } from "../../src/segment/spec.ts";

const spec = parseGridSpec(
  { name: "t", connectivity: 8, features: ["bias", "x", "mean(1)"] },
  "<test grid>",
);

function allMasks(P: number): Int32Array[] {
  return Array.from({ length: 1 << P }, (_, m) =>
    Int32Array.from({ length: P }, (_, p) => (m >> p) & 1),
  );
}

const hamming = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
};

const caseArb = fc.record({
  w: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  exhaustive: fc.boolean(),
});

describe("the grid structure", () => {
  it("answers energy, argmin and the loss-augmented answer exactly, and accumulates ∂E/∂W", () => {
    fc.assert(
      fc.property(caseArb, ({ w, h, seed, exhaustive }) => {
        const rng = new Rng(seed);
        const img = grayImage(
          w,
          h,
          255,
          Uint16Array.from({ length: w * h }, () => rng.int(256)),
        );
        const inst = gridInstance(img, spec);
        const K = 2 * spec.features.length + 2;
        // unary weights of any sign; w_potts, w_const ≥ 0 (submodular)
        const W = Float64Array.from({ length: K }, (_, k) =>
          k < K - 2 ? rng.normal() : Math.abs(rng.normal()),
        );
        const gold = Uint8Array.from({ length: inst.P }, () => rng.int(2));
        const x = gridItem(inst, gold);
        const st = gridStructures(exhaustive ? exhaustiveBackend : mincutBackend, {
          marginals: "meanfield",
        }).of(x);
        st.bind(x, W, 1);
        const P = inst.P;
        const ys = allMasks(P);
        const E = ys.map((y) => gridEnergy(inst, W, y) / P);
        for (let i = 0; i < ys.length; i++) expect(st.energy(ys[i]!)).toBeCloseTo(E[i]!, 9);
        const out = new Int32Array(P);
        expect(st.argmin(undefined, out)).toBeCloseTo(Math.min(...E), 9);
        expect(st.energy(out)).toBeCloseTo(Math.min(...E), 9);
        const m = 0.6;
        const aug = Math.min(...ys.map((y, i) => E[i]! - (m * hamming(y, gold)) / P));
        // the structure's margin is per labeling: −m·Δ in energy units, then per pixel
        const ea = st.augmented(x.labels, m, undefined, out);
        expect(ea).toBeCloseTo(aug, 9);

        const d = Float64Array.from({ length: K }, () => rng.normal());
        const zero = new Float64Array(K);
        const dir = (y: ArrayLike<number>) =>
          (gridEnergy(inst, d, y) - gridEnergy(inst, zero, y)) / P;
        const grad = new Float64Array(K);
        st.accumulate(x.labels, 1, out, -0.5, grad);
        const got = grad.reduce((s, g, k) => s + g * d[k]!, 0);
        expect(got).toBeCloseTo(dir(x.labels) - 0.5 * dir(out), 8);
      }),
      { seed: 20261203, numRuns: 200 },
    );
  });

  it("the free energy by mean field is an upper bound on the exact one, per pixel", () => {
    const rng = new Rng(5);
    const img = grayImage(
      3,
      2,
      255,
      Uint16Array.from({ length: 6 }, () => rng.int(256)),
    );
    const inst = gridInstance(img, spec);
    const W = Float64Array.from([0.3, -0.2, 0.1, 0.4, -0.5, 0.2, 0.7, 0.1]);
    const x = gridItem(inst, new Uint8Array(6));
    const st = gridStructures(mincutBackend, { marginals: "meanfield" }).of(x);
    st.bind(x, W, 1);
    const E = allMasks(6).map((y) => gridEnergy(inst, W, y));
    const lo = Math.min(...E);
    const exact = (lo - Math.log(E.reduce((s, e) => s + Math.exp(-(e - lo)), 0))) / 6;
    expect(st.marginals(1, undefined, true)).toBeGreaterThanOrEqual(exact - 1e-9);
  });
});
