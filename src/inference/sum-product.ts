import { NadirError } from "../core/errors.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import {
  graphMessages,
  type MessageGraph,
  type MessageOptions,
  nextEntry,
  resolveMessageOptions,
} from "./bp-graph.ts";
import { allowedOnlyGraph, infeasible } from "./constraints.ts";
import {
  beliefOf,
  beliefs,
  cavity,
  ensureWork,
  loopyMessages,
  messageWork,
  SUM_PRODUCT,
  slotOf,
  toParentFactor,
} from "./message-passing.ts";
import { lse, lseFactorMessage } from "./sum-product-kernels.ts";
import type { Constraints, Potentials } from "./types.ts";
import { grow } from "./workspace.ts";

/**
 * Sum-product belief propagation at inverse temperature β on factor graphs of
 * any arity: the Gibbs distribution P(y) = exp(−β E(y)) / Z(β), its free
 * energy F_β = −(1/β) log Z(β), and the marginals of every variable and factor.
 *
 * Everything is in log space (log-weights −β·energy) with log-sum-exp kernels
 * written out here, separately from the min-sum ones: each output entry is
 * max-shifted before exponentiating, so any finite β·energy is safe.
 *
 * - Trees and forests (and chains, converted by `chainToFactorGraph`): one
 *   collect pass gives log Z exactly (Σ over component roots of the log-sum-exp
 *   of the root belief, plus −β·constants), a distribute pass gives every
 *   message, and the marginals are exact (`exact: true`, `approximation:
 *   "exact"`).
 * - Loopy graphs: loopy sum-product (schedules, damping, tolerance and
 *   iteration cap as in min-sum BP; factor→variable log-messages normalized by
 *   their maximum, damped in log space). The marginals are the beliefs and
 *   `freeEnergy` / `logZ` are the **Bethe approximation** computed from them
 *   (`exact: false`, `approximation: "bethe"`):
 *     F_Bethe = U − H/β,  U = Σ_f ⟨E_f⟩_{b_f} + Σ_v ⟨E_v⟩_{b_v} + constants,
 *     H = Σ_f H(b_f) + Σ_v (1 − d_v) H(b_v),
 *   with d_v the number of factors of arity ≥ 2 on v (unary factors are folded
 *   into the variables). `betheFreeEnergy` is reported on trees too, where it
 *   equals F_β.
 *
 * `constraints.allowed` gives probability 0 to forbidden labels (the
 * distribution over the allowed labelings); a variable with no allowed label
 * throws NadirError("E_UNSUPPORTED"). Chain-only constraints are refused (use
 * forwardBackward). β must be finite and > 0.
 */

export interface SumProductOptions extends MessageOptions {
  constraints?: Constraints;
}

export interface SumProductResult {
  /** log Z(β) — exact on trees, −β·F_Bethe on loopy graphs. */
  logZ: number;
  /** −log Z / β. */
  freeEnergy: number;
  /** The Bethe free energy of the final beliefs (= freeEnergy; on trees it equals F_β up to rounding). */
  betheFreeEnergy: number;
  /** P(y_v = l) at [v·maxDomain + l] (0 past a variable's domain). */
  variableMarginals: Float64Array;
  /** Factor marginals, laid out like the graph's concatenated tables (`factorTableOffset`). */
  factorMarginals: Float64Array;
  exact: boolean;
  approximation: "exact" | "bethe";
  converged: boolean;
  iterations: number;
}

const w = messageWork();
let lt: Float64Array = new Float64Array(0);

/** Exact collect + distribute on a tree/forest; returns log Z without the constants. */
function treeSumProduct(mg: MessageGraph): number {
  const order = mg.order!;
  const parent = mg.parent!;
  const n = mg.nVars;
  const S = mg.stride;
  const { ptr, edgeVar, varPtr, varEdge, domains } = mg;
  const { f2v, v2f, bel } = w;
  let logZ = 0;
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const par = parent[node]!;
    if (node >= n) {
      const f = node - n;
      const jp = slotOf(mg, f, par);
      lseFactorMessage(mg, w, f, jp, f2v, (ptr[f]! + jp) * S);
    } else if (par >= 0) {
      toParentFactor(mg, w, node, par - n);
    } else {
      beliefOf(mg, w, node);
      logZ += lse(bel, node * S, domains[node]!);
    }
  }
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!;
    const par = parent[node]!;
    if (node < n) {
      beliefOf(mg, w, node);
      const row = node * S;
      const d = domains[node]!;
      const ep = par < 0 ? -1 : ptr[par - n]! + slotOf(mg, par - n, node);
      for (let k = varPtr[node]!; k < varPtr[node + 1]!; k++) {
        const e = varEdge[k]!;
        if (e === ep) continue;
        const m = e * S;
        for (let l = 0; l < d; l++) v2f[m + l] = bel[row + l]! - f2v[m + l]!;
      }
    } else {
      const f = node - n;
      for (let e = ptr[f]!; e < ptr[f + 1]!; e++) {
        if (edgeVar[e] === par) continue;
        lseFactorMessage(mg, w, f, e - ptr[f]!, f2v, e * S);
      }
    }
  }
  return logZ;
}

/**
 * Marginals from the final beliefs (bel and v2f must be current) and the
 * Bethe free energy F = U − H/β.
 */
function marginalsAndBethe(
  g: FactorGraph,
  mg: MessageGraph,
  beta: number,
  vm: Float64Array,
  fm: Float64Array,
): number {
  const S = mg.stride;
  const { domains, ptr, edgeVar, unary, tables, tableOff, tableSize } = mg;
  const { v2f, bel, odo } = w;
  let U = mg.constant;
  let H = 0;
  for (let v = 0; v < mg.nVars; v++) {
    const row = v * S;
    const d = domains[v]!;
    const z = lse(bel, row, d);
    let h = 0;
    for (let l = 0; l < d; l++) {
      const lp = bel[row + l]! - z;
      if (lp === -Infinity) continue;
      const q = Math.exp(lp);
      vm[row + l] = q;
      U += q * unary[row + l]!;
      h -= q * lp;
    }
    H += (1 - (mg.varPtr[v + 1]! - mg.varPtr[v]!)) * h;
  }
  for (let f = 0; f < mg.nF; f++) {
    const e0 = ptr[f]!;
    const arity = ptr[f + 1]! - e0;
    const off = tableOff[f]!;
    const size = tableSize[f]!;
    const dst = g.factorTableOffset[mg.factorId[f]!]!;
    // log belief of each entry into fm (temporarily), then normalize.
    for (let j = 0; j < arity; j++) odo[j] = 0;
    let m = -Infinity;
    for (let idx = 0; idx < size; idx++) {
      let v = lt[off + idx]!;
      for (let j = 0; j < arity; j++) v += v2f[(e0 + j) * S + odo[j]!]!;
      fm[dst + idx] = v;
      if (v > m) m = v;
      nextEntry(odo, arity, e0, edgeVar, domains);
    }
    let s = 0;
    for (let idx = 0; idx < size; idx++) s += Math.exp(fm[dst + idx]! - m);
    const z = m + Math.log(s);
    for (let idx = 0; idx < size; idx++) {
      const lp = fm[dst + idx]! - z;
      if (lp === -Infinity) {
        fm[dst + idx] = 0;
        continue;
      }
      const q = Math.exp(lp);
      fm[dst + idx] = q;
      U += q * tables[off + idx]!;
      H -= q * lp;
    }
  }
  // Unary factors: the variable's marginal; constants: 1.
  for (let f = 0; f < g.nFactors; f++) {
    const a = g.factorScopePtr[f]!;
    const k = g.factorScopePtr[f + 1]! - a;
    const dst = g.factorTableOffset[f]!;
    if (k === 0) fm[dst] = 1;
    else if (k === 1) {
      const v = g.factorScopeVars[a]!;
      for (let l = 0; l < domains[v]!; l++) fm[dst + l] = vm[v * S + l]!;
    }
  }
  return U - H / beta;
}

/**
 * Marginals, log Z and the free energy at β by sum-product BP (see the module
 * comment). Chain potentials are converted with `chainToFactorGraph`, so
 * their factor marginals follow that graph's factor order.
 */
export function sumProduct(
  p: Potentials,
  beta: number,
  options: SumProductOptions = {},
): SumProductResult {
  const who = "sumProduct";
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta <= 0) {
    throw new NadirError("E_ARG", `${who}: expected β finite and > 0, got ${beta}`);
  }
  const o = resolveMessageOptions(who, options);
  const c = options.constraints;
  const g = allowedOnlyGraph(who, p, c, "forwardBackward");
  const mg = graphMessages(g);
  const S = mg.stride;
  const nE = mg.ptr[mg.nF]!;
  ensureWork(w, mg);
  lt = grow(lt, g.tables.length);
  w.tables = lt;
  const lu = w.unary;

  const allowed = c?.allowed;
  const nb = -beta;
  for (let v = 0; v < mg.nVars; v++) {
    const row = v * S;
    let any = false;
    for (let l = 0; l < mg.domains[v]!; l++) {
      const ok = allowed === undefined || allowed[row + l] !== 0;
      lu[row + l] = ok ? nb * mg.unary[row + l]! : -Infinity;
      if (ok) any = true;
    }
    if (!any) throw infeasible(who);
  }
  const tables = g.tables;
  for (let i = 0; i < tables.length; i++) lt[i] = nb * tables[i]!;

  let logZ: number;
  let converged = true;
  let iterations = 1;
  if (!mg.loopy) {
    logZ = treeSumProduct(mg) + nb * mg.constant;
  } else {
    const r = loopyMessages(mg, w, o, SUM_PRODUCT);
    converged = r.converged;
    iterations = r.iterations;
    logZ = Number.NaN;
    beliefs(mg, w);
  }
  // v2f of the tree's upward edges is current; refresh every edge from the beliefs anyway (uniform).
  cavity(mg, w, 0, nE);
  const variableMarginals = new Float64Array(mg.nVars * S);
  const factorMarginals = new Float64Array(tables.length);
  const bethe = marginalsAndBethe(g, mg, beta, variableMarginals, factorMarginals);
  const exact = !mg.loopy;
  if (!exact) logZ = nb * bethe;
  return {
    logZ,
    freeEnergy: exact ? -logZ / beta : bethe,
    betheFreeEnergy: bethe,
    variableMarginals,
    factorMarginals,
    exact,
    approximation: exact ? "exact" : "bethe",
    converged,
    iterations,
  };
}
