import type { ChainPotentials } from "../graph/chain.ts";
import type { Instance } from "./features.ts";

type MutablePotentials = { -readonly [K in keyof ChainPotentials]: ChainPotentials[K] };

/**
 * The linear-chain energy over A attributes and L labels:
 *
 *   E(W, y, x) = Σₜ Σ_{a ∈ x_t} W_state[a, yₜ] + Σₜ₌₁ W_trans[yₜ₋₁, yₜ] + W_start[y₀] + W_end[y_{T−1}]
 *
 * All parameters live in one flat Float64Array W of size K = A·L + L² + 2L:
 * [ state (A×L, row per attribute) | transition (L×L) | start (L) | end (L) ].
 * Weights are energies: lowering W_state[a, l] makes label l more likely
 * wherever attribute a fires.
 */
export class LinearChain {
  readonly A: number;
  readonly L: number;
  readonly K: number;
  readonly transOffset: number;
  readonly startOffset: number;
  readonly endOffset: number;
  private unary = new Float64Array(0);
  /** Potentials object reused across calls on the same W (its views into W are made once). */
  private cached: { W: Float64Array; p: MutablePotentials } | null = null;

  constructor(A: number, L: number) {
    this.A = A;
    this.L = L;
    this.transOffset = A * L;
    this.startOffset = this.transOffset + L * L;
    this.endOffset = this.startOffset + L;
    this.K = this.endOffset + L;
  }

  /**
   * Potentials of x under W: unary[t, l] = Σ_{a ∈ x_t} W_state[a, l];
   * transition/start/end are views into W (no copy). The returned object and
   * its unary table are a workspace reused across calls: consume the
   * potentials before the next call, or pass `out` to keep them.
   */
  potentials(x: Instance, W: Float64Array, out?: Float64Array): ChainPotentials {
    const { T } = x;
    const L = this.L;
    let unary = out;
    if (unary === undefined) {
      if (this.unary.length < T * L)
        this.unary = new Float64Array(Math.max(T * L, this.unary.length * 2));
      unary = this.unary;
    }
    const offsets = x.offsets;
    const attrs = x.attrs;
    for (let t = 0; t < T; t++) {
      const row = t * L;
      for (let l = 0; l < L; l++) unary[row + l] = 0;
      const end = offsets[t + 1]!;
      for (let j = offsets[t]!; j < end; j++) {
        const base = attrs[j]! * L;
        for (let l = 0; l < L; l++) unary[row + l] = unary[row + l]! + W[base + l]!;
      }
    }
    if (out !== undefined) return { ...this.views(W), T, unary };
    const c = this.cached?.W === W ? this.cached.p : this.views(W);
    if (this.cached?.W !== W) this.cached = { W, p: c };
    c.T = T;
    c.unary = unary;
    return c;
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
    for (let t = 0; t < T; t++) {
      const yt = y[t]!;
      const end = offsets[t + 1]!;
      for (let j = offsets[t]!; j < end; j++)
        grad[attrs[j]! * L + yt] = grad[attrs[j]! * L + yt]! + scale;
      if (t > 0)
        grad[this.transOffset + y[t - 1]! * L + yt] =
          grad[this.transOffset + y[t - 1]! * L + yt]! + scale;
    }
    grad[this.startOffset + y[0]!] = grad[this.startOffset + y[0]!]! + scale;
    grad[this.endOffset + y[T - 1]!] = grad[this.endOffset + y[T - 1]!]! + scale;
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
    for (let t = 0; t < T; t++) {
      const a = y[t]!;
      const b = yHat[t]!;
      if (a !== b) {
        const end = offsets[t + 1]!;
        for (let j = offsets[t]!; j < end; j++) {
          const base = attrs[j]! * L;
          grad[base + a] = grad[base + a]! + scale;
          grad[base + b] = grad[base + b]! - scale;
        }
      }
      if (t > 0) {
        const pa = y[t - 1]!;
        const pb = yHat[t - 1]!;
        if (pa !== pb || a !== b) {
          grad[tr + pa * L + a] = grad[tr + pa * L + a]! + scale;
          grad[tr + pb * L + b] = grad[tr + pb * L + b]! - scale;
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
  }
}
