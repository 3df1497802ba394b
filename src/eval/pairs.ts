/**
 * Argument checks shared by the scorers of gold vs. predicted sequences:
 * equal counts, label ids in range, and feeding whole corpora to a scorer.
 */
import { NadirError } from "../core/errors.ts";

/**
 * E_ARG (E_PARSE with `where`) unless there are as many predicted `what`
 * (e.g. "labels", "sentences") as gold ones.
 */
export function checkCounts(
  gold: number,
  pred: number,
  what: string,
  where?: { file: string; line: number },
): void {
  if (gold === pred) return;
  const msg = `expected ${gold} predicted ${what} (as many as gold), got ${pred}`;
  if (where) throw new NadirError("E_PARSE", msg, where);
  throw new NadirError("E_ARG", msg);
}

/** E_ARG unless there are as many predicted ids as gold ones and every id is an integer in [0, L). */
export function checkLabelIds(
  gold: ArrayLike<number>,
  pred: ArrayLike<number>,
  L: number,
  what: string,
): void {
  checkCounts(gold.length, pred.length, what);
  for (let t = 0; t < gold.length; t++) {
    const a = gold[t]!;
    const b = pred[t]!;
    if (!(a >= 0 && a < L && b >= 0 && b < L) || (a | 0) !== a || (b | 0) !== b) {
      throw new NadirError(
        "E_ARG",
        `token ${t}: expected label ids in [0, ${L}), got gold ${a}, predicted ${b}`,
      );
    }
  }
}

/** Add every (gold, predicted) sentence pair to a fresh scorer and return its report. */
export function scoreAll<R>(
  scorer: { add(gold: readonly string[], pred: readonly string[]): void; report(): R },
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  what: string,
): R {
  checkCounts(gold.length, pred.length, what);
  for (let i = 0; i < gold.length; i++) scorer.add(gold[i]!, pred[i]!);
  return scorer.report();
}

/** Precision, recall and F1 in percent. */
export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

/** The scores of one label or chunk type, with the counts behind them. */
export interface CountScore extends Averages {
  /** Gold tokens (chunks) of this label (type). */
  gold: number;
  /** Predicted tokens (chunks) of this label (type). */
  pred: number;
  /** Predicted ones that are correct. */
  correct: number;
}

/** Precision, recall and F1 in percent from counts (0 where undefined), in conlleval's order of operations. */
export function prf(correct: number, gold: number, pred: number): Averages {
  const precision = pred > 0 ? (100 * correct) / pred : 0;
  const recall = gold > 0 ? (100 * correct) / gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** The ids k ≥ first that occur in gold or predictions (gold[k] + pred[k] > 0), sorted by name. */
export function presentByName(
  names: readonly string[],
  gold: ArrayLike<number>,
  pred: ArrayLike<number>,
  first: number,
): number[] {
  const order: number[] = [];
  for (let k = first; k < names.length; k++) if (gold[k]! + pred[k]! > 0) order.push(k);
  order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  return order;
}
