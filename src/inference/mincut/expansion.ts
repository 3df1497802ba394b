import { NadirError } from "../../core/errors.ts";
import { chainEnergy } from "../../graph/chain.ts";
import { chainToFactorGraph } from "../../graph/convert.ts";
import type { FactorGraph } from "../../graph/factor-graph.ts";
import { allowedOnlyGraph, infeasible } from "../constraints.ts";
import type { Backend, Constraints, InferenceResult, Potentials } from "../types.ts";
import { grow } from "../workspace.ts";
import { addBinaryEnergy } from "./construct.ts";
import { MaxflowGraph, SINK } from "./maxflow.ts";

/**
 * Multi-label move-making by graph cuts (Boykov–Veksler–Zabih, "Fast
 * Approximate Energy Minimization via Graph Cuts", PAMI 2001):
 *
 * - α-expansion: every variable may keep its label or switch to α; one
 *   minimum cut finds the best such move. Each move is a binary submodular
 *   problem for every labeling iff every pairwise table V (rows: the first
 *   scope variable) satisfies, for every α valid for both variables and every
 *   β, γ, V(α,α) + V(β,γ) ≤ V(β,α) + V(α,γ) — true for metrics. A local
 *   minimum is within a factor 2c of the optimum for a metric V with
 *   c = max_{a≠b} V(a,b) / min_{a≠b} V(a,b) and non-negative unaries (2 for
 *   Potts).
 * - α-β swap: variables labeled α or β may exchange them; each move is
 *   submodular iff V(α,β) + V(β,α) ≥ V(α,α) + V(β,β) for every pair α ≠ β
 *   valid for both variables — true for semi-metrics. No optimality bound.
 *
 * A sweep tries every α (every pair α < β) once; a move is taken only when it
 * lowers `FactorGraph.energy` strictly, so the energy after each sweep —
 * reported in `sweeps` — never increases, and the search stops after a sweep
 * without improvement (or `maxSweeps`). Start: each variable's allowed label
 * of lowest unary energy (ties: smallest label); with at most 2 labels per
 * variable, the lowest allowed label, so that the first sweep's move is the
 * whole binary problem and the answer is exact (`exact: true`).
 *
 * Accepted: factor graphs with factors of arity ≤ 2 whose pairwise tables
 * satisfy the move's condition, and chain potentials (through
 * `chainToFactorGraph`). Refused with a reason naming the factor, its
 * variables, the labels that break the condition and by how much.
 * `constraints.allowed` is honored: a variable never moves to a label it may
 * not take.
 */

export interface MoveOptions {
  /** Largest number of sweeps (default 100). */
  maxSweeps?: number;
}

/** A move-making answer: the labeling, its energy, and the energy after each sweep. */
export interface MoveResult extends InferenceResult {
  sweeps: number[];
}

type Move = "expansion" | "swap";

/** Why the potentials cannot be minimized by `move` moves, or null. */
export function moveRefusal(p: Potentials, move: Move): string | null {
  if (p.kind === "chain")
    return moveRefusalGraph(chainToFactorGraph(p), move, "the chain transition");
  return moveRefusalGraph(p, move, null);
}

function moveRefusalGraph(g: FactorGraph, move: Move, chainName: string | null): string | null {
  const { factorScopePtr: ptr, factorScopeVars: vars, domains } = g;
  for (let f = 0; f < g.nFactors; f++) {
    const arity = ptr[f + 1]! - ptr[f]!;
    const what =
      chainName ??
      `factor ${f} over variables (${Array.from(vars.subarray(ptr[f]!, ptr[f + 1]!)).join(", ")})`;
    if (arity > 2)
      return `${move}: ${what} has arity ${arity}; graph cuts take factors of arity ≤ 2`;
    if (arity < 2) continue;
    const i = vars[ptr[f]!]!;
    const j = vars[ptr[f]! + 1]!;
    const di = domains[i]!;
    const dj = domains[j]!;
    const dm = Math.min(di, dj);
    const t = g.factors[f]!.table;
    if (move === "expansion") {
      for (let a = 0; a < dm; a++) {
        const d = t[a * dj + a]!;
        for (let b = 0; b < di; b++) {
          const B = t[b * dj + a]!;
          for (let c = 0; c < dj; c++) {
            const A = t[b * dj + c]!;
            const C = t[a * dj + c]!;
            // The move's edge weight, computed as in expansionMove.
            if (B + C - (A + d) < 0) {
              return (
                `expansion: ${what} breaks the expansion condition ` +
                `V(α,α) + V(β,γ) ≤ V(β,α) + V(α,γ) at α=${a}, β=${b}, γ=${c}: ` +
                `${d} + ${A} > ${B} + ${C} (by ${A + d - (B + C)}); use swap or exhaustive`
              );
            }
          }
        }
      }
    } else {
      for (let a = 0; a < dm; a++) {
        for (let b = a + 1; b < dm; b++) {
          const A = t[a * dj + a]!;
          const B = t[a * dj + b]!;
          const C = t[b * dj + a]!;
          const D = t[b * dj + b]!;
          if (B + C - (A + D) < 0) {
            return (
              `swap: ${what} breaks the swap condition ` +
              `V(α,β) + V(β,α) ≥ V(α,α) + V(β,β) at α=${a}, β=${b}: ` +
              `${B} + ${C} < ${A} + ${D} (by ${A + D - (B + C)}); use exhaustive`
            );
          }
        }
      }
    }
  }
  return null;
}

/** Workspaces shared by every move (grown to the largest graph seen). */
class MoveWorkspace {
  readonly mf = new MaxflowGraph();
  /** Variable → node of the current move, or −1 when the variable cannot move. */
  node = new Int32Array(0);
  /** Per node: E(x=1) − E(x=0) of its unary terms in the current move. */
  du = new Float64Array(0);
  y = new Int32Array(0);
  cand = new Int32Array(0);
  /** The labels of x = 0 in a swap move. */
  base = new Int32Array(0);
  unary = new Float64Array(0);

  ensure(n: number, maxDomain: number): void {
    this.node = grow(this.node, n);
    this.du = grow(this.du, n);
    this.y = grow(this.y, n);
    this.cand = grow(this.cand, n);
    this.base = grow(this.base, n);
    this.unary = grow(this.unary, n * maxDomain);
  }
}

const ws = new MoveWorkspace();

function allowedAt(allowed: Uint8Array | undefined, row: number, l: number): boolean {
  return allowed === undefined || allowed[row + l] !== 0;
}

/**
 * The start labeling into ws.y: each variable's allowed label of lowest unary
 * energy (`lowest`: the smallest allowed label). Throws the infeasibility
 * error when a variable has no allowed label.
 */
function initialLabels(
  g: FactorGraph,
  allowed: Uint8Array | undefined,
  lowest: boolean,
  who: string,
): void {
  const { nVars: n, maxDomain: L } = g;
  const { y, unary } = ws;
  unary.fill(0, 0, n * L);
  if (!lowest) {
    const { factorScopePtr: ptr, factorScopeVars: vars, factorTableOffset: off, tables } = g;
    for (let f = 0; f < g.nFactors; f++) {
      if (ptr[f + 1]! - ptr[f]! !== 1) continue;
      const v = vars[ptr[f]!]!;
      const d = g.domains[v]!;
      const o = off[f]!;
      const row = v * L;
      for (let l = 0; l < d; l++) unary[row + l] = unary[row + l]! + tables[o + l]!;
    }
  }
  for (let v = 0; v < n; v++) {
    const row = v * L;
    const d = g.domains[v]!;
    let best = -1;
    for (let l = 0; l < d; l++) {
      if (!allowedAt(allowed, row, l)) continue;
      if (best < 0 || unary[row + l]! < unary[row + best]!) best = l;
    }
    if (best < 0) throw infeasible(who);
    y[v] = best;
  }
}

/**
 * Build and solve one binary move: each variable v with ws.node[v] ≥ 0 keeps
 * base[v] (x = 0, source side) or takes `label1` (x = 1, sink side), every
 * other variable stays at base[v]. Expansion: base = the labeling, label1 = α;
 * swap: base[v] = α for the movable variables, label1 = β. The moved labeling
 * lands in ws.cand; false when nothing moves.
 */
function binaryMove(g: FactorGraph, base: Int32Array, nNodes: number, label1: number): boolean {
  const { mf, du, node } = ws;
  mf.reset();
  mf.addNode(nNodes);
  addBinaryEnergy(g, mf, du, nNodes, node, base, label1);
  mf.maxflow();
  const cand = ws.cand;
  let moved = false;
  for (let v = 0; v < g.nVars; v++) {
    const k = node[v]!;
    const l = k >= 0 && mf.whatSegment(k) === SINK ? label1 : base[v]!;
    if (l !== ws.y[v]) moved = true;
    cand[v] = l;
  }
  return moved;
}

/** Build and solve the α-expansion move; the candidate labeling lands in ws.cand. */
function expansionMove(g: FactorGraph, allowed: Uint8Array | undefined, alpha: number): boolean {
  const { nVars: n, maxDomain: L, domains } = g;
  const { y, node } = ws;
  let nNodes = 0;
  for (let v = 0; v < n; v++) {
    if (alpha < domains[v]! && y[v] !== alpha && allowedAt(allowed, v * L, alpha))
      node[v] = nNodes++;
    else node[v] = -1;
  }
  if (nNodes === 0) return false;
  return binaryMove(g, y, nNodes, alpha);
}

/** Build and solve the α-β swap move (x = 0: α, x = 1: β); the candidate lands in ws.cand. */
function swapMove(
  g: FactorGraph,
  allowed: Uint8Array | undefined,
  alpha: number,
  beta: number,
): boolean {
  const { nVars: n, maxDomain: L, domains } = g;
  const { y, node, base } = ws;
  let nNodes = 0;
  for (let v = 0; v < n; v++) {
    const l = y[v]!;
    if (
      (l === alpha || l === beta) &&
      beta < domains[v]! &&
      allowedAt(allowed, v * L, alpha) &&
      allowedAt(allowed, v * L, beta)
    ) {
      node[v] = nNodes++;
      base[v] = alpha;
    } else {
      node[v] = -1;
      base[v] = l;
    }
  }
  if (nNodes === 0) return false;
  return binaryMove(g, base, nNodes, beta);
}

function checkOptions(who: string, options: MoveOptions | undefined): number {
  const m = options?.maxSweeps ?? 100;
  if (!Number.isInteger(m) || m < 1) {
    throw new NadirError(
      "E_ARG",
      `${who}: maxSweeps expected an integer ≥ 1, got ${options?.maxSweeps}`,
    );
  }
  return m;
}

function minimizeMoves(
  move: Move,
  p: Potentials,
  constraints: Constraints | undefined,
  options: MoveOptions | undefined,
): MoveResult {
  const maxSweeps = checkOptions(move, options);
  const g = allowedOnlyGraph(move, p, constraints, "viterbi");
  const why = moveRefusalGraph(g, move, p.kind === "chain" ? "the chain transition" : null);
  if (why !== null) throw new NadirError("E_UNSUPPORTED", why);
  const n = g.nVars;
  const L = g.maxDomain;
  const allowed = constraints?.allowed;
  ws.ensure(n, L);
  const binary = L <= 2;
  initialLabels(g, allowed, binary, move);
  const y = ws.y.subarray(0, n);
  let energy = g.energy(y);
  const sweeps: number[] = [];
  for (let s = 0; s < maxSweeps; s++) {
    let improved = false;
    for (let alpha = 0; alpha < L; alpha++) {
      // One expansion move per α; one swap move per pair α < β.
      const b0 = move === "expansion" ? alpha : alpha + 1;
      const b1 = move === "expansion" ? alpha + 1 : L;
      for (let beta = b0; beta < b1; beta++) {
        const moved =
          move === "expansion"
            ? expansionMove(g, allowed, alpha)
            : swapMove(g, allowed, alpha, beta);
        if (!moved) continue;
        const e = g.energy(ws.cand.subarray(0, n));
        if (e < energy) {
          energy = e;
          y.set(ws.cand.subarray(0, n));
          improved = true;
        }
      }
    }
    sweeps.push(energy);
    if (!improved) break;
  }
  const labels = y.slice();
  if (p.kind === "chain") energy = chainEnergy(p, labels);
  return { labels, energy, exact: binary, sweeps };
}

/** α-expansion (see the module notes); `sweeps` holds the energy after each sweep. */
export function alphaExpansion(
  p: Potentials,
  constraints?: Constraints,
  options?: MoveOptions,
): MoveResult {
  return minimizeMoves("expansion", p, constraints, options);
}

/** α-β swap (see the module notes); `sweeps` holds the energy after each sweep. */
export function alphaBetaSwap(
  p: Potentials,
  constraints?: Constraints,
  options?: MoveOptions,
): MoveResult {
  return minimizeMoves("swap", p, constraints, options);
}

function moveBackend(move: Move, exactness: string, options: MoveOptions): Backend {
  const opts: MoveOptions = { maxSweeps: checkOptions(move, options) };
  return Object.freeze({
    name: move,
    exactness,
    supports(p: Potentials): string | null {
      return moveRefusal(p, move);
    },
    minimize(p: Potentials, constraints?: Constraints): MoveResult {
      return minimizeMoves(move, p, constraints, opts);
    },
  });
}

/** The "expansion" backend with its own sweep limit. */
export function expansion(options: MoveOptions = {}): Backend {
  return moveBackend(
    "expansion",
    "approximate (a local minimum for expansion moves: within 2c of the optimum for metric energies, 2× for Potts; exact with 2 labels)",
    options,
  );
}

/** The "swap" backend with its own sweep limit. */
export function swap(options: MoveOptions = {}): Backend {
  return moveBackend(
    "swap",
    "approximate (a local minimum for α-β swap moves on semi-metric energies; exact with 2 labels)",
    options,
  );
}

/** α-expansion with the default sweep limit (100). */
export const expansionBackend: Backend = expansion();
/** α-β swap with the default sweep limit (100). */
export const swapBackend: Backend = swap();
