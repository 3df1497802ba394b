import type { SentenceLike } from "../architecture/features.ts";
import { labelOf } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Model } from "./model.ts";

/** Replace each label with probability `rate` by a different random one (at least one is changed). */
export function corruptLabeling(
  y: readonly string[],
  labels: readonly string[],
  rate: number,
  rng: Rng,
): string[] {
  const out = y.slice();
  if (labels.length < 2 || y.length === 0) return out;
  const other = (l: string): string => {
    let c = l;
    while (c === l) c = labels[rng.int(labels.length)]!;
    return c;
  };
  let changed = false;
  for (let t = 0; t < out.length; t++) {
    if (rng.next() < rate) {
      out[t] = other(out[t]!);
      changed = true;
    }
  }
  if (!changed) {
    const t = rng.int(out.length);
    out[t] = other(out[t]!);
  }
  return out;
}

/**
 * Area under the ROC curve of a score meant to be higher for `positives`
 * than for `negatives`: P(s₊ > s₋) + ½·P(s₊ = s₋), by sorting (O(n log n)).
 */
export function auc(positives: readonly number[], negatives: readonly number[]): number {
  const all = [...positives.map((s) => ({ s, p: 1 })), ...negatives.map((s) => ({ s, p: 0 }))];
  all.sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.p === 1) rankSum += avgRank;
    i = j;
  }
  const n1 = positives.length;
  const n0 = negatives.length;
  if (n1 === 0 || n0 === 0) return Number.NaN;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

export interface DetectionCalibration {
  threshold: number;
  /** AUC of the detection score separating corrupted from gold labelings */
  auc: number;
  /** balanced accuracy of the threshold on the calibration data */
  accuracy: number;
  gold: number;
  corrupted: number;
}

/**
 * Calibrate `Model.detect` on gold-labeled sentences: score each gold
 * labeling and a randomly corrupted copy (each label replaced with
 * probability `rate`), and pick the threshold with the best balanced
 * accuracy. The threshold and β are stored in the model's `extra`.
 */
export function calibrateDetection(
  model: Model,
  sentences: readonly SentenceLike[],
  opts: { beta?: number; rate?: number; seed?: number } = {},
): DetectionCalibration {
  const beta = opts.beta ?? 1;
  const rate = opts.rate ?? 0.1;
  const rng = new Rng(opts.seed ?? 1);
  const good: number[] = [];
  const badScores: number[] = [];
  for (const s of sentences) {
    if (s.tokens.length === 0) continue;
    const gold = s.tokens.map((t) => labelOf(t, model.spec.label)!);
    if (gold.some((l) => !model.labels.includes(l))) continue;
    good.push(model.detectionScore(s.tokens, gold, beta));
    badScores.push(
      model.detectionScore(s.tokens, corruptLabeling(gold, model.labels, rate, rng), beta),
    );
  }
  if (good.length === 0)
    throw new NadirError("E_ARG", "calibrateDetection: no usable gold-labeled sentence");
  // Sweep thresholds between consecutive distinct scores.
  const all = [...good.map((s) => ({ s, g: 1 })), ...badScores.map((s) => ({ s, g: 0 }))].sort(
    (a, b) => a.s - b.s,
  );
  let bestAcc = -1;
  let bestTh = 0;
  let goodBelow = 0;
  let badBelow = 0;
  for (let i = 0; i < all.length; i++) {
    if (all[i]!.g) goodBelow++;
    else badBelow++;
    if (i + 1 < all.length && all[i + 1]!.s === all[i]!.s) continue;
    const acc = 0.5 * (goodBelow / good.length) + 0.5 * (1 - badBelow / badScores.length);
    if (acc > bestAcc) {
      bestAcc = acc;
      bestTh = i + 1 < all.length ? (all[i]!.s + all[i + 1]!.s) / 2 : all[i]!.s;
    }
  }
  model.extra.detectThreshold = bestTh;
  model.extra.detectBeta = beta;
  return {
    threshold: bestTh,
    auc: auc(badScores, good),
    accuracy: bestAcc,
    gold: good.length,
    corrupted: badScores.length,
  };
}
