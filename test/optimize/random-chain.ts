/** Random linear-chain instances and weights for the optimize tests (not a test file). */
import type { Instance } from "../../src/architecture/features.ts";
import { LinearChain, observedRows } from "../../src/architecture/linear-chain.ts";
import type { Rng } from "../../src/core/rng.ts";

/**
 * n instances over A attributes and L labels: T uniform in [minT, maxT], 1–3
 * distinct attributes per position, uniform gold labels.
 */
export function randomInstances(
  rng: Rng,
  A: number,
  L: number,
  n: number,
  maxT = 5,
  minT = 1,
): Instance[] {
  const out: Instance[] = [];
  for (let i = 0; i < n; i++) {
    const T = minT + rng.int(maxT - minT + 1);
    const offsets = new Int32Array(T + 1);
    const attrs: number[] = [];
    for (let t = 0; t < T; t++) {
      const k = 1 + rng.int(3);
      const row = new Set<number>();
      while (row.size < k) row.add(rng.int(A));
      attrs.push(...row);
      offsets[t + 1] = attrs.length;
    }
    const labels = new Int32Array(T);
    for (let t = 0; t < T; t++) labels[t] = rng.int(L);
    out.push({ T, offsets, attrs: Int32Array.from(attrs), labels });
  }
  return out;
}

/** The chain over those instances, with dense state rows or only the observed pairs. */
export function chainFor(
  data: readonly Instance[],
  A: number,
  L: number,
  rows: "dense" | "observed",
): LinearChain {
  return new LinearChain(A, L, rows === "observed" ? observedRows(data, A, L) : null);
}

export function randomNormal(rng: Rng, K: number, sd = 1): Float64Array {
  const W = new Float64Array(K);
  for (let k = 0; k < K; k++) W[k] = sd * rng.normal();
  return W;
}

/** max |a − b| / max(1, max |b|). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 1;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}
