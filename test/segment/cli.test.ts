/**
 * `nadir segment`: train on synthetic images and masks written here, apply
 * the model (PBM, PGM and PNG outputs, IoU against a truth mask), and the
 * error cases (one ERROR line, exit 1, no output file).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { Rng } from "../../src/core/rng.ts";
import {
  type BitImage,
  decodePng,
  grayToMask,
  maskToGray,
  readPbm,
  readPgm,
  writePbm,
  writePgm,
} from "../../src/data/image.ts";
import { flipNoise, iou } from "../../src/segment/images.ts";
import { GRAPHS, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const GRID = join(GRAPHS, "grid.json");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const text = (chunk: unknown) =>
  typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");

async function run(argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: unknown) => {
    stdout += text(chunk);
    return true;
  }) as never);
  const e = vi.spyOn(process.stderr, "write").mockImplementation(((chunk: unknown) => {
    stderr += text(chunk);
    return true;
  }) as never);
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

function expectOneError(r: Run, ...parts: string[]): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.startsWith("ERROR: "), r.stderr).toBe(true);
  expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toContain("internal error");
  for (const p of parts) expect(r.stderr).toContain(p);
}

function disk(w: number, h: number, cx: number, cy: number, r: number): BitImage {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[y * w + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
  return { width: w, height: h, data };
}

const p = (name: string) => join(tmp.dir, name);
const truth = disk(40, 30, 21, 14, 10);

beforeAll(() => {
  // Training pairs: noisy disks (PGM, noise seeds 1 and 2) and their clean masks (PBM).
  const masks = [disk(40, 30, 15, 15, 9), disk(40, 30, 25, 12, 11)];
  masks.forEach((m, i) => {
    writePgm(p(`img${i}.pgm`), maskToGray(flipNoise(m, 0.15, new Rng(i + 1))));
    writePbm(p(`mask${i}.pbm`), m);
  });
  // The test image: another disk, noise seed 3, given as a PBM bitmap.
  writePbm(p("test.pbm"), flipNoise(truth, 0.15, new Rng(3)));
  writePbm(p("truth.pbm"), truth);
});

describe("nadir segment", () => {
  it("--help explains both actions and the options", async () => {
    const r = await run(["segment", "--help"]);
    expect(r.code).toBe(0);
    for (const s of [
      "nadir segment train",
      "nadir segment apply",
      "--images",
      "--masks",
      "--truth",
      "--epochs",
      "hinge",
    ]) {
      expect(r.stdout).toContain(s);
    }
    const top = await run(["--help"]);
    expect(top.stdout).toContain("segment");
  });

  it("trains, saves a model, and applies it (PBM / PGM / PNG outputs)", async () => {
    const t = await run([
      "segment",
      "train",
      "--graph",
      GRID,
      "--images",
      `${p("img0.pgm")},${p("img1.pgm")}`,
      "--masks",
      `${p("mask0.pbm")},${p("mask1.pbm")}`,
      "--model",
      p("m.json"),
      "--epochs",
      "20",
    ]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr.trimEnd().split("\n")).toHaveLength(20);
    expect(t.stderr).toMatch(/^epoch 1: hinge \d/);
    const summary = JSON.parse(t.stdout);
    expect(summary.epochs).toBe(20);
    expect(summary.weights.potts + summary.weights.const).toBeGreaterThan(0);
    expect(readdirSync(tmp.dir).filter((f) => f.includes(".tmp"))).toEqual([]);

    const a = await run([
      "segment",
      "apply",
      "--model",
      p("m.json"),
      p("test.pbm"),
      "--output",
      p("out.pbm"),
      "--truth",
      p("truth.pbm"),
    ]);
    expect(a.code, a.stderr).toBe(0);
    const out = JSON.parse(a.stdout);
    const mask = readPbm(p("out.pbm"));
    expect(out.iou).toBeCloseTo(iou(mask.data, truth.data), 12);
    expect(out.iou).toBeGreaterThan(0.85);
    expect(out.iou).toBeGreaterThan(iou(readPbm(p("test.pbm")).data, truth.data) + 0.1);

    for (const ext of ["pgm", "png"]) {
      const b = await run([
        "segment",
        "apply",
        "--model",
        p("m.json"),
        p("test.pbm"),
        "--output",
        p(`out.${ext}`),
      ]);
      expect(b.code, b.stderr).toBe(0);
      const img = ext === "pgm" ? readPgm(p("out.pgm")) : decodePng(readFileSync(p("out.png")));
      expect(grayToMask(img).data).toEqual(mask.data);
    }
  });

  it("--loss and --optimizer choose from the loss table and src/optimize", async () => {
    const t = await run([
      "segment",
      "train",
      "--images",
      p("img0.pgm"),
      "--masks",
      p("mask0.pbm"),
      "--model",
      p("nll.json"),
      "--loss",
      "nll",
      "--optimizer",
      "lbfgs",
      "--epochs",
      "3",
    ]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toMatch(/^epoch 1: nll \d/);
    expect(JSON.parse(t.stdout).loss).toBe("nll");
  });

  it("errors: one ERROR line, exit 1, no output", async () => {
    expectOneError(await run(["segment"]), "expected an action, train or apply, got none");
    expectOneError(await run(["segment", "fit", "--model", p("x.json")]), "got 'fit'");
    expectOneError(
      await run([
        "segment",
        "train",
        "--images",
        p("img0.pgm"),
        "--masks",
        "",
        "--model",
        p("x.json"),
      ]),
      "expected one mask per image (1), got 0",
    );
    expectOneError(
      await run([
        "segment",
        "train",
        "--images",
        p("img0.pgm"),
        "--masks",
        p("nope.pbm"),
        "--model",
        p("x.json"),
      ]),
      "nope.pbm: cannot read image",
    );
    expectOneError(
      await run([
        "segment",
        "apply",
        "--model",
        p("missing.json"),
        p("test.pbm"),
        "--output",
        p("o.pbm"),
      ]),
      "missing.json: cannot read grid model",
    );
    expectOneError(
      await run([
        "segment",
        "apply",
        "--model",
        p("m.json"),
        p("test.pbm"),
        "--output",
        p("o.jpg"),
      ]),
      "expected a path ending in .pbm, .pgm or .png",
    );
    expectOneError(
      await run([
        "segment",
        "train",
        "--images",
        p("img0.pgm"),
        "--masks",
        p("mask0.pbm"),
        "--model",
        p("x.json"),
        "--eta=-1",
      ]),
      "--eta: expected a value ≥",
    );
    const train = ["segment", "train", "--images", p("img0.pgm"), "--masks", p("mask0.pbm")];
    expectOneError(
      await run([...train, "--model", p("x.json"), "--loss", "hinge", "--optimizer", "lbfgs"]),
      "lbfgs needs a loss on the marginals (nll, mee) or energy; hinge sees the grid's minimum cut",
    );
    expectOneError(
      await run([...train, "--model", p("x.json"), "--loss", "square_square"]),
      "--loss: expected one of energy, perceptron, hinge",
    );
    expect(existsSync(p("x.json"))).toBe(false);
    expect(existsSync(p("o.pbm"))).toBe(false);
  });
});
