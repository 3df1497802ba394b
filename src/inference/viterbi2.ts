import { NadirError } from "../core/errors.ts";
import { type Chain2Potentials, chain2Energy } from "../graph/chain2.ts";
import type { Constraints, InferenceResult } from "./types.ts";

/**
 * Exact decoding of a second-order chain: Viterbi over label pairs,
 * O(T·L³). δ_t(a, b) is the lowest energy of y_0 … y_t with (y_{t−1}, y_t) =
 * (a, b); δ_t(b, c) = unary_t(c) + transition(b, c) + min_a [δ_{t−1}(a, b) +
 * transition2(a, b, c)]. Honors `allowed` masks (T×L: clamping),
 * `forbiddenTransitions` and `forbiddenStart`. Ties go to the smallest label.
 */
let delta = new Float64Array(0);
let back = new Int32Array(0);
let tmin2 = new Float64Array(0);
let cand = new Int32Array(0);

export function viterbi2(
  p: Chain2Potentials,
  constraints?: Constraints,
  out?: Int32Array,
): InferenceResult {
  const { T, L, unary, transition, start, end } = p.chain;
  const tr2 = p.transition2;
  const labels = out && out.length >= T ? out.subarray(0, T) : new Int32Array(T);
  if (T === 0) return { labels, energy: 0, exact: true };
  const allowed = constraints?.allowed;
  const ft = constraints?.forbiddenTransitions;
  const fs = constraints?.forbiddenStart;
  if (allowed && allowed.length < T * L)
    throw new NadirError(
      "E_ARG",
      `viterbi2: allowed expected ${T * L} entries, got ${allowed.length}`,
    );
  const INF = Number.POSITIVE_INFINITY;
  const ok = (t: number, l: number) => allowed === undefined || allowed[t * L + l] !== 0;
  if (T === 1) {
    let best = INF;
    let arg = -1;
    for (let l = 0; l < L; l++) {
      if (!ok(0, l) || fs?.[l]) continue;
      const v = start[l]! + unary[l]! + end[l]!;
      if (v < best) {
        best = v;
        arg = l;
      }
    }
    if (arg < 0)
      throw new NadirError("E_UNSUPPORTED", "viterbi2: no labeling satisfies the constraints");
    labels[0] = arg;
    return { labels, energy: chain2Energy(p, labels), exact: true };
  }
  const LL = L * L;
  if (delta.length < T * LL) {
    delta = new Float64Array(T * LL);
    back = new Int32Array(T * LL);
  }
  // t = 1: δ_1(a, b) = start(a) + unary_0(a) + transition(a, b) + unary_1(b)
  for (let a = 0; a < L; a++) {
    const sa = ok(0, a) && !fs?.[a] ? start[a]! + unary[a]! : INF;
    for (let b = 0; b < L; b++) {
      const v = ok(1, b) && !ft?.[a * L + b] ? sa + transition[a * L + b]! + unary[L + b]! : INF;
      delta[LL + a * L + b] = v;
    }
  }
  // Exact pruning, as in chain-kernel.ts: for a middle label b let a* minimize
  // δ_{t−1}(a, b); any a with δ_{t−1}(a, b) > δ_{t−1}(a*, b) + G_b, where
  // G_b = max_c (transition2(a*, b, c) − min_a' transition2(a', b, c)),
  // loses to a* for every c, so only the remaining candidates are scanned.
  if (tmin2.length < LL) {
    tmin2 = new Float64Array(LL);
    cand = new Int32Array(L);
  }
  if (cand.length < L) cand = new Int32Array(L);
  for (let b = 0; b < L; b++) {
    for (let c = 0; c < L; c++) {
      let m = INF;
      for (let a = 0; a < L; a++) {
        const v = tr2[(a * L + b) * L + c]!;
        if (v < m) m = v;
      }
      tmin2[b * L + c] = m;
    }
  }
  for (let t = 2; t < T; t++) {
    const prev = (t - 1) * LL;
    const cur = t * LL;
    const urow = t * L;
    for (let b = 0; b < L; b++) {
      let dStar = INF;
      let aStar = 0;
      for (let a = 0; a < L; a++) {
        const v = delta[prev + a * L + b]!;
        if (v < dStar) {
          dStar = v;
          aStar = a;
        }
      }
      let gap = 0;
      const rowStar = (aStar * L + b) * L;
      for (let c = 0; c < L; c++) {
        const d = tr2[rowStar + c]! - tmin2[b * L + c]!;
        if (d > gap) gap = d;
      }
      const bound = dStar + gap + 1e-9 * (Math.abs(dStar) + gap + 1);
      let nc = 0;
      for (let a = 0; a < L; a++) if (delta[prev + a * L + b]! <= bound) cand[nc++] = a;
      if (nc === 0) for (let a = 0; a < L; a++) cand[nc++] = a; // bound not finite
      for (let c = 0; c < L; c++) {
        const i = cur + b * L + c;
        if (
          (allowed !== undefined && allowed[urow + c] === 0) ||
          (ft !== undefined && ft[b * L + c] !== 0)
        ) {
          delta[i] = INF;
          back[i] = 0;
          continue;
        }
        let arg = cand[0]!;
        let best = delta[prev + arg * L + b]! + tr2[(arg * L + b) * L + c]!;
        for (let k = 1; k < nc; k++) {
          const a = cand[k]!;
          const v = delta[prev + a * L + b]! + tr2[(a * L + b) * L + c]!;
          if (v < best) {
            best = v;
            arg = a;
          }
        }
        delta[i] = best + transition[b * L + c]! + unary[urow + c]!;
        back[i] = arg;
      }
    }
  }
  const last = (T - 1) * LL;
  let best = INF;
  let bestA = 0;
  let bestB = 0;
  for (let a = 0; a < L; a++) {
    for (let b = 0; b < L; b++) {
      const v = delta[last + a * L + b]! + end[b]!;
      if (v < best) {
        best = v;
        bestA = a;
        bestB = b;
      }
    }
  }
  if (best === INF)
    throw new NadirError("E_UNSUPPORTED", "viterbi2: no labeling satisfies the constraints");
  labels[T - 1] = bestB;
  labels[T - 2] = bestA;
  for (let t = T - 1; t >= 2; t--) labels[t - 2] = back[t * LL + labels[t - 1]! * L + labels[t]!]!;
  return { labels, energy: chain2Energy(p, labels), exact: true };
}

/**
 * The most offending incorrect answer of a second-order chain, exactly, by the
 * Lawler/Nilsson partition: for each k, the best labeling that agrees with gold
 * before k and differs at k (clamped second-order Viterbi); null if none.
 */
export function mostOffending2(
  p: Chain2Potentials,
  gold: ArrayLike<number>,
  constraints?: Constraints,
): InferenceResult | null {
  const { T, L } = p.chain;
  const base = constraints?.allowed;
  const mask = new Uint8Array(T * L);
  let best: InferenceResult | null = null;
  for (let k = 0; k < T; k++) {
    if (base) mask.set(base.subarray(0, T * L));
    else mask.fill(1);
    for (let t = 0; t < k; t++) for (let l = 0; l < L; l++) if (l !== gold[t]) mask[t * L + l] = 0;
    mask[k * L + gold[k]!] = 0;
    let r: InferenceResult;
    try {
      r = viterbi2(p, { ...constraints, allowed: mask });
    } catch (e) {
      if (e instanceof NadirError && e.code === "E_UNSUPPORTED") continue;
      throw e;
    }
    if (!best || r.energy < best.energy)
      best = { labels: r.labels.slice(), energy: r.energy, exact: true };
  }
  return best;
}
