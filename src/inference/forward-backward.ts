import { NadirError } from "../core/errors.ts";
import { type ChainPotentials, chainEnergy } from "../graph/chain.ts";
import { checkConstraints, infeasible } from "./constraints.ts";
import type { Constraints } from "./types.ts";
import { grow } from "./workspace.ts";

/**
 * Forward-backward on chains at inverse temperature β: the Gibbs distribution
 * P(y) = exp(−β E(y)) / Z(β), its free energy F_β = −(1/β) log Z(β), and the
 * unary and pairwise marginals.
 *
 * Two kernels, each written out on its own (one semiring per kernel):
 *
 * - **log**: log-sum-exp messages with a max-shift per cell, stable for any
 *   finite β·energy. Forward messages are normalized per position
 *   (α̂ₜ = αₜ − cₜ, log Z = Σ cₜ + …) and backward messages shifted by their
 *   row maximum, so message values stay O(β·energy spread) whatever T is and
 *   marginals are formed locally (no cancellation against a huge log Z).
 *   Cost: 2·T·L² exp. The pairwise marginals reuse the backward pass's
 *   exponentials (μ(y, y') = e_{yy'}·k_y), so they cost only multiply-adds.
 * - **scaled** (the CRFsuite approach): exponentiate once per call — each
 *   position's unary shifted by its minimum, the transition matrix, start and
 *   end by theirs, so every weight is in [0, 1] — then run probability-space
 *   forward and backward with per-position normalizers
 *   (log Z = Σ log sₜ + offset). The L² inner loops are multiply-adds only.
 *   It refuses when β times some factor's energy spread exceeds 500·ln 2
 *   nats (its weights would fall below 2⁻⁵⁰⁰ or underflow) and as soon as a
 *   normalizer (forward sₜ, backward, or the local Σ α̂β̂) falls below 2⁻⁵⁰⁰
 *   or is not finite; `kernel: "auto"` (the default) then reruns the log
 *   kernel, `kernel: "scaled"` throws. The floor keeps every product of two
 *   normalizers a normal double, so denormal round-off stays below ~1e−22
 *   absolute in any marginal (in the tests both kernels match enumeration to
 *   1e−9 relative down to marginals of 1e−290).
 *
 * Constraints (`allowed`, `forbiddenTransitions`, `forbiddenStart`) are
 * probability 0: −Infinity log-weights, 0 weights. Workspaces live in this
 * module and grow to the longest sequence seen; results are written into
 * caller-visible arrays (fresh ones, or those of `opts.out`).
 */

/** Marginals of the Gibbs distribution of a chain at one β. */
export interface ChainMarginals {
  /** log Z(β) (natural log). */
  logZ: number;
  /** F_β = −log Z(β) / β. */
  freeEnergy: number;
  /** μₜ(l) at [t·L + l], T×L. With a reused `out` the array may be longer: only T·L entries are valid. */
  unary: Float64Array;
  /**
   * Σₜ₌₁ μₜ₋₁,ₜ(l, l') at [l·L + l'], L×L (zeros when T ≤ 1). With
   * `pairwise: "none"` it is not computed: empty in a fresh result, left
   * untouched in a reused `out`.
   */
  pairwiseSum: Float64Array;
  /**
   * Only with `pairwise: "each"`: μₜ₋₁,ₜ(l, l') at [(t−1)·L² + l·L + l'],
   * (T−1)×L×L. Left untouched in a reused `out` otherwise.
   */
  pairwise?: Float64Array;
  /** The kernel that produced the result ("auto" reports the one it ended up using). */
  kernel: "log" | "scaled";
  /** Sizes of the chain the result belongs to. */
  T: number;
  L: number;
}

export interface ForwardBackwardOptions {
  /** Pairwise marginals: none, summed over positions (default), or per position (and summed). */
  pairwise?: "none" | "sum" | "each";
  /** Forbidden labels / transitions / starts get probability 0. */
  constraints?: Constraints;
  /** "auto" (default): scaled, falling back to log when it underflows. "scaled" alone throws instead. */
  kernel?: "auto" | "log" | "scaled";
  /** Write into this result (arrays grown as needed, never shrunk) instead of allocating. */
  out?: ChainMarginals;
}

/** An empty result to pass as `out` (its arrays grow on first use). */
export function emptyChainMarginals(): ChainMarginals {
  return {
    logZ: 0,
    freeEnergy: 0,
    unary: new Float64Array(0),
    pairwiseSum: new Float64Array(0),
    kernel: "log",
    T: 0,
    L: 0,
  };
}

const WHO = "forward-backward";
const NEG_INF = Number.NEGATIVE_INFINITY;
const EMPTY = new Float64Array(0);
/** Scaled kernel: the smallest normalizer it trusts (2⁻⁵⁰⁰ ≈ 3e−151). */
const TINY = 2 ** -500;
/** Scaled kernel: the largest β·(energy spread) of one factor it accepts (weights ≥ 2⁻⁵⁰⁰). */
const MAX_NATS = 500 * Math.LN2;

class Workspace {
  /** Forward messages, T×L (log: normalized log α̂; scaled: α̂). */
  fwd = new Float64Array(0);
  /** Backward messages, T×L. */
  bwd = new Float64Array(0);
  /** Unary log-weights −β·unary (−∞ where disallowed), or weights in [0, 1], T×L. */
  w = new Float64Array(0);
  /** Forward normalizers per position: cₜ (log) or sₜ (scaled). */
  norm = new Float64Array(0);
  /** Transition log-weights / weights, L×L (from × to), and the transpose (log forward). */
  lt = new Float64Array(0);
  ltT = new Float64Array(0);
  /** Start and end log-weights / weights, a row of values, a row of exponentials. */
  ls = new Float64Array(0);
  le = new Float64Array(0);
  v = new Float64Array(0);
  erow = new Float64Array(0);
  /** Scaled kernel: the transition table whose exponentials lt/ltT hold (reused across calls). */
  transKey = new Float64Array(0);
  transValid = false;
  transBeta = 0;
  transFt: Uint8Array | undefined = undefined;
  transLo = 0;
  transL = 0;
  /** Scaled kernel, summed pairwise marginals: kₜ(y) = α̂ₜ(y)/(s_{t+1} z_{t+1}) and v_{t+1}(y′), T×L each. */
  kk = new Float64Array(0);
  vv = new Float64Array(0);

  ensure(T: number, L: number): void {
    if (this.ls.length < L) {
      this.ls = new Float64Array(L);
      this.le = new Float64Array(L);
      this.v = new Float64Array(L);
      this.erow = new Float64Array(L);
    }
    if (this.lt.length < L * L) {
      this.transValid = false;
      this.lt = new Float64Array(L * L);
      this.ltT = new Float64Array(L * L);
    }
    const n = T * L;
    if (this.fwd.length < n) {
      const cap = Math.max(n, this.fwd.length * 2);
      this.fwd = new Float64Array(cap);
      this.bwd = new Float64Array(cap);
      this.w = new Float64Array(cap);
      this.kk = new Float64Array(cap);
      this.vv = new Float64Array(cap);
    }
    if (this.norm.length < T) this.norm = new Float64Array(Math.max(T, this.norm.length * 2));
  }
}

const ws = new Workspace();

function checkBeta(beta: number): void {
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta <= 0) {
    throw new NadirError("E_ARG", `${WHO}: expected β finite and > 0, got ${beta}`);
  }
}

// ─── log-space kernel ──────────────────────────────────────────────────────

/** Are the first n entries of a and b equal? */
function sameTable(a: Float64Array, b: Float64Array, n: number): boolean {
  if (b.length < n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Fill ws.w, ws.lt, ws.ltT, ws.ls, ws.le with −β·energy (−∞ where forbidden). */
function prepareLog(p: ChainPotentials, c: Constraints | undefined, beta: number): void {
  ws.transValid = false; // lt/ltT now hold log-weights
  const { T, L, unary, transition, start, end } = p;
  const nb = -beta;
  const { w, lt, ltT, ls, le } = ws;
  const allowed = c?.allowed;
  const n = T * L;
  if (allowed === undefined) for (let i = 0; i < n; i++) w[i] = nb * unary[i]!;
  else for (let i = 0; i < n; i++) w[i] = allowed[i] === 0 ? NEG_INF : nb * unary[i]!;
  const ft = c?.forbiddenTransitions;
  for (let y = 0; y < L; y++) {
    const row = y * L;
    for (let y2 = 0; y2 < L; y2++) {
      const x = ft !== undefined && ft[row + y2] !== 0 ? NEG_INF : nb * transition[row + y2]!;
      lt[row + y2] = x;
      ltT[y2 * L + y] = x;
    }
  }
  const fs = c?.forbiddenStart;
  for (let y = 0; y < L; y++) {
    ls[y] = fs !== undefined && fs[y] !== 0 ? NEG_INF : nb * start[y]!;
    le[y] = nb * end[y]!;
  }
}

/**
 * Log-space forward pass on the prepared arrays: fills ws.fwd (each row
 * normalized to log-sum 0) and ws.norm (the row normalizers cₜ); returns
 * log Z, or −∞ when no labeling has positive probability.
 */
function forwardLog(T: number, L: number): number {
  const { w, ltT, ls, le, fwd, norm } = ws;
  let m = NEG_INF;
  for (let y = 0; y < L; y++) {
    const x = ls[y]! + w[y]!;
    fwd[y] = x;
    if (x > m) m = x;
  }
  if (m === NEG_INF) return NEG_INF;
  let s = 0;
  for (let y = 0; y < L; y++) s += Math.exp(fwd[y]! - m);
  let c = m + Math.log(s);
  for (let y = 0; y < L; y++) fwd[y] = fwd[y]! - c;
  norm[0] = c;
  let logZ = c;
  for (let t = 1; t < T; t++) {
    const prev = (t - 1) * L;
    const row = prev + L;
    let rm = NEG_INF;
    for (let y2 = 0; y2 < L; y2++) {
      const wy = w[row + y2]!;
      if (wy === NEG_INF) {
        fwd[row + y2] = NEG_INF;
        continue;
      }
      const col = y2 * L;
      let mm = NEG_INF;
      for (let y = 0; y < L; y++) {
        const x = fwd[prev + y]! + ltT[col + y]!;
        if (x > mm) mm = x;
      }
      let r = NEG_INF;
      if (mm !== NEG_INF) {
        let ss = 0;
        for (let y = 0; y < L; y++) ss += Math.exp(fwd[prev + y]! + ltT[col + y]! - mm);
        r = mm + Math.log(ss) + wy;
      }
      fwd[row + y2] = r;
      if (r > rm) rm = r;
    }
    if (rm === NEG_INF) return NEG_INF;
    s = 0;
    for (let y = 0; y < L; y++) s += Math.exp(fwd[row + y]! - rm);
    c = rm + Math.log(s);
    for (let y = 0; y < L; y++) fwd[row + y] = fwd[row + y]! - c;
    norm[t] = c;
    logZ += c;
  }
  const last = (T - 1) * L;
  m = NEG_INF;
  for (let y = 0; y < L; y++) {
    const x = fwd[last + y]! + le[y]!;
    if (x > m) m = x;
  }
  if (m === NEG_INF) return NEG_INF;
  s = 0;
  for (let y = 0; y < L; y++) s += Math.exp(fwd[last + y]! + le[y]! - m);
  return logZ + m + Math.log(s);
}

/** μₜ(y) = exp(α̂ + β̂ − zₜ) at one row (log kernel); returns zₜ. */
function unaryRowLog(row: number, L: number, unary: Float64Array): number {
  const fwd = ws.fwd;
  const bwd = ws.bwd;
  let m = NEG_INF;
  for (let y = 0; y < L; y++) {
    const x = fwd[row + y]! + bwd[row + y]!;
    if (x > m) m = x;
  }
  let s = 0;
  for (let y = 0; y < L; y++) s += Math.exp(fwd[row + y]! + bwd[row + y]! - m);
  const z = m + Math.log(s);
  for (let y = 0; y < L; y++) {
    // ≤ 1 in exact arithmetic; clamp the last-ulp overshoot of exp.
    unary[row + y] = Math.min(1, Math.exp(fwd[row + y]! + bwd[row + y]! - z));
  }
  return z;
}

/**
 * Log-space backward pass after a successful forwardLog, writing the unary
 * marginals and (pairMode 1: sum, 2: each and sum) the pairwise ones. Each
 * backward row is shifted by its maximum. The pairwise marginal of (t, t+1) is
 * exp(α̂ₜ(y) + lt(y, y') + w_{t+1}(y') + β̂_{t+1}(y') − c_{t+1} − z_{t+1}), formed
 * as e_{yy'}·k_y from the exponentials of β̂ₜ(y)'s own log-sum-exp.
 */
function backwardLog(T: number, L: number, m: ChainMarginals, pairMode: number): void {
  const { unary, pairwiseSum: pairSum } = m;
  const pairEach = m.pairwise ?? EMPTY;
  const { w, lt, le, fwd, bwd, norm, v, erow } = ws;
  const LL = L * L;
  let row = (T - 1) * L;
  let bm = NEG_INF;
  for (let y = 0; y < L; y++) if (le[y]! > bm) bm = le[y]!;
  for (let y = 0; y < L; y++) bwd[row + y] = le[y]! - bm;
  let zNext = unaryRowLog(row, L, unary);
  for (let t = T - 2; t >= 0; t--) {
    const next = row;
    row = next - L;
    for (let y2 = 0; y2 < L; y2++) v[y2] = w[next + y2]! + bwd[next + y2]!;
    const lnorm = norm[t + 1]! + zNext;
    const base = t * LL;
    bm = NEG_INF;
    for (let y = 0; y < L; y++) {
      const trow = y * L;
      let mm = NEG_INF;
      for (let y2 = 0; y2 < L; y2++) {
        const x = lt[trow + y2]! + v[y2]!;
        if (x > mm) mm = x;
      }
      if (mm === NEG_INF) {
        bwd[row + y] = NEG_INF;
        if (pairMode === 2) for (let y2 = 0; y2 < L; y2++) pairEach[base + trow + y2] = 0;
        continue;
      }
      let s = 0;
      if (pairMode === 0) {
        for (let y2 = 0; y2 < L; y2++) s += Math.exp(lt[trow + y2]! + v[y2]! - mm);
      } else {
        for (let y2 = 0; y2 < L; y2++) {
          const e = Math.exp(lt[trow + y2]! + v[y2]! - mm);
          erow[y2] = e;
          s += e;
        }
        // k = μ(y, argmax) ≤ 1 in exact arithmetic; the clamp keeps every k·e ≤ 1.
        const k = Math.min(1, Math.exp(fwd[row + y]! + mm - lnorm));
        if (pairMode === 2) {
          for (let y2 = 0; y2 < L; y2++) {
            const q = k * erow[y2]!;
            pairEach[base + trow + y2] = q;
            pairSum[trow + y2] = pairSum[trow + y2]! + q;
          }
        } else if (k !== 0) {
          for (let y2 = 0; y2 < L; y2++) pairSum[trow + y2] = pairSum[trow + y2]! + k * erow[y2]!;
        }
      }
      const b = mm + Math.log(s);
      bwd[row + y] = b;
      if (b > bm) bm = b;
    }
    for (let y = 0; y < L; y++) bwd[row + y] = bwd[row + y]! - bm;
    zNext = unaryRowLog(row, L, unary);
  }
}

// ─── scaled probability-space kernel ───────────────────────────────────────

/**
 * Fill ws.w, ws.lt (and its transpose ws.ltT), ws.ls, ws.le with weights exp(−β·(energy − min)) ∈ [0, 1]
 * (0 where forbidden) and return the log-offset −β·Σ minima, or NaN — the
 * scaled kernel refuses — when some factor has no allowed entry (the log
 * kernel then reports infeasibility) or β times some factor's energy spread
 * exceeds MAX_NATS (its smallest weights would be tiny or underflow).
 */
function prepareScaled(p: ChainPotentials, c: Constraints | undefined, beta: number): number {
  const { T, L, unary, transition, start, end } = p;
  const nb = -beta;
  const INF = Number.POSITIVE_INFINITY;
  const maxSpread = MAX_NATS / beta;
  const { w, lt, ltT, ls, le } = ws;
  const allowed = c?.allowed;
  let minSum = 0;
  for (let t = 0; t < T; t++) {
    const row = t * L;
    let lo = INF;
    let hi = -INF;
    for (let y = 0; y < L; y++) {
      const u = unary[row + y]!;
      if (allowed !== undefined && allowed[row + y] === 0) continue;
      if (u < lo) lo = u;
      if (u > hi) hi = u;
    }
    if (lo === INF || hi - lo > maxSpread) return Number.NaN;
    if (allowed === undefined) {
      for (let y = 0; y < L; y++) w[row + y] = Math.exp(nb * (unary[row + y]! - lo));
    } else {
      for (let y = 0; y < L; y++) {
        w[row + y] = allowed[row + y] === 0 ? 0 : Math.exp(nb * (unary[row + y]! - lo));
      }
    }
    minSum += lo;
  }
  const ft = c?.forbiddenTransitions;
  const LL = L * L;
  let lo = INF;
  let hi = -INF;
  if (
    T > 1 &&
    ws.transValid &&
    ws.transL === L &&
    ws.transBeta === beta &&
    ws.transFt === ft &&
    sameTable(transition, ws.transKey, LL)
  ) {
    // the same transition table as the last call (batch training): reuse its exponentials
    minSum += (T - 1) * ws.transLo;
  } else if (T > 1) {
    for (let i = 0; i < LL; i++) {
      if (ft !== undefined && ft[i] !== 0) continue;
      const x = transition[i]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    ws.transValid = false;
    if (lo === INF || hi - lo > maxSpread) return Number.NaN;
    for (let y = 0; y < L; y++) {
      const row = y * L;
      for (let y2 = 0; y2 < L; y2++) {
        const i = row + y2;
        const x = ft !== undefined && ft[i] !== 0 ? 0 : Math.exp(nb * (transition[i]! - lo));
        lt[i] = x;
        ltT[y2 * L + y] = x;
      }
    }
    minSum += (T - 1) * lo;
    if (ws.transKey.length < LL) ws.transKey = new Float64Array(LL);
    for (let i = 0; i < LL; i++) ws.transKey[i] = transition[i]!;
    ws.transValid = true;
    ws.transBeta = beta;
    ws.transFt = ft;
    ws.transLo = lo;
    ws.transL = L;
  }
  const fs = c?.forbiddenStart;
  lo = INF;
  hi = -INF;
  for (let y = 0; y < L; y++) {
    if (fs !== undefined && fs[y] !== 0) continue;
    const x = start[y]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo === INF || hi - lo > maxSpread) return Number.NaN;
  for (let y = 0; y < L; y++) {
    ls[y] = fs !== undefined && fs[y] !== 0 ? 0 : Math.exp(nb * (start[y]! - lo));
  }
  minSum += lo;
  lo = INF;
  hi = -INF;
  for (let y = 0; y < L; y++) {
    const x = end[y]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo === INF || hi - lo > maxSpread) return Number.NaN;
  for (let y = 0; y < L; y++) le[y] = Math.exp(nb * (end[y]! - lo));
  minSum += lo;
  return nb * minSum;
}

/**
 * Scaled forward pass: fills ws.fwd (rows summing to 1) and ws.norm (sₜ);
 * returns Σ log sₜ + log Σ α̂_{T−1}·end, or NaN when a normalizer is below
 * TINY (underflow, or no feasible labeling).
 */
function forwardScaled(T: number, L: number): number {
  const { w, ltT: MT, ls: S, le: E, fwd, norm } = ws;
  let s = 0;
  for (let y = 0; y < L; y++) {
    const a = S[y]! * w[y]!;
    fwd[y] = a;
    s += a;
  }
  if (!(s >= TINY)) return Number.NaN;
  let inv = 1 / s;
  for (let y = 0; y < L; y++) fwd[y] = fwd[y]! * inv;
  norm[0] = s;
  let logZ = Math.log(s);
  for (let t = 1; t < T; t++) {
    const prev = (t - 1) * L;
    const row = prev + L;
    s = 0;
    // Four output labels at a time: four independent accumulator chains (the
    // adds no longer wait on each other), each summed in the same order as
    // one at a time, so every value is bit-identical.
    let y2 = 0;
    for (; y2 + 3 < L; y2 += 4) {
      const c0 = y2 * L;
      const c1 = c0 + L;
      const c2 = c1 + L;
      const c3 = c2 + L;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let y = 0; y < L; y++) {
        const f = fwd[prev + y]!;
        a0 += f * MT[c0 + y]!;
        a1 += f * MT[c1 + y]!;
        a2 += f * MT[c2 + y]!;
        a3 += f * MT[c3 + y]!;
      }
      const x0 = a0 * w[row + y2]!;
      const x1 = a1 * w[row + y2 + 1]!;
      const x2 = a2 * w[row + y2 + 2]!;
      const x3 = a3 * w[row + y2 + 3]!;
      fwd[row + y2] = x0;
      fwd[row + y2 + 1] = x1;
      fwd[row + y2 + 2] = x2;
      fwd[row + y2 + 3] = x3;
      s += x0;
      s += x1;
      s += x2;
      s += x3;
    }
    for (; y2 < L; y2++) {
      const col = y2 * L;
      let acc = 0;
      for (let y = 0; y < L; y++) acc += fwd[prev + y]! * MT[col + y]!;
      const x = acc * w[row + y2]!;
      fwd[row + y2] = x;
      s += x;
    }
    if (!(s >= TINY)) return Number.NaN;
    inv = 1 / s;
    for (let y2 = 0; y2 < L; y2++) fwd[row + y2] = fwd[row + y2]! * inv;
    norm[t] = s;
    logZ += Math.log(s);
  }
  const last = (T - 1) * L;
  s = 0;
  for (let y = 0; y < L; y++) s += fwd[last + y]! * E[y]!;
  if (!(s >= TINY)) return Number.NaN;
  return logZ + Math.log(s);
}

/** μₜ(y) = α̂β̂ / zₜ at one row (scaled kernel); returns zₜ, or NaN below TINY. */
function unaryRowScaled(row: number, L: number, unary: Float64Array): number {
  const fwd = ws.fwd;
  const bwd = ws.bwd;
  let z = 0;
  for (let y = 0; y < L; y++) z += fwd[row + y]! * bwd[row + y]!;
  if (!(z >= TINY)) return Number.NaN;
  const inv = 1 / z;
  for (let y = 0; y < L; y++) {
    unary[row + y] = Math.min(1, fwd[row + y]! * (bwd[row + y]! * inv));
  }
  return z;
}

/**
 * Scaled backward pass after a successful forwardScaled (rows normalized to
 * sum 1), writing the marginals; false when a normalizer is below TINY. The
 * pairwise marginal of (t, t+1) is α̂ₜ(y)·M(y, y')·w_{t+1}(y')·β̂_{t+1}(y')
 * / (s_{t+1}·z_{t+1}), accumulated in the same loop as β̂ₜ.
 */
function backwardScaled(T: number, L: number, m: ChainMarginals, pairMode: number): boolean {
  const { unary, pairwiseSum: pairSum } = m;
  const pairEach = m.pairwise ?? EMPTY;
  const { w, lt: M, le: E, fwd, bwd, norm, v, kk, vv } = ws;
  const LL = L * L;
  let row = (T - 1) * L;
  let d = 0;
  for (let y = 0; y < L; y++) d += E[y]!;
  let inv = 1 / d;
  for (let y = 0; y < L; y++) bwd[row + y] = E[y]! * inv;
  let zNext = unaryRowScaled(row, L, unary);
  if (Number.isNaN(zNext)) return false;
  for (let t = T - 2; t >= 0; t--) {
    const next = row;
    row = next - L;
    for (let y2 = 0; y2 < L; y2++) v[y2] = w[next + y2]! * bwd[next + y2]!;
    if (pairMode === 1) for (let y2 = 0; y2 < L; y2++) vv[row + y2] = v[y2]!;
    const knorm = 1 / (norm[t + 1]! * zNext);
    const base = t * LL;
    d = 0;
    // pairMode 0 / 1: four rows of M at a time (independent accumulator
    // chains, each in the original order: bit-identical), the rest below
    let y0 = 0;
    if (pairMode !== 2) {
      for (; y0 + 3 < L; y0 += 4) {
        const r0 = y0 * L;
        const r1 = r0 + L;
        const r2 = r1 + L;
        const r3 = r2 + L;
        if (pairMode === 1) {
          kk[row + y0] = fwd[row + y0]! * knorm;
          kk[row + y0 + 1] = fwd[row + y0 + 1]! * knorm;
          kk[row + y0 + 2] = fwd[row + y0 + 2]! * knorm;
          kk[row + y0 + 3] = fwd[row + y0 + 3]! * knorm;
        }
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let y2 = 0; y2 < L; y2++) {
          const vy = v[y2]!;
          a0 += M[r0 + y2]! * vy;
          a1 += M[r1 + y2]! * vy;
          a2 += M[r2 + y2]! * vy;
          a3 += M[r3 + y2]! * vy;
        }
        bwd[row + y0] = a0;
        bwd[row + y0 + 1] = a1;
        bwd[row + y0 + 2] = a2;
        bwd[row + y0 + 3] = a3;
        d += a0;
        d += a1;
        d += a2;
        d += a3;
      }
    }
    for (let y = y0; y < L; y++) {
      const trow = y * L;
      let acc = 0;
      const k = fwd[row + y]! * knorm;
      if (pairMode === 2) {
        for (let y2 = 0; y2 < L; y2++) {
          const mv = M[trow + y2]! * v[y2]!;
          acc += mv;
          const q = k * mv;
          pairEach[base + trow + y2] = q;
          pairSum[trow + y2] = pairSum[trow + y2]! + q;
        }
      } else {
        if (pairMode === 1) kk[row + y] = k;
        for (let y2 = 0; y2 < L; y2++) acc += M[trow + y2]! * v[y2]!;
      }
      bwd[row + y] = acc;
      d += acc;
    }
    if (!(d >= TINY)) return false;
    inv = 1 / d;
    for (let y = 0; y < L; y++) bwd[row + y] = bwd[row + y]! * inv;
    zNext = unaryRowScaled(row, L, unary);
    if (Number.isNaN(zNext)) return false;
  }
  if (pairMode === 1) {
    // Σₜ μₜ,ₜ₊₁(y, y′) = M(y, y′) · Σₜ kₜ(y)·v_{t+1}(y′): one T·L² product with register
    // accumulators instead of a read-modify-write of pairSum inside the L² loop above.
    const n = (T - 1) * L;
    for (let y = 0; y < L; y++) {
      const trow = y * L;
      // four columns at a time, each sum in the original order (bit-identical)
      let y2 = 0;
      for (; y2 + 3 < L; y2 += 4) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let i = 0; i < n; i += L) {
          const kv = kk[i + y]!;
          const j = i + y2;
          a0 += kv * vv[j]!;
          a1 += kv * vv[j + 1]!;
          a2 += kv * vv[j + 2]!;
          a3 += kv * vv[j + 3]!;
        }
        pairSum[trow + y2] = pairSum[trow + y2]! + M[trow + y2]! * a0;
        pairSum[trow + y2 + 1] = pairSum[trow + y2 + 1]! + M[trow + y2 + 1]! * a1;
        pairSum[trow + y2 + 2] = pairSum[trow + y2 + 2]! + M[trow + y2 + 2]! * a2;
        pairSum[trow + y2 + 3] = pairSum[trow + y2 + 3]! + M[trow + y2 + 3]! * a3;
      }
      for (; y2 < L; y2++) {
        let acc = 0;
        for (let i = 0; i < n; i += L) acc += kk[i + y]! * vv[i + y2]!;
        pairSum[trow + y2] = pairSum[trow + y2]! + M[trow + y2]! * acc;
      }
    }
  }
  return true;
}

// ─── API ───────────────────────────────────────────────────────────────────

/**
 * Log-space forward pass on p at β (workspace ensured): log Z. Throws the
 * infeasibility error when no labeling is allowed, E_ARG when β·energy overflows.
 */
function logForward(p: ChainPotentials, c: Constraints | undefined, beta: number): number {
  prepareLog(p, c, beta);
  const logZ = forwardLog(p.T, p.L);
  if (logZ === NEG_INF) throw infeasible(WHO);
  if (!Number.isFinite(logZ)) {
    throw new NadirError("E_ARG", `${WHO}: β·energy overflows at β = ${beta} (log Z = ${logZ})`);
  }
  return logZ;
}

/** A result array: the caller's when long enough, else a new one of exactly n entries. */
function reuse(a: Float64Array | undefined, n: number): Float64Array {
  return a !== undefined && a.length >= n ? a : new Float64Array(n);
}

/**
 * Free energy, log Z and the marginals of the Gibbs distribution of a chain at
 * inverse temperature β (finite, > 0). Throws NadirError("E_ARG") for a bad β
 * or option, NadirError("E_UNSUPPORTED") when no labeling satisfies the
 * constraints, or when `kernel: "scaled"` underflows. T = 0 gives log Z = 0,
 * F = 0 and empty marginals.
 *
 * Without `out` every array is freshly allocated with its exact size; with
 * `out` the arrays of `out` are reused (grown when too short, so only the
 * first T·L / L² / (T−1)·L² entries are meaningful) and `out` is returned.
 */
export function forwardBackward(
  p: ChainPotentials,
  beta: number,
  opts: ForwardBackwardOptions = {},
): ChainMarginals {
  checkBeta(beta);
  const pw = opts.pairwise ?? "sum";
  const kernel = opts.kernel ?? "auto";
  if (pw !== "none" && pw !== "sum" && pw !== "each") {
    throw new NadirError("E_ARG", `${WHO}: pairwise expected none | sum | each, got ${pw}`);
  }
  if (kernel !== "auto" && kernel !== "log" && kernel !== "scaled") {
    throw new NadirError("E_ARG", `${WHO}: kernel expected auto | log | scaled, got ${kernel}`);
  }
  const c = opts.constraints;
  if (c !== undefined) checkConstraints(WHO, p, c);
  const { T, L } = p;
  const pairMode = pw === "none" ? 0 : pw === "sum" ? 1 : 2;
  const nPair = T > 1 ? (T - 1) * L * L : 0;

  const m = opts.out ?? emptyChainMarginals();
  const fresh = opts.out === undefined;
  const unary = fresh ? new Float64Array(T * L) : reuse(m.unary, T * L);
  m.unary = unary;
  let pairSum: Float64Array = EMPTY;
  if (pairMode !== 0) {
    pairSum = fresh ? new Float64Array(L * L) : reuse(m.pairwiseSum, L * L);
    pairSum.fill(0, 0, L * L);
    m.pairwiseSum = pairSum;
  }
  let pairEach: Float64Array = EMPTY;
  if (pairMode === 2) {
    pairEach = fresh ? new Float64Array(nPair) : reuse(m.pairwise, nPair);
    m.pairwise = pairEach;
  }
  m.T = T;
  m.L = L;
  m.kernel = kernel === "scaled" ? "scaled" : "log";
  if (T === 0) {
    m.logZ = 0;
    m.freeEnergy = 0;
    return m;
  }
  ws.ensure(T, L);

  if (kernel !== "log") {
    const offset = prepareScaled(p, c, beta);
    let logZ = Number.NaN;
    if (!Number.isNaN(offset)) {
      const lz = forwardScaled(T, L);
      if (!Number.isNaN(lz) && backwardScaled(T, L, m, pairMode)) {
        logZ = lz + offset;
      }
    }
    if (Number.isFinite(logZ)) {
      m.logZ = logZ;
      m.freeEnergy = -logZ / beta;
      m.kernel = "scaled";
      return m;
    }
    if (kernel === "scaled") {
      prepareLog(p, c, beta);
      if (forwardLog(T, L) === NEG_INF) throw infeasible(WHO);
      throw new NadirError(
        "E_UNSUPPORTED",
        `${WHO}: the scaled kernel underflows at β = ${beta} (a normalizer fell below 2^-500); use kernel "auto" or "log"`,
      );
    }
    if (pairMode !== 0) pairSum.fill(0, 0, L * L);
  }

  const logZ = logForward(p, c, beta);
  backwardLog(T, L, m, pairMode);
  m.logZ = logZ;
  m.freeEnergy = -logZ / beta;
  m.kernel = "log";
  return m;
}

/**
 * F_β = −log Z(β)/β alone: one log-space forward pass, no marginals.
 * Same errors as {@link forwardBackward}; 0 when T = 0.
 */
export function freeEnergy(p: ChainPotentials, beta: number, constraints?: Constraints): number {
  checkBeta(beta);
  if (constraints !== undefined) checkConstraints(WHO, p, constraints);
  const { T, L } = p;
  if (T === 0) return 0;
  ws.ensure(T, L);
  return -logForward(p, constraints, beta) / beta;
}

function checkLabeling(p: ChainPotentials, y: ArrayLike<number>): void {
  const { T, L } = p;
  if (y.length < T) {
    throw new NadirError("E_ARG", `${WHO}: labeling expected ${T} labels, got ${y.length}`);
  }
  for (let t = 0; t < T; t++) {
    const l = y[t]!;
    if (!Number.isInteger(l) || l < 0 || l >= L) {
      throw new NadirError("E_ARG", `${WHO}: label at ${t} expected in 0…${L - 1}, got ${l}`);
    }
  }
}

/**
 * log P_β(y) = −β (E(y) − F_β). `F` defaults to freeEnergy(p, beta) (no
 * constraints); pass the constrained free energy to get the constrained law.
 */
export function logGibbsProbability(
  p: ChainPotentials,
  y: ArrayLike<number>,
  beta: number,
  F?: number,
): number {
  checkBeta(beta);
  checkLabeling(p, y);
  const f = F ?? freeEnergy(p, beta);
  return -beta * (chainEnergy(p, y) - f);
}

/** P_β(y) = exp(−β (E(y) − F_β)); see {@link logGibbsProbability}. */
export function gibbsProbability(
  p: ChainPotentials,
  y: ArrayLike<number>,
  beta: number,
  F?: number,
): number {
  return Math.exp(logGibbsProbability(p, y, beta, F));
}

function checkMarginals(p: ChainPotentials, m: ChainMarginals): void {
  const { T, L } = p;
  if (m.T !== T || m.L !== L || m.unary.length < T * L) {
    throw new NadirError(
      "E_ARG",
      `${WHO}: marginals expected for T×L = ${T}×${L}, got ${m.T}×${m.L}`,
    );
  }
  if (T > 1 && m.pairwiseSum.length < L * L) {
    throw new NadirError(
      "E_ARG",
      `${WHO}: expected pairwiseSum (L×L = ${L * L} entries), got ${m.pairwiseSum.length}; run with pairwise "sum" or "each"`,
    );
  }
}

/** ⟨E⟩ = Σ_y P(y) E(y) from the marginals (needs pairwiseSum when T > 1). */
export function expectedEnergy(p: ChainPotentials, m: ChainMarginals): number {
  checkMarginals(p, m);
  const { T, L, unary, transition, start, end } = p;
  if (T === 0) return 0;
  const mu = m.unary;
  let e = 0;
  const n = T * L;
  for (let i = 0; i < n; i++) e += mu[i]! * unary[i]!;
  const last = (T - 1) * L;
  for (let y = 0; y < L; y++) e += mu[y]! * start[y]! + mu[last + y]! * end[y]!;
  if (T > 1) {
    const ps = m.pairwiseSum;
    const LL = L * L;
    for (let i = 0; i < LL; i++) e += ps[i]! * transition[i]!;
  }
  return e;
}

/**
 * Entropy of the Gibbs distribution in nats, H = β(⟨E⟩ − F_β), clamped at 0
 * (at large β the difference is a cancellation and may round slightly below).
 */
export function entropy(p: ChainPotentials, m: ChainMarginals, beta: number): number {
  checkBeta(beta);
  const h = beta * (expectedEnergy(p, m) - m.freeEnergy);
  return Math.max(h, 0);
}

// ─── the Gibbs density relative to the minimum (any β) ─────────────────────

/**
 * The Gibbs distribution of a chain described relative to its minimum
 * energy E*, so that nothing overflows or cancels at large β (tested to
 * β = 1e300). See {@link gibbsDensity}.
 */
export interface GibbsDensity {
  T: number;
  L: number;
  beta: number;
  /** E* = min_y E(y) over the allowed labelings. */
  minEnergy: number;
  /** log Z₀ = log Σ_y exp(−β (E(y) − E*)) ≥ 0 (the log of the number of minimizers as β → ∞). */
  logZ0: number;
  /** log Z(β) = −β E* + log Z₀. */
  logZ: number;
  /** F_β = E* − log Z₀ / β ≤ E*. */
  freeEnergy: number;
  /** H = log Z₀ + β ⟨E − E*⟩ ≥ 0 nats (a sum of non-negative terms). */
  entropy: number;
  /** μₜ(l) at [t·L + l], T×L. */
  marginals: Float64Array;
  /** E(y) − E* ≥ 0, summed from the reparametrized potentials (+∞ for a forbidden labeling). */
  gap(y: ArrayLike<number>): number;
  /** log P_β(y) = −β (E(y) − E*) − log Z₀ ≤ 0 (−∞ for a forbidden labeling). */
  logProbability(y: ArrayLike<number>): number;
}

let gA = new Float64Array(0);
let gF = new Float64Array(0);
let gB = new Float64Array(0);
let gU = new Float64Array(0);
let gW = new Float64Array(0);

/**
 * The Gibbs density at any finite β > 0, computed in log space relative to
 * the minimum. A forward min-sum pass gives Aₜ(y), the least energy of a
 * prefix ending in y (start and unaries included); the potentials are then
 * reparametrized as
 *   τₜ(y, y') = (Aₜ(y) + W(y, y') + uₜ₊₁(y')) − Aₜ₊₁(y') ≥ 0,
 *   e(y) = (A_{T−1}(y) + end(y)) − E* ≥ 0,
 * each the difference between a candidate and the minimum taken over those
 * very candidates, so ≥ 0 holds exactly in floating point; for every labeling
 * E(y) − E* = Σₜ τₜ(yₜ, yₜ₊₁) + e(y_{T−1}) (the Aₜ telescope). Log-space
 * forward and backward passes over exp(−β τ) then give log Z₀ ≥ 0 (every
 * prefix extends a minimizing one, whose weights are exp(0)), the marginals,
 * and H = log Z₀ + β Σ μ·τ with every term ≥ 0 and → 0 as β → ∞ for a
 * unique minimum. Nothing is clamped. Throws like {@link forwardBackward}
 * (E_ARG for β, E_UNSUPPORTED when no labeling satisfies the constraints).
 * Cost: 3·T·L² (one min-sum pass, two log-sum-exp passes), T·L memory.
 */
export function gibbsDensity(
  p: ChainPotentials,
  beta: number,
  constraints?: Constraints,
): GibbsDensity {
  checkBeta(beta);
  const c = constraints;
  if (c !== undefined) checkConstraints(WHO, p, c);
  const { T, L, unary, transition, start, end } = p;
  const INF = Number.POSITIVE_INFINITY;
  if (T === 0) {
    return {
      T,
      L,
      beta,
      minEnergy: 0,
      logZ0: 0,
      logZ: 0,
      freeEnergy: 0,
      entropy: 0,
      marginals: new Float64Array(0),
      gap: () => 0,
      logProbability: () => 0,
    };
  }
  const n = T * L;
  gA = grow(gA, n);
  gF = grow(gF, n);
  gB = grow(gB, n);
  gU = grow(gU, n);
  if (gW.length < L * L) gW = new Float64Array(L * L);
  const A = gA;
  const fw = gF;
  const bw = gB;
  // Masked copies: +∞ where the constraints forbid.
  const U = gU;
  const Wm = gW;
  const allowed = c?.allowed;
  const ft = c?.forbiddenTransitions;
  const fs = c?.forbiddenStart;
  for (let i = 0; i < n; i++) U[i] = allowed !== undefined && allowed[i] === 0 ? INF : unary[i]!;
  for (let i = 0; i < L * L; i++) Wm[i] = ft !== undefined && ft[i] !== 0 ? INF : transition[i]!;
  // τₜ(y, y') is recomputed wherever it is needed, always as
  //   cand = (Aₜ(y) + W(y, y')) + uₜ₊₁(y');  τ = cand − Aₜ₊₁(y')  (+∞ when cand is)
  // which is exactly how Aₜ₊₁ took its minimum.

  // Forward min-sum: Aₜ(y).
  for (let y = 0; y < L; y++) A[y] = (fs !== undefined && fs[y] !== 0 ? INF : start[y]!) + U[y]!;
  for (let t = 1; t < T; t++) {
    const prev = (t - 1) * L;
    const row = t * L;
    for (let y2 = 0; y2 < L; y2++) {
      const uy = U[row + y2]!;
      let m = INF;
      for (let y = 0; y < L; y++) {
        const cand = A[prev + y]! + Wm[y * L + y2]! + uy;
        if (cand < m) m = cand;
      }
      A[row + y2] = m;
    }
  }
  const last = (T - 1) * L;
  let Emin = INF;
  for (let y = 0; y < L; y++) {
    const v = A[last + y]! + end[y]!;
    if (v < Emin) Emin = v;
  }
  if (Emin === INF) throw infeasible(WHO);
  /** e(y) = (A_{T−1}(y) + end(y)) − E* ≥ 0. */
  const e = (y: number): number => {
    const v = A[last + y]! + end[y]!;
    return v === INF ? INF : v - Emin;
  };
  const nb = -beta;

  // Forward log-sum-exp over exp(−β τ): fwₜ(y) ≥ 0 where reachable.
  for (let y = 0; y < L; y++) fw[y] = A[y] === INF ? NEG_INF : 0;
  for (let t = 0; t + 1 < T; t++) {
    const row = t * L;
    const next = row + L;
    for (let y2 = 0; y2 < L; y2++) {
      const a2 = A[next + y2]!;
      const uy = U[next + y2]!;
      let m = NEG_INF;
      if (a2 !== INF) {
        for (let y = 0; y < L; y++) {
          const f = fw[row + y]!;
          if (f === NEG_INF) continue;
          const cand = A[row + y]! + Wm[y * L + y2]! + uy;
          if (cand === INF) continue;
          const x = f + nb * (cand - a2);
          if (x > m) m = x;
        }
      }
      let v = NEG_INF;
      if (m !== NEG_INF) {
        let s = 0;
        for (let y = 0; y < L; y++) {
          const f = fw[row + y]!;
          if (f === NEG_INF) continue;
          const cand = A[row + y]! + Wm[y * L + y2]! + uy;
          if (cand !== INF) s += Math.exp(f + nb * (cand - a2) - m);
        }
        v = m + Math.log(s);
      }
      fw[next + y2] = v;
    }
  }
  let m0 = NEG_INF;
  for (let y = 0; y < L; y++) {
    const f = fw[last + y]!;
    if (f !== NEG_INF && e(y) !== INF) m0 = Math.max(m0, f + nb * e(y));
  }
  let s0 = 0;
  for (let y = 0; y < L; y++) {
    const f = fw[last + y]!;
    if (f !== NEG_INF && e(y) !== INF) s0 += Math.exp(f + nb * e(y) - m0);
  }
  const logZ0 = m0 + Math.log(s0);

  // Backward: bwₜ(y) = log Σ over suffixes of exp(−β (τ… + e)); and, from
  // the same terms, the expected gap ⟨E − E*⟩ = Σ μ(y, y')·τ + Σ μ(y)·e.
  let expGap = 0;
  for (let y = 0; y < L; y++) {
    const ev = e(y);
    bw[last + y] = ev === INF ? NEG_INF : nb * ev;
  }
  for (let t = T - 2; t >= 0; t--) {
    const row = t * L;
    const next = row + L;
    for (let y = 0; y < L; y++) {
      const ay = A[row + y]!;
      const f = fw[row + y]!;
      let m = NEG_INF;
      if (ay !== INF) {
        for (let y2 = 0; y2 < L; y2++) {
          const b = bw[next + y2]!;
          if (b === NEG_INF) continue;
          const cand = ay + Wm[y * L + y2]! + U[next + y2]!;
          if (cand === INF) continue;
          const x = b + nb * (cand - A[next + y2]!);
          if (x > m) m = x;
        }
      }
      let v = NEG_INF;
      if (m !== NEG_INF) {
        let s = 0;
        // μ(y, y') = exp(fw + x − log Z₀) = ex·k with k = exp(fw + m − log Z₀)
        const k = f === NEG_INF ? 0 : Math.exp(f + m - logZ0);
        for (let y2 = 0; y2 < L; y2++) {
          const b = bw[next + y2]!;
          if (b === NEG_INF) continue;
          const cand = ay + Wm[y * L + y2]! + U[next + y2]!;
          if (cand === INF) continue;
          const tv = cand - A[next + y2]!;
          const ex = Math.exp(b + nb * tv - m);
          s += ex;
          if (tv > 0) {
            const mu = ex * k;
            if (mu > 0) expGap += mu * (beta * tv);
          }
        }
        v = m + Math.log(s);
      }
      bw[row + y] = v;
    }
  }

  // Marginals, and the last position's share of the expected gap.
  const marginals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const f = fw[i]!;
    const b = bw[i]!;
    marginals[i] = f === NEG_INF || b === NEG_INF ? 0 : Math.exp(f + b - logZ0);
  }
  for (let y = 0; y < L; y++) {
    const mu = marginals[last + y]!;
    const ev = e(y);
    if (mu > 0 && ev > 0) expGap += mu * (beta * ev);
  }
  // The tables are module workspaces: keep this result's own copies for gap().
  const Ac = A.slice(0, n);
  const Uc = U.slice(0, n);
  const Wc = Wm.slice(0, L * L);
  const gap = (y: ArrayLike<number>): number => {
    checkLabeling(p, y);
    if (Ac[y[0]!] === INF) return INF;
    let g = 0;
    for (let t = 0; t + 1 < T; t++) {
      const a = y[t]!;
      const b = y[t + 1]!;
      const cand = Ac[t * L + a]! + Wc[a * L + b]! + Uc[(t + 1) * L + b]!;
      if (cand === INF) return INF;
      g += cand - Ac[(t + 1) * L + b]!;
    }
    const v = Ac[last + y[T - 1]!]! + end[y[T - 1]!]!;
    return v === INF ? INF : g + (v - Emin);
  };
  return {
    T,
    L,
    beta,
    minEnergy: Emin,
    logZ0,
    logZ: -beta * Emin + logZ0,
    freeEnergy: Emin - logZ0 / beta,
    entropy: logZ0 + expGap,
    marginals,
    gap,
    logProbability: (y) => {
      const g = gap(y);
      return g === INF ? NEG_INF : -beta * g - logZ0;
    },
  };
}
