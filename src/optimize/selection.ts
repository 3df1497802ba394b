import { type Checkpoint, checkpointNumber } from "./checkpoint.ts";

/**
 * What every training loop shares: best-epoch selection on the dev score with
 * patience, its part of a checkpoint, and the epoch report.
 */

export interface EpochReport {
  epoch: number;
  /** sequences whose decoded labeling differed from the gold one */
  mistakes: number;
  /** mean perceptron loss E(yⁱ) − min_y E(y) over the epoch */
  loss: number;
  /** dev score (higher is better) with the weights this epoch would return */
  dev: number | undefined;
  seconds: number;
  /** L-BFGS only: the objective, ‖∇‖ there, and the length ‖ΔW‖ of the step that reached it */
  objective?: number;
  gradNorm?: number;
  step?: number;
}

/** Tracks the best dev score, its weights, and patience (early stopping). */
export class Selector {
  best: Float64Array | null = null;
  bestScore = Number.NEGATIVE_INFINITY;
  bestEpoch = 0;
  sinceBest = 0;

  private readonly keepBest: boolean;
  private readonly patience: number;

  constructor(keepBest: boolean, patience: number) {
    this.keepBest = keepBest;
    this.patience = patience;
  }

  /** Record a dev score; returns true when training should stop. */
  see(epoch: number, score: number | undefined, W: Float64Array): boolean {
    if (score === undefined) return false;
    if (score > this.bestScore) {
      this.bestScore = score;
      this.bestEpoch = epoch;
      this.sinceBest = 0;
      if (this.keepBest) {
        this.best ??= new Float64Array(W.length);
        this.best.set(W);
      }
    } else {
      this.sinceBest++;
    }
    return this.patience > 0 && this.sinceBest >= this.patience;
  }
}

/** The selector's part of a checkpoint: header fields and the best weights. */
export function selectorCheckpoint(select: Selector): {
  header: Record<string, number>;
  arrays: Record<string, Float64Array>;
} {
  return {
    header: {
      bestScore: select.bestScore,
      bestEpoch: select.bestEpoch,
      sinceBest: select.sinceBest,
    },
    arrays: select.best ? { best: select.best } : {},
  };
}

export function restoreSelector(select: Selector, ck: Checkpoint, path: string): void {
  if (ck.arrays.best) select.best = ck.arrays.best;
  select.bestScore = checkpointNumber(ck, "bestScore", path, Number.NEGATIVE_INFINITY);
  select.bestEpoch = checkpointNumber(ck, "bestEpoch", path);
  select.sinceBest = checkpointNumber(ck, "sinceBest", path);
}

/** The report of an epoch: its mistakes, mean loss, dev score and seconds since t0. */
export function epochReport(
  epoch: number,
  mistakes: number,
  lossSum: number,
  n: number,
  dev: number | undefined,
  t0: number,
): EpochReport {
  return {
    epoch,
    mistakes,
    loss: n ? lossSum / n : 0,
    dev,
    seconds: (performance.now() - t0) / 1000,
  };
}
