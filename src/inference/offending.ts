import { NadirError } from "../core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../graph/chain.ts";
import { type FactorGraph, FactorGraphBuilder } from "../graph/factor-graph.ts";
import {
  backwardMinSum,
  type ChainArrays,
  ChainWorkspace,
  emptyChainArrays,
  followPointers,
  maskedArrays,
} from "./chain-kernel.ts";
import { checkConstraints } from "./constraints.ts";
import type { Backend, Constraints, InferenceResult, Potentials } from "./types.ts";

/**
 * The most offending incorrect answer Ȳ = argmin_{Y ≠ Yⁱ} E(Y) and
 * loss-augmented search argmin_Y E(Y) − scale·Δ(Y, Yⁱ).
 *
 * Both exact searches partition {Y ≠ Yⁱ} (Lawler / Nilsson) into the disjoint
 * sets S_k = "agrees with Yⁱ on variables 0 … k−1 and differs at k",
 * k = 0 … n−1, and take the best of the per-set minima.
 *
 * Constraints restrict Y only: a gold labeling that violates them is still
 * "the correct answer", and the search runs over the allowed Y ≠ Yⁱ (when the
 * gold prefix 0 … k−1 is itself not allowed, S_k … S_{n−1} are empty).
 *
 * Ties (both exact searches, exactly so when the arithmetic is exact): the
 * smallest k (the earliest first difference from gold) wins, then within S_k
 * the lexicographically smallest labeling (smallest label at k, then the
 * lexicographically smallest suffix) — the tie-break of viterbi/exhaustive.
 * This is *not* the lexicographically smallest minimizer over all Y ≠ Yⁱ.
 */

function goldError(who: string, msg: string): NadirError {
  return new NadirError("E_ARG", `${who}: gold ${msg}`);
}

/** Check that gold has ≥ n entries, each inside its variable's domain (O(n), the boundary). */
function checkGold(who: string, p: Potentials, gold: ArrayLike<number>): void {
  const n = p.kind === "chain" ? p.T : p.nVars;
  if (gold.length < n) throw goldError(who, `expected at least ${n} entries, got ${gold.length}`);
  if (p.kind === "chain") {
    const L = p.L;
    for (let t = 0; t < n; t++) {
      const l = gold[t]!;
      if (!(l >= 0 && l < L && Number.isInteger(l))) {
        throw goldError(who, `[${t}] expected a label in [0, ${L}), got ${l}`);
      }
    }
    return;
  }
  const d = p.domains;
  for (let v = 0; v < n; v++) {
    const l = gold[v]!;
    if (!(l >= 0 && l < d[v]! && Number.isInteger(l))) {
      throw goldError(who, `[${v}] expected a label in [0, ${d[v]}), got ${l}`);
    }
  }
}

/** Number of positions where two labelings differ. Throws NadirError("E_ARG") on different lengths. */
export function hamming(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) {
    throw new NadirError(
      "E_ARG",
      `hamming: expected labelings of equal length, got ${n} and ${b.length}`,
    );
  }
  return hammingN(a, b, n);
}

function hammingN(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) d++;
  return d;
}

// ---------------------------------------------------------------------------
// Chains: one backward pass + a walk along the gold prefix, O(T·L²).

const ws = new ChainWorkspace();
const arrays: ChainArrays = emptyChainArrays();

/**
 * Write the most offending incorrect labeling of a chain into `out[0 … T−1]`
 * and return its energy (`chainEnergy`), or +Infinity — `out` untouched —
 * when no allowed labeling differs from gold (T = 0, L = 1, or the
 * constraints leave only gold). Allocates nothing: workspaces live in this
 * module and grow to the largest T×L seen. `gold` needs ≥ T entries (the first
 * T are read); `out` needs ≥ T entries.
 *
 * β_t(y) (chain-kernel.ts) is the best energy of positions t … T−1 given
 * yₜ = y; the best labeling of S_k costs
 *   E(gold₀ … gold_{k−1}) + min_{l ≠ gold_k} [trans(gold_{k−1}, l) (start(l) at k = 0) + β_k(l)],
 * where the prefix energy includes start, unaries and transitions of the prefix.
 */
export function mostOffendingChainInto(
  p: ChainPotentials,
  gold: ArrayLike<number>,
  out: Int32Array,
  constraints?: Constraints,
): number {
  const T = p.T;
  const L = p.L;
  if (constraints !== undefined) checkConstraints("mostOffending", p, constraints);
  checkGold("mostOffending", p, gold);
  if (out.length < T) {
    throw new NadirError(
      "E_ARG",
      `mostOffending: out expected at least ${T} entries, got ${out.length}`,
    );
  }
  const INF = Number.POSITIVE_INFINITY;
  if (T === 0 || L === 1) return INF;
  ws.ensure(T, L);
  const a = maskedArrays(p, constraints, ws, arrays);
  const unary = a.unary;
  const allowed = a.allowed;
  const transition = a.transition;
  const start = a.start;
  if (backwardMinSum(T, L, unary, allowed, transition, start, a.end, ws) < 0) return INF;
  const beta = ws.beta;

  let bestCost = INF;
  let bestK = -1;
  let bestL = -1;
  // k = 0: differ at the first position.
  let g = gold[0]!;
  for (let l = 0; l < L; l++) {
    if (l === g) continue;
    const v = start[l]! + beta[l]!;
    if (v < bestCost) {
      bestCost = v;
      bestK = 0;
      bestL = l;
    }
  }
  // Prefix energy of gold₀ … gold_{k−1} (+Infinity once the prefix is not allowed).
  let prefix = allowed !== undefined && allowed[g] === 0 ? INF : start[g]! + unary[g]!;
  for (let k = 1; k < T && prefix < INF; k++) {
    const row = k * L;
    const trow = g * L;
    const gk = gold[k]!;
    let m = INF;
    let arg = -1;
    for (let l = 0; l < L; l++) {
      if (l === gk) continue;
      const v = transition[trow + l]! + beta[row + l]!;
      if (v < m) {
        m = v;
        arg = l;
      }
    }
    const cost = prefix + m;
    if (cost < bestCost) {
      bestCost = cost;
      bestK = k;
      bestL = arg;
    }
    prefix =
      allowed !== undefined && allowed[row + gk] === 0
        ? INF
        : prefix + transition[trow + gk]! + unary[row + gk]!;
    g = gk;
  }
  if (bestK < 0) return INF;
  for (let t = 0; t < bestK; t++) out[t] = gold[t]!;
  followPointers(T, L, ws.bp, bestK, bestL, out);
  return chainEnergy(p, out);
}

/**
 * The most offending incorrect answer on a chain: exact, O(T·L²), see
 * {@link mostOffendingChainInto}. Returns null when no allowed Y ≠ gold
 * exists. `out` (optional, length ≥ T) is filled and returned as `labels` (a
 * subarray view when longer than T); otherwise only the labels are allocated.
 */
export function mostOffendingChain(
  p: ChainPotentials,
  gold: ArrayLike<number>,
  constraints?: Constraints,
  out?: Int32Array,
): InferenceResult | null {
  const T = p.T;
  if (out !== undefined && out.length < T) {
    throw new NadirError(
      "E_ARG",
      `mostOffending: out expected at least ${T} entries, got ${out.length}`,
    );
  }
  const labels =
    out === undefined ? new Int32Array(T) : out.length === T ? out : out.subarray(0, T);
  const energy = mostOffendingChainInto(p, gold, labels, constraints);
  if (energy === Number.POSITIVE_INFINITY) return null;
  return { labels, energy, exact: true };
}

// ---------------------------------------------------------------------------
// Any backend that honors `allowed`: n clamped calls.

function isInfeasible(e: unknown): boolean {
  return (
    e instanceof NadirError &&
    e.code === "E_UNSUPPORTED" &&
    e.message.includes("no labeling satisfies")
  );
}

/**
 * The most offending incorrect answer with any backend that honors
 * `constraints.allowed` (clamping): exact when the backend is. For
 * k = 0 … n−1 it minimizes over S_k by the allowed mask "variables < k
 * clamped to gold, gold_k forbidden at k, the rest free", intersected with the
 * caller's constraints (chain-only constraints are passed through), and keeps
 * the best: at most n backend calls (a subproblem whose row k has no label
 * left, or whose gold prefix the constraints forbid, is skipped without a
 * call; one the backend finds infeasible — NadirError E_UNSUPPORTED "no
 * labeling satisfies" — is skipped too). `exact` is false when any call was
 * not. Returns null when no allowed Y ≠ gold exists. Throws
 * NadirError("E_UNSUPPORTED") when the backend refuses the potentials or
 * returns a labeling outside the mask (it ignores `allowed`).
 */
export function mostOffendingClamped(
  backend: Backend,
  p: Potentials,
  gold: ArrayLike<number>,
  constraints?: Constraints,
): InferenceResult | null {
  const who = `mostOffending(${backend.name})`;
  checkConstraints(who, p, constraints);
  checkGold(who, p, gold);
  const why = backend.supports(p);
  if (why !== null) throw new NadirError("E_UNSUPPORTED", `${who}: ${why}`);
  const chain = p.kind === "chain";
  const n = chain ? p.T : p.nVars;
  if (n === 0) return null;
  const stride = chain ? p.L : p.maxDomain;
  const L = chain ? p.L : 0;
  const mask = new Uint8Array(n * stride);
  const base = constraints?.allowed;
  if (base !== undefined) mask.set(base.subarray(0, n * stride));
  else mask.fill(1);
  const ft = chain ? constraints?.forbiddenTransitions : undefined;
  const fs = chain ? constraints?.forbiddenStart : undefined;
  const sub: Constraints = { allowed: mask };
  if (ft !== undefined) sub.forbiddenTransitions = ft;
  if (fs !== undefined) sub.forbiddenStart = fs;

  let best: InferenceResult | null = null;
  let exact = true;
  for (let k = 0; k < n; k++) {
    const row = k * stride;
    const d = chain ? L : p.domains[k]!;
    const g = gold[k]!;
    const goldAllowed = mask[row + g] !== 0;
    mask[row + g] = 0;
    let any = false;
    for (let l = 0; l < d; l++) {
      if (mask[row + l] !== 0) {
        any = true;
        break;
      }
    }
    if (any) {
      let r: InferenceResult | null = null;
      try {
        r = backend.minimize(p, sub);
      } catch (e) {
        if (!isInfeasible(e)) throw e;
      }
      if (r !== null) {
        if (r.labels[k] === g || mask[row + r.labels[k]!] === 0) {
          throw new NadirError(
            "E_UNSUPPORTED",
            `${who}: the backend returned a labeling outside constraints.allowed (it must honor clamping)`,
          );
        }
        if (!r.exact) exact = false;
        if (best === null || r.energy < best.energy) best = r;
      }
    }
    // Clamp variable k to gold for the next subsets; stop when the gold prefix is not allowed.
    if (!goldAllowed) break;
    if (fs !== undefined && k === 0 && fs[g] !== 0) break;
    if (ft !== undefined && k > 0 && ft[gold[k - 1]! * L + g] !== 0) break;
    mask.fill(0, row, row + stride);
    mask[row + g] = 1;
  }
  if (best === null) return null;
  return { labels: best.labels, energy: best.energy, exact };
}

// ---------------------------------------------------------------------------
// Loss-augmented search.

/** A mutable twin of ChainPotentials (the transient augmented potentials of the chain fast path). */
interface MutableChain {
  kind: "chain";
  T: number;
  L: number;
  unary: Float64Array;
  transition: Float64Array;
  start: Float64Array;
  end: Float64Array;
}

const none = new Float64Array(0);
const augChain: MutableChain = {
  kind: "chain",
  T: 0,
  L: 1,
  unary: none,
  transition: none,
  start: none,
  end: none,
};
let augUnary = new Float64Array(0);

function augmentedGraph(g: FactorGraph, gold: ArrayLike<number>, scale: number): FactorGraph {
  const b = new FactorGraphBuilder();
  const n = g.nVars;
  for (let v = 0; v < n; v++) b.addVariable(g.domains[v]!);
  for (let f = 0; f < g.nFactors; f++) {
    const fac = g.factors[f]!;
    b.addFactor(fac.scope, fac.table);
  }
  for (let v = 0; v < n; v++) {
    const d = g.domains[v]!;
    const table = new Float64Array(d).fill(-scale);
    table[gold[v]!] = 0;
    b.addFactor([v], table);
  }
  return b.build();
}

/**
 * Loss-augmented search, the structured-SVM "most violated" answer:
 * argmin_Y E(Y) − scale·Δ(Y, gold), Δ the Hamming distance, honoring the
 * constraints. Δ is folded into the unary energies (chains: a workspace copy
 * of `unary` with −scale at every non-gold label, passed to the backend as a
 * transient potentials object it must not retain; factor graphs: a new graph
 * with one extra unary factor per variable) and the backend minimizes.
 *
 * Returns the labeling, its TRUE energy E(Y) in `energy` and
 * `augmentedEnergy = E(Y) − scale·Δ(Y, gold)`. Unlike {@link mostOffending}'s
 * exact mode this may return gold itself (when no labeling beats it by its
 * Hamming margin): the caller's hinge then sees a non-positive loss. The
 * backend's infeasibility error (no allowed labeling) propagates.
 * `scale` must be finite (any sign; the usual range is ≥ 0).
 */
export function lossAugmented(
  backend: Backend,
  p: Potentials,
  gold: ArrayLike<number>,
  scale = 1,
  constraints?: Constraints,
): InferenceResult & { augmentedEnergy: number } {
  const who = `lossAugmented(${backend.name})`;
  if (!Number.isFinite(scale)) {
    throw new NadirError("E_ARG", `${who}: scale expected a finite number, got ${scale}`);
  }
  checkConstraints(who, p, constraints);
  checkGold(who, p, gold);
  let r: InferenceResult;
  if (p.kind === "chain") {
    const { T, L } = p;
    const n = T * L;
    if (augUnary.length < n) augUnary = new Float64Array(Math.max(n, augUnary.length * 2));
    const u = augUnary;
    const src = p.unary;
    for (let t = 0; t < T; t++) {
      const row = t * L;
      const g = row + gold[t]!;
      for (let i = row; i < row + L; i++) u[i] = i === g ? src[i]! : src[i]! - scale;
    }
    const q = augChain;
    q.T = T;
    q.L = L;
    q.unary = u;
    q.transition = p.transition;
    q.start = p.start;
    q.end = p.end;
    try {
      r = backend.minimize(q, constraints);
    } finally {
      q.transition = none;
      q.start = none;
      q.end = none;
    }
  } else {
    r = backend.minimize(augmentedGraph(p, gold, scale), constraints);
  }
  const labels = r.labels;
  const energy = p.kind === "chain" ? chainEnergy(p, labels) : p.energy(labels);
  const n = p.kind === "chain" ? p.T : p.nVars;
  const augmentedEnergy = energy - scale * hammingN(labels, gold, n);
  return { labels, energy, exact: r.exact, augmentedEnergy };
}

// ---------------------------------------------------------------------------

export type OffendingMode = "exact" | "hamming";

export interface OffendingOptions {
  /** Hamming scale for mode "hamming" (default 1). */
  scale?: number;
  constraints?: Constraints;
}

/**
 * The answer a margin loss compares gold with:
 * - "exact": argmin_{Y ≠ gold} E(Y) — {@link mostOffendingChain} on chain
 *   potentials (the backend is not used), {@link mostOffendingClamped} with
 *   the backend otherwise. null when no allowed Y ≠ gold exists.
 * - "hamming": {@link lossAugmented} (never null; MAY return gold itself,
 *   whose hinge loss is then non-positive — the convention of structured
 *   SVMs). The result also carries `augmentedEnergy`.
 */
export function mostOffending(
  backend: Backend,
  p: Potentials,
  gold: ArrayLike<number>,
  mode: OffendingMode,
  opts: OffendingOptions = {},
): InferenceResult | null {
  if (mode === "exact") {
    return p.kind === "chain"
      ? mostOffendingChain(p, gold, opts.constraints)
      : mostOffendingClamped(backend, p, gold, opts.constraints);
  }
  if (mode === "hamming") return lossAugmented(backend, p, gold, opts.scale ?? 1, opts.constraints);
  throw new NadirError(
    "E_ARG",
    `mostOffending: mode expected "exact" or "hamming", got '${String(mode)}'`,
  );
}
