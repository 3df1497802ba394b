import type { SparseGradient, TouchedEntries } from "./architecture.ts";

/**
 * A gradient every example may touch anywhere (a network's layers): the
 * SparseGradient interface over a dense buffer, so online optimizers take it
 * as they take a linear chain's row-sparse one.
 */
export class DenseGradient implements SparseGradient {
  readonly g: Float64Array;

  constructor(K: number) {
    this.g = new Float64Array(K);
  }

  touch(): void {}

  gather(out: TouchedEntries): number {
    const g = this.g;
    if (out.idx.length < g.length) {
      out.idx = new Int32Array(g.length);
      out.val = new Float64Array(g.length);
    }
    let n = 0;
    for (let k = 0; k < g.length; k++) {
      const v = g[k]!;
      if (v !== 0) {
        out.idx[n] = k;
        out.val[n++] = v;
      }
    }
    return n;
  }

  squaredNorm(): number {
    let s = 0;
    for (let k = 0; k < this.g.length; k++) s += this.g[k]! * this.g[k]!;
    return s;
  }

  clear(): void {
    this.g.fill(0);
  }
}
