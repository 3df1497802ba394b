/**
 * The grid energy: features, the factor graph against the direct formula,
 * graph cuts against exhaustive search on tiny grids (3×3, 4- and
 * 8-connected, with and without loss augmentation), the refusal of
 * non-submodular weights, and the gradient.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GrayImage, grayImage } from "../../src/data/image.ts";
import { exhaustiveMinimize } from "../../src/inference/exhaustive.ts";
import { mincutBackend } from "../../src/inference/mincut/construct.ts";
import {
  accumulateGrid,
  GridCut,
  gridEnergy,
  gridFactorGraph,
  gridInstance,
  gridWeightNames,
} from "../../src/segment/grid.ts";
import { type GridSpec, parseGridSpec } from "../../src/segment/spec.ts";
import { nadirError } from "../fixtures/helpers.ts";

function gridSpec(o: Record<string, unknown> = {}): GridSpec {
  return parseGridSpec(
    { name: "t", connectivity: 8, features: ["bias", "x", "x^2", "mean(1)", "std(1)"], ...o },
    "<test grid>",
  );
}

const SPECS = [
  gridSpec({ connectivity: 4 }),
  gridSpec({ connectivity: 8 }),
  gridSpec({ connectivity: 8, pairwise: { sigma: 0.3, diagonal: 1 } }),
  gridSpec({ connectivity: 4, pairwise: { contrast: false } }),
];

function imageArb(maxW: number, maxH: number, minW = 1, minH = 1): fc.Arbitrary<GrayImage> {
  return fc
    .record({
      w: fc.integer({ min: minW, max: maxW }),
      h: fc.integer({ min: minH, max: maxH }),
    })
    .chain(({ w, h }) =>
      fc
        .array(fc.integer({ min: 0, max: 255 }), { minLength: w * h, maxLength: w * h })
        .map((v) => grayImage(w, h, 255, Uint16Array.from(v))),
    );
}

const real = fc.double({ min: -3, max: 3, noNaN: true });
const nonneg = fc.double({ min: 0, max: 3, noNaN: true });

/** Weights for a spec: any unary weights, w_potts and w_const ≥ 0. */
function weightsArb(spec: GridSpec): fc.Arbitrary<Float64Array> {
  const F = spec.features.length;
  return fc
    .tuple(fc.array(real, { minLength: 2 * F, maxLength: 2 * F }), nonneg, nonneg)
    .map(([u, a, b]) => Float64Array.from([...u, a, b]));
}

const close = (a: number, b: number) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

describe("grid features and edges", () => {
  it("computes bias, x, x², window means and spreads (clipped at the border)", () => {
    const img = grayImage(3, 2, 10, Uint16Array.from([0, 10, 5, 10, 0, 5]));
    const inst = gridInstance(img, gridSpec({ connectivity: 4 }));
    const F = 5;
    const row = (p: number) => Array.from(inst.phi.subarray(p * F, (p + 1) * F));
    // pixel 0 (x = 0): window {0, 1, 3, 4} → x 0, 1, 1, 0
    expect(row(0)).toEqual([1, 0, 0, 0.5, 0.5]);
    // pixel 1 (x = 1): window is the whole image: mean 0.5, E[x²] = 2.5/6
    const r1 = row(1);
    expect(r1.slice(0, 3)).toEqual([1, 1, 1]);
    expect(r1[3]).toBeCloseTo(0.5, 12);
    expect(r1[4]).toBeCloseTo(Math.sqrt(2.5 / 6 - 0.25), 12);
  });

  it("lists each edge once: 4-connected (w−1)h + w(h−1), 8-connected plus 2(w−1)(h−1)", () => {
    const img = grayImage(5, 4, 255);
    const i4 = gridInstance(img, gridSpec({ connectivity: 4 }));
    const i8 = gridInstance(img, gridSpec({ connectivity: 8 }));
    expect(i4.edgeP.length).toBe(4 * 4 + 5 * 3);
    expect(i8.edgeP.length).toBe(4 * 4 + 5 * 3 + 2 * 4 * 3);
    const keys = new Set<string>();
    for (let e = 0; e < i8.edgeP.length; e++) {
      const p = i8.edgeP[e]!;
      const q = i8.edgeQ[e]!;
      const dx = Math.abs((p % 5) - (q % 5));
      const dy = Math.abs(Math.floor(p / 5) - Math.floor(q / 5));
      expect(dx <= 1 && dy <= 1 && p < q).toBe(true);
      expect(i8.cConst[e]).toBeCloseTo(dx + dy === 2 ? Math.SQRT1_2 : 1, 15);
      keys.add(`${p},${q}`);
    }
    expect(keys.size).toBe(i8.edgeP.length);
    // A flat image: σ = 0 and every contrast term is 1 (times g).
    expect(Array.from(i8.cPotts)).toEqual(Array.from(i8.cConst));
  });

  it("uses σ² = mean squared neighbor difference with sigma auto", () => {
    const img = grayImage(2, 1, 1, Uint16Array.from([0, 1]));
    const inst = gridInstance(img, gridSpec({ connectivity: 4 }));
    expect(inst.sigma).toBe(1);
    expect(inst.cPotts[0]).toBeCloseTo(Math.exp(-0.5), 15);
  });
});

describe("the grid energy as a factor graph", () => {
  it("equals the direct formula on every labeling tried", () => {
    for (const [s, spec] of SPECS.entries()) {
      fc.assert(
        fc.property(
          imageArb(6, 5).chain((img) =>
            fc.tuple(
              fc.constant(img),
              weightsArb(spec),
              fc.array(
                fc.array(fc.integer({ min: 0, max: 1 }), {
                  minLength: img.width * img.height,
                  maxLength: img.width * img.height,
                }),
                { minLength: 1, maxLength: 4 },
              ),
            ),
          ),
          ([img, W, ys]) => {
            const inst = gridInstance(img, spec);
            const g = gridFactorGraph(inst, W);
            expect(g.nVars).toBe(inst.P);
            expect(g.nFactors).toBe(inst.P + inst.edgeP.length);
            for (const y of ys) close(g.energy(y), gridEnergy(inst, W, y));
          },
        ),
        { seed: 5200 + s, numRuns: 100 },
      );
    }
  });
});

describe("graph-cut segmentation", () => {
  it("equals exhaustive search on 3×3 grids (and the mincut backend on the factor graph)", () => {
    const cut = new GridCut();
    for (const [s, spec] of SPECS.entries()) {
      fc.assert(
        fc.property(
          imageArb(3, 3, 3, 3),
          weightsArb(spec),
          fc.option(
            fc.tuple(
              fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 9, maxLength: 9 }),
              fc.double({ min: 0, max: 2, noNaN: true }),
            ),
          ),
          (img, W, aug) => {
            const inst = gridInstance(img, spec);
            const gold = aug ? Uint8Array.from(aug[0]) : undefined;
            const r = cut.minimize(inst, W, gold ? { gold, margin: aug![1] } : undefined);
            // Exhaustive over all 512 labelings of the (augmented) energy.
            let best = Number.POSITIVE_INFINITY;
            const y = new Uint8Array(9);
            const augE = (lab: Uint8Array) => {
              let e = gridEnergy(inst, W, lab);
              if (gold) for (let p = 0; p < 9; p++) if (lab[p] !== gold[p]) e -= aug![1];
              return e;
            };
            for (let m = 0; m < 512; m++) {
              for (let p = 0; p < 9; p++) y[p] = (m >> p) & 1;
              best = Math.min(best, augE(y));
            }
            close(augE(r.labels), best);
            close(r.energy, gridEnergy(inst, W, r.labels));
            if (!gold) {
              const g = gridFactorGraph(inst, W);
              close(mincutBackend.minimize(g).energy, best);
              close(exhaustiveMinimize(g).energy, best);
            }
          },
        ),
        { seed: 5210 + s, numRuns: 150 },
      );
    }
  });

  it("refuses weights that make an edge non-submodular", () => {
    const spec = gridSpec({ connectivity: 4 });
    const inst = gridInstance(grayImage(2, 2, 255, Uint16Array.from([0, 50, 100, 255])), spec);
    const W = new Float64Array(gridWeightNames(spec).length);
    W[W.length - 1] = -1;
    const e = nadirError(() => new GridCut().minimize(inst, W));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toContain("is not submodular");
    expect(nadirError(() => new GridCut().minimize(inst, new Float64Array(3))).code).toBe("E_ARG");
  });
});

describe("the gradient", () => {
  it("is exact: E is linear in W, so E(W + e_k) − E(W) = ∂E/∂W_k", () => {
    const spec = SPECS[1]!;
    fc.assert(
      fc.property(
        imageArb(5, 4).chain((img) =>
          fc.tuple(
            fc.constant(img),
            weightsArb(spec),
            fc.array(fc.integer({ min: 0, max: 1 }), {
              minLength: img.width * img.height,
              maxLength: img.width * img.height,
            }),
          ),
        ),
        ([img, W, y]) => {
          const inst = gridInstance(img, spec);
          const grad = new Float64Array(W.length);
          accumulateGrid(inst, y, 1, grad);
          const e0 = gridEnergy(inst, W, y);
          for (let k = 0; k < W.length; k++) {
            const W1 = Float64Array.from(W);
            W1[k] = W1[k]! + 1;
            close(gridEnergy(inst, W1, y) - e0, grad[k]!);
          }
        },
      ),
      { seed: 5220, numRuns: 60 },
    );
  });
});
