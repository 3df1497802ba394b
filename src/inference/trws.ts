import { NadirError } from "../core/errors.ts";
import { chainEnergy } from "../graph/chain.ts";
import {
  clampUnary,
  type MessageGraph,
  type MessageOptions,
  messagesOf,
  resolveMessageOptions,
} from "./bp-graph.ts";
import { checkConstraints, infeasible } from "./constraints.ts";
import { minPairMessage } from "./min-sum-kernels.ts";
import type { Backend, Constraints, InferenceResult, Potentials } from "./types.ts";
import { grow } from "./workspace.ts";

/**
 * TRW-S: sequential tree-reweighted message passing (Kolmogorov, "Convergent
 * tree-reweighted message passing for energy minimization", PAMI 2006) for
 * pairwise energies (unary and pairwise factors; constants are fine).
 *
 * Variables are ordered by id; the monotonic chains of that order cover every
 * pairwise factor, and variable s sends with weight
 * γ_s = 1 / max(#neighbors before s, #neighbors after s, 1). One iteration is
 * a forward pass (s = 0 … n−1: D_s = θ_s + Σ incoming messages, then for each
 * factor to a later t: M_{s→t}(x_t) = min_{x_s} γ_s·D_s(x_s) − M_{t→s}(x_s) +
 * θ_st(x_s, x_t), normalized) and a backward pass (the same towards earlier
 * variables). The backward pass also yields the lower bound
 * Φ = Σ_s min D_s + Σ of the normalizers of its messages + the constants,
 * which never exceeds the minimum energy (it is the sum of the minima of the
 * reparameterized chains) and does not decrease from one iteration to the next
 * (up to rounding). After each iteration the labeling is decoded in variable
 * order (x_s = argmin θ_s + Σ_{t<s} θ_st(x_t, ·) + Σ_{t>s} M_{t→s}) and the best
 * labeling seen is kept.
 *
 * Stops when the bound meets the best energy (within 1e-12 relative: `exact:
 * true`), when the bound rose by at most `tolerance` (default 1e-10) in an
 * iteration (`converged: true`), or after `maxIterations` (default 100). On
 * trees the bound reaches the minimum (geometrically: a few iterations). Constraints: `allowed` clamps (+Infinity unaries — the
 * messages stay finite); on chains forbiddenStart too, but forbiddenTransitions
 * (infinite pairwise energies) are refused with E_UNSUPPORTED.
 */

export interface TrwsResult extends InferenceResult {
  /** A lower bound on the minimum energy (over the allowed labelings). */
  lowerBound: number;
  iterations: number;
  /** The bound stopped increasing (or met the energy) before the iteration cap. */
  converged: boolean;
}

export type TrwsOptions = Pick<MessageOptions, "tolerance" | "maxIterations">;

let msg: Float64Array = new Float64Array(0);
let unary: Float64Array = new Float64Array(0);
let dws: Float64Array = new Float64Array(0);
let hws: Float64Array = new Float64Array(0);
let gamma: Float64Array = new Float64Array(0);

/** Why TRW-S refuses the potentials, or null. */
function refusal(p: Potentials): string | null {
  if (p.kind === "chain") return null;
  for (let f = 0; f < p.nFactors; f++) {
    const k = p.factorScopePtr[f + 1]! - p.factorScopePtr[f]!;
    if (k > 2) {
      return `trws needs unary and pairwise factors; factor ${f} has arity ${k} (use bp)`;
    }
  }
  return null;
}

/** Send the message of pairwise factor f from the variable at `fromSlot`, normalized; returns the normalizer. */
function send(mg: MessageGraph, f: number, fromSlot: number, h: Float64Array): number {
  const S = mg.stride;
  const e0 = 2 * f;
  const to = e0 + 1 - fromSlot;
  const out = to * S;
  minPairMessage(mg, mg.tables, f, fromSlot, h, 0, msg, out);
  const d = mg.domains[mg.edgeVar[to]!]!;
  let mn = Infinity;
  for (let l = 0; l < d; l++) if (msg[out + l]! < mn) mn = msg[out + l]!;
  for (let l = 0; l < d; l++) msg[out + l]! -= mn;
  return mn;
}

/** D = θ_s + Σ messages into s. */
function gather(mg: MessageGraph, s: number): void {
  const S = mg.stride;
  const d = mg.domains[s]!;
  const row = s * S;
  for (let l = 0; l < d; l++) dws[l] = unary[row + l]!;
  for (let k = mg.varPtr[s]!; k < mg.varPtr[s + 1]!; k++) {
    const m = mg.varEdge[k]! * S;
    for (let l = 0; l < d; l++) dws[l]! += msg[m + l]!;
  }
}

/** One forward and one backward pass; returns the lower bound. */
function iterate(mg: MessageGraph): number {
  const S = mg.stride;
  const n = mg.nVars;
  const { varPtr, varEdge, edgeVar, domains } = mg;
  for (let s = 0; s < n; s++) {
    gather(mg, s);
    const d = domains[s]!;
    const g = gamma[s]!;
    for (let k = varPtr[s]!; k < varPtr[s + 1]!; k++) {
      const e = varEdge[k]!;
      if (edgeVar[e ^ 1]! < s) continue;
      const m = e * S;
      for (let l = 0; l < d; l++) hws[l] = g * dws[l]! - msg[m + l]!;
      send(mg, e >> 1, e & 1, hws);
    }
  }
  let bound = mg.constant;
  for (let s = n - 1; s >= 0; s--) {
    gather(mg, s);
    const d = domains[s]!;
    let mn = Infinity;
    for (let l = 0; l < d; l++) if (dws[l]! < mn) mn = dws[l]!;
    bound += mn;
    for (let l = 0; l < d; l++) dws[l]! -= mn;
    const g = gamma[s]!;
    for (let k = varPtr[s]!; k < varPtr[s + 1]!; k++) {
      const e = varEdge[k]!;
      if (edgeVar[e ^ 1]! > s) continue;
      const m = e * S;
      for (let l = 0; l < d; l++) hws[l] = g * dws[l]! - msg[m + l]!;
      bound += send(mg, e >> 1, e & 1, hws);
    }
  }
  return bound;
}

/** Decode in variable order: earlier neighbors by their labels, later ones by their messages. */
function decode(mg: MessageGraph, labels: Int32Array): void {
  const S = mg.stride;
  const { varPtr, varEdge, edgeVar, domains, tables, tableOff } = mg;
  for (let s = 0; s < mg.nVars; s++) {
    const d = domains[s]!;
    const row = s * S;
    for (let l = 0; l < d; l++) dws[l] = unary[row + l]!;
    for (let k = varPtr[s]!; k < varPtr[s + 1]!; k++) {
      const e = varEdge[k]!;
      const t = edgeVar[e ^ 1]!;
      if (t > s) {
        const m = e * S;
        for (let l = 0; l < d; l++) dws[l]! += msg[m + l]!;
        continue;
      }
      const f = e >> 1;
      const off = tableOff[f]!;
      const xt = labels[t]!;
      if ((e & 1) === 1) {
        // s is the second variable: row xt of the table.
        const r = off + xt * d;
        for (let l = 0; l < d; l++) dws[l]! += tables[r + l]!;
      } else {
        const Lb = domains[t]!;
        for (let l = 0; l < d; l++) dws[l]! += tables[off + l * Lb + xt]!;
      }
    }
    let best = 0;
    let bestV = Infinity;
    for (let l = 0; l < d; l++) {
      if (dws[l]! < bestV) {
        bestV = dws[l]!;
        best = l;
      }
    }
    labels[s] = best;
  }
}

function run(
  p: Potentials,
  c: Constraints | undefined,
  o: { tolerance: number; maxIterations: number },
): TrwsResult {
  checkConstraints("trws", p, c);
  const why = refusal(p);
  if (why !== null) throw new NadirError("E_UNSUPPORTED", why);
  if (p.kind === "chain" && c?.forbiddenTransitions !== undefined) {
    throw new NadirError(
      "E_UNSUPPORTED",
      "trws: forbiddenTransitions are not supported (infinite pairwise energies); use viterbi or bp",
    );
  }
  const mg = messagesOf(p, c);
  const S = mg.stride;
  const n = mg.nVars;
  msg = grow(msg, mg.ptr[mg.nF]! * S);
  unary = grow(unary, n * S);
  dws = grow(dws, Math.max(S, 1));
  hws = grow(hws, Math.max(S, 1));
  gamma = grow(gamma, n);
  if (!clampUnary(mg, c?.allowed, unary)) throw infeasible("trws");
  msg.fill(0, 0, mg.ptr[mg.nF]! * S);
  for (let s = 0; s < n; s++) {
    let before = 0;
    let after = 0;
    for (let k = mg.varPtr[s]!; k < mg.varPtr[s + 1]!; k++) {
      if (mg.edgeVar[mg.varEdge[k]! ^ 1]! < s) before++;
      else after++;
    }
    gamma[s] = 1 / Math.max(before, after, 1);
  }
  const energyOf = (y: Int32Array) => (p.kind === "chain" ? chainEnergy(p, y) : p.energy(y));
  const labels = new Int32Array(n);
  let best = new Int32Array(n);
  let bestE = Infinity;
  let lowerBound = -Infinity;
  let converged = false;
  let exact = false;
  let iterations = 0;
  for (let it = 1; it <= o.maxIterations; it++) {
    const bound = iterate(mg);
    iterations = it;
    decode(mg, labels);
    const e = energyOf(labels);
    if (e < bestE) {
      bestE = e;
      best = labels.slice();
    }
    const prev = lowerBound;
    if (bound > lowerBound) lowerBound = bound;
    if (bestE - lowerBound <= 1e-12 * (1 + Math.abs(bestE))) {
      exact = true;
      converged = true;
      break;
    }
    if (it > 1 && bound - prev <= o.tolerance) {
      converged = true;
      break;
    }
  }
  return { labels: best, energy: bestE, exact, lowerBound, iterations, converged };
}

/** Minimize a pairwise energy with TRW-S (see the module comment). */
export function trwsMinimize(
  p: Potentials,
  constraints?: Constraints,
  options?: TrwsOptions,
): TrwsResult {
  return run(p, constraints, resolveTrws(options));
}

/** TRW-S defaults: tolerance 1e-10 on the bound's increase (it closes the gap on trees geometrically), 100 iterations. */
function resolveTrws(options: TrwsOptions | undefined): {
  tolerance: number;
  maxIterations: number;
} {
  const o = resolveMessageOptions("trws", {
    tolerance: options?.tolerance ?? 1e-10,
    maxIterations: options?.maxIterations ?? 100,
  });
  return { tolerance: o.tolerance, maxIterations: o.maxIterations };
}

export interface TrwsBackend extends Backend {
  minimize(p: Potentials, constraints?: Constraints): TrwsResult;
}

/** A TRW-S backend with its own options (tolerance on the bound's increase, iteration cap). */
export function trws(options: TrwsOptions = {}): TrwsBackend {
  const o = resolveTrws(options);
  return Object.freeze({
    name: "trws",
    exactness: "approximate with a lower bound (exact when the bound meets the energy; trees)",
    supports: refusal,
    minimize(p: Potentials, constraints?: Constraints): TrwsResult {
      return run(p, constraints, o);
    },
  });
}

export const trwsBackend: TrwsBackend = trws();
