import { type MessageGraph, type MessageWork, nextEntry } from "./bp-graph.ts";

/**
 * Sum-product message kernels (the log-sum-exp semiring only; the min-sum
 * ones live in min-sum-kernels.ts). Log space: −Infinity = probability 0,
 * never −Infinity − −Infinity; each output entry is max-shifted before
 * exponentiating. Flat Float64Arrays with offsets, no allocation.
 */

/**
 * Pairwise message through log-table φ (La × Lb, row-major): toSecond gives
 * out[b] = log Σ_a exp(h[a] + φ[a·Lb + b]) (`m` a workspace of ≥ Lb
 * entries), else out[a] = log Σ_b exp(h[b] + φ[a·Lb + b]).
 */
function lsePair(
  toSecond: boolean,
  h: Float64Array,
  hOff: number,
  phi: Float64Array,
  tOff: number,
  La: number,
  Lb: number,
  out: Float64Array,
  oOff: number,
  m: Float64Array,
): void {
  if (toSecond) {
    for (let b = 0; b < Lb; b++) {
      m[b] = -Infinity;
      out[oOff + b] = 0;
    }
    for (let a = 0; a < La; a++) {
      const ha = h[hOff + a]!;
      if (ha === -Infinity) continue;
      const row = tOff + a * Lb;
      for (let b = 0; b < Lb; b++) {
        const v = ha + phi[row + b]!;
        if (v > m[b]!) m[b] = v;
      }
    }
    for (let a = 0; a < La; a++) {
      const ha = h[hOff + a]!;
      if (ha === -Infinity) continue;
      const row = tOff + a * Lb;
      for (let b = 0; b < Lb; b++) out[oOff + b]! += Math.exp(ha + phi[row + b]! - m[b]!);
    }
    for (let b = 0; b < Lb; b++) {
      out[oOff + b] = m[b] === -Infinity ? -Infinity : m[b]! + Math.log(out[oOff + b]!);
    }
    return;
  }
  for (let a = 0; a < La; a++) {
    const row = tOff + a * Lb;
    let mm = -Infinity;
    for (let b = 0; b < Lb; b++) {
      const v = h[hOff + b]! + phi[row + b]!;
      if (v > mm) mm = v;
    }
    if (mm === -Infinity) {
      out[oOff + a] = -Infinity;
      continue;
    }
    let s = 0;
    for (let b = 0; b < Lb; b++) s += Math.exp(h[hOff + b]! + phi[row + b]! - mm);
    out[oOff + a] = mm + Math.log(s);
  }
}

/**
 * Any arity: out[x_jp] = log Σ over table entries with that x_jp of
 * exp(φ[idx] + Σ_{j≠jp} msg[(e0+j)·stride + x_j]). `m` ≥ domain, `x` ≥ arity.
 */
function lseFactorToSlot(
  phi: Float64Array,
  tOff: number,
  size: number,
  arity: number,
  e0: number,
  edgeVar: Int32Array,
  domains: Int32Array,
  msg: Float64Array,
  stride: number,
  jp: number,
  x: Int32Array,
  out: Float64Array,
  oOff: number,
  m: Float64Array,
): void {
  const dp = domains[edgeVar[e0 + jp]!]!;
  for (let l = 0; l < dp; l++) {
    m[l] = -Infinity;
    out[oOff + l] = 0;
  }
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < arity; j++) x[j] = 0;
    for (let idx = 0; idx < size; idx++) {
      let v = phi[tOff + idx]!;
      for (let j = 0; j < arity; j++) if (j !== jp) v += msg[(e0 + j) * stride + x[j]!]!;
      const xp = x[jp]!;
      if (pass === 0) {
        if (v > m[xp]!) m[xp] = v;
      } else if (v !== -Infinity) {
        out[oOff + xp]! += Math.exp(v - m[xp]!);
      }
      nextEntry(x, arity, e0, edgeVar, domains);
    }
  }
  for (let l = 0; l < dp; l++) {
    out[oOff + l] = m[l] === -Infinity ? -Infinity : m[l]! + Math.log(out[oOff + l]!);
  }
}

/** log Σ_l exp(a[off + l]), l < d. */
export function lse(a: Float64Array, off: number, d: number): number {
  let m = -Infinity;
  for (let l = 0; l < d; l++) if (a[off + l]! > m) m = a[off + l]!;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let l = 0; l < d; l++) s += Math.exp(a[off + l]! - m);
  return m + Math.log(s);
}

/** The message of factor f of `mg` into slot j from the current w.v2f, written to `out` at oOff. */
export function lseFactorMessage(
  mg: MessageGraph,
  w: MessageWork,
  f: number,
  j: number,
  out: Float64Array,
  oOff: number,
): void {
  const S = mg.stride;
  const e0 = mg.ptr[f]!;
  const arity = mg.ptr[f + 1]! - e0;
  const off = mg.tableOff[f]!;
  const { v2f, tables } = w;
  if (arity === 2) {
    const La = mg.domains[mg.edgeVar[e0]!]!;
    const Lb = mg.domains[mg.edgeVar[e0 + 1]!]!;
    const from = j === 1 ? e0 : e0 + 1;
    lsePair(j === 1, v2f, from * S, tables, off, La, Lb, out, oOff, w.mx);
    return;
  }
  lseFactorToSlot(
    tables,
    off,
    mg.tableSize[f]!,
    arity,
    e0,
    mg.edgeVar,
    mg.domains,
    v2f,
    S,
    j,
    w.odo,
    out,
    oOff,
    w.mx,
  );
}

/** Every factor→variable message of factor f into w.tmp (slot j at j·stride). */
export function lseFactorMessages(mg: MessageGraph, w: MessageWork, f: number): void {
  const arity = mg.ptr[f + 1]! - mg.ptr[f]!;
  for (let j = 0; j < arity; j++) lseFactorMessage(mg, w, f, j, w.tmp, j * mg.stride);
}
