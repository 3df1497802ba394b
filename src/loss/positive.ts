import { NadirError } from "../core/errors.ts";

/**
 * Keeping energies non-negative.
 *
 * square-square and square-exp assume E ≥ 0: square-square pushes E_C
 * towards 0 from above (E_C² has its minimum at 0), square-exp only bounds
 * γ·exp(−E_I) by γ when E_I ≥ 0. With E < 0 both lose their meaning: E_C² starts
 * pulling a negative E_C back UP, and exp(−E_I) explodes.
 *
 * nadir keeps energies non-negative by projected (sub)gradient steps: after
 * every weight update, project W onto the non-negative orthant,
 *
 *   W ← max(W, 0)  (componentwise),
 *
 * the Euclidean projection onto {W ≥ 0}. Nadir's linear energies are sums of
 * weights selected by binary attributes (E = Σ_k W_k φ_k(Y, X) with
 * φ_k ∈ {0, 1}, or counts ≥ 0: state weights of the attributes that fire,
 * transitions, start and end), so W ≥ 0 makes every energy E(W, Y, X) ≥ 0 for
 * every Y and X. The same holds for any non-negative attribute values; it
 * does NOT hold for real-valued attributes that can be negative, nor when
 * only part of W is projected while the rest can contribute negatively.
 * Start from W = 0 (or any W ≥ 0). With averaging, the average of projected
 * iterates is itself ≥ 0 (the orthant is convex).
 *
 * `from`/`to` restrict the projection to the block W[from, to) — e.g. to
 * leave out weights that do not feed the energy the loss sees. Returns how
 * many weights were clamped to 0. Throws E_ARG for a bad range.
 */
export function projectNonNegative(W: Float64Array, from = 0, to: number = W.length): number {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > W.length)
    throw new NadirError(
      "E_ARG",
      `projectNonNegative: expected integers 0 ≤ from ≤ to ≤ ${W.length}, got from=${from}, to=${to}`,
    );
  let clamped = 0;
  for (let k = from; k < to; k++) {
    if (W[k]! < 0) {
      W[k] = 0;
      clamped++;
    }
  }
  return clamped;
}
