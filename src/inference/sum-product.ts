import { NadirError } from "../core/errors.ts";
import { chainToFactorGraph } from "../graph/convert.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import {
  graphMessages,
  grow,
  type MessageGraph,
  type MessageOptions,
  type ResolvedMessageOptions,
  resolveMessageOptions,
} from "./bp-graph.ts";
import { checkConstraints, infeasible } from "./constraints.ts";
import type { Constraints, Potentials } from "./types.ts";

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

let f2v: Float64Array = new Float64Array(0);
let v2f: Float64Array = new Float64Array(0);
let bel: Float64Array = new Float64Array(0);
let lu: Float64Array = new Float64Array(0);
let lt: Float64Array = new Float64Array(0);
let tmp: Float64Array = new Float64Array(0);
let mx: Float64Array = new Float64Array(0);
let odo: Int32Array = new Int32Array(0);

// ---------------------------------------------------------------------------
// Log-sum-exp kernels (−Infinity = probability 0; never −Infinity − −Infinity).

/** out[b] = log Σ_a exp(h[a] + φ[a·Lb + b]); `m` is a workspace of ≥ Lb entries. */
function lseToSecond(
  h: Float64Array,
  hOff: number,
  phi: Float64Array,
  tOff: number,
  La: number,
  Lb: number,
  out: Float64Array,
  oOff: number,
  m: Float64Array,
): void {
  for (let b = 0; b < Lb; b++) {
    m[b] = -Infinity;
    out[oOff + b] = 0;
  }
  for (let a = 0; a < La; a++) {
    const ha = h[hOff + a]!;
    if (ha === -Infinity) continue;
    const row = tOff + a * Lb;
    for (let b = 0; b < Lb; b++) {
      const v = ha + phi[row + b]!;
      if (v > m[b]!) m[b] = v;
    }
  }
  for (let a = 0; a < La; a++) {
    const ha = h[hOff + a]!;
    if (ha === -Infinity) continue;
    const row = tOff + a * Lb;
    for (let b = 0; b < Lb; b++) out[oOff + b]! += Math.exp(ha + phi[row + b]! - m[b]!);
  }
  for (let b = 0; b < Lb; b++) {
    out[oOff + b] = m[b] === -Infinity ? -Infinity : m[b]! + Math.log(out[oOff + b]!);
  }
}

/** out[a] = log Σ_b exp(h[b] + φ[a·Lb + b]). */
function lseToFirst(
  h: Float64Array,
  hOff: number,
  phi: Float64Array,
  tOff: number,
  La: number,
  Lb: number,
  out: Float64Array,
  oOff: number,
): void {
  for (let a = 0; a < La; a++) {
    const row = tOff + a * Lb;
    let mm = -Infinity;
    for (let b = 0; b < Lb; b++) {
      const v = h[hOff + b]! + phi[row + b]!;
      if (v > mm) mm = v;
    }
    if (mm === -Infinity) {
      out[oOff + a] = -Infinity;
      continue;
    }
    let s = 0;
    for (let b = 0; b < Lb; b++) s += Math.exp(h[hOff + b]! + phi[row + b]! - mm);
    out[oOff + a] = mm + Math.log(s);
  }
}

/**
 * Any arity: out[x_jp] = log Σ over table entries with that x_jp of
 * exp(φ[idx] + Σ_{j≠jp} msg[(e0+j)·stride + x_j]). `m` ≥ domain, `x` ≥ arity.
 */
function lseFactorToSlot(
  phi: Float64Array,
  tOff: number,
  size: number,
  arity: number,
  e0: number,
  edgeVar: Int32Array,
  domains: Int32Array,
  msg: Float64Array,
  stride: number,
  jp: number,
  x: Int32Array,
  out: Float64Array,
  oOff: number,
  m: Float64Array,
): void {
  const dp = domains[edgeVar[e0 + jp]!]!;
  for (let l = 0; l < dp; l++) {
    m[l] = -Infinity;
    out[oOff + l] = 0;
  }
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < arity; j++) x[j] = 0;
    for (let idx = 0; idx < size; idx++) {
      let v = phi[tOff + idx]!;
      for (let j = 0; j < arity; j++) if (j !== jp) v += msg[(e0 + j) * stride + x[j]!]!;
      const xp = x[jp]!;
      if (pass === 0) {
        if (v > m[xp]!) m[xp] = v;
      } else if (v !== -Infinity) {
        out[oOff + xp]! += Math.exp(v - m[xp]!);
      }
      let j = arity - 1;
      while (j >= 0) {
        const xj = x[j]! + 1;
        if (xj < domains[edgeVar[e0 + j]!]!) {
          x[j] = xj;
          break;
        }
        x[j] = 0;
        j--;
      }
    }
  }
  for (let l = 0; l < dp; l++) {
    out[oOff + l] = m[l] === -Infinity ? -Infinity : m[l]! + Math.log(out[oOff + l]!);
  }
}

/** log Σ_l exp(a[off + l]), l < d. */
function lse(a: Float64Array, off: number, d: number): number {
  let m = -Infinity;
  for (let l = 0; l < d; l++) if (a[off + l]! > m) m = a[off + l]!;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let l = 0; l < d; l++) s += Math.exp(a[off + l]! - m);
  return m + Math.log(s);
}

/** The message of factor f into slot j from the current v2f (written to f2v at `out`). */
function factorMessage(
  mg: MessageGraph,
  f: number,
  j: number,
  out: Float64Array,
  oOff: number,
): void {
  const S = mg.stride;
  const e0 = mg.ptr[f]!;
  const arity = mg.ptr[f + 1]! - e0;
  const off = mg.tableOff[f]!;
  if (arity === 2) {
    const La = mg.domains[mg.edgeVar[e0]!]!;
    const Lb = mg.domains[mg.edgeVar[e0 + 1]!]!;
    if (j === 1) lseToSecond(v2f, e0 * S, lt, off, La, Lb, out, oOff, mx);
    else lseToFirst(v2f, (e0 + 1) * S, lt, off, La, Lb, out, oOff);
    return;
  }
  lseFactorToSlot(
    lt,
    off,
    mg.tableSize[f]!,
    arity,
    e0,
    mg.edgeVar,
    mg.domains,
    v2f,
    S,
    j,
    odo,
    out,
    oOff,
    mx,
  );
}

function slotOf(mg: MessageGraph, f: number, v: number): number {
  for (let e = mg.ptr[f]!; e < mg.ptr[f + 1]!; e++) if (mg.edgeVar[e] === v) return e - mg.ptr[f]!;
  return -1;
}

/** bel[v] = log unary + Σ incoming factor messages. */
function belief(mg: MessageGraph, v: number): void {
  const S = mg.stride;
  const row = v * S;
  const d = mg.domains[v]!;
  for (let l = 0; l < d; l++) bel[row + l] = lu[row + l]!;
  for (let k = mg.varPtr[v]!; k < mg.varPtr[v + 1]!; k++) {
    const m = mg.varEdge[k]! * S;
    for (let l = 0; l < d; l++) bel[row + l]! += f2v[m + l]!;
  }
}

/** Exact collect + distribute on a tree/forest; returns log Z without the constants. */
function treeSumProduct(mg: MessageGraph): number {
  const order = mg.order!;
  const parent = mg.parent!;
  const n = mg.nVars;
  const S = mg.stride;
  const { ptr, edgeVar, varPtr, varEdge, domains } = mg;
  let logZ = 0;
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const par = parent[node]!;
    if (node < n) {
      if (par < 0) {
        belief(mg, node);
        logZ += lse(bel, node * S, domains[node]!);
        continue;
      }
      const f = par - n;
      const ep = ptr[f]! + slotOf(mg, f, node);
      const d = domains[node]!;
      const out = ep * S;
      const row = node * S;
      for (let l = 0; l < d; l++) v2f[out + l] = lu[row + l]!;
      for (let k = varPtr[node]!; k < varPtr[node + 1]!; k++) {
        const e = varEdge[k]!;
        if (e === ep) continue;
        const m = e * S;
        for (let l = 0; l < d; l++) v2f[out + l]! += f2v[m + l]!;
      }
    } else {
      const f = node - n;
      const jp = slotOf(mg, f, par);
      factorMessage(mg, f, jp, f2v, (ptr[f]! + jp) * S);
    }
  }
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!;
    const par = parent[node]!;
    if (node < n) {
      belief(mg, node);
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
        factorMessage(mg, f, e - ptr[f]!, f2v, e * S);
      }
    }
  }
  return logZ;
}

function loopySumProduct(
  mg: MessageGraph,
  o: ResolvedMessageOptions,
): { converged: boolean; iterations: number } {
  const S = mg.stride;
  const nF = mg.nF;
  const { ptr, edgeVar, domains } = mg;
  f2v.fill(0, 0, ptr[nF]! * S);
  const seq = o.schedule === "sequential";
  const damp = o.damping;
  const keep = 1 - damp;
  let converged = false;
  let iterations = 0;
  for (let it = 1; it <= o.maxIterations; it++) {
    for (let v = 0; v < mg.nVars; v++) belief(mg, v);
    const forward = !seq || (it & 1) === 1;
    let delta = 0;
    for (let k = 0; k < nF; k++) {
      const f = forward ? k : nF - 1 - k;
      const e0 = ptr[f]!;
      const e1 = ptr[f + 1]!;
      for (let e = e0; e < e1; e++) {
        const v = edgeVar[e]!;
        const d = domains[v]!;
        const row = v * S;
        const m = e * S;
        for (let l = 0; l < d; l++) v2f[m + l] = bel[row + l]! - f2v[m + l]!;
      }
      for (let j = 0; j < e1 - e0; j++) factorMessage(mg, f, j, tmp, j * S);
      for (let j = 0; j < e1 - e0; j++) {
        const e = e0 + j;
        const v = edgeVar[e]!;
        const d = domains[v]!;
        const src = j * S;
        let mm = -Infinity;
        for (let l = 0; l < d; l++) if (tmp[src + l]! > mm) mm = tmp[src + l]!;
        const m = e * S;
        const row = v * S;
        for (let l = 0; l < d; l++) {
          const old = f2v[m + l]!;
          let nv = tmp[src + l]! - mm;
          if (damp > 0) nv = keep * nv + damp * old;
          const ch = nv > old ? nv - old : old - nv;
          if (ch > delta) delta = ch;
          if (seq) bel[row + l]! += nv - old;
          f2v[m + l] = nv;
        }
      }
    }
    iterations = it;
    if (delta <= o.tolerance) {
      converged = true;
      break;
    }
  }
  for (let v = 0; v < mg.nVars; v++) belief(mg, v);
  for (let e = 0; e < ptr[nF]!; e++) {
    const v = edgeVar[e]!;
    const row = v * S;
    const m = e * S;
    for (let l = 0; l < domains[v]!; l++) v2f[m + l] = bel[row + l]! - f2v[m + l]!;
  }
  return { converged, iterations };
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
      let j = arity - 1;
      while (j >= 0) {
        const xj = odo[j]! + 1;
        if (xj < domains[edgeVar[e0 + j]!]!) {
          odo[j] = xj;
          break;
        }
        odo[j] = 0;
        j--;
      }
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
  if (
    p.kind === "chain" &&
    (c?.forbiddenTransitions !== undefined || c?.forbiddenStart !== undefined)
  ) {
    throw new NadirError(
      "E_UNSUPPORTED",
      `${who}: forbiddenTransitions / forbiddenStart are not supported; use forwardBackward on chains`,
    );
  }
  const g = p.kind === "chain" ? chainToFactorGraph(p) : p;
  checkConstraints(who, g, c);
  const mg = graphMessages(g);
  const S = mg.stride;
  const nE = mg.ptr[mg.nF]!;
  f2v = grow(f2v, nE * S);
  v2f = grow(v2f, nE * S);
  bel = grow(bel, mg.nVars * S);
  lu = grow(lu, mg.nVars * S);
  lt = grow(lt, g.tables.length);
  tmp = grow(tmp, Math.max(1, mg.maxArity) * S);
  mx = grow(mx, Math.max(1, S));
  if (odo.length < mg.maxArity) odo = new Int32Array(mg.maxArity);

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
    for (let e = 0; e < nE; e++) {
      // v2f of the upward edges is current; refresh it from the beliefs anyway (uniform).
      const v = mg.edgeVar[e]!;
      for (let l = 0; l < mg.domains[v]!; l++) v2f[e * S + l] = bel[v * S + l]! - f2v[e * S + l]!;
    }
  } else {
    const r = loopySumProduct(mg, o);
    converged = r.converged;
    iterations = r.iterations;
    logZ = Number.NaN;
  }
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
