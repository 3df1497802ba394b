/**
 * The horse experiment (binary denoising and segmentation by graph cuts).
 *
 * 1. Denoising. The clean mask horse.pbm (1 = horse) goes through a binary
 *    symmetric channel: every pixel flips with probability p = 0.2 (seeded,
 *    --test-seed). A grid model (graphs/grid.json) trained on OTHER masks —
 *    the Otsu masks (dark = foreground) of camera, coins, text and cell, each
 *    in --copies noisy copies made with the same channel and their own seeds
 *    (never the horse, never the test seed) — restores it by one minimum cut.
 * 2. Segmentation. horse.pgm plus Gaussian noise (σ = --sigma of the range,
 *    seeded) is segmented into the horse mask by a second grid model with
 *    unaries from intensity, trained on the other images plus Gaussian noise
 *    of the same σ (other seeds), their gold masks being the Otsu masks of
 *    the clean images.
 *
 * Prints IoU(clean, truth) = 1, IoU(noisy), IoU(restored), the segmentation
 * IoU (and a plain threshold's, for reference), writes out/horse.png —
 * row 1: clean | noisy | restored; row 2: noisy horse.pgm | segmentation |
 * threshold of the noisy image — and ends with one JSON line
 * {"noisy_iou":…,"restored_iou":…,"segmentation_iou":…}.
 *
 *   npx tsx scripts/segment-horse.ts [--images ../shared/images] [--p 0.2] [--sigma 0.5]
 *       [--test-seed 20240] [--copies 2] [--epochs 12] [--graph graphs/grid.json] [--out out/horse.png]
 *       [--loss hinge|nll|… (any of the loss table) --marginals meanfield|bp] [--optimizer sgd|adagrad|pa|perceptron|lbfgs]
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { NadirError } from "../src/core/errors.ts";
import { Rng } from "../src/core/rng.ts";
import { type GrayImage, maskToGray, readPbm, readPgm, writePng } from "../src/data/image.ts";
import { gridInstance } from "../src/segment/grid.ts";
import {
  darkMask,
  flipNoise,
  gaussianNoise,
  iou,
  montage,
  otsuThreshold,
  pixelError,
} from "../src/segment/images.ts";
import { GridModel } from "../src/segment/model.ts";
import { loadGridSpec } from "../src/segment/spec.ts";
import { type GridExample, trainGrid } from "../src/segment/train.ts";
import { benchArgs } from "./bench/args.ts";

const args = benchArgs({
  images: "../shared/images",
  p: "0.2",
  sigma: "0.5",
  "test-seed": "20240",
  copies: "2",
  epochs: "12",
  graph: "graphs/grid.json",
  out: "out/horse.png",
  loss: "hinge",
  marginals: "meanfield",
  optimizer: "sgd",
});

const OTHERS = ["camera", "coins", "text", "cell"];
const r4 = (x: number) => Number(x.toFixed(4));
const log = (s: string) => process.stderr.write(`${s}\n`);

try {
  const spec = loadGridSpec(args.graph);
  const p = Number(args.p);
  const sigma = Number(args.sigma);
  const copies = Number(args.copies);
  const testSeed = Number(args["test-seed"]);
  // checked by trainGrid against GRID_TRAIN_OPTIONS
  const train: Record<string, unknown> = {
    ...(args.epochs ? { epochs: Number(args.epochs) } : {}),
    loss: args.loss,
    marginals: args.marginals,
    optimizer: args.optimizer,
  };
  // Training noise seeds: 1000…1039 (denoising), 2000…2003 (segmentation).
  if ((testSeed >= 1000 && testSeed < 1040) || (testSeed >= 2000 && testSeed < 2004))
    throw new NadirError("E_ARG", `--test-seed ${testSeed} is a training seed; pick another`);
  const truth = readPbm(join(args.images, "horse.pbm"));
  const horse = readPgm(join(args.images, "horse.pgm"));
  const others = OTHERS.map((n) => ({ name: n, img: readPgm(join(args.images, `${n}.pgm`)) }));

  // --- 1. denoising -------------------------------------------------------
  const denoiseTrain: GridExample[] = [];
  others.forEach(({ name, img }, i) => {
    const clean = darkMask(img, otsuThreshold(img));
    for (let c = 0; c < copies; c++) {
      const seed = 1000 + 10 * i + c; // training seeds: 1000…1039, never the test seed
      const noisy = flipNoise(clean, p, new Rng(seed));
      denoiseTrain.push({
        inst: gridInstance(maskToGray(noisy, 1), spec),
        gold: clean.data,
        name: `${name}#${seed}`,
      });
    }
  });
  log(
    `denoising: training on ${denoiseTrain.length} noisy masks (p = ${p}) of ${OTHERS.join(", ")}`,
  );
  const t0 = performance.now();
  const den = trainGrid(spec, denoiseTrain, train, (r) =>
    log(
      `  epoch ${r.epoch}: ${r.lossName} ${r.loss.toFixed(5)} (online ${r.onlineLoss.toFixed(5)}), objective ${r.objective.toFixed(5)}, train error ${(100 * r.error).toFixed(2)}% (${r.seconds.toFixed(1)} s)`,
    ),
  );
  const denoiser = new GridModel(spec, den.W);
  log(
    `  trained in ${((performance.now() - t0) / 1000).toFixed(1)} s; weights ${JSON.stringify(denoiser.weights())}`,
  );
  const noisy = flipNoise(truth, p, new Rng(testSeed));
  const restored = denoiser.segment(maskToGray(noisy, 1)).mask;
  const cleanIou = iou(truth.data, truth.data);
  const noisyIou = iou(noisy.data, truth.data);
  const restoredIou = iou(restored.data, truth.data);
  log(
    `horse denoising (p = ${p}, seed ${testSeed}): IoU clean ${cleanIou}, noisy ${noisyIou.toFixed(4)} (pixel error ${(100 * pixelError(noisy.data, truth.data)).toFixed(2)}%), restored ${restoredIou.toFixed(4)} (pixel error ${(100 * pixelError(restored.data, truth.data)).toFixed(2)}%)`,
  );

  // --- 2. segmentation ----------------------------------------------------
  const segTrain: GridExample[] = others.map(({ name, img }, i) => {
    const seed = 2000 + i;
    return {
      inst: gridInstance(gaussianNoise(img, sigma, new Rng(seed)), spec),
      gold: darkMask(img, otsuThreshold(img)).data,
      name: `${name}#${seed}`,
    };
  });
  log(`segmentation: training on ${OTHERS.join(", ")} + Gaussian noise σ = ${sigma}`);
  const seg = trainGrid(spec, segTrain, train, (r) =>
    log(
      `  epoch ${r.epoch}: ${r.lossName} ${r.loss.toFixed(5)} (online ${r.onlineLoss.toFixed(5)}), train error ${(100 * r.error).toFixed(2)}% (${r.seconds.toFixed(1)} s)`,
    ),
  );
  const segmenter = new GridModel(spec, seg.W);
  log(`  weights ${JSON.stringify(segmenter.weights())}`);
  const noisyHorse = gaussianNoise(horse, sigma, new Rng(testSeed));
  const segmented = segmenter.segment(noisyHorse).mask;
  const thresholded = darkMask(noisyHorse, Math.ceil(noisyHorse.maxval / 2));
  const segIou = iou(segmented.data, truth.data);
  const thrIou = iou(thresholded.data, truth.data);
  log(
    `horse.pgm + N(0, ${sigma}²) segmentation: IoU ${segIou.toFixed(4)} (threshold at half range: ${thrIou.toFixed(4)})`,
  );

  // --- figure ---------------------------------------------------------------
  const tile = (m: { width: number; height: number; data: Uint8Array }): GrayImage => maskToGray(m);
  const fig = montage([
    [tile(truth), tile(noisy), tile(restored)],
    [noisyHorse, tile(segmented), tile(thresholded)],
  ]);
  mkdirSync(dirname(args.out), { recursive: true });
  writePng(args.out, fig);
  log(`figure: ${args.out} (${fig.width}×${fig.height})`);
  console.log(
    JSON.stringify({
      noisy_iou: r4(noisyIou),
      restored_iou: r4(restoredIou),
      segmentation_iou: r4(segIou),
      clean_iou: cleanIou,
      threshold_iou: r4(thrIou),
    }),
  );
} catch (e) {
  process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
  process.exit(1);
}
