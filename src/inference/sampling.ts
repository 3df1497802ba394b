import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { ChainPotentials } from "../graph/chain.ts";
import { allowedOnlyGraph } from "./constraints.ts";
import { forwardBackward } from "./forward-backward.ts";
import type { Constraints, Potentials } from "./types.ts";

/**
 * Samples from the Gibbs distribution P_β(y) = exp(−β E(y)) / Z(β).
 *
 * - `sampleChain`: exact, independent samples on a chain by forward filtering
 *   and sampling: y₀ ~ μ₀, then yₜ₊₁ ~ μₜ,ₜ₊₁(yₜ, ·) / μₜ(yₜ), from the exact
 *   unary and pairwise marginals of forward–backward (all constraints honoured).
 * - `gibbsSample`: single-site Gibbs sampling on any factor graph (or chain):
 *   each sweep resamples every variable from its conditional
 *   P(yᵥ = l | y₋ᵥ) ∝ exp(−β Σ_{f∋v} E_f(y with yᵥ = l)); after `burnIn`
 *   sweeps, one sample every `thin` sweeps. Asymptotically exact (the chain is
 *   ergodic when every allowed labeling has finite energy); correlated samples.
 *
 * Both are reproducible from `seed` (or an `rng` to continue a stream).
 */

export interface SampleOptions {
  /** inverse temperature β (finite, > 0; default 1) */
  beta?: number;
  /** seed of the random stream (default 1); ignored when `rng` is given */
  seed?: number;
  rng?: Rng;
  constraints?: Constraints;
}

export interface GibbsOptions extends SampleOptions {
  /** sweeps discarded before the first sample (default 100) */
  burnIn?: number;
  /** sweeps between kept samples (default 1) */
  thin?: number;
  /** the starting labeling (default: a uniformly random allowed one) */
  init?: ArrayLike<number>;
}

function checkBeta(who: string, beta: number): void {
  if (!(beta > 0) || !Number.isFinite(beta))
    throw new NadirError("E_ARG", `${who}: expected beta finite and > 0, got ${beta}`);
}

function checkCount(who: string, what: string, n: number, min: number): void {
  if (!Number.isInteger(n) || n < min)
    throw new NadirError("E_ARG", `${who}: expected ${what} to be an integer ≥ ${min}, got ${n}`);
}

/** Draw an index from unnormalized non-negative weights w[0..n). */
function draw(w: Float64Array, n: number, rng: Rng): number {
  let z = 0;
  for (let l = 0; l < n; l++) z += w[l]!;
  let u = rng.next() * z;
  for (let l = 0; l < n; l++) {
    u -= w[l]!;
    if (u < 0) return l;
  }
  // rounding: the last label of positive weight
  for (let l = n - 1; l >= 0; l--) if (w[l]! > 0) return l;
  return 0;
}

/** `count` exact independent samples from a chain's Gibbs distribution at β. */
export function sampleChain(
  p: ChainPotentials,
  count: number,
  options: SampleOptions = {},
): Int32Array[] {
  const beta = options.beta ?? 1;
  checkBeta("sampleChain", beta);
  checkCount("sampleChain", "count", count, 0);
  const rng = options.rng ?? new Rng(options.seed ?? 1);
  const { T, L } = p;
  if (T === 0) return Array.from({ length: count }, () => new Int32Array(0));
  const m = forwardBackward(p, beta, {
    pairwise: "each",
    ...(options.constraints ? { constraints: options.constraints } : {}),
  });
  const pair = m.pairwise!;
  const w = new Float64Array(L);
  const out: Int32Array[] = [];
  for (let s = 0; s < count; s++) {
    const y = new Int32Array(T);
    y[0] = draw(m.unary.subarray(0, L) as Float64Array, L, rng);
    for (let t = 1; t < T; t++) {
      const row = (t - 1) * L * L + y[t - 1]! * L;
      for (let l = 0; l < L; l++) w[l] = pair[row + l]!;
      y[t] = draw(w, L, rng);
    }
    out.push(y);
  }
  return out;
}

export interface GibbsResult {
  samples: Int32Array[];
  /** empirical marginals of the kept samples, at [v·maxDomain + l] */
  marginals: Float64Array;
  maxDomain: number;
  /** fraction of single-site updates that changed the label */
  moveRate: number;
}

/** `count` samples by single-site Gibbs sampling at β (after burn-in, thinned). */
export function gibbsSample(p: Potentials, count: number, options: GibbsOptions = {}): GibbsResult {
  const beta = options.beta ?? 1;
  const burnIn = options.burnIn ?? 100;
  const thin = options.thin ?? 1;
  checkBeta("gibbsSample", beta);
  checkCount("gibbsSample", "count", count, 0);
  checkCount("gibbsSample", "burnIn", burnIn, 0);
  checkCount("gibbsSample", "thin", thin, 1);
  const c = options.constraints;
  const g = allowedOnlyGraph("gibbsSample", p, c, "sampleChain");
  const rng = options.rng ?? new Rng(options.seed ?? 1);
  const { nVars, maxDomain: D, domains } = g;
  const ok = (v: number, l: number) => !c?.allowed || c.allowed[v * D + l] === 1;
  const y = new Int32Array(nVars);
  if (options.init) {
    if (options.init.length !== nVars)
      throw new NadirError(
        "E_ARG",
        `gibbsSample: init expected ${nVars} labels, got ${options.init.length}`,
      );
    for (let v = 0; v < nVars; v++) {
      const l = options.init[v]!;
      if (!Number.isInteger(l) || l < 0 || l >= domains[v]! || !ok(v, l))
        throw new NadirError("E_ARG", `gibbsSample: init[${v}] = ${l} is not an allowed label`);
      y[v] = l;
    }
  } else {
    for (let v = 0; v < nVars; v++) {
      const allowed: number[] = [];
      for (let l = 0; l < domains[v]!; l++) if (ok(v, l)) allowed.push(l);
      if (allowed.length === 0)
        throw new NadirError("E_UNSUPPORTED", `gibbsSample: variable ${v} has no allowed label`);
      y[v] = allowed[rng.int(allowed.length)]!;
    }
  }
  const e = new Float64Array(D);
  const w = new Float64Array(D);
  let moves = 0;
  let updates = 0;
  const sweep = (): void => {
    for (let v = 0; v < nVars; v++) {
      const n = domains[v]!;
      e.fill(0, 0, n);
      for (let k = g.varFactorPtr[v]!; k < g.varFactorPtr[v + 1]!; k++) {
        const f = g.varFactorIds[k]!;
        const slot = g.varFactorSlot[k]!;
        const s0 = g.factorScopePtr[f]!;
        const arity = g.factorScopePtr[f + 1]! - s0;
        // table index with y_v = 0, then step by v's stride
        let base = g.factorTableOffset[f]!;
        for (let j = 0; j < arity; j++)
          if (j !== slot) base += y[g.factorScopeVars[s0 + j]!]! * g.factorScopeStrides[s0 + j]!;
        const stride = g.factorScopeStrides[s0 + slot]!;
        for (let l = 0; l < n; l++) e[l] = e[l]! + g.tables[base + l * stride]!;
      }
      let min = Number.POSITIVE_INFINITY;
      for (let l = 0; l < n; l++) if (ok(v, l) && e[l]! < min) min = e[l]!;
      for (let l = 0; l < n; l++) w[l] = ok(v, l) ? Math.exp(-beta * (e[l]! - min)) : 0;
      const l = draw(w, n, rng);
      if (l !== y[v]) moves++;
      updates++;
      y[v] = l;
    }
  };
  for (let s = 0; s < burnIn; s++) sweep();
  const samples: Int32Array[] = [];
  const counts = new Float64Array(nVars * D);
  for (let s = 0; s < count; s++) {
    for (let k = 0; k < thin; k++) sweep();
    samples.push(y.slice());
    for (let v = 0; v < nVars; v++) counts[v * D + y[v]!]!++;
  }
  if (count > 0) for (let i = 0; i < counts.length; i++) counts[i] = counts[i]! / count;
  return { samples, marginals: counts, maxDomain: D, moveRate: updates > 0 ? moves / updates : 0 };
}
