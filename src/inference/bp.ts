import { NadirError } from "../core/errors.ts";
import { chainEnergy } from "../graph/chain.ts";
import {
  clampUnary,
  graphMessages,
  type MessageGraph,
  type MessageOptions,
  messagesOf,
  type ResolvedMessageOptions,
  resolveMessageOptions,
} from "./bp-graph.ts";
import { checkConstraints, infeasible } from "./constraints.ts";
import {
  beliefOf,
  beliefs,
  ensureWork,
  loopyMessages,
  MIN_SUM,
  messageWork,
  slotOf,
  toParentFactor,
} from "./message-passing.ts";
import { minFactorToSlot, minPairMessage } from "./min-sum-kernels.ts";
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

const w = messageWork();

/** The smallest label of the least belief of v, −1 when every belief is +Infinity. */
function argminBelief(mg: MessageGraph, v: number): number {
  const { bel } = w;
  const row = v * mg.stride;
  let best = -1;
  let bestV = Infinity;
  for (let l = 0; l < mg.domains[v]!; l++) {
    if (bel[row + l]! < bestV) {
      bestV = bel[row + l]!;
      best = l;
    }
  }
  return best;
}

/**
 * The label of the child at slot `child` of pairwise factor f that minimizes
 * its collected message plus the table given the parent's label (ties: the
 * smallest; −1 when every sum is +Infinity) — the choice the collect pass's
 * minimum made.
 */
function pairChoice(mg: MessageGraph, f: number, child: number, parentLabel: number): number {
  const S = mg.stride;
  const e0 = mg.ptr[f]!;
  const Lb = mg.domains[mg.edgeVar[e0 + 1]!]!;
  const h = w.v2f;
  const hOff = (e0 + child) * S;
  const d = mg.domains[mg.edgeVar[e0 + child]!]!;
  const off = mg.tableOff[f]!;
  // T[a·Lb + b]: the child is a (slot 0) or b (slot 1).
  const base = child === 0 ? off + parentLabel : off + parentLabel * Lb;
  const step = child === 0 ? Lb : 1;
  let best = -1;
  let bestV = Infinity;
  for (let l = 0; l < d; l++) {
    const v = h[hOff + l]! + mg.tables[base + l * step]!;
    if (v < bestV) {
      bestV = v;
      best = l;
    }
  }
  return best;
}

/**
 * Exact two-pass min-sum on a tree/forest: collect (recording the minimizing
 * table index of factors of arity ≥ 3), then decode root-first. Writes `labels`; false when no labeling has finite energy.
 */
function treeMinSum(mg: MessageGraph, labels: Int32Array): boolean {
  const order = mg.order!;
  const parent = mg.parent!;
  const n = mg.nVars;
  const S = mg.stride;
  const { ptr, edgeVar, edgeStride, domains, tables, tableOff, tableSize } = mg;
  const { f2v, v2f, arg, odo } = w;
  // Collect: leaves → roots.
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const par = parent[node]!;
    if (par < 0) continue;
    if (node < n) {
      toParentFactor(mg, w, node, par - n);
    } else {
      // factor → its parent variable, recording the minimizing table index.
      const f = node - n;
      const e0 = ptr[f]!;
      const arity = ptr[f + 1]! - e0;
      const jp = slotOf(mg, f, par);
      if (arity === 2) {
        minPairMessage(mg, tables, f, 1 - jp, v2f, (e0 + 1 - jp) * S, f2v, (e0 + jp) * S);
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
      beliefOf(mg, w, node);
      const best = argminBelief(mg, node);
      if (best < 0) return false;
      labels[node] = best;
    } else {
      const f = node - n;
      const e0 = ptr[f]!;
      const e1 = ptr[f + 1]!;
      if (e1 - e0 === 2) {
        const child = edgeVar[e0] === par ? 1 : 0;
        const l = pairChoice(mg, f, child, labels[par]!);
        if (l < 0) return false;
        labels[edgeVar[e0 + child]!] = l;
        continue;
      }
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

/** Loopy min-sum; labels minimize the final beliefs (ties: smallest label). */
function loopyMinSum(
  mg: MessageGraph,
  o: ResolvedMessageOptions,
  labels: Int32Array,
): { converged: boolean; iterations: number } {
  const r = loopyMessages(mg, w, o, MIN_SUM);
  beliefs(mg, w);
  for (let v = 0; v < mg.nVars; v++) labels[v] = Math.max(0, argminBelief(mg, v));
  return r;
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
  ensureWork(w, mg);
  w.tables = mg.tables;
  if (!clampUnary(mg, c?.allowed, w.unary)) throw infeasible("bp");
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
