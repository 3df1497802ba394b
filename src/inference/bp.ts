import { NadirError } from "../core/errors.ts";
import { chainEnergy } from "../graph/chain.ts";
import {
  clampUnary,
  graphMessages,
  grow,
  growInt,
  type MessageGraph,
  type MessageOptions,
  messagesOf,
  type ResolvedMessageOptions,
  resolveMessageOptions,
} from "./bp-graph.ts";
import { checkConstraints, infeasible } from "./constraints.ts";
import {
  minFactorToSlot,
  minPairArg,
  minPotts,
  minToFirst,
  minToSecond,
} from "./min-sum-kernels.ts";
import type { Backend, Constraints, InferenceResult, Potentials } from "./types.ts";

/**
 * Min-sum belief propagation on factor graphs with factors of any arity (and
 * on chain potentials, which are trees).
 *
 * Messages live in flat Float64Arrays indexed by edge (factor, slot) — see
 * bp-graph.ts; unary and constant factors are folded into the variables, so
 * only factors of arity ≥ 2 exchange messages. A factor→variable message
 * minimizes over the factor's table with the incoming variable→factor
 * messages added: one general loop for any arity, an O(L²) pairwise path, and
 * an O(L) path for Potts tables.
 *
 * - Trees and forests (topology not "loopy"; chains always): one collect pass
 *   (leaves → root) storing the minimizing table index of every upward
 *   message, then decoding root-first by following those choices, so ties
 *   cannot make the labeling inconsistent. Exact: `exact: true`, energy =
 *   E(labels), `iterations: 1`, `converged: true`.
 * - Loopy graphs: "sequential" (default; factors in id order, the direction
 *   alternating each sweep, beliefs updated after every factor) or "flooding"
 *   (every message from the previous sweep's). Factor→variable messages are
 *   normalized (min subtracted) and damped
 *   (m ← (1−d)·m_new + d·m_old); variable→factor messages are
 *   belief − incoming, not stored across sweeps. Stops when no
 *   factor→variable message entry changed by more than `tolerance`
 *   (`converged: true`) or after `maxIterations` sweeps. Labels minimize the
 *   final beliefs (ties: smallest label); `exact: false`.
 *
 * Constraints: `allowed` clamps (+Infinity unary at a forbidden label); a
 * variable without an allowed label throws NadirError("E_UNSUPPORTED") "no
 * labeling satisfies the constraints". On chains forbiddenStart and
 * forbiddenTransitions are +Infinity energies too, and an infeasible chain is
 * detected by the collect pass. No difference of two infinities is ever
 * formed: factor→variable messages on loopy graphs are finite (tables are
 * finite and every variable keeps an allowed label), and the normalizer is
 * the finite minimum.
 *
 * Workspaces live in this module and grow to the largest graph seen.
 */

export interface BpResult extends InferenceResult {
  /** True on trees; on loopy graphs whether the messages met the tolerance. */
  converged: boolean;
  /** Sweeps done (1 on trees: collect + decode). */
  iterations: number;
}

export interface BpOptions extends MessageOptions {
  /**
   * Refuse loopy factor graphs (`supports` says why, `minimize` throws
   * E_UNSUPPORTED) instead of running loopy BP: a backend that is exact on
   * everything it accepts, for callers that need proven minima (default false).
   */
  exactOnly?: boolean;
}

const LOOPY =
  "bp (exactOnly): the factor graph has a cycle; min-sum BP is exact on chains, trees and forests only";

function refusal(p: Potentials, exactOnly: boolean): string | null {
  if (!exactOnly || p.kind === "chain") return null;
  return graphMessages(p).loopy ? LOOPY : null;
}

let f2v: Float64Array = new Float64Array(0);
let v2f: Float64Array = new Float64Array(0);
let bel: Float64Array = new Float64Array(0);
let unary: Float64Array = new Float64Array(0);
let tmp: Float64Array = new Float64Array(0);
let arg: Int32Array = new Int32Array(0);
let odo: Int32Array = new Int32Array(0);

function ensure(mg: MessageGraph): void {
  const S = mg.stride;
  const nE = mg.ptr[mg.nF]!;
  f2v = grow(f2v, nE * S);
  v2f = grow(v2f, nE * S);
  bel = grow(bel, mg.nVars * S);
  unary = grow(unary, mg.nVars * S);
  tmp = grow(tmp, Math.max(1, mg.maxArity) * S);
  arg = growInt(arg, Math.max(mg.nF, 1) * S);
  odo = growInt(odo, Math.max(1, mg.maxArity));
}

/** Slot of variable v in factor f (−1 when absent). */
function slotOf(mg: MessageGraph, f: number, v: number): number {
  const e0 = mg.ptr[f]!;
  const e1 = mg.ptr[f + 1]!;
  for (let e = e0; e < e1; e++) if (mg.edgeVar[e] === v) return e - e0;
  return -1;
}

/**
 * Exact two-pass min-sum on a tree/forest: collect with argmin records, then
 * decode root-first. Writes `labels`; false when no labeling has finite energy.
 */
function treeMinSum(mg: MessageGraph, labels: Int32Array): boolean {
  const order = mg.order!;
  const parent = mg.parent!;
  const n = mg.nVars;
  const S = mg.stride;
  const { ptr, edgeVar, edgeStride, varPtr, varEdge, domains, tables, tableOff, tableSize } = mg;
  // Collect: leaves → roots.
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const par = parent[node]!;
    if (par < 0) continue;
    if (node < n) {
      // variable → its parent factor: unary + messages from the child factors.
      const f = par - n;
      const ep = ptr[f]! + slotOf(mg, f, node);
      const d = domains[node]!;
      const out = ep * S;
      const row = node * S;
      for (let l = 0; l < d; l++) v2f[out + l] = unary[row + l]!;
      for (let k = varPtr[node]!; k < varPtr[node + 1]!; k++) {
        const e = varEdge[k]!;
        if (e === ep) continue;
        const m = e * S;
        for (let l = 0; l < d; l++) v2f[out + l]! += f2v[m + l]!;
      }
    } else {
      // factor → its parent variable, recording the minimizing table index.
      const f = node - n;
      const e0 = ptr[f]!;
      const arity = ptr[f + 1]! - e0;
      const jp = slotOf(mg, f, par);
      if (arity === 2) {
        const La = domains[edgeVar[e0]!]!;
        const Lb = domains[edgeVar[e0 + 1]!]!;
        const from = jp === 1 ? e0 : e0 + 1;
        minPairArg(
          jp === 1,
          v2f,
          from * S,
          tables,
          tableOff[f]!,
          La,
          Lb,
          f2v,
          (e0 + jp) * S,
          arg,
          f * S,
        );
      } else {
        minFactorToSlot(
          tables,
          tableOff[f]!,
          tableSize[f]!,
          arity,
          e0,
          edgeVar,
          domains,
          v2f,
          S,
          jp,
          odo,
          f2v,
          (e0 + jp) * S,
          arg,
          f * S,
        );
      }
    }
  }
  // Decode: roots by their beliefs, every other variable by its parent factor's record.
  for (let i = 0; i < order.length; i++) {
    const node = order[i]!;
    const par = parent[node]!;
    if (node < n) {
      if (par >= 0) continue;
      const d = domains[node]!;
      const row = node * S;
      let best = -1;
      let bestV = Infinity;
      for (let l = 0; l < d; l++) {
        let b = unary[row + l]!;
        for (let k = varPtr[node]!; k < varPtr[node + 1]!; k++) b += f2v[varEdge[k]! * S + l]!;
        if (b < bestV) {
          bestV = b;
          best = l;
        }
      }
      if (best < 0) return false;
      labels[node] = best;
    } else {
      const f = node - n;
      const e0 = ptr[f]!;
      const e1 = ptr[f + 1]!;
      const idx = arg[f * S + labels[par]!]!;
      if (idx < 0) return false;
      for (let e = e0; e < e1; e++) {
        const v = edgeVar[e]!;
        if (v !== par) labels[v] = Math.floor(idx / edgeStride[e]!) % domains[v]!;
      }
    }
  }
  return true;
}

/** bel[v] = unary[v] + Σ incoming factor→variable messages. */
function beliefs(mg: MessageGraph): void {
  const S = mg.stride;
  const { varPtr, varEdge, domains } = mg;
  for (let v = 0; v < mg.nVars; v++) {
    const row = v * S;
    const d = domains[v]!;
    for (let l = 0; l < d; l++) bel[row + l] = unary[row + l]!;
    for (let k = varPtr[v]!; k < varPtr[v + 1]!; k++) {
      const m = varEdge[k]! * S;
      for (let l = 0; l < d; l++) bel[row + l]! += f2v[m + l]!;
    }
  }
}

/** Loopy min-sum; labels minimize the final beliefs. */
function loopyMinSum(
  mg: MessageGraph,
  o: ResolvedMessageOptions,
  labels: Int32Array,
): { converged: boolean; iterations: number } {
  const S = mg.stride;
  const nF = mg.nF;
  const { ptr, edgeVar, domains, tables, tableOff, tableSize, potts, pottsSame, pottsDiff } = mg;
  f2v.fill(0, 0, ptr[nF]! * S);
  const seq = o.schedule === "sequential";
  const damp = o.damping;
  const keep = 1 - damp;
  let converged = false;
  let iterations = 0;
  for (let it = 1; it <= o.maxIterations; it++) {
    beliefs(mg);
    const forward = !seq || (it & 1) === 1;
    let delta = 0;
    for (let k = 0; k < nF; k++) {
      const f = forward ? k : nF - 1 - k;
      const e0 = ptr[f]!;
      const e1 = ptr[f + 1]!;
      const arity = e1 - e0;
      // variable → factor: belief minus this factor's own message.
      for (let e = e0; e < e1; e++) {
        const v = edgeVar[e]!;
        const d = domains[v]!;
        const row = v * S;
        const m = e * S;
        for (let l = 0; l < d; l++) v2f[m + l] = bel[row + l]! - f2v[m + l]!;
      }
      // factor → variable, new messages into tmp (slot j at j·S).
      if (arity === 2) {
        const La = domains[edgeVar[e0]!]!;
        const Lb = domains[edgeVar[e0 + 1]!]!;
        if (potts[f] === 1) {
          minPotts(v2f, (e0 + 1) * S, La, pottsSame[f]!, pottsDiff[f]!, tmp, 0);
          minPotts(v2f, e0 * S, La, pottsSame[f]!, pottsDiff[f]!, tmp, S);
        } else {
          minToFirst(v2f, (e0 + 1) * S, tables, tableOff[f]!, La, Lb, tmp, 0);
          minToSecond(v2f, e0 * S, tables, tableOff[f]!, La, Lb, tmp, S);
        }
      } else {
        for (let j = 0; j < arity; j++) {
          minFactorToSlot(
            tables,
            tableOff[f]!,
            tableSize[f]!,
            arity,
            e0,
            edgeVar,
            domains,
            v2f,
            S,
            j,
            odo,
            tmp,
            j * S,
            arg,
            0,
          );
        }
      }
      // Normalize, damp, measure, store (and refresh beliefs when sequential).
      for (let j = 0; j < arity; j++) {
        const e = e0 + j;
        const v = edgeVar[e]!;
        const d = domains[v]!;
        const src = j * S;
        let mn = Infinity;
        for (let l = 0; l < d; l++) if (tmp[src + l]! < mn) mn = tmp[src + l]!;
        const m = e * S;
        const row = v * S;
        for (let l = 0; l < d; l++) {
          const old = f2v[m + l]!;
          let nv = tmp[src + l]! - mn;
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
  beliefs(mg);
  for (let v = 0; v < mg.nVars; v++) {
    const row = v * S;
    let best = 0;
    let bestV = Infinity;
    for (let l = 0; l < domains[v]!; l++) {
      if (bel[row + l]! < bestV) {
        bestV = bel[row + l]!;
        best = l;
      }
    }
    labels[v] = best;
  }
  return { converged, iterations };
}

function run(
  p: Potentials,
  c: Constraints | undefined,
  o: ResolvedMessageOptions,
  exactOnly: boolean,
): BpResult {
  checkConstraints("bp", p, c);
  const why = refusal(p, exactOnly);
  if (why !== null) throw new NadirError("E_UNSUPPORTED", why);
  const mg = messagesOf(p, c);
  ensure(mg);
  if (!clampUnary(mg, c?.allowed, unary)) throw infeasible("bp");
  const labels = new Int32Array(mg.nVars);
  let exact = true;
  let converged = true;
  let iterations = 1;
  if (!mg.loopy) {
    if (!treeMinSum(mg, labels)) throw infeasible("bp");
  } else {
    const r = loopyMinSum(mg, o, labels);
    exact = false;
    converged = r.converged;
    iterations = r.iterations;
  }
  const energy = p.kind === "chain" ? chainEnergy(p, labels) : p.energy(labels);
  return { labels, energy, exact, converged, iterations };
}

/**
 * Minimize with min-sum BP: exact on chains, trees and forests, approximate
 * on loopy graphs (see the module comment). Throws NadirError("E_ARG") for
 * bad options or constraint sizes, ("E_UNSUPPORTED") when no labeling
 * satisfies the constraints.
 */
export function bpMinimize(
  p: Potentials,
  constraints?: Constraints,
  options?: BpOptions,
): BpResult {
  return run(p, constraints, resolveMessageOptions("bp", options), options?.exactOnly === true);
}

/** A BP backend with its own options (validated here, once). */
export interface BpBackend extends Backend {
  minimize(p: Potentials, constraints?: Constraints): BpResult;
}

export function bp(options: BpOptions = {}): BpBackend {
  const o = resolveMessageOptions("bp", options);
  const exactOnly = options.exactOnly === true;
  return Object.freeze({
    name: "bp",
    exactness: exactOnly ? "trees" : "trees (approximate on loopy graphs)",
    supports(p: Potentials): string | null {
      return refusal(p, exactOnly);
    },
    minimize(p: Potentials, constraints?: Constraints): BpResult {
      return run(p, constraints, o, exactOnly);
    },
  });
}

/** Min-sum BP with the default options (sequential, no damping, tolerance 1e-6, 100 sweeps; accepts everything). */
export const bpBackend: BpBackend = bp();

/** Messages (of L values each, both directions) one loopy sweep sends: Σ over factors of arity ≥ 2 of 2·arity. */
export function bpMessagesPerSweep(p: Potentials): number {
  const mg = messagesOf(p, undefined);
  return 2 * mg.ptr[mg.nF]!;
}
