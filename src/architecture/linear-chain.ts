import { NadirError } from "../core/errors.ts";
import type { ChainPotentials } from "../graph/chain.ts";
import type { Chain2Potentials } from "../graph/chain2.ts";
import { type FactorGraph, FactorGraphBuilder } from "../graph/factor-graph.ts";
import type { Architecture, ArchitectureDescription } from "./architecture.ts";
import type { Instance } from "./features.ts";
import { RowGradient } from "./row-gradient.ts";

type MutablePotentials = { -readonly [K in keyof ChainPotentials]: ChainPotentials[K] };

/** Which (attribute, label) pairs carry a state weight. */
export interface StateRows {
  /** CSR pointers, A + 1 entries: attribute a owns state weights rowPtr[a] … rowPtr[a+1) */
  rowPtr: Int32Array;
  /** the label of each state weight, increasing within a row */
  rowLabel: Int32Array;
}

/**
 * The linear-chain energy over A attributes and L labels:
 *
 *   E(W, y, x) = Σₜ Σ_{a ∈ x_t} W_state[a, yₜ] + Σₜ₌₁ W_trans[yₜ₋₁, yₜ] + W_start[y₀] + W_end[y_{T−1}]
 *
 * All parameters live in one flat Float64Array W of size K = S + L² + 2L:
 * [ state (S) | transition (L×L, from × to) | start (L) | end (L) ].
 * The state weights are either dense rows (S = A·L, W_state[a, l] at a·L + l)
 * or, as in CRFsuite, only the pairs (a, l) observed in training (CSR rows,
 * `StateRows`); an absent pair has weight 0 and no gradient.
 * Weights are energies: lowering W_state[a, l] makes label l more likely
 * wherever attribute a fires.
 */
/** A linear chain's layout as plain data. */
export interface LinearChainDescription extends ArchitectureDescription {
  readonly kind: "linear-chain";
  readonly A: number;
  readonly L: number;
  readonly rows: StateRows | null;
  readonly order: 1 | 2;
  readonly skip: boolean;
}

export class LinearChain implements Architecture {
  readonly A: number;
  readonly L: number;
  readonly K: number;
  /** number of state weights S */
  readonly S: number;
  readonly transOffset: number;
  readonly startOffset: number;
  readonly endOffset: number;
  /** null: dense rows */
  readonly rows: StateRows | null;
  /** 1: first-order chain; 2: plus W_trans2[y_{t−2}, y_{t−1}, y_t] (L³ weights after `end`) */
  readonly order: 1 | 2;
  readonly trans2Offset: number;
  /** skip-chain: W_skip[y_i, y_j] (L² weights, last) on every skip edge (i, j) of an instance */
  readonly skip: boolean;
  /** E = W·φ: every energy term is a weight times an attribute value. */
  readonly linearEnergy = true;
  readonly skipOffset: number;
  private unary = new Float64Array(0);
  /** Potentials object reused across calls on the same W (its views into W are made once). */
  private cached: { W: Float64Array; p: MutablePotentials } | null = null;
  /** Scaled copies of transition/start/end for potentials at a weight scale ≠ 1. */
  private scaledTail = new Float64Array(0);
  /**
   * Sparse rows only: per instance, its state weights resolved once — weight
   * index k and unary cell t·L + label of every (occurrence, label) pair — so
   * the passes of batch training stream two flat arrays instead of chasing
   * row pointers.
   */
  private readonly expanded = new WeakMap<
    Instance,
    { k: Int32Array; u: Int32Array; v: Float64Array | undefined }
  >();
  /**
   * Cache resolved state weights per instance. Off by default: resolving the
   * sparse rows on the fly is as fast, and the cache cost 225 MB on CoNLL-2000
   * (NLL/L-BFGS 503 → 278 MB peak, PA 430 → 214 MB; same models).
   */
  cacheExpanded = false;

  constructor(A: number, L: number, rows: StateRows | null = null, order: 1 | 2 = 1, skip = false) {
    this.A = A;
    this.L = L;
    if (rows && rows.rowPtr.length !== A + 1) {
      throw new NadirError(
        "E_MODEL",
        `state rows: expected ${A + 1} row pointers, got ${rows.rowPtr.length}`,
      );
    }
    this.rows = rows;
    this.S = rows ? rows.rowPtr[A]! : A * L;
    this.transOffset = this.S;
    this.startOffset = this.transOffset + L * L;
    this.endOffset = this.startOffset + L;
    this.order = order;
    this.trans2Offset = this.endOffset + L;
    this.skip = skip;
    this.skipOffset = this.trans2Offset + (order === 2 ? L * L * L : 0);
    this.K = this.skipOffset + (skip ? L * L : 0);
  }

  gradient(): RowGradient {
    return new RowGradient(this);
  }

  describe(): LinearChainDescription {
    const { A, L, rows, order, skip } = this;
    return { kind: "linear-chain", A, L, rows, order, skip };
  }

  /** The chain a description (describe()) gives. */
  static fromDescription(d: ArchitectureDescription): LinearChain {
    const c = d as LinearChainDescription;
    return new LinearChain(c.A, c.L, c.rows, c.order, c.skip);
  }

  /**
   * Visit every weight of W (this chain's layout) with its index in `target`'s
   * layout: source attribute a is target attribute attrMap[a], source label l
   * target label labelMap[l] (−1: none — the weight is skipped, as is a state
   * the target's rows lack). States, start, end, transitions, and the skip and
   * second-order weights when both chains have them. Warm starts and model
   * mixing are this one walk with different `put`s.
   */
  mapWeights(
    W: Float64Array,
    target: LinearChain,
    attrMap: Int32Array,
    labelMap: Int32Array,
    put: (t: number, v: number) => void,
  ): void {
    for (let a = 0; a < this.A; a++) {
      const u = attrMap[a]!;
      if (u < 0) continue;
      const end = this.rowEnd(a);
      for (let k = this.rowStart(a); k < end; k++) {
        const l = labelMap[this.labelOf(k, a)]!;
        const t = l < 0 ? -1 : target.stateIndex(u, l);
        if (t >= 0) put(t, W[k]!);
      }
    }
    const L = target.L;
    const L0 = this.L;
    const skip = this.skip && target.skip;
    const second = this.order === 2 && target.order === 2;
    for (let p = 0; p < L0; p++) {
      const q = labelMap[p]!;
      if (q < 0) continue;
      put(target.startOffset + q, W[this.startOffset + p]!);
      put(target.endOffset + q, W[this.endOffset + p]!);
      for (let r = 0; r < L0; r++) {
        const s = labelMap[r]!;
        if (s < 0) continue;
        put(target.transOffset + q * L + s, W[this.transOffset + p * L0 + r]!);
        if (skip) put(target.skipOffset + q * L + s, W[this.skipOffset + p * L0 + r]!);
        if (!second) continue;
        for (let z = 0; z < L0; z++) {
          const y = labelMap[z]!;
          if (y >= 0)
            put(
              target.trans2Offset + (q * L + s) * L + y,
              W[this.trans2Offset + (p * L0 + r) * L0 + z]!,
            );
        }
      }
    }
  }

  /** Call visit(l) for each label l with a state weight in attribute a's row. */
  rowLabels(a: number, visit: (l: number) => void): void {
    const end = this.rowEnd(a);
    for (let k = this.rowStart(a); k < end; k++) visit(this.labelOf(k, a));
  }

  /**
   * The same energy keeping only the non-zero state weights of W, as CSR
   * rows (identical energies: a zero adds nothing; a perceptron leaves most
   * (attribute, label) weights at 0); null when W has no zero state weight to drop.
   */
  compact(W: Float64Array): { rows: StateRows; W: Float64Array } | null {
    const { A, S } = this;
    let nnz = 0;
    for (let k = 0; k < S; k++) if (W[k] !== 0) nnz++;
    if (this.rows !== null && nnz === S) return null;
    const rowPtr = new Int32Array(A + 1);
    const rowLabel = new Int32Array(nnz);
    const W2 = new Float64Array(nnz + this.K - this.transOffset);
    let n = 0;
    for (let a = 0; a < A; a++) {
      const end = this.rowEnd(a);
      for (let k = this.rowStart(a); k < end; k++) {
        const w = W[k]!;
        if (w !== 0) {
          rowLabel[n] = this.labelOf(k, a);
          W2[n++] = w;
        }
      }
      rowPtr[a + 1] = n;
    }
    W2.set(W.subarray(this.transOffset), nnz);
    return { rows: { rowPtr, rowLabel }, W: W2 };
  }

  /**
   * W for a file: only the attributes with a non-zero state weight (`keep`,
   * renumbered densely in that order), their rows whole, then the tail
   * (transitions, start, end, …); `rows` null for dense rows.
   */
  pack(W: Float64Array): { keep: number[]; W: Float64Array; rows: StateRows | null } {
    const keep: number[] = [];
    let nState = 0;
    for (let a = 0; a < this.A; a++) {
      const s0 = this.rowStart(a);
      const s1 = this.rowEnd(a);
      for (let k = s0; k < s1; k++) {
        if (W[k] !== 0) {
          keep.push(a);
          nState += s1 - s0;
          break;
        }
      }
    }
    const src = this.rows;
    const rowPtr = new Int32Array(src ? keep.length + 1 : 0);
    const rowLabel = new Int32Array(src ? nState : 0);
    const W2 = new Float64Array(nState + this.K - this.transOffset);
    let k2 = 0;
    keep.forEach((a, i) => {
      const s0 = this.rowStart(a);
      const s1 = this.rowEnd(a);
      W2.set(W.subarray(s0, s1), k2);
      if (src) {
        rowLabel.set(src.rowLabel.subarray(s0, s1), k2);
        rowPtr[i + 1] = k2 + (s1 - s0);
      }
      k2 += s1 - s0;
    });
    W2.set(W.subarray(this.transOffset), nState);
    return { keep, W: W2, rows: src ? { rowPtr, rowLabel } : null };
  }

  /**
   * Skip-chain potentials as a factor graph (`chainFactorGraph` of this
   * chain's potentials and W_skip).
   */
  graphPotentials(x: Instance, W: Float64Array, scale = 1): FactorGraph {
    return chainFactorGraph(
      this.potentials(x, W, undefined, scale),
      x.skips,
      W,
      this.skipOffset,
      scale,
    );
  }

  /**
   * grad += scale · E_P[∂E/∂W] from factor marginals laid out as
   * `graphPotentials` orders the factors (unary T×L, then transitions, then
   * skips; each table L or L² long) — sum-product BP's `factorMarginals`.
   */
  accumulateGraphMarginals(
    x: Instance,
    factorMarginals: Float64Array,
    scale: number,
    grad: Float64Array,
  ): void {
    accumulateChainGraphMarginals(this, this.skipOffset, x, factorMarginals, scale, grad);
  }

  /** Second-order potentials: the chain's plus a view of W_trans2 (order 2 only). */
  potentials2(x: Instance, W: Float64Array): Chain2Potentials {
    const L = this.L;
    return {
      kind: "chain2",
      chain: this.potentials(x, W),
      transition2: W.subarray(this.trans2Offset, this.trans2Offset + L * L * L),
    };
  }

  /** First state weight of attribute a. */
  rowStart(a: number): number {
    return this.rows ? this.rows.rowPtr[a]! : a * this.L;
  }

  /** One past the last state weight of attribute a. */
  rowEnd(a: number): number {
    return this.rows ? this.rows.rowPtr[a + 1]! : (a + 1) * this.L;
  }

  /** Label of state weight k (k < S). */
  labelOf(k: number, a: number): number {
    return this.rows ? this.rows.rowLabel[k]! : k - a * this.L;
  }

  /** Index of W_state[a, l], or −1 when the pair carries no weight. */
  stateIndex(a: number, l: number): number {
    const rows = this.rows;
    if (!rows) return a * this.L + l;
    const lab = rows.rowLabel;
    const end = rows.rowPtr[a + 1]!;
    for (let j = rows.rowPtr[a]!; j < end; j++) {
      const v = lab[j]!;
      if (v === l) return j;
      if (v > l) break;
    }
    return -1;
  }

  /**
   * Potentials of x under W: unary[t, l] = Σ_{a ∈ x_t} W_state[a, l];
   * transition/start/end are views into W (no copy). The returned object and
   * its unary table are a workspace reused across calls: consume the
   * potentials before the next call, or pass `out` to keep them.
   *
   * `scale` s gives the potentials of the weights s·W (optimizers that keep
   * W = s·V to make L2 decay O(1) pass V and s); transition/start/end are
   * then scaled copies.
   */
  potentials(x: Instance, W: Float64Array, out?: Float64Array, scale = 1): ChainPotentials {
    const { T } = x;
    const L = this.L;
    let unary = out;
    if (unary === undefined) {
      if (this.unary.length < T * L)
        this.unary = new Float64Array(Math.max(T * L, this.unary.length * 2));
      unary = this.unary;
    }
    unary.fill(0, 0, T * L);
    const offsets = x.offsets;
    const attrs = x.attrs;
    const rows = this.rows;
    const vals = x.values;
    if (vals !== undefined) {
      // real-valued attributes: the state term is value × weight
      for (let t = 0; t < T; t++) {
        const row = t * L;
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const a = attrs[j]!;
          const v = vals[j]!;
          const kEnd = this.rowEnd(a);
          for (let k = this.rowStart(a); k < kEnd; k++) {
            const i = row + this.labelOf(k, a);
            unary[i] = unary[i]! + v * W[k]!;
          }
        }
      }
    } else if (rows === null) {
      for (let t = 0; t < T; t++) {
        const row = t * L;
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const base = attrs[j]! * L;
          for (let l = 0; l < L; l++) unary[row + l] = unary[row + l]! + W[base + l]!;
        }
      }
    } else if (this.cacheExpanded) {
      const { k, u } = this.expand(x);
      for (let i = 0; i < k.length; i++) {
        const c = u[i]!;
        unary[c] = unary[c]! + W[k[i]!]!;
      }
    } else {
      const ptr = rows.rowPtr;
      const lab = rows.rowLabel;
      for (let t = 0; t < T; t++) {
        const row = t * L;
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const a = attrs[j]!;
          const kEnd = ptr[a + 1]!;
          for (let k = ptr[a]!; k < kEnd; k++) {
            const i = row + lab[k]!;
            unary[i] = unary[i]! + W[k]!;
          }
        }
      }
    }
    if (scale !== 1) return this.scaledPotentials(T, W, unary, scale);
    if (out !== undefined) return { ...this.views(W), T, unary };
    const c = this.cached?.W === W ? this.cached.p : this.views(W);
    if (this.cached?.W !== W) this.cached = { W, p: c };
    c.T = T;
    c.unary = unary;
    return c;
  }

  /** The resolved state weights of x (sparse rows), built on first use and cached. */
  private expand(x: Instance): { k: Int32Array; u: Int32Array; v: Float64Array | undefined } {
    let e = this.expanded.get(x);
    if (e !== undefined) return e;
    const rows = this.rows!;
    const { T, offsets, attrs } = x;
    const ptr = rows.rowPtr;
    const lab = rows.rowLabel;
    const L = this.L;
    let n = 0;
    for (let j = 0; j < attrs.length; j++) n += ptr[attrs[j]! + 1]! - ptr[attrs[j]!]!;
    const k = new Int32Array(n);
    const u = new Int32Array(n);
    const xv = x.values;
    const v = xv ? new Float64Array(n) : undefined;
    let i = 0;
    for (let t = 0; t < T; t++) {
      for (let j = offsets[t]!; j < offsets[t + 1]!; j++) {
        const a = attrs[j]!;
        for (let q = ptr[a]!; q < ptr[a + 1]!; q++) {
          if (v) v[i] = xv![j]!;
          k[i] = q;
          u[i++] = t * L + lab[q]!;
        }
      }
    }
    e = { k, u, v };
    this.expanded.set(x, e);
    return e;
  }

  private scaledPotentials(
    T: number,
    W: Float64Array,
    unary: Float64Array,
    scale: number,
  ): ChainPotentials {
    const L = this.L;
    for (let i = 0; i < T * L; i++) unary[i] = unary[i]! * scale;
    const n = L * L + 2 * L;
    if (this.scaledTail.length < n) this.scaledTail = new Float64Array(n);
    const tail = this.scaledTail;
    const off = this.transOffset;
    for (let i = 0; i < n; i++) tail[i] = W[off + i]! * scale;
    return {
      kind: "chain",
      T,
      L,
      unary,
      transition: tail.subarray(0, L * L),
      start: tail.subarray(L * L, L * L + L),
      end: tail.subarray(L * L + L, n),
    };
  }

  private views(W: Float64Array): MutablePotentials {
    return {
      kind: "chain",
      T: 0,
      L: this.L,
      unary: this.unary,
      transition: W.subarray(this.transOffset, this.startOffset),
      start: W.subarray(this.startOffset, this.endOffset),
      end: W.subarray(this.endOffset, this.K),
    };
  }

  /** grad += scale · ∂E(W, y, x)/∂W for the labeling y (a sparse update). */
  accumulate(x: Instance, y: Int32Array, scale: number, grad: Float64Array): void {
    const { T, offsets, attrs } = x;
    if (T === 0) return;
    const L = this.L;
    const vals = x.values;
    for (let t = 0; t < T; t++) {
      const yt = y[t]!;
      const end = offsets[t + 1]!;
      for (let j = offsets[t]!; j < end; j++) {
        const k = this.stateIndex(attrs[j]!, yt);
        if (k >= 0) grad[k] = grad[k]! + (vals === undefined ? scale : scale * vals[j]!);
      }
      if (t > 0) {
        const k = this.transOffset + y[t - 1]! * L + yt;
        grad[k] = grad[k]! + scale;
      }
    }
    const ks = this.startOffset + y[0]!;
    grad[ks] = grad[ks]! + scale;
    const ke = this.endOffset + y[T - 1]!;
    grad[ke] = grad[ke]! + scale;
    if (this.order === 2) {
      for (let t = 2; t < T; t++) {
        const k = this.trans2Offset + (y[t - 2]! * L + y[t - 1]!) * L + y[t]!;
        grad[k] = grad[k]! + scale;
      }
    }
    const skips = x.skips;
    if (this.skip && skips) {
      for (let e = 0; e < skips.length; e += 2) {
        const k = this.skipOffset + y[skips[e]!]! * L + y[skips[e + 1]!]!;
        grad[k] = grad[k]! + scale;
      }
    }
  }

  /**
   * grad += scale · E_P[∂E(y)/∂W] for a distribution P over labelings given
   * by its marginals: `unary` (T×L, μₜ(l)) and `pairwiseSum` (L×L,
   * Σₜ μₜ₋₁,ₜ(l, l')). With the Gibbs marginals at β this is scale · ∂F_β/∂W.
   */
  accumulateMarginals(
    x: Instance,
    unary: Float64Array,
    pairwiseSum: Float64Array,
    scale: number,
    grad: Float64Array,
  ): void {
    const { T, offsets, attrs } = x;
    if (T === 0) return;
    if (this.order !== 1) {
      throw new NadirError(
        "E_UNSUPPORTED",
        "marginals: a second-order chain has no forward-backward here; train it with perceptron or margin losses",
      );
    }
    const L = this.L;
    const vals = x.values;
    if (this.rows === null) {
      for (let t = 0; t < T; t++) {
        const row = t * L;
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const base = attrs[j]! * L;
          const s = vals === undefined ? scale : scale * vals[j]!;
          for (let l = 0; l < L; l++) grad[base + l] = grad[base + l]! + s * unary[row + l]!;
        }
      }
    } else if (!this.cacheExpanded) {
      // sparse rows resolved on the fly (the same order as the cached expansion)
      const ptr = this.rows.rowPtr;
      const lab = this.rows.rowLabel;
      for (let t = 0; t < T; t++) {
        const row = t * L;
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const a = attrs[j]!;
          const kEnd = ptr[a + 1]!;
          if (vals === undefined) {
            for (let q = ptr[a]!; q < kEnd; q++) grad[q] = grad[q]! + scale * unary[row + lab[q]!]!;
          } else {
            const v = vals[j]!;
            for (let q = ptr[a]!; q < kEnd; q++)
              grad[q] = grad[q]! + scale * v * unary[row + lab[q]!]!;
          }
        }
      }
    } else {
      const { k, u, v } = this.expand(x);
      if (v === undefined) {
        for (let i = 0; i < k.length; i++) {
          const q = k[i]!;
          grad[q] = grad[q]! + scale * unary[u[i]!]!;
        }
      } else {
        for (let i = 0; i < k.length; i++) {
          const q = k[i]!;
          grad[q] = grad[q]! + scale * v[i]! * unary[u[i]!]!;
        }
      }
    }
    const tr = this.transOffset;
    for (let i = 0; i < L * L; i++) grad[tr + i] = grad[tr + i]! + scale * pairwiseSum[i]!;
    const last = (T - 1) * L;
    for (let l = 0; l < L; l++) {
      grad[this.startOffset + l] = grad[this.startOffset + l]! + scale * unary[l]!;
      grad[this.endOffset + l] = grad[this.endOffset + l]! + scale * unary[last + l]!;
    }
  }

  /**
   * grad += scale · (∂E(y)/∂W − ∂E(ŷ)/∂W), touching only the parts where the
   * two labelings differ — the perceptron's update, without the cancelling work.
   */
  accumulateDifference(
    x: Instance,
    y: Int32Array,
    yHat: Int32Array,
    scale: number,
    grad: Float64Array,
  ): void {
    const { T, offsets, attrs } = x;
    if (T === 0) return;
    const L = this.L;
    const tr = this.transOffset;
    const dense = this.rows === null;
    const vals = x.values;
    for (let t = 0; t < T; t++) {
      const a = y[t]!;
      const b = yHat[t]!;
      if (a !== b) {
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const attr = attrs[j]!;
          const s = vals === undefined ? scale : scale * vals[j]!;
          const ka = dense ? attr * L + a : this.stateIndex(attr, a);
          const kb = dense ? attr * L + b : this.stateIndex(attr, b);
          if (ka >= 0) grad[ka] = grad[ka]! + s;
          if (kb >= 0) grad[kb] = grad[kb]! - s;
        }
      }
      if (t > 0) {
        const pa = y[t - 1]!;
        const pb = yHat[t - 1]!;
        if (pa !== pb || a !== b) {
          const ka = tr + pa * L + a;
          const kb = tr + pb * L + b;
          grad[ka] = grad[ka]! + scale;
          grad[kb] = grad[kb]! - scale;
        }
      }
    }
    if (y[0] !== yHat[0]) {
      grad[this.startOffset + y[0]!] = grad[this.startOffset + y[0]!]! + scale;
      grad[this.startOffset + yHat[0]!] = grad[this.startOffset + yHat[0]!]! - scale;
    }
    if (y[T - 1] !== yHat[T - 1]) {
      grad[this.endOffset + y[T - 1]!] = grad[this.endOffset + y[T - 1]!]! + scale;
      grad[this.endOffset + yHat[T - 1]!] = grad[this.endOffset + yHat[T - 1]!]! - scale;
    }
    if (this.order === 2) {
      const o2 = this.trans2Offset;
      for (let t = 2; t < T; t++) {
        const ka = o2 + (y[t - 2]! * L + y[t - 1]!) * L + y[t]!;
        const kb = o2 + (yHat[t - 2]! * L + yHat[t - 1]!) * L + yHat[t]!;
        if (ka !== kb) {
          grad[ka] = grad[ka]! + scale;
          grad[kb] = grad[kb]! - scale;
        }
      }
    }
    const skips = x.skips;
    if (this.skip && skips) {
      for (let e = 0; e < skips.length; e += 2) {
        const i = skips[e]!;
        const j = skips[e + 1]!;
        const ka = this.skipOffset + y[i]! * L + y[j]!;
        const kb = this.skipOffset + yHat[i]! * L + yHat[j]!;
        if (ka !== kb) {
          grad[ka] = grad[ka]! + scale;
          grad[kb] = grad[kb]! - scale;
        }
      }
    }
  }
}

/**
 * The (attribute, label) pairs observed in training — attribute a fires at a
 * position whose gold label is l — as CSR state rows (CRFsuite's feature set).
 */
export function observedRows(instances: readonly Instance[], A: number, L: number): StateRows {
  const words = Math.ceil(L / 32);
  const seen = new Uint32Array(A * words);
  for (const x of instances) {
    for (let t = 0; t < x.T; t++) {
      const y = x.labels[t]!;
      if (y < 0) continue;
      for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++) {
        const i = x.attrs[j]! * words + (y >>> 5);
        seen[i] = seen[i]! | (1 << (y & 31));
      }
    }
  }
  const rowPtr = new Int32Array(A + 1);
  let n = 0;
  for (let a = 0; a < A; a++) {
    for (let w = 0; w < words; w++) {
      let bits = seen[a * words + w]!;
      while (bits !== 0) {
        n++;
        bits &= bits - 1;
      }
    }
    rowPtr[a + 1] = n;
  }
  const rowLabel = new Int32Array(n);
  let k = 0;
  for (let a = 0; a < A; a++) {
    for (let l = 0; l < L; l++)
      if (seen[a * words + (l >>> 5)]! & (1 << (l & 31))) rowLabel[k++] = l;
  }
  return { rowPtr, rowLabel };
}

/**
 * A skip-chain's potentials as a factor graph: per position a unary factor
 * (the state energies p.unary, with start/end folded in), a transition
 * factor per adjacent pair, and a factor s·W_skip (L², at `skipOffset` in W)
 * per skip edge, in that order. Any architecture whose energy is chain
 * potentials plus skip edges builds its graph here (the linear chain; a
 * network under the chain, whose unary energies are the network's).
 */
export function chainFactorGraph(
  p: ChainPotentials,
  skips: Int32Array | undefined,
  W: Float64Array,
  skipOffset: number,
  scale: number,
): FactorGraph {
  const { T, L, unary, transition, start, end } = p;
  const b = new FactorGraphBuilder();
  b.addVariables(T, L);
  for (let t = 0; t < T; t++) {
    const u = new Float64Array(L);
    for (let l = 0; l < L; l++) {
      u[l] = unary[t * L + l]! + (t === 0 ? start[l]! : 0) + (t === T - 1 ? end[l]! : 0);
    }
    b.addFactor([t], u);
  }
  const tr = Float64Array.from(transition.subarray(0, L * L));
  for (let t = 1; t < T; t++) b.addFactor([t - 1, t], tr);
  if (skips && skips.length > 0) {
    const tab = new Float64Array(L * L);
    for (let i = 0; i < L * L; i++) tab[i] = W[skipOffset + i]! * scale;
    for (let e = 0; e < skips.length; e += 2) b.addFactor([skips[e]!, skips[e + 1]!], tab);
  }
  return b.build();
}

/**
 * grad += scale · E_P[∂E/∂W] for a `chainFactorGraph` from its factor
 * marginals: the unary and summed transition marginals go to the
 * architecture's own `accumulateMarginals` (state rows, a network's unary
 * energies, transitions, start/end), the skip factors' marginals to W_skip.
 */
export function accumulateChainGraphMarginals(
  arch: {
    readonly L: number;
    accumulateMarginals(
      x: Instance,
      unary: Float64Array,
      pairwiseSum: Float64Array,
      scale: number,
      grad: Float64Array,
    ): void;
  },
  skipOffset: number,
  x: Instance,
  factorMarginals: Float64Array,
  scale: number,
  grad: Float64Array,
): void {
  const T = x.T;
  if (T === 0) return;
  const L = arch.L;
  const unaryPart = factorMarginals.subarray(0, T * L);
  const pair = new Float64Array(L * L);
  let off = T * L;
  for (let t = 1; t < T; t++, off += L * L) {
    for (let i = 0; i < L * L; i++) pair[i] = pair[i]! + factorMarginals[off + i]!;
  }
  arch.accumulateMarginals(x, unaryPart, pair, scale, grad);
  const skips = x.skips;
  if (skips) {
    for (let e = 0; e < skips.length; e += 2, off += L * L) {
      for (let i = 0; i < L * L; i++) {
        const k = skipOffset + i;
        grad[k] = grad[k]! + scale * factorMarginals[off + i]!;
      }
    }
  }
}
