import { NadirError } from "../core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../graph/chain.ts";
import {
  type ChainArrays,
  ChainWorkspace,
  emptyChainArrays,
  maskedArrays,
} from "./chain-kernel.ts";
import { checkConstraints, checkK } from "./constraints.ts";
import type { Constraints, InferenceResult } from "./types.ts";

/** The largest k `kbestViterbi` answers (E_TOO_LARGE above it). */
export const MAX_KBEST = 10_000;

/**
 * k-best Viterbi by lazy enumeration over the trellis (Huang & Chiang 2005,
 * Algorithm 3, on a chain read right to left).
 *
 * A node (t, y) stands for the suffixes y_t = y, y_{t+1}, …, y_{T−1}; its
 * derivations D(t, y) are listed lazily in (energy, labels) order. A
 * derivation of (t, y) is a next label y' and a rank r in D(t+1, y'), of cost
 *   c = u_t(y) + (W(y, y') + D(t+1, y')[r].cost),
 * with D(T−1, y) = [u_{T−1}(y) + end(y)] and a root (t = −1) whose
 * derivations cost start(y₀) + D(0, y₀)[r].cost. Rank 0 of every node is the
 * backward min-sum value β_t(y) with the smallest minimizing y' (so ties go
 * to the lexicographically smallest suffix). The next derivation of a node is
 * the minimum, in (cost, y', r) order, of its candidates: the next rank-0
 * label not yet taken (an O(L) scan) and (y', r+1) for each taken (y', r)
 * (which asks the child for its next derivation — a walk down one path,
 * done iteratively). Equal costs with the same y' are ordered by r, which is
 * the lexicographic order of the suffixes; so the root lists the labelings in
 * non-decreasing energy, all distinct, ties lexicographically smallest first —
 * the order of `exhaustive` when the arithmetic is exact.
 *
 * Cost: one O(T·L²) backward pass (β and pointers, T·L each), then each of
 * the k answers walks at most T nodes, each step O(L) time and O(1) memory:
 * O(T·L² + k·T·L) time and O(T·L + k·T) memory, never k·T² (k ≤ MAX_KBEST).
 * Energies are `chainEnergy` of each labeling; the result is sorted by
 * (energy, labeling) at the end, which only matters when rounding makes two
 * sums a few ulps apart.
 */

/** One node's listed derivations and its pending candidates. */
interface Node {
  /** derivations in order, flat triples: next label, its rank, cost */
  d: number[];
  /** candidate min-heap, flat triples: cost, next label, rank */
  h: number[];
  /** the last rank-0 candidate pushed (cost, label): the next one comes after it */
  fc: number;
  fy: number;
  /** how many listed derivations have had their successors pushed */
  pushed: number;
  done: boolean;
}

const ws = new ChainWorkspace();
const arrays: ChainArrays = emptyChainArrays();
let beta = new Float64Array(0);
let ptr = new Int32Array(0);

/** (c1, y1, r1) < (c2, y2, r2) in the heap's order. */
function less(h: number[], i: number, j: number): boolean {
  const a = 3 * i;
  const b = 3 * j;
  if (h[a]! !== h[b]!) return h[a]! < h[b]!;
  if (h[a + 1]! !== h[b + 1]!) return h[a + 1]! < h[b + 1]!;
  return h[a + 2]! < h[b + 2]!;
}

function swap(h: number[], i: number, j: number): void {
  for (let o = 0; o < 3; o++) {
    const t = h[3 * i + o]!;
    h[3 * i + o] = h[3 * j + o]!;
    h[3 * j + o] = t;
  }
}

function heapPush(h: number[], c: number, y: number, r: number): void {
  h.push(c, y, r);
  let i = h.length / 3 - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!less(h, i, parent)) break;
    swap(h, i, parent);
    i = parent;
  }
}

/** Pop the minimum into `out` (cost, label, rank); false when empty. */
function heapPop(h: number[], out: number[]): boolean {
  const n = h.length / 3;
  if (n === 0) return false;
  out[0] = h[0]!;
  out[1] = h[1]!;
  out[2] = h[2]!;
  swap(h, 0, n - 1);
  h.length -= 3;
  const m = n - 1;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= m) break;
    const r = l + 1;
    const c = r < m && less(h, r, l) ? r : l;
    if (!less(h, c, i)) break;
    swap(h, i, c);
    i = c;
  }
  return true;
}

/**
 * The min(k, #feasible) lowest-energy distinct labelings of a chain in
 * non-decreasing energy order (ties: lexicographically smallest first),
 * honoring the constraints. Returns [] for k = 0 or when no labeling
 * satisfies the constraints. A chain with T = 0 has one (empty) labeling.
 * k above MAX_KBEST is an E_TOO_LARGE.
 */
export function kbestViterbi(
  p: ChainPotentials,
  k: number,
  constraints?: Constraints,
): InferenceResult[] {
  checkK("kbest", k);
  if (k > MAX_KBEST) {
    throw new NadirError(
      "E_TOO_LARGE",
      `kbest: k = ${k} exceeds the limit of ${MAX_KBEST} labelings (ask for at most ${MAX_KBEST})`,
    );
  }
  checkConstraints("kbest", p, constraints);
  if (k === 0) return [];
  const T = p.T;
  const L = p.L;
  if (T === 0) return [{ labels: new Int32Array(0), energy: 0, exact: true }];
  const a = maskedArrays(p, constraints, ws, arrays);
  const unary = a.unary;
  const allowed = a.allowed;
  const transition = a.transition;
  const start = a.start;
  const end = a.end;
  const INF = Number.POSITIVE_INFINITY;
  if (beta.length < T * L) {
    beta = new Float64Array(Math.max(T * L, 2 * beta.length));
    ptr = new Int32Array(beta.length);
  }
  const B = beta;
  const P = ptr;
  /** u_t(y), +∞ where the constraints forbid y at t. */
  const u = (t: number, y: number): number =>
    allowed !== undefined && allowed[t * L + y] === 0 ? INF : unary[t * L + y]!;

  // Backward min-sum with the smallest minimizing next label.
  const last = (T - 1) * L;
  for (let y = 0; y < L; y++) B[last + y] = u(T - 1, y) + end[y]!;
  for (let t = T - 2; t >= 0; t--) {
    const row = t * L;
    const next = row + L;
    for (let y = 0; y < L; y++) {
      const trow = y * L;
      const uy = u(t, y);
      // compare whole costs u + (W + β): the order the lazy lists use
      let best = INF;
      let arg = -1;
      for (let y2 = 0; y2 < L; y2++) {
        const v = uy + (transition[trow + y2]! + B[next + y2]!);
        if (v < best) {
          best = v;
          arg = y2;
        }
      }
      P[row + y] = arg;
      B[row + y] = best;
    }
  }
  let rootCost = INF;
  let rootArg = -1;
  for (let y = 0; y < L; y++) {
    const v = start[y]! + B[y]!;
    if (v < rootCost) {
      rootCost = v;
      rootArg = y;
    }
  }
  if (rootArg < 0) return [];

  // Nodes met so far, by (t + 1)·L + y (the root is t = −1, y = 0).
  const nodes = new Map<number, Node>();
  /** Cost of the derivation (y2, child cost) of node (t, y). */
  const cost = (t: number, y: number, y2: number, child: number): number =>
    t < 0 ? start[y2]! + child : u(t, y) + (transition[y * L + y2]! + child);
  const node = (t: number, y: number): Node => {
    const key = (t + 1) * L + y;
    let n = nodes.get(key);
    if (n === undefined) {
      const y0 = t < 0 ? rootArg : P[t * L + y]!;
      const c0 = t < 0 ? rootCost : B[t * L + y]!;
      n = { d: [y0, 0, c0], h: [], fc: c0, fy: y0, pushed: 0, done: false };
      nodes.set(key, n);
    }
    return n;
  };
  /** Number of derivations listed at (t, y), and whether that is all of them. */
  const listed = (t: number, y: number): number => {
    if (t === T - 1) return 1;
    const n = nodes.get((t + 1) * L + y);
    return n === undefined ? 1 : n.d.length / 3;
  };
  const isDone = (t: number, y: number): boolean => {
    if (t === T - 1) return true;
    const n = nodes.get((t + 1) * L + y);
    return n?.done === true;
  };
  const popped = [0, 0, 0];
  /** List the next derivation of (t, y), whose children already list what it needs. */
  const step = (t: number, y: number): void => {
    const n = node(t, y);
    const m = n.d.length / 3;
    if (n.pushed < m) {
      n.pushed = m;
      const y1 = n.d[3 * m - 3]!;
      const r1 = n.d[3 * m - 2]!;
      if (r1 === 0) {
        // the next rank-0 label after (fc, fy) in (cost, label) order
        const row = (t + 1) * L;
        let bc = INF;
        let by = -1;
        for (let y2 = 0; y2 < L; y2++) {
          const c = cost(t, y, y2, B[row + y2]!);
          if (c === INF) continue;
          if (c < n.fc || (c === n.fc && y2 <= n.fy)) continue;
          if (c < bc) {
            bc = c;
            by = y2;
          }
        }
        if (by >= 0) {
          heapPush(n.h, bc, by, 0);
          n.fc = bc;
          n.fy = by;
        }
      }
      if (t + 1 < T - 1 && listed(t + 1, y1) > r1 + 1) {
        const child = node(t + 1, y1);
        const c = cost(t, y, y1, child.d[3 * (r1 + 1) + 2]!);
        if (c !== INF) heapPush(n.h, c, y1, r1 + 1);
      }
    }
    if (heapPop(n.h, popped)) n.d.push(popped[1]!, popped[2]!, popped[0]!);
    else n.done = true;
  };
  /** List one more derivation of (t, y): walk down while a child must list one first, then step back up. */
  const pathT: number[] = [];
  const pathY: number[] = [];
  const more = (t: number, y: number): void => {
    pathT.length = 0;
    pathY.length = 0;
    let ct = t;
    let cy = y;
    for (;;) {
      const n = node(ct, cy);
      pathT.push(ct);
      pathY.push(cy);
      if (n.pushed * 3 >= n.d.length) break; // successors already pushed
      const m = n.d.length / 3;
      const y1 = n.d[3 * m - 3]!;
      const r1 = n.d[3 * m - 2]!;
      if (ct + 1 >= T - 1 || isDone(ct + 1, y1) || listed(ct + 1, y1) > r1 + 1) break;
      ct++;
      cy = y1;
    }
    for (let i = pathT.length - 1; i >= 0; i--) step(pathT[i]!, pathY[i]!);
  };

  const root = node(-1, 0);
  const results: InferenceResult[] = [];
  for (let i = 0; i < k; i++) {
    while (root.d.length / 3 <= i && !root.done) more(-1, 0);
    if (root.d.length / 3 <= i) break;
    const labels = new Int32Array(T);
    let y = root.d[3 * i]!;
    let r = root.d[3 * i + 1]!;
    for (let t = 0; t < T; t++) {
      labels[t] = y;
      if (t === T - 1) break;
      if (r === 0) {
        y = P[t * L + y]!;
      } else {
        const d = nodes.get((t + 1) * L + y)!.d;
        const y2 = d[3 * r]!;
        r = d[3 * r + 1]!;
        y = y2;
      }
    }
    results.push({ labels, energy: chainEnergy(p, labels), exact: true });
  }
  return results.sort(compareResults);
}

function compareResults(a: InferenceResult, b: InferenceResult): number {
  if (a.energy < b.energy) return -1;
  if (a.energy > b.energy) return 1;
  const x = a.labels;
  const y = b.labels;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - y[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
