import { NadirError } from "../core/errors.ts";
import { chainToFactorGraph } from "../graph/convert.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import { allowedOnlyGraph } from "./constraints.ts";
import type {
  Constraints,
  GraphMarginals,
  InferenceResult,
  MarginalsBackend,
  Potentials,
} from "./types.ts";

/**
 * Naive mean field at inverse temperature β: the fully factorized
 * q(y) = ∏ᵥ qᵥ(yᵥ) that minimizes the variational free energy
 *
 *   F_MF(q) = ⟨E⟩_q − H(q)/β  =  Σ_f Σ_{y_f} (∏_{v∈f} qᵥ(yᵥ)) E_f(y_f) + (1/β) Σᵥ Σ_l qᵥ(l) log qᵥ(l)
 *
 * by coordinate descent: qᵥ(l) ∝ exp(−β Σ_{f∋v} ⟨E_f | yᵥ = l⟩_q), one
 * variable at a time in order (each update lowers F_MF, so the sequence
 * converges), optionally damped: qᵥ ← (1 − d)·q_new + d·q_old.
 *
 * By Gibbs' inequality F_MF(q) ≥ F_β = −(1/β) log Z for every q, so the
 * result's `freeEnergy` is an upper bound on the exact free energy (and
 * `logZ` a lower bound on log Z); the marginals are approximate (exact only
 * when the variables are independent under the Gibbs distribution).
 *
 * Constraints: `allowed` masks give probability 0 to forbidden labels (chain
 * transition and start constraints are refused: use forward–backward).
 * Cost per sweep: Σ_f arity_f · |table_f| multiply-adds.
 */

export interface MeanFieldOptions {
  /** inverse temperature β (finite, > 0; default 1) */
  beta?: number;
  /** 0 (default) … < 1: weight of the old marginals in each update */
  damping?: number;
  /** sweeps over the variables (default 200) */
  maxIterations?: number;
  /** stop when no marginal moves by more than this in a sweep (default 1e-9) */
  tolerance?: number;
  constraints?: Constraints;
}

export interface MeanFieldResult {
  /** qᵥ(l) at [v·maxDomain + l] (0 past a variable's domain) */
  marginals: Float64Array;
  maxDomain: number;
  /** F_MF ≥ F_β: the variational upper bound on the free energy */
  freeEnergy: number;
  /** −β·F_MF ≤ log Z */
  logZ: number;
  /** ⟨E⟩_q */
  expectedEnergy: number;
  /** H(q) in nats */
  entropy: number;
  iterations: number;
  converged: boolean;
  /** the largest change of a marginal in the last sweep */
  delta: number;
  /** F_MF after each sweep (non-increasing without damping) */
  trace: number[];
}

function resolve(o: MeanFieldOptions): Required<Omit<MeanFieldOptions, "constraints">> {
  const beta = o.beta ?? 1;
  const damping = o.damping ?? 0;
  const maxIterations = o.maxIterations ?? 200;
  const tolerance = o.tolerance ?? 1e-9;
  if (!(beta > 0) || !Number.isFinite(beta))
    throw new NadirError("E_ARG", `mean field: expected beta finite and > 0, got ${beta}`);
  if (!(damping >= 0 && damping < 1))
    throw new NadirError("E_ARG", `mean field: expected damping in [0, 1), got ${damping}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1)
    throw new NadirError("E_ARG", `mean field: expected maxIterations ≥ 1, got ${maxIterations}`);
  if (!(tolerance >= 0))
    throw new NadirError("E_ARG", `mean field: expected tolerance ≥ 0, got ${tolerance}`);
  return { beta, damping, maxIterations, tolerance };
}

/** Mean-field marginals and the variational free energy of a factor graph (or a chain). */
export function meanField(p: Potentials, options: MeanFieldOptions = {}): MeanFieldResult {
  const o = resolve(options);
  const c = options.constraints;
  const g = allowedOnlyGraph("mean field", p, c, "forwardBackward");
  const { nVars, maxDomain: D, domains } = g;
  const beta = o.beta;
  const q = new Float64Array(nVars * D);
  // start uniform over the allowed labels
  for (let v = 0; v < nVars; v++) {
    const n = domains[v]!;
    let allowed = 0;
    for (let l = 0; l < n; l++) if (!c?.allowed || c.allowed[v * D + l]) allowed++;
    if (allowed === 0)
      throw new NadirError("E_UNSUPPORTED", `mean field: variable ${v} has no allowed label`);
    for (let l = 0; l < n; l++)
      q[v * D + l] = !c?.allowed || c.allowed[v * D + l] ? 1 / allowed : 0;
  }
  const field = new Float64Array(D);
  const next = new Float64Array(D);
  const trace: number[] = [];
  let delta = Number.POSITIVE_INFINITY;
  let it = 0;
  for (; it < o.maxIterations && delta > o.tolerance; it++) {
    delta = 0;
    for (let v = 0; v < nVars; v++) {
      const n = domains[v]!;
      field.fill(0, 0, n);
      for (let k = g.varFactorPtr[v]!; k < g.varFactorPtr[v + 1]!; k++)
        conditionalEnergies(g, g.varFactorIds[k]!, g.varFactorSlot[k]!, q, field);
      // qᵥ(l) ∝ exp(−β field(l)), max-shifted
      let min = Number.POSITIVE_INFINITY;
      for (let l = 0; l < n; l++)
        if ((!c?.allowed || c.allowed[v * D + l]) && field[l]! < min) min = field[l]!;
      let z = 0;
      for (let l = 0; l < n; l++) {
        const w = !c?.allowed || c.allowed[v * D + l] ? Math.exp(-beta * (field[l]! - min)) : 0;
        next[l] = w;
        z += w;
      }
      for (let l = 0; l < n; l++) {
        const old = q[v * D + l]!;
        const nw = (1 - o.damping) * (next[l]! / z) + o.damping * old;
        const d = Math.abs(nw - old);
        if (d > delta) delta = d;
        q[v * D + l] = nw;
      }
    }
    trace.push(variational(g, q, beta).freeEnergy);
  }
  const { freeEnergy, expectedEnergy, entropy } = variational(g, q, beta);
  return {
    marginals: q,
    maxDomain: D,
    freeEnergy,
    logZ: -beta * freeEnergy,
    expectedEnergy,
    entropy,
    iterations: it,
    converged: delta <= o.tolerance,
    delta,
    trace,
  };
}

/**
 * Add ⟨E_f | y_v = l⟩ over the other scope variables (independent under q)
 * to `field[l]`, for the variable at `slot` of factor f.
 */
function conditionalEnergies(
  g: FactorGraph,
  f: number,
  slot: number,
  q: Float64Array,
  field: Float64Array,
): void {
  const D = g.maxDomain;
  const s0 = g.factorScopePtr[f]!;
  const arity = g.factorScopePtr[f + 1]! - s0;
  const off = g.factorTableOffset[f]!;
  const size = g.factorTableOffset[f + 1]! - off;
  if (arity === 1) {
    for (let l = 0; l < size; l++) field[l] = field[l]! + g.tables[off + l]!;
    return;
  }
  for (let e = 0; e < size; e++) {
    // decode entry e into the scope labels (row-major, last varies fastest)
    let w = 1;
    let mine = 0;
    let rest = e;
    for (let j = 0; j < arity; j++) {
      const stride = g.factorScopeStrides[s0 + j]!;
      const y = Math.floor(rest / stride);
      rest -= y * stride;
      if (j === slot) mine = y;
      else w *= q[g.factorScopeVars[s0 + j]! * D + y]!;
    }
    if (w !== 0) field[mine] = field[mine]! + w * g.tables[off + e]!;
  }
}

/** ⟨E⟩_q, H(q) and F_MF = ⟨E⟩_q − H(q)/β of a factorized q. */
function variational(
  g: FactorGraph,
  q: Float64Array,
  beta: number,
): { freeEnergy: number; expectedEnergy: number; entropy: number } {
  // ⟨E⟩_q = Σ_f Σ_{y_f} q_f(y_f)·E_f(y_f), q_f the product of its variables' marginals
  const fm = factorMarginals(g, q);
  let U = 0;
  for (let i = 0; i < fm.length; i++) if (fm[i] !== 0) U += fm[i]! * g.tables[i]!;
  const D = g.maxDomain;
  let H = 0;
  for (let v = 0; v < g.nVars; v++) {
    for (let l = 0; l < g.domains[v]!; l++) {
      const x = q[v * D + l]!;
      if (x > 0) H -= x * Math.log(x);
    }
  }
  return { freeEnergy: U - H / beta, expectedEnergy: U, entropy: H };
}

/**
 * Mean field as a decoding backend: each variable takes the label of largest
 * mean-field marginal at β (default 1; larger β approaches a greedy
 * minimization). Approximate on every graph.
 */
export function meanFieldDecoder(options: MeanFieldOptions = {}): MarginalsBackend {
  resolve(options);
  return {
    name: "meanfield",
    exactness: "approximate",
    supports: () => null,
    /** Mean-field marginals at β; factor marginals are products of the variables' (q is factorized). */
    marginals(g: FactorGraph, beta: number, constraints?: Constraints): GraphMarginals {
      const r = meanField(g, { ...options, beta, ...(constraints ? { constraints } : {}) });
      return {
        freeEnergy: r.freeEnergy,
        variableMarginals: r.marginals,
        factorMarginals: factorMarginals(g, r.marginals),
      };
    },
    minimize(p: Potentials, constraints?: Constraints): InferenceResult {
      const r = meanField(p, { ...options, ...(constraints ? { constraints } : {}) });
      const g = p.kind === "chain" ? null : p;
      const n = p.kind === "chain" ? p.T : p.nVars;
      const labels = new Int32Array(n);
      for (let v = 0; v < n; v++) {
        const size = g ? g.domains[v]! : p.kind === "chain" ? p.L : 0;
        let best = 0;
        for (let l = 1; l < size; l++)
          if (r.marginals[v * r.maxDomain + l]! > r.marginals[v * r.maxDomain + best]!) best = l;
        labels[v] = best;
      }
      const energy = p.kind === "chain" ? chainToFactorGraph(p).energy(labels) : p.energy(labels);
      return { labels, energy, exact: false };
    },
  };
}

/** The mean-field decoder at β = 1 (its marginals at any β). */
export const meanFieldBackend: MarginalsBackend = meanFieldDecoder();

/** Factor marginals of a factorized q: ∏_{v ∈ f} q_v(y_v), in the graph's table layout. */
function factorMarginals(g: FactorGraph, q: Float64Array): Float64Array {
  const out = new Float64Array(g.tables.length);
  const D = g.maxDomain;
  for (let f = 0; f < g.nFactors; f++) {
    const s0 = g.factorScopePtr[f]!;
    const arity = g.factorScopePtr[f + 1]! - s0;
    const off = g.factorTableOffset[f]!;
    const size = g.factorTableOffset[f + 1]! - off;
    for (let e = 0; e < size; e++) {
      let w = 1;
      let rest = e;
      for (let j = 0; j < arity; j++) {
        const stride = g.factorScopeStrides[s0 + j]!;
        const y = Math.floor(rest / stride);
        rest -= y * stride;
        w *= q[g.factorScopeVars[s0 + j]! * D + y]!;
      }
      out[off + e] = w;
    }
  }
  return out;
}
