import type { SparseGradient, TouchedEntries } from "./architecture.ts";
import type { Instance } from "./features.ts";

/** What a row-sparse gradient needs of the chain's layout (LinearChain has it). */
export interface RowLayout {
  readonly A: number;
  readonly L: number;
  readonly K: number;
  /** the tail (transitions, start, end, …) starts here and runs to K */
  readonly transOffset: number;
  rowStart(a: number): number;
  rowEnd(a: number): number;
}

/**
 * A row-sparse gradient of the linear-chain energy: a dense buffer of K
 * entries of which only the state rows of the attributes seen in the current
 * instances (and the L² + 2L tail: transitions, start, end) can be non-zero.
 * Optimizers visit exactly those entries and clear them, so a step costs
 * O(touched) however large K is.
 */
export class RowGradient implements SparseGradient {
  readonly g: Float64Array;
  readonly arch: RowLayout;
  /** attribute rows touched since `clear` */
  rows: Int32Array;
  nRows = 0;
  private readonly stamp: Int32Array;
  private epoch = 1;
  /** The entries the last gather returned (every non-zero of g at that time), until clear. */
  private gathered: TouchedEntries | null = null;
  private gatheredN = 0;

  constructor(arch: RowLayout) {
    this.arch = arch;
    this.g = new Float64Array(arch.K);
    this.stamp = new Int32Array(arch.A);
    this.rows = new Int32Array(1024);
  }

  /** Mark the attribute rows of x as touched (before the step that reads them). */
  touch(x: Instance): void {
    this.mark(x.attrs, 0, x.attrs.length);
  }

  /**
   * Mark only the rows of the positions where y and ŷ differ: all that
   * LinearChain.accumulateDifference writes besides the tail (a perceptron or
   * hinge step that got most of the sentence right then scans a few rows).
   */
  touchDifference(x: Instance, y: Int32Array, yHat: Int32Array): void {
    const offsets = x.offsets;
    for (let t = 0; t < x.T; t++) {
      if (y[t] !== yHat[t]) this.mark(x.attrs, offsets[t]!, offsets[t + 1]!);
    }
  }

  private mark(attrs: Int32Array, from: number, to: number): void {
    const stamp = this.stamp;
    const ep = this.epoch;
    for (let j = from; j < to; j++) {
      const a = attrs[j]!;
      if (stamp[a] !== ep) {
        stamp[a] = ep;
        if (this.nRows === this.rows.length) {
          const grown = new Int32Array(this.rows.length * 2);
          grown.set(this.rows);
          this.rows = grown;
        }
        this.rows[this.nRows++] = a;
      }
    }
  }

  /** The touched non-zero entries into out.idx/out.val (grown when short); returns their count. */
  gather(out: TouchedEntries): number {
    const { g, rows, nRows, arch } = this;
    const need = nRows * arch.L + (arch.K - arch.transOffset);
    if (out.idx.length < need) {
      out.idx = new Int32Array(need * 2);
      out.val = new Float64Array(need * 2);
    }
    const { idx, val } = out;
    let n = 0;
    for (let r = 0; r < nRows; r++) {
      const a = rows[r]!;
      const end = arch.rowEnd(a);
      for (let k = arch.rowStart(a); k < end; k++) {
        const v = g[k]!;
        if (v !== 0) {
          idx[n] = k;
          val[n++] = v;
        }
      }
    }
    for (let k = arch.transOffset; k < arch.K; k++) {
      const v = g[k]!;
      if (v !== 0) {
        idx[n] = k;
        val[n++] = v;
      }
    }
    this.gathered = out;
    this.gatheredN = n;
    return n;
  }

  /**
   * Zero the touched entries and forget them. Right after a gather (the
   * trainers' order: accumulate, gather, step, clear) only the entries it
   * returned can be non-zero, and only those are zeroed.
   */
  clear(): void {
    const { g, rows, nRows, arch } = this;
    const got = this.gathered;
    if (got !== null) {
      const idx = got.idx;
      for (let i = 0; i < this.gatheredN; i++) g[idx[i]!] = 0;
    } else {
      for (let r = 0; r < nRows; r++) g.fill(0, arch.rowStart(rows[r]!), arch.rowEnd(rows[r]!));
      g.fill(0, this.arch.transOffset, this.arch.K);
    }
    this.forget();
  }

  /** Forget the touched rows when nothing was accumulated (g is still all zero). */
  forget(): void {
    this.gathered = null;
    this.nRows = 0;
    this.epoch++;
    if (this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
  }
}
