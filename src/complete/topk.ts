/**
 * The k lowest energies of a vector with a bounded max-heap (heap-js).
 * heap-js has no decrease-key and its `limit` option drops arbitrary leaves,
 * so the heap is kept at size k by hand: once full, a lower energy replaces
 * the current worst (the max at the top) with `replace`.
 */
import { Heap } from "heap-js";

export interface Scored {
  id: number;
  energy: number;
}

/** Worse first: higher energy, then higher id (so ties keep the lower id). */
const worseFirst = (a: Scored, b: Scored): number => b.energy - a.energy || b.id - a.id;

/**
 * The k entries of `energies` (restricted to `ids` when given) with the
 * lowest energy, sorted by energy then id. Infinite energies are skipped.
 */
export function topK(energies: ArrayLike<number>, k: number, ids?: ArrayLike<number>): Scored[] {
  if (k <= 0) return [];
  const heap = new Heap<Scored>(worseFirst);
  const n = ids ? ids.length : energies.length;
  for (let j = 0; j < n; j++) {
    const id = ids ? ids[j]! : j;
    const e = energies[id]!;
    if (e === Number.POSITIVE_INFINITY || Number.isNaN(e)) continue;
    if (heap.size() < k) {
      heap.push({ id, energy: e });
      continue;
    }
    const top = heap.peek()!;
    if (e < top.energy || (e === top.energy && id < top.id)) heap.replace({ id, energy: e });
  }
  return heap.toArray().sort((a, b) => a.energy - b.energy || a.id - b.id);
}

/**
 * Gibbs probabilities exp(−β E) / Z over the finite entries of `energies`
 * (restricted to `ids` when given), computed stably; returns log Z = −β F.
 */
export function logPartition(
  energies: ArrayLike<number>,
  beta: number,
  ids?: ArrayLike<number>,
): number {
  const n = ids ? ids.length : energies.length;
  let min = Number.POSITIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const e = energies[ids ? ids[j]! : j]!;
    if (e < min) min = e;
  }
  if (min === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const e = energies[ids ? ids[j]! : j]!;
    if (e !== Number.POSITIVE_INFINITY) s += Math.exp(-beta * (e - min));
  }
  return -beta * min + Math.log(s);
}
