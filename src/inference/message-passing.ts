import type { MessageGraph, MessageWork, ResolvedMessageOptions } from "./bp-graph.ts";
import { minFactorMessages } from "./min-sum-kernels.ts";
import { lseFactorMessages } from "./sum-product-kernels.ts";
import { grow } from "./workspace.ts";

/**
 * The semiring-free half of belief propagation, shared by min-sum BP (bp.ts)
 * and sum-product BP (sum-product.ts): workspaces, beliefs, variable→factor
 * messages, the loopy schedule with normalization, damping and the residual.
 * The factor→variable kernels stay one per semiring (min-sum-kernels.ts,
 * sum-product-kernels.ts); the loop calls one or the other directly.
 *
 * Values are energies for min-sum (+Infinity = forbidden) and log-weights
 * −β·energy for sum-product (−Infinity = probability 0); a message on edge e
 * lives at e·stride (see bp-graph.ts).
 */

export const MIN_SUM = 0;
export const SUM_PRODUCT = 1;
export type Semiring = typeof MIN_SUM | typeof SUM_PRODUCT;

export function messageWork(): MessageWork {
  const f = new Float64Array(0);
  return {
    f2v: f,
    v2f: f,
    bel: f,
    unary: f,
    tables: f,
    tmp: f,
    arg: new Int32Array(0),
    mx: f,
    odo: new Int32Array(0),
  };
}

/** Grow `w` to hold the messages of `mg`. */
export function ensureWork(w: MessageWork, mg: MessageGraph): void {
  const S = mg.stride;
  const nE = mg.ptr[mg.nF]!;
  w.f2v = grow(w.f2v, nE * S);
  w.v2f = grow(w.v2f, nE * S);
  w.bel = grow(w.bel, mg.nVars * S);
  w.unary = grow(w.unary, mg.nVars * S);
  w.tmp = grow(w.tmp, Math.max(1, mg.maxArity) * S);
  w.arg = grow(w.arg, Math.max(mg.nF, 1) * S);
  w.mx = grow(w.mx, Math.max(1, S));
  w.odo = grow(w.odo, Math.max(1, mg.maxArity));
}

/** Slot of variable v in factor f (−1 when absent). */
export function slotOf(mg: MessageGraph, f: number, v: number): number {
  const e0 = mg.ptr[f]!;
  const e1 = mg.ptr[f + 1]!;
  for (let e = e0; e < e1; e++) if (mg.edgeVar[e] === v) return e - e0;
  return -1;
}

/** bel[v] = unary[v] + Σ incoming factor→variable messages. */
export function beliefOf(mg: MessageGraph, w: MessageWork, v: number): void {
  const S = mg.stride;
  const { bel, unary, f2v } = w;
  const row = v * S;
  const d = mg.domains[v]!;
  for (let l = 0; l < d; l++) bel[row + l] = unary[row + l]!;
  for (let k = mg.varPtr[v]!; k < mg.varPtr[v + 1]!; k++) {
    const m = mg.varEdge[k]! * S;
    for (let l = 0; l < d; l++) bel[row + l]! += f2v[m + l]!;
  }
}

/** The beliefs of every variable. */
export function beliefs(mg: MessageGraph, w: MessageWork): void {
  for (let v = 0; v < mg.nVars; v++) beliefOf(mg, w, v);
}

/** Variable→factor messages of edges e0 … e1−1: belief minus the factor's own message. */
export function cavity(mg: MessageGraph, w: MessageWork, e0: number, e1: number): void {
  const S = mg.stride;
  const { edgeVar, domains } = mg;
  const { v2f, bel, f2v } = w;
  for (let e = e0; e < e1; e++) {
    const v = edgeVar[e]!;
    const d = domains[v]!;
    const row = v * S;
    const m = e * S;
    for (let l = 0; l < d; l++) v2f[m + l] = bel[row + l]! - f2v[m + l]!;
  }
}

/**
 * Tree collect step: the message of variable `node` to its parent factor f
 * (unary + the messages of its other factors) into v2f; returns its edge.
 */
export function toParentFactor(mg: MessageGraph, w: MessageWork, node: number, f: number): number {
  const S = mg.stride;
  const { varPtr, varEdge } = mg;
  const { v2f, unary, f2v } = w;
  const ep = mg.ptr[f]! + slotOf(mg, f, node);
  const d = mg.domains[node]!;
  const out = ep * S;
  const row = node * S;
  for (let l = 0; l < d; l++) v2f[out + l] = unary[row + l]!;
  for (let k = varPtr[node]!; k < varPtr[node + 1]!; k++) {
    const e = varEdge[k]!;
    if (e === ep) continue;
    const m = e * S;
    for (let l = 0; l < d; l++) v2f[out + l]! += f2v[m + l]!;
  }
  return ep;
}

/**
 * Loopy message passing: "sequential" (factors in id order, the direction
 * alternating each sweep, beliefs updated after every factor) or "flooding"
 * (every message from the previous sweep's). New factor→variable messages are
 * normalized (min-sum: the minimum subtracted; sum-product: the maximum) and
 * damped (m ← (1−d)·m_new + d·m_old). Stops when no message entry changed by
 * more than the tolerance or after maxIterations sweeps. The beliefs are left
 * as of the last factor; callers recompute them.
 */
export function loopyMessages(
  mg: MessageGraph,
  w: MessageWork,
  o: ResolvedMessageOptions,
  semiring: Semiring,
): { converged: boolean; iterations: number } {
  const S = mg.stride;
  const nF = mg.nF;
  const { ptr, edgeVar, domains } = mg;
  const { f2v, bel, tmp } = w;
  f2v.fill(0, 0, ptr[nF]! * S);
  const lse = semiring === SUM_PRODUCT;
  const seq = o.schedule === "sequential";
  const damp = o.damping;
  const keep = 1 - damp;
  let converged = false;
  let iterations = 0;
  for (let it = 1; it <= o.maxIterations; it++) {
    beliefs(mg, w);
    const forward = !seq || (it & 1) === 1;
    let delta = 0;
    for (let k = 0; k < nF; k++) {
      const f = forward ? k : nF - 1 - k;
      const e0 = ptr[f]!;
      const e1 = ptr[f + 1]!;
      cavity(mg, w, e0, e1);
      if (lse) lseFactorMessages(mg, w, f);
      else minFactorMessages(mg, w, f);
      // Normalize, damp, measure, store (and refresh beliefs when sequential).
      for (let j = 0; j < e1 - e0; j++) {
        const e = e0 + j;
        const v = edgeVar[e]!;
        const d = domains[v]!;
        const src = j * S;
        let z: number;
        if (lse) {
          z = -Infinity;
          for (let l = 0; l < d; l++) if (tmp[src + l]! > z) z = tmp[src + l]!;
        } else {
          z = Infinity;
          for (let l = 0; l < d; l++) if (tmp[src + l]! < z) z = tmp[src + l]!;
        }
        const m = e * S;
        const row = v * S;
        for (let l = 0; l < d; l++) {
          const old = f2v[m + l]!;
          let nv = tmp[src + l]! - z;
          if (damp > 0) nv = keep * nv + damp * old;
          const ch = nv > old ? nv - old : old - nv;
          if (ch > delta) delta = ch;
          if (seq) bel[row + l]! += nv - old;
          f2v[m + l] = nv;
        }
      }
    }
    iterations = it;
    if (delta <= o.tolerance) {
      converged = true;
      break;
    }
  }
  return { converged, iterations };
}
