import { inflateSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { encodePng } from "../../src/data/image.ts";
import {
  type CollapseResult,
  DEFAULT_COLLAPSE,
  grid,
  type Metrics,
  runCollapse,
} from "../../src/regress/collapse.ts";
import { energyPanels } from "../../src/regress/plot.ts";

/**
 * The qualitative collapse result, at small settings (seed 1, 200 train X,
 * 50 test X, a 101-point Y grid on [−1.5, 1.5], 200 epochs; ~6 s):
 * - the energy loss collapses: over the targets' range Y ∈ [0, 1] its surface
 *   is flat (spread < 0.15, measured 0.08; square-square 0.92, NLL 2.05), and
 *   test MSE > 0.05 (predicting the mean of X² already gives ≈ 0.089); over
 *   the whole grid [−1.5, 1.5], never trained outside [0, 1], spread < 1;
 * - square-square and NLL learn Y = X²: test MSE < 0.01, spread > 3× the
 *   energy loss's (over the grid and over [0, 1]).
 */
describe("collapse experiment", () => {
  let results: CollapseResult[] = [];
  let by: Record<string, Metrics> = {};
  beforeAll(() => {
    results = runCollapse({ ...DEFAULT_COLLAPSE, gridN: 101, nTest: 50 });
    by = Object.fromEntries(results.map((r) => [r.loss, r.metrics]));
  });

  it("the energy loss collapses", () => {
    expect(by.energy!.spreadData).toBeLessThan(0.15);
    expect(by.energy!.spread).toBeLessThan(1);
    expect(by.energy!.mse).toBeGreaterThan(0.05);
  });

  it("square-square and NLL do not", () => {
    for (const loss of ["square-square", "nll"]) {
      expect(by[loss]!.mse).toBeLessThan(0.01);
      expect(by[loss]!.spread).toBeGreaterThan(3 * by.energy!.spread);
      expect(by[loss]!.spreadData).toBeGreaterThan(5 * by.energy!.spreadData);
    }
  });

  it("grid inference finds Y ≈ X² for the square-square model", () => {
    const ss = results.find((r) => r.loss === "square-square")!.model;
    const ys = grid({ ...DEFAULT_COLLAPSE, gridN: 101 });
    for (const x of [-0.8, -0.3, 0.5, 0.9])
      expect(Math.abs(ss.infer(x, ys) - x * x)).toBeLessThan(0.1);
  });

  it("writes a valid grayscale PNG of the three panels", () => {
    const img = energyPanels(
      results.map((r) => r.model),
      21,
      2,
    );
    expect(img.width).toBe(3 * 21 + 2 * 2);
    const png = encodePng(img);
    expect(Array.from(png.subarray(0, 8))).toEqual([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    ]);
    expect(png.readUInt32BE(16)).toBe(img.width);
    expect(png.readUInt32BE(20)).toBe(img.height);
    expect(png[24]).toBe(8);
    expect(png[25]).toBe(0);
    const idatLen = png.readUInt32BE(33);
    expect(png.toString("latin1", 37, 41)).toBe("IDAT");
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe((img.width + 1) * img.height);
    expect(raw[1 + 3]).toBe(img.data[3]);
    expect(png.subarray(-12, -4).toString("latin1", 4)).toBe("IEND");
  });
});
