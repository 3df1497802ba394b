import type { SparseGradient, TouchedEntries } from "./architecture.ts";

/** The non-zero entries of a dense gradient into out.idx/out.val (grown when short); returns their count. */
export function gatherNonZero(g: Float64Array, out: TouchedEntries): number {
  if (out.idx.length < g.length) {
    out.idx = new Int32Array(g.length);
    out.val = new Float64Array(g.length);
  }
  const { idx, val } = out;
  let n = 0;
  for (let k = 0; k < g.length; k++) {
    const v = g[k]!;
    if (v !== 0) {
      idx[n] = k;
      val[n++] = v;
    }
  }
  return n;
}

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

  touchDifference(): void {}

  gather(out: TouchedEntries): number {
    return gatherNonZero(this.g, out);
  }

  clear(): void {
    this.g.fill(0);
  }

  forget(): void {}
}
