import { NadirError } from "../core/errors.ts";

/** Index of the first NaN or ±Infinity in a, or −1 when every entry is finite. */
export function firstNonFinite(a: Float64Array): number {
  for (let k = 0; k < a.length; k++) {
    const v = a[k]!;
    // v − v is 0 for a finite v, NaN for NaN and ±Infinity
    if (v - v !== 0) return k;
  }
  return -1;
}

/** max |aₖ| (+∞ when an entry is NaN or infinite). */
export function largestMagnitude(a: Float64Array, scale = 1): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const v = Math.abs(a[k]! * scale);
    if (!(v <= m)) m = Number.isNaN(v) ? Number.POSITIVE_INFINITY : v;
  }
  return m;
}

/** Weights this large make sums of energies overflow: inference then finds no finite labeling. */
export const OVERFLOW = 1e300;

/**
 * The error training stops with when a loss or a weight is no longer finite
 * (the step is too large for the data): where it happened, what went
 * non-finite, and what to try. Nothing is written after it.
 */
export function divergedError(where: string, what: string, hint: string): NadirError {
  return new NadirError(
    "E_ARG",
    `training diverged at ${where}: ${what}; no model or checkpoint was written from it — ${hint}`,
  );
}

/** The usual advice: a step size ten times smaller than the one used. */
export function smallerStep(eta: number, optimizer: string): string {
  if (optimizer === "pa") return "try a smaller --pa-c (aggressiveness) or a larger --c2";
  if (optimizer === "perceptron")
    return "the perceptron step is 1: check the initial weights (--init) for huge values";
  if (optimizer === "lbfgs") return "check the initial weights (--init) or try a larger --c2";
  return `try a smaller step, e.g. --eta ${Number((eta / 10).toPrecision(3))}`;
}

/** Is every gold label of the instance usable (≥ 0)? (The objective is NaN where it is not.) */
export function hasGold(labels: Int32Array, T: number): boolean {
  for (let t = 0; t < T; t++) if (labels[t]! < 0) return false;
  return true;
}
