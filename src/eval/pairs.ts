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

/** E_ARG unless every gold and predicted id (of equal-length sequences) is an integer in [0, L). */
export function checkLabelIds(gold: ArrayLike<number>, pred: ArrayLike<number>, L: number): void {
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
