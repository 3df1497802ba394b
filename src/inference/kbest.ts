import { Heap } from "heap-js";
import { type ChainPotentials, chainEnergy } from "../graph/chain.ts";
import {
  backwardMinSum,
  type ChainArrays,
  ChainWorkspace,
  emptyChainArrays,
  followPointers,
  maskedArrays,
} from "./chain-kernel.ts";
import { checkConstraints, checkK } from "./constraints.ts";
import type { Constraints, InferenceResult } from "./types.ts";

/**
 * k-best Viterbi by Lawler's partition scheme over the backward min-sum
 * values (β, exact costs-to-go; see chain-kernel.ts).
 *
 * A candidate is the best labeling of a subproblem "positions < pos fixed to
 * a prefix, label at pos not in a forbidden set, the rest free"; with β its
 * best labeling costs O(L + T): pick the best allowed label at pos, then
 * follow the pointers. Candidates wait in a min-heap ordered by
 * (energy, labeling). Popping candidate s emits it and splits the rest of its
 * subproblem into disjoint subproblems, one per position j ≥ pos: prefix
 * s₀…s_{j−1}, label at j ≠ s_j (and, at j = pos, not in the parent's forbidden
 * set either). Every labeling lies in exactly one subproblem, so the pops are
 * the labelings in non-decreasing energy order, all distinct, with ties in
 * lexicographic order — the same order as `exhaustive` when the arithmetic is
 * exact.
 *
 * Cost: one O(T·L²) backward pass, then O(k·T·(L + T) + k·T·log(k·T)).
 * Energies are `chainEnergy` of each labeling; the result is sorted by
 * (energy, labeling) at the end, which only matters when rounding makes a
 * child's energy a few ulps below its parent's.
 */

interface Candidate {
  labels: Int32Array;
  energy: number;
  /** First free position of the candidate's subproblem. */
  pos: number;
  /** Labels forbidden at `pos` (length L). */
  forbid: Uint8Array;
}

function lexCompare(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function compareCandidates(a: { energy: number; labels: Int32Array }, b: typeof a): number {
  if (a.energy < b.energy) return -1;
  if (a.energy > b.energy) return 1;
  return lexCompare(a.labels, b.labels);
}

const ws = new ChainWorkspace();
const arrays: ChainArrays = emptyChainArrays();

/**
 * The min(k, #feasible) lowest-energy distinct labelings of a chain in
 * non-decreasing energy order (ties: lexicographically smallest first),
 * honoring the constraints. Returns [] for k = 0 or when no labeling
 * satisfies the constraints. A chain with T = 0 has one (empty) labeling.
 */
export function kbestViterbi(
  p: ChainPotentials,
  k: number,
  constraints?: Constraints,
): InferenceResult[] {
  checkK("kbest", k);
  checkConstraints("kbest", p, constraints);
  if (k === 0) return [];
  const T = p.T;
  const L = p.L;
  if (T === 0) return [{ labels: new Int32Array(0), energy: 0, exact: true }];
  ws.ensure(T, L);
  const a = maskedArrays(p, constraints, ws, arrays);
  const beta = ws.beta;
  const bp = ws.bp;
  const y0 = backwardMinSum(T, L, a.unary, a.allowed, a.transition, a.start, a.end, ws);
  if (y0 < 0) return [];
  const transition = a.transition;
  const start = a.start;

  const first = new Int32Array(T);
  followPointers(T, L, bp, 0, y0, first);
  const heap = new Heap<Candidate>(compareCandidates);
  heap.push({ labels: first, energy: chainEnergy(p, first), pos: 0, forbid: new Uint8Array(L) });
  const results: InferenceResult[] = [];
  while (results.length < k) {
    const c = heap.pop();
    if (c === undefined) break;
    results.push({ labels: c.labels, energy: c.energy, exact: true });
    if (results.length === k) break;
    const s = c.labels;
    for (let j = c.pos; j < T; j++) {
      // The parent is done with its forbidden set: its first child inherits it.
      const forbid = j === c.pos ? c.forbid : new Uint8Array(L);
      forbid[s[j]!] = 1;
      const row = j * L;
      let best = Number.POSITIVE_INFINITY;
      let arg = -1;
      if (j === 0) {
        for (let y = 0; y < L; y++) {
          if (forbid[y] !== 0) continue;
          const v = start[y]! + beta[y]!;
          if (v < best) {
            best = v;
            arg = y;
          }
        }
      } else {
        const trow = s[j - 1]! * L;
        for (let y = 0; y < L; y++) {
          if (forbid[y] !== 0) continue;
          const v = transition[trow + y]! + beta[row + y]!;
          if (v < best) {
            best = v;
            arg = y;
          }
        }
      }
      if (arg < 0) continue; // every remaining label is forbidden or infeasible
      const labels = new Int32Array(T);
      labels.set(s.subarray(0, j));
      followPointers(T, L, bp, j, arg, labels);
      heap.push({ labels, energy: chainEnergy(p, labels), pos: j, forbid });
    }
  }
  return results.sort(compareCandidates);
}
