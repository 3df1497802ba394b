/**
 * Inference over a continuous Y through the energy modules' backward pass
 * with respect to their input:
 *
 * - `minimizeEnergy`: Y* = argmin_Y E(Y) by projected gradient descent from
 *   several starting points (restarts), each with a backtracking step; the
 *   lowest energy found wins. Non-convex energies have local minima: the
 *   restarts are what make it a search.
 * - `mostOffendingContinuous`: the lowest energy at distance > ε from Yⁱ,
 *   Ȳ = argmin_{|Y − Yⁱ| > ε} E(Y), the same search on the two intervals left
 *   and right of the excluded ball.
 * - `hmc`: Hamiltonian Monte Carlo samples of P_β(Y) ∝ exp(−β E(Y)) on ℝᵈ
 *   (leapfrog integration, Metropolis correction): the sampler for continuous
 *   Y of energy-based learning.
 */
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";

/** E(y) and its gradient ∂E/∂y written into g. */
export type EnergyGrad = (y: Float64Array, g: Float64Array) => number;

export interface GradientSearchOptions {
  /** search interval [lo, hi] of each coordinate (projected onto it) */
  lo: number;
  hi: number;
  /** starting points per coordinate, evenly spaced over [lo, hi] (default 7) */
  restarts: number;
  /** descent steps per start (default 100) */
  steps: number;
  /** initial step size (default 0.1·(hi − lo)) */
  step?: number;
}

const SEARCH: GradientSearchOptions = { lo: -1, hi: 1, restarts: 7, steps: 100 };

/**
 * argmin of a one-dimensional energy over [lo, hi] by projected gradient
 * descent with backtracking (halve the step until the energy does not rise),
 * from `restarts` evenly spaced starts.
 */
export function minimizeEnergy(
  f: EnergyGrad,
  options: Partial<GradientSearchOptions> = {},
): { y: number; energy: number; evaluations: number } {
  const o = { ...SEARCH, ...options };
  if (!(o.hi > o.lo))
    throw new NadirError("E_ARG", `minimizeEnergy: expected lo < hi, got [${o.lo}, ${o.hi}]`);
  if (!Number.isInteger(o.restarts) || o.restarts < 1)
    throw new NadirError("E_ARG", `minimizeEnergy: expected restarts ≥ 1, got ${o.restarts}`);
  const y = new Float64Array(1);
  const g = new Float64Array(1);
  let best = { y: o.lo, energy: Number.POSITIVE_INFINITY };
  let evaluations = 0;
  const eval1 = (v: number): number => {
    y[0] = v;
    evaluations++;
    return f(y, g);
  };
  for (let r = 0; r < o.restarts; r++) {
    let v = o.restarts === 1 ? (o.lo + o.hi) / 2 : o.lo + ((o.hi - o.lo) * r) / (o.restarts - 1);
    let e = eval1(v);
    let step = o.step ?? 0.1 * (o.hi - o.lo);
    for (let s = 0; s < o.steps && step > 1e-12 * (o.hi - o.lo); s++) {
      const d = g[0]!;
      if (d === 0) break;
      const next = Math.min(o.hi, Math.max(o.lo, v - step * d));
      if (next === v) break;
      const en = eval1(next);
      if (en <= e) {
        v = next;
        e = en;
        step *= 1.2;
      } else {
        step *= 0.5;
        eval1(v); // restore the gradient at v
      }
    }
    if (e < best.energy) best = { y: v, energy: e };
  }
  return { ...best, evaluations };
}

/** Ȳ = argmin_{|Y − Yⁱ| > ε, Y ∈ [lo, hi]} E(Y): the search on both sides of the excluded ball. */
export function mostOffendingContinuous(
  f: EnergyGrad,
  yi: number,
  epsilon: number,
  options: Partial<GradientSearchOptions> = {},
): { y: number; energy: number; evaluations: number } | undefined {
  const o = { ...SEARCH, ...options };
  const sides: [number, number][] = [];
  const gap = 1e-9 * (o.hi - o.lo);
  if (yi - epsilon - gap > o.lo) sides.push([o.lo, yi - epsilon - gap]);
  if (yi + epsilon + gap < o.hi) sides.push([yi + epsilon + gap, o.hi]);
  let best: { y: number; energy: number; evaluations: number } | undefined;
  let evaluations = 0;
  for (const [lo, hi] of sides) {
    const r = minimizeEnergy(f, {
      ...o,
      lo,
      hi,
      restarts: Math.max(2, Math.ceil((o.restarts * (hi - lo)) / (o.hi - o.lo))),
    });
    evaluations += r.evaluations;
    if (!best || r.energy < best.energy) best = r;
  }
  return best ? { ...best, evaluations } : undefined;
}

export interface HmcOptions {
  /** inverse temperature β (default 1) */
  beta: number;
  /** kept samples (default 1000) */
  samples: number;
  /** discarded first transitions (default 200) */
  burnIn: number;
  /** leapfrog steps per transition (default 20) and their size (default 0.05) */
  leapfrog: number;
  stepSize: number;
  seed: number;
}

const HMC: HmcOptions = {
  beta: 1,
  samples: 1000,
  burnIn: 200,
  leapfrog: 20,
  stepSize: 0.05,
  seed: 1,
};

/**
 * Hamiltonian Monte Carlo on U(y) = β E(y) with unit masses: momentum
 * p ~ N(0, I), `leapfrog` steps of size ε, accepted with probability
 * min(1, exp(H₀ − H₁)), H = U(y) + ½‖p‖². Samples y ∈ ℝᵈ from P_β ∝ exp(−β E).
 */
export function hmc(
  f: EnergyGrad,
  init: Float64Array,
  options: Partial<HmcOptions> = {},
): { samples: Float64Array[]; acceptance: number } {
  const o = { ...HMC, ...options };
  if (!(o.beta > 0) || !Number.isFinite(o.beta))
    throw new NadirError("E_ARG", `hmc: expected beta finite and > 0, got ${o.beta}`);
  if (!(o.stepSize > 0))
    throw new NadirError("E_ARG", `hmc: expected stepSize > 0, got ${o.stepSize}`);
  const d = init.length;
  const rng = new Rng(o.seed);
  const y = Float64Array.from(init);
  const g = new Float64Array(d);
  const y1 = new Float64Array(d);
  const g1 = new Float64Array(d);
  const p = new Float64Array(d);
  let U = o.beta * f(y, g);
  const out: Float64Array[] = [];
  let accepted = 0;
  const total = o.burnIn + o.samples;
  for (let it = 0; it < total; it++) {
    let K0 = 0;
    for (let j = 0; j < d; j++) {
      p[j] = rng.normal();
      K0 += 0.5 * p[j]! * p[j]!;
    }
    y1.set(y);
    g1.set(g);
    const eps = o.stepSize;
    // leapfrog on ∇U = β∇E
    for (let j = 0; j < d; j++) p[j] = p[j]! - 0.5 * eps * o.beta * g1[j]!;
    let U1 = 0;
    for (let s = 0; s < o.leapfrog; s++) {
      for (let j = 0; j < d; j++) y1[j] = y1[j]! + eps * p[j]!;
      U1 = o.beta * f(y1, g1);
      const last = s === o.leapfrog - 1;
      for (let j = 0; j < d; j++) p[j] = p[j]! - (last ? 0.5 : 1) * eps * o.beta * g1[j]!;
    }
    let K1 = 0;
    for (let j = 0; j < d; j++) K1 += 0.5 * p[j]! * p[j]!;
    const dH = U + K0 - (U1 + K1);
    if (Number.isFinite(dH) && (dH >= 0 || rng.next() < Math.exp(dH))) {
      y.set(y1);
      g.set(g1);
      U = U1;
      accepted++;
    }
    if (it >= o.burnIn) out.push(y.slice());
  }
  return { samples: out, acceptance: accepted / total };
}
