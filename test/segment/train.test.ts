/**
 * Training the grid energy through graph cuts on synthetic data: noisy
 * copies of squares (flip noise), and dark squares under Gaussian noise. The
 * hinge loss goes down, and the trained model restores an unseen noisy copy
 * (its own noise seed) far better than the noisy input. Also: the image
 * utilities (noise, Otsu, IoU, montage) and grid model files.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import { type BitImage, grayImage, maskToGray } from "../../src/data/image.ts";
import { LOSS_NAMES, makeLoss } from "../../src/loss/losses.ts";
import { accumulateGrid, GridCut, gridEnergy, gridInstance } from "../../src/segment/grid.ts";
import {
  darkMask,
  flipNoise,
  gaussianNoise,
  iou,
  montage,
  otsuThreshold,
  pixelError,
} from "../../src/segment/images.ts";
import { GridModel } from "../../src/segment/model.ts";
import { GRID_TRAIN_DEFAULTS, gridTrainOptions, parseGridSpec } from "../../src/segment/spec.ts";
import { type GridExample, gridLoss, trainGrid } from "../../src/segment/train.ts";
import { nadirError, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const spec = parseGridSpec(
  {
    name: "test-grid",
    connectivity: 8,
    features: ["bias", "x", "mean(1)", "mean(2)"],
    train: { epochs: 12 },
  },
  "<test grid>",
);

/** A w×h mask with the square [x0, x1) × [y0, y1) set. */
function square(w: number, h: number, x0: number, y0: number, x1: number, y1: number): BitImage {
  const data = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * w + x] = 1;
  return { width: w, height: h, data };
}

const SQUARES = [
  square(32, 32, 8, 8, 24, 24),
  square(32, 32, 2, 10, 20, 28),
  square(32, 32, 12, 3, 30, 17),
];

describe("image utilities", () => {
  it("flip noise flips about p of the pixels, reproducibly by seed", () => {
    const m = square(100, 100, 0, 0, 50, 100);
    const a = flipNoise(m, 0.2, new Rng(7));
    expect(pixelError(a.data, m.data)).toBeGreaterThan(0.18);
    expect(pixelError(a.data, m.data)).toBeLessThan(0.22);
    expect(flipNoise(m, 0.2, new Rng(7))).toEqual(a);
    expect(flipNoise(m, 0.2, new Rng(8))).not.toEqual(a);
    expect(nadirError(() => flipNoise(m, 1.5, new Rng(1))).code).toBe("E_ARG");
  });

  it("Otsu splits a two-level image between its levels; dark pixels are foreground", () => {
    const img = grayImage(4, 1, 255, Uint16Array.from([20, 30, 200, 210]));
    const t = otsuThreshold(img);
    expect(t).toBeGreaterThan(30);
    expect(t).toBeLessThanOrEqual(200);
    expect(Array.from(darkMask(img, t).data)).toEqual([1, 1, 0, 0]);
  });

  it("IoU and pixel error", () => {
    expect(iou([1, 1, 0, 0], [1, 0, 1, 0])).toBeCloseTo(1 / 3, 15);
    expect(iou([0, 0], [0, 0])).toBe(1);
    expect(pixelError([1, 1, 0, 0], [1, 0, 1, 0])).toBe(0.5);
    expect(nadirError(() => iou([1], [1, 0])).code).toBe("E_ARG");
  });

  it("montage places tiles side by side with gaps", () => {
    const a = grayImage(2, 1, 1, Uint16Array.from([0, 1]));
    const m = montage([[a, a], [a]], 1, 9);
    expect([m.width, m.height]).toEqual([5, 3]);
    expect(Array.from(m.data)).toEqual([0, 255, 9, 0, 255, 9, 9, 9, 9, 9, 0, 255, 9, 9, 9]);
  });
});

describe("trainGrid", () => {
  it("denoising noisy squares: the hinge loss falls and an unseen noisy copy is restored", () => {
    const train: GridExample[] = [];
    SQUARES.forEach((m, i) => {
      for (const seed of [10 + i, 20 + i]) {
        train.push({
          inst: gridInstance(maskToGray(flipNoise(m, 0.2, new Rng(seed)), 1), spec),
          gold: m.data,
        });
      }
    });
    const seen: number[] = [];
    const r = trainGrid(spec, train, {}, (e) => seen.push(e.loss));
    expect(r.reports).toHaveLength(12);
    expect(seen).toEqual(r.reports.map((e) => e.loss));
    expect(r.reports[0]!.lossName).toBe("hinge");
    const first = r.reports[0]!;
    const last = r.reports[r.reports.length - 1]!;
    expect(last.loss).toBeLessThan(0.6 * first.loss);
    expect(last.error).toBeLessThan(first.error + 1e-12);
    expect(last.objective).toBeGreaterThanOrEqual(last.loss);
    // The pairwise weights stay ≥ 0 and a smoothing term was learned.
    const F = spec.features.length;
    expect(r.W[2 * F]!).toBeGreaterThanOrEqual(0);
    expect(r.W[2 * F + 1]!).toBeGreaterThanOrEqual(0);
    expect(r.W[2 * F]! + r.W[2 * F + 1]!).toBeGreaterThan(0);
    // The hinge at the zero weights is the margin per pixel (every pixel flipped).
    expect(gridLoss(train, new Float64Array(r.W.length), { margin: 1 }).loss).toBeCloseTo(1, 12);

    // A test square and noise seed never seen in training.
    const truth = square(32, 32, 5, 6, 27, 22);
    const noisy = flipNoise(truth, 0.2, new Rng(999));
    const model = new GridModel(spec, r.W);
    const restored = model.segment(maskToGray(noisy, 1)).mask;
    const before = iou(noisy.data, truth.data);
    const after = iou(restored.data, truth.data);
    expect(before).toBeLessThan(0.75);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before + 0.2);
  });

  it("segmenting dark squares under Gaussian noise", () => {
    const train: GridExample[] = SQUARES.map((m, i) => ({
      inst: gridInstance(gaussianNoise(maskToGray(m), 0.4, new Rng(40 + i)), spec),
      gold: m.data,
    }));
    const r = trainGrid(spec, train, { epochs: 15 });
    expect(r.reports[14]!.loss).toBeLessThan(r.reports[0]!.loss);
    const truth = square(32, 32, 5, 6, 27, 22);
    const img = gaussianNoise(maskToGray(truth), 0.4, new Rng(77));
    const seg = new GridModel(spec, r.W).segment(img).mask;
    const thresholded = darkMask(img, 128);
    expect(iou(seg.data, truth.data)).toBeGreaterThan(0.9);
    expect(iou(seg.data, truth.data)).toBeGreaterThan(iou(thresholded.data, truth.data));
  });

  it("rejects bad input", () => {
    expect(nadirError(() => trainGrid(spec, [])).code).toBe("E_ARG");
    const inst = gridInstance(grayImage(2, 2, 255), spec);
    expect(
      nadirError(() => trainGrid(spec, [{ inst, gold: new Uint8Array(3) }])).message,
    ).toContain("expected 4 gold labels, got 3");
    expect(
      nadirError(() => trainGrid(spec, [{ inst, gold: new Uint8Array(4) }], { epochs: 0 })).code,
    ).toBe("E_ARG");
  });
});

describe("GridModel files", () => {
  const W = Float64Array.from(
    { length: 2 * spec.features.length + 2 },
    (_, k) => (k % 3) - 0.5 + k / 7,
  );

  it("round-trips spec and weights exactly", () => {
    const path = join(tmp.dir, "g.json");
    new GridModel(spec, W, { note: "x" }).save(path);
    const m = GridModel.load(path);
    expect(Array.from(m.W)).toEqual(Array.from(W));
    expect(m.spec.features.map((f) => f.name)).toEqual(["bias", "x", "mean(1)", "mean(2)"]);
    expect(m.spec.connectivity).toBe(8);
    expect(m.info).toEqual({ note: "x" });
  });

  /** A version 1 file (one JSON object with its SHA-256), as the previous writer made it. */
  const v1Text = (m: GridModel): string => {
    const body = {
      format: "nadir-grid-model",
      version: 1,
      spec: m.spec.source,
      weights: m.weights(),
      info: m.info,
    };
    const checksum = `sha256:${createHash("sha256").update(JSON.stringify(body)).digest("hex")}`;
    return `${JSON.stringify({ ...body, checksum }, null, 1)}\n`;
  };

  it("version 1 (JSON) files still load, and refuse modified, truncated, foreign or newer ones", () => {
    const text = v1Text(new GridModel(spec, W, { note: "v1" }));
    const bad = (name: string, content: string) => {
      const p = join(tmp.dir, name);
      writeFileSync(p, content);
      const e = nadirError(() => GridModel.load(p));
      expect(e.code).toBe("E_MODEL");
      return e.message;
    };
    const ok = join(tmp.dir, "v1.json");
    writeFileSync(ok, text);
    const m = GridModel.load(ok);
    expect(Array.from(m.W)).toEqual(Array.from(W));
    expect(m.info).toEqual({ note: "v1" });
    expect(text).toContain('"bias[0]": -0.5');
    expect(bad("m1.json", text.replace('"bias[0]": -0.5', '"bias[0]": -0.25'))).toContain(
      "checksum mismatch",
    );
    expect(bad("m2.json", text.slice(0, text.length / 2))).toContain("truncated or corrupt");
    expect(bad("m3.json", text.replace('"version": 1', '"version": 2'))).toContain(
      "expected version 1 (JSON) or a NADIRGRD file, got version 2",
    );
    expect(bad("m4.json", "{}")).toContain('expected format "nadir-grid-model"');
    expect(nadirError(() => GridModel.load(join(tmp.dir, "none.json"))).message).toContain(
      "no such file",
    );
  });

  it("container files refuse every changed byte, truncation and a newer version", () => {
    const bytes = Buffer.from(new GridModel(spec, W, { note: "x" }).toBytes());
    expect(bytes.toString("latin1", 0, 8)).toBe("NADIRGRD");
    for (let i = 0; i < bytes.length; i++) {
      const b = Buffer.from(bytes);
      b[i] = b[i]! ^ 0x04;
      const e = nadirError(() => GridModel.fromBytes(b, "g.model"));
      expect(e.code).toBe("E_MODEL");
      expect(e.file).toBe("g.model");
    }
    expect(nadirError(() => GridModel.fromBytes(bytes.subarray(0, 40))).code).toBe("E_MODEL");
    const newer = Buffer.from(bytes);
    newer.writeUInt32LE(3, 8);
    expect(nadirError(() => GridModel.fromBytes(newer)).message).toContain(
      "expected version 2, got 3",
    );
  });
});

describe("segmentation memory guard", () => {
  const W = Float64Array.from({ length: 2 * spec.features.length + 2 }, (_, k) => (k % 3) - 0.5);
  const m = new GridModel(spec, W);

  it("an image needing more than the budget is E_TOO_LARGE with the estimate, the limit and how to raise it", () => {
    // 2¹⁴ × 2¹⁴ pixels (under the 2²⁸ image cap) would need ~90 GB: refused before any allocation
    const img = { width: 1 << 14, height: 1 << 14, maxval: 255, data: new Uint16Array(0) };
    const e = nadirError(() => m.segment(img));
    expect(e.code).toBe("E_TOO_LARGE");
    expect(e.message).toMatch(
      /16384×16384 image needs about [\d,]+ MB .* above the limit of 4,096 MB; .*NADIR_MAX_MEMORY_MB=/,
    );
  });

  it("NADIR_MAX_MEMORY_MB sets the budget", () => {
    const old = process.env.NADIR_MAX_MEMORY_MB;
    const img = grayImage(100, 100, 255, new Uint16Array(100 * 100).fill(128));
    try {
      process.env.NADIR_MAX_MEMORY_MB = "1";
      expect(nadirError(() => m.segment(img)).message).toContain("above the limit of 1 MB");
      process.env.NADIR_MAX_MEMORY_MB = "64";
      expect(m.segment(img).mask.width).toBe(100);
    } finally {
      if (old === undefined) delete process.env.NADIR_MAX_MEMORY_MB;
      else process.env.NADIR_MAX_MEMORY_MB = old;
    }
  });
});

describe("trainGrid with NLL (mean-field or BP marginals)", () => {
  it("the expected gradient at 0/1 marginals is the labeling's gradient", async () => {
    const { accumulateGridMarginals, accumulateGrid } = await import("../../src/segment/grid.ts");
    const truth = SQUARES[0]!;
    const inst = gridInstance(maskToGray(flipNoise(truth, 0.2, new Rng(3)), 1), spec);
    const q = Float64Array.from(truth.data);
    const differ = Float64Array.from(inst.edgeP, (p, k) =>
      truth.data[p] !== truth.data[inst.edgeQ[k]!] ? 1 : 0,
    );
    const a = new Float64Array(2 * spec.features.length + 2);
    const b = new Float64Array(a.length);
    accumulateGrid(inst, truth.data, 0.7, a);
    accumulateGridMarginals(inst, q, differ, 0.7, b);
    for (let k = 0; k < a.length; k++) expect(b[k]).toBeCloseTo(a[k]!, 10);
  });

  it("restores an unseen noisy square like the hinge loss does, with either marginals", () => {
    const train: GridExample[] = [];
    SQUARES.forEach((m, i) => {
      for (const seed of [10 + i, 20 + i])
        train.push({
          inst: gridInstance(maskToGray(flipNoise(m, 0.2, new Rng(seed)), 1), spec),
          gold: m.data,
        });
    });
    const truth = square(32, 32, 5, 6, 27, 22);
    const noisy = flipNoise(truth, 0.2, new Rng(999));
    for (const marginals of ["meanfield", "bp"] as const) {
      const r = trainGrid(spec, train, { loss: "nll", marginals, epochs: 12, eta: 1 });
      const restored = new GridModel(spec, r.W).segment(maskToGray(noisy, 1)).mask;
      expect(iou(restored.data, truth.data)).toBeGreaterThan(0.9);
    }
  });
});

describe("trainGrid on the shared tables (src/loss, src/optimize)", () => {
  const train: GridExample[] = SQUARES.map((m, i) => ({
    inst: gridInstance(maskToGray(flipNoise(m, 0.2, new Rng(10 + i)), 1), spec),
    gold: m.data,
  }));

  /** The grid's former private trainer (hinge, W ← W − η₀/√t·(g + c2·W), Σ t·W_t / Σ t), as a reference. */
  function reference(epochs: number, eta: number, c2: number, margin: number): Float64Array {
    const F = spec.features.length;
    const K = 2 * F + 2;
    const W = new Float64Array(K);
    const sum = new Float64Array(K);
    const grad = new Float64Array(K);
    const cut = new GridCut();
    const rng = new Rng(1);
    const order = Array.from(train.keys());
    let t = 0;
    for (let e = 0; e < epochs; e++) {
      rng.shuffle(order);
      for (const i of order) {
        const { inst, gold } = train[i]!;
        t++;
        for (let k = 0; k < K; k++) grad[k] = c2 * W[k]!;
        const r = cut.minimize(inst, W, { gold, margin });
        let d = 0;
        for (let p = 0; p < inst.P; p++) if (r.labels[p] !== gold[p]) d++;
        if (gridEnergy(inst, W, gold) - r.energy + margin * d > 0) {
          accumulateGrid(inst, gold, 1 / inst.P, grad);
          accumulateGrid(inst, r.labels, -1 / inst.P, grad);
        }
        for (let k = 0; k < K; k++) W[k] = W[k]! - (eta / Math.sqrt(t)) * grad[k]!;
        if (W[2 * F]! < 0) W[2 * F] = 0;
        if (W[2 * F + 1]! < 0) W[2 * F + 1] = 0;
        for (let k = 0; k < K; k++) sum[k] = sum[k]! + t * W[k]!;
      }
    }
    return sum.map((v) => v / ((t * (t + 1)) / 2));
  }

  it("hinge + sgd reproduces the former private SGD (η₀/√t, step-weighted average) to rounding", () => {
    const r = trainGrid(spec, train, { epochs: 6, c2: 0.01 });
    const ref = reference(6, 1, 0.01, 1);
    for (let k = 0; k < ref.length; k++) expect(r.W[k]).toBeCloseTo(ref[k]!, 12);
  });

  it("every loss of the table trains on the grid (its need answered by cut, marginals or Gibbs sweeps)", () => {
    const F = spec.features.length;
    for (const loss of LOSS_NAMES) {
      const r = trainGrid(spec, train, { loss, epochs: 2, marginals: "bp" });
      expect(r.reports, loss).toHaveLength(2);
      expect(r.reports[1]!.lossName).toBe(loss);
      for (const e of r.reports) {
        expect(Number.isFinite(e.loss), loss).toBe(true);
        expect(Number.isFinite(e.onlineLoss), loss).toBe(true);
      }
      expect(r.W[2 * F]!, loss).toBeGreaterThanOrEqual(0);
      expect(r.W[2 * F + 1]!, loss).toBeGreaterThanOrEqual(0);
      if (makeLoss(loss).needsNonNegativeEnergies)
        for (const w of r.W) expect(w, loss).toBeGreaterThanOrEqual(0);
    }
  });

  it("every online step rule of src/optimize, and L-BFGS for losses on the marginals", () => {
    for (const optimizer of ["adagrad", "pa", "perceptron"] as const) {
      const r = trainGrid(spec, train, { optimizer, epochs: 3, eta: 0.1 });
      expect(r.reports[2]!.loss, optimizer).toBeLessThan(r.reports[0]!.onlineLoss);
    }
    const r = trainGrid(spec, train, { loss: "nll", optimizer: "lbfgs", epochs: 8 });
    expect(r.reports.length).toBeGreaterThan(1);
    expect(r.reports.at(-1)!.objective).toBeLessThan(r.reports[0]!.objective);
    const e = nadirError(() => trainGrid(spec, train, { loss: "hinge", optimizer: "lbfgs" }));
    expect(e.code).toBe("E_ARG");
    expect(e.message).toContain("lbfgs needs a loss on the marginals");
  });

  it("options come from GRID_TRAIN_OPTIONS: kebab or camel case, checked, unknown ones refused", () => {
    const o = gridTrainOptions(GRID_TRAIN_DEFAULTS, { "lvq-max": 2, paC: 3 }, "t");
    expect([o.lvqMax, o.paC, o.loss, o.optimizer]).toEqual([2, 3, "hinge", "sgd"]);
    expect(
      nadirError(() => gridTrainOptions(GRID_TRAIN_DEFAULTS, { loss: "nope" }, "t")).message,
    ).toContain("expected one of energy, perceptron, hinge");
    const bogus: Record<string, unknown> = { bogus: 1 }; // as the CLI passes its flags
    expect(nadirError(() => trainGrid(spec, train, bogus)).message).toContain(
      "unknown training option 'bogus'",
    );
  });
});
