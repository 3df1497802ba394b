import { type MessageGraph, type MessageWork, nextEntry } from "./bp-graph.ts";

/**
 * Min-sum message kernels (the min-plus semiring only; the log-sum-exp ones
 * live in sum-product-kernels.ts). Flat Float64Arrays with offsets, no allocation.
 * Inputs may hold +Infinity (forbidden labels); tables are finite except the
 * +Infinity of chain-only constraints. Nothing here produces NaN: only sums
 * and comparisons are formed, never differences.
 */

/**
 * Pairwise message through table T (La × Lb, row-major), O(La·Lb), rows read
 * contiguously: toSecond gives out[b] = min_a h[a] + T[a·Lb + b], else
 * out[a] = min_b h[b] + T[a·Lb + b].
 */
export function minPair(
  toSecond: boolean,
  h: Float64Array,
  hOff: number,
  t: Float64Array,
  tOff: number,
  La: number,
  Lb: number,
  out: Float64Array,
  oOff: number,
): void {
  if (toSecond) {
    for (let b = 0; b < Lb; b++) out[oOff + b] = Infinity;
    for (let a = 0; a < La; a++) {
      const ha = h[hOff + a]!;
      if (ha === Infinity) continue;
      const row = tOff + a * Lb;
      for (let b = 0; b < Lb; b++) {
        const v = ha + t[row + b]!;
        if (v < out[oOff + b]!) out[oOff + b] = v;
      }
    }
    return;
  }
  for (let a = 0; a < La; a++) {
    const row = tOff + a * Lb;
    let m = Infinity;
    for (let b = 0; b < Lb; b++) {
      const v = h[hOff + b]! + t[row + b]!;
      if (v < m) m = v;
    }
    out[oOff + a] = m;
  }
}

/**
 * The message of pairwise factor f of `mg` from the variable at `fromSlot`
 * (its variable→factor message h at hOff) to the other one, into out at oOff:
 * O(L) for Potts tables, O(L²) through `tables` otherwise.
 */
export function minPairMessage(
  mg: MessageGraph,
  tables: Float64Array,
  f: number,
  fromSlot: number,
  h: Float64Array,
  hOff: number,
  out: Float64Array,
  oOff: number,
): void {
  const e0 = mg.ptr[f]!;
  const La = mg.domains[mg.edgeVar[e0]!]!;
  const Lb = mg.domains[mg.edgeVar[e0 + 1]!]!;
  if (mg.potts[f] === 1) minPotts(h, hOff, La, mg.pottsSame[f]!, mg.pottsDiff[f]!, out, oOff);
  else minPair(fromSlot === 0, h, hOff, tables, mg.tableOff[f]!, La, Lb, out, oOff);
}

/**
 * Potts table (`same` on the diagonal, `diff` off it), O(L):
 * out[y] = min(h[y] + same, min_{x≠y} h[x] + diff), using the two smallest
 * entries of h. Bit-identical to the O(L²) kernels (rounding is monotone).
 */
export function minPotts(
  h: Float64Array,
  hOff: number,
  L: number,
  same: number,
  diff: number,
  out: Float64Array,
  oOff: number,
): void {
  let m1 = Infinity;
  let m2 = Infinity;
  let a1 = -1;
  for (let x = 0; x < L; x++) {
    const v = h[hOff + x]!;
    if (v < m1) {
      m2 = m1;
      m1 = v;
      a1 = x;
    } else if (v < m2) {
      m2 = v;
    }
  }
  const o1 = m1 + diff;
  const o2 = m2 + diff;
  for (let y = 0; y < L; y++) {
    const s = h[hOff + y]! + same;
    const o = y === a1 ? o2 : o1;
    out[oOff + y] = Math.min(s, o);
  }
}

/**
 * The general factor→variable message, any arity: for the factor whose edges
 * are e0 … e0+arity−1 (variables `edgeVar`, table `t[tOff … tOff+size)`,
 * row-major over the scope, last slot fastest),
 *
 *   out[x_jp] = min over table entries of t[idx] + Σ_{j≠jp} msg[(e0+j)·stride + x_j]
 *
 * and `arg[aOff + x_jp]` = the minimizing table index (−1 when none is
 * finite). `x` is an odometer workspace of ≥ arity entries. O(size·arity).
 */
export function minFactorToSlot(
  t: Float64Array,
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
  arg: Int32Array,
  aOff: number,
): void {
  const dp = domains[edgeVar[e0 + jp]!]!;
  for (let l = 0; l < dp; l++) {
    out[oOff + l] = Infinity;
    arg[aOff + l] = -1;
  }
  for (let j = 0; j < arity; j++) x[j] = 0;
  for (let idx = 0; idx < size; idx++) {
    let cost = t[tOff + idx]!;
    for (let j = 0; j < arity; j++) {
      if (j !== jp) cost += msg[(e0 + j) * stride + x[j]!]!;
    }
    const xp = x[jp]!;
    if (cost < out[oOff + xp]!) {
      out[oOff + xp] = cost;
      arg[aOff + xp] = idx;
    }
    nextEntry(x, arity, e0, edgeVar, domains);
  }
}

/**
 * Every factor→variable message of factor f of `mg` from the current w.v2f,
 * into w.tmp (slot j at j·stride): O(L) for Potts tables, O(L²) pairwise,
 * the general kernel otherwise.
 */
export function minFactorMessages(mg: MessageGraph, w: MessageWork, f: number): void {
  const S = mg.stride;
  const { ptr, edgeVar, domains, tableOff } = mg;
  const { v2f, tmp, tables } = w;
  const e0 = ptr[f]!;
  const arity = ptr[f + 1]! - e0;
  if (arity === 2) {
    minPairMessage(mg, tables, f, 1, v2f, (e0 + 1) * S, tmp, 0);
    minPairMessage(mg, tables, f, 0, v2f, e0 * S, tmp, S);
    return;
  }
  for (let j = 0; j < arity; j++) {
    minFactorToSlot(
      tables,
      tableOff[f]!,
      mg.tableSize[f]!,
      arity,
      e0,
      edgeVar,
      domains,
      v2f,
      S,
      j,
      w.odo,
      tmp,
      j * S,
      w.arg,
      0,
    );
  }
}
