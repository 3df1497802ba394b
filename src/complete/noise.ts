/**
 * Sampling words from a fixed distribution in O(1) per draw (Walker/Vose alias
 * method): the noise distribution of noise-contrastive estimation.
 */
import type { Rng } from "../core/rng.ts";

export class AliasTable {
  /** the distribution sampled, normalized */
  readonly p: Float64Array;
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  /** From non-negative weights (not all zero). */
  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    let tot = 0;
    for (let i = 0; i < n; i++) tot += weights[i]!;
    if (!(tot > 0)) throw new RangeError("AliasTable: weights must have a positive sum");
    this.p = Float64Array.from(weights, (w) => w / tot);
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = Float64Array.from(this.p, (x) => x * n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i);
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      this.prob[s] = scaled[s]!;
      this.alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1; // rounding leftovers
  }

  sample(rng: Rng): number {
    const n = this.prob.length;
    const u = rng.next() * n;
    const i = Math.floor(u);
    return u - i < this.prob[i]! ? i : this.alias[i]!;
  }
}
