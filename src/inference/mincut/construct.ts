import { NadirError } from "../../core/errors.ts";
import { chainEnergy } from "../../graph/chain.ts";
import type { FactorGraph } from "../../graph/factor-graph.ts";
import { allowedOnlyGraph, checkConstraints, infeasible } from "../constraints.ts";
import type { Backend, Constraints, InferenceResult, Potentials } from "../types.ts";
import { grow } from "../workspace.ts";
import { MaxflowGraph } from "./maxflow.ts";

/**
 * Exact minimization of binary submodular energies by one minimum s-t cut
 * (Kolmogorov–Zabih, "What energy functions can be minimized via graph
 * cuts?", PAMI 2004).
 *
 * Variable v is node v; label 0 = SOURCE side, label 1 = SINK side. A node on
 * the sink side cuts s→v, so s→v carries E_v(1) and v→t carries E_v(0). A
 * pairwise table A = E(0,0), B = E(0,1), C = E(1,0), D = E(1,1) over (i, j) is
 *
 *   E(xi, xj) = A + (C − A)·xi + (D − C)·xj + (B + C − A − D)·(1 − xi)·xj
 *
 * so it adds C − A to i's unary, D − C to j's, and an edge i→j of capacity
 * B + C − A − D — which must be ≥ 0: the term is submodular. The minimum cut
 * plus the constants is the minimum energy; the backend reports
 * `FactorGraph.energy` of the labeling it reads off the cut.
 *
 * Accepted potentials: factor graphs whose variables have domain 1 or 2
 * (domain 1: always label 0) and whose factors have arity ≤ 2 with submodular
 * pairwise tables; chain potentials with L ≤ 2 and a submodular transition
 * (through `chainToFactorGraph`). Anything else is refused with a reason that
 * names the variable or factor (and, for a non-submodular table, by how much
 * it violates E(0,1) + E(1,0) ≥ E(0,0) + E(1,1)).
 *
 * Clamping (`constraints.allowed`): a variable with one allowed label gets a
 * terminal capacity K on the other side, K a power of two above Σ_f (max f −
 * min f) — larger than any energy difference, so no minimum cut pays it, and
 * exact in binary arithmetic so that it can be taken back. With `dynamic`
 * (the default) the backend keeps the flow and search trees of its last
 * factor graph, and a call on the same graph with other clamps only changes
 * the terminal capacities of the variables whose clamp changed and re-runs
 * maxflow reusing the trees (Kohli–Torr dynamic cuts): the n clamped calls of
 * `mostOffendingClamped` cost little more than one solve. Taking K back is
 * exact for integer or dyadic energies; with arbitrary doubles each clamp
 * change may leave a rounding error of order ulp(K) ≈ 2^−52·range in a
 * terminal capacity (pass `dynamic: false` for fresh solves every call).
 */

/** Why the 2×2 table t (row-major) of `what` is not submodular, or null. */
function submodularRefusal(who: string, what: string, t: ArrayLike<number>): string | null {
  const a = t[0]!;
  const b = t[1]!;
  const c = t[2]!;
  const d = t[3]!;
  if (!(b + c - (a + d) < 0)) return null;
  return (
    `${who}: ${what} is not submodular: ` +
    `E(0,1) + E(1,0) = ${b + c} < E(0,0) + E(1,1) = ${a + d} (violated by ${a + d - (b + c)})`
  );
}

/** A unary or pairwise term check of a binary graph; null when it can be cut. */
export function binaryRefusal(p: Potentials, who = "mincut"): string | null {
  if (p.kind === "chain") {
    if (p.L > 2) {
      return `${who}: needs binary variables (domain ≤ 2); got chain potentials with L = ${p.L}`;
    }
    return p.L === 2 && p.T > 1
      ? submodularRefusal(who, "the chain transition", p.transition)
      : null;
  }
  const g = p;
  for (let v = 0; v < g.nVars; v++) {
    if (g.domains[v]! > 2) {
      return `${who}: needs binary variables (domain ≤ 2); variable ${v} has domain ${g.domains[v]}`;
    }
  }
  const ptr = g.factorScopePtr;
  const vars = g.factorScopeVars;
  for (let f = 0; f < g.nFactors; f++) {
    const arity = ptr[f + 1]! - ptr[f]!;
    if (arity > 2) {
      const scope = Array.from(vars.subarray(ptr[f]!, ptr[f + 1]!)).join(", ");
      return `${who}: factor ${f} over variables (${scope}) has arity ${arity}; graph cuts take factors of arity ≤ 2`;
    }
    if (arity === 2) {
      const i = vars[ptr[f]!]!;
      const j = vars[ptr[f]! + 1]!;
      if (g.domains[i] !== 2 || g.domains[j] !== 2) continue;
      const why = submodularRefusal(
        who,
        `factor ${f} over variables (${i}, ${j})`,
        g.factors[f]!.table,
      );
      if (why !== null) return why;
    }
  }
  return null;
}

/** Σ_f (max − min) of the factor tables: a bound on every energy difference. */
function energyRange(g: FactorGraph): number {
  const off = g.factorTableOffset;
  const tables = g.tables;
  let s = 0;
  for (let f = 0; f < g.nFactors; f++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let k = off[f]!; k < off[f + 1]!; k++) {
      const x = tables[k]!;
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    if (hi > lo) s += hi - lo;
  }
  return s;
}

/** Clamp states of a variable: free, or the one label allowed. */
const FREE = -1;

export interface BinaryCutOptions {
  /**
   * Keep the flow and trees of the last factor graph and re-solve a call on
   * the same graph with other clamps by dynamic cuts (default true).
   */
  dynamic?: boolean;
}

/**
 * Add a binary energy of factor graph g to the s-t graph `mf` (whose first
 * nNodes nodes exist): each variable v with node[v] ≥ 0 keeps label base[v]
 * (x = 0, source side) or takes `label1` (x = 1, sink side); every other
 * variable is fixed at base[v]. Unary and pairwise terms become terminal
 * weights and edges (Kolmogorov–Zabih; a pairwise term must be submodular:
 * only a positive edge weight is added). `du` is a workspace of ≥ nNodes.
 */
export function addBinaryEnergy(
  g: FactorGraph,
  mf: MaxflowGraph,
  du: Float64Array,
  nNodes: number,
  node: Int32Array,
  base: Int32Array,
  label1: number,
): void {
  du.fill(0, 0, nNodes);
  const {
    factorScopePtr: ptr,
    factorScopeVars: vars,
    factorScopeStrides: strides,
    factorTableOffset: off,
    tables,
  } = g;
  for (let f = 0; f < g.nFactors; f++) {
    const p0 = ptr[f]!;
    const arity = ptr[f + 1]! - p0;
    const o = off[f]!;
    if (arity === 1) {
      const v = vars[p0]!;
      const k = node[v]!;
      if (k >= 0) du[k] = du[k]! + (tables[o + label1]! - tables[o + base[v]!]!);
    } else if (arity === 2) {
      const i = vars[p0]!;
      const j = vars[p0 + 1]!;
      const ki = node[i]!;
      const kj = node[j]!;
      if (ki < 0 && kj < 0) continue;
      const si = strides[p0]!;
      const sj = strides[p0 + 1]!;
      const yi = base[i]! * si;
      const yj = base[j]! * sj;
      if (ki >= 0 && kj >= 0) {
        const a = tables[o + yi + yj]!;
        const b = tables[o + yi + label1 * sj]!;
        const c = tables[o + label1 * si + yj]!;
        const d = tables[o + label1 * si + label1 * sj]!;
        du[ki] = du[ki]! + (c - a);
        du[kj] = du[kj]! + (d - c);
        const w = b + c - (a + d);
        if (w > 0) mf.addEdge(ki, kj, w, 0);
      } else if (ki >= 0) {
        du[ki] = du[ki]! + (tables[o + label1 * si + yj]! - tables[o + yi + yj]!);
      } else {
        du[kj] = du[kj]! + (tables[o + yi + label1 * sj]! - tables[o + yi + yj]!);
      }
    }
  }
  for (let k = 0; k < nNodes; k++) {
    const x = du[k]!;
    if (x > 0) mf.addTweights(k, x, 0);
    else if (x < 0) mf.addTweights(k, 0, -x);
  }
}

/**
 * The state of one binary backend: a maxflow workspace and, with `dynamic`,
 * the factor graph it currently holds (by identity: graphs are immutable).
 */
class BinaryCut {
  readonly dynamic: boolean;
  private readonly mf = new MaxflowGraph();
  /** The graph the workspace holds (null: none, or not reusable). */
  private held: WeakRef<FactorGraph> | null = null;
  private K = 0;
  /** Per variable: FREE, 0 or 1 (the clamp currently applied). */
  private clamp = new Int8Array(0);
  /** Per variable: the clamp the constraints ask for. */
  private want = new Int8Array(0);
  private du = new Float64Array(0);
  private seg = new Uint8Array(0);
  /** Node of each variable (−1: domain 1, fixed) and its label at x = 0 (always 0). */
  private node = new Int32Array(0);
  private base = new Int32Array(0);

  constructor(dynamic: boolean) {
    this.dynamic = dynamic;
  }

  private ensure(n: number): void {
    this.clamp = grow(this.clamp, n);
    this.want = grow(this.want, n);
    this.du = grow(this.du, n);
    this.seg = grow(this.seg, n);
    this.node = grow(this.node, n);
    this.base = grow(this.base, n);
  }

  /** The clamps asked for by `allowed` into `want`; false when some variable has no allowed label. */
  private wanted(g: FactorGraph, allowed: Uint8Array | undefined): boolean {
    const n = g.nVars;
    const want = this.want;
    if (allowed === undefined) {
      want.fill(FREE, 0, n);
      return true;
    }
    const stride = g.maxDomain;
    const domains = g.domains;
    for (let v = 0; v < n; v++) {
      const row = v * stride;
      const a0 = allowed[row] !== 0;
      if (domains[v] === 1) {
        if (!a0) return false;
        want[v] = FREE;
        continue;
      }
      const a1 = allowed[row + 1] !== 0;
      if (a0 && a1) want[v] = FREE;
      else if (a0) want[v] = 0;
      else if (a1) want[v] = 1;
      else return false;
    }
    return true;
  }

  /** Build the s-t graph of `g` (no clamps) into the workspace. */
  private build(g: FactorGraph): void {
    const n = g.nVars;
    const mf = this.mf;
    const du = this.du;
    const { domains, factorScopePtr: ptr } = g;
    let nEdges = 0;
    for (let f = 0; f < g.nFactors; f++) if (ptr[f + 1]! - ptr[f]! === 2) nEdges++;
    mf.reset();
    mf.reserve(n, nEdges);
    mf.addNode(n);
    const { node, base } = this;
    for (let v = 0; v < n; v++) node[v] = domains[v] === 2 ? v : -1;
    base.fill(0, 0, n);
    addBinaryEnergy(g, mf, du, n, node, base, 1);
    this.clamp.fill(FREE, 0, n);
    const range = energyRange(g);
    let K = 2;
    while (K <= range && K < Number.POSITIVE_INFINITY) K *= 2;
    this.K = K;
  }

  solve(g: FactorGraph, constraints: Constraints | undefined, who: string): InferenceResult {
    const n = g.nVars;
    this.ensure(n);
    if (!this.wanted(g, constraints?.allowed)) throw infeasible(who);
    const reuse = this.dynamic && this.held !== null && this.held.deref() === g;
    if (!reuse) {
      this.held = null;
      this.build(g);
    }
    const { mf, clamp, want, K } = this;
    for (let v = 0; v < n; v++) {
      const s = clamp[v]!;
      const t = want[v]!;
      if (s === t) continue;
      if (K === Number.POSITIVE_INFINITY) {
        throw new NadirError(
          "E_TOO_LARGE",
          `${who}: the energy range of the graph overflows a double; cannot clamp variable ${v}`,
        );
      }
      const cs = (t === 0 ? K : 0) - (s === 0 ? K : 0);
      const ct = (t === 1 ? K : 0) - (s === 1 ? K : 0);
      mf.addTweights(v, cs, ct);
      clamp[v] = t;
    }
    mf.maxflow(reuse);
    if (this.dynamic && Number.isFinite(K)) this.held = new WeakRef(g);
    const labels = new Int32Array(n);
    mf.segmentsInto(this.seg);
    const seg = this.seg;
    for (let v = 0; v < n; v++) labels[v] = seg[v]!;
    return { labels, energy: g.energy(labels), exact: true };
  }
}

/**
 * A graph-cut backend for binary submodular energies (exact). Each backend
 * made here has its own workspace; see the module notes for `dynamic`.
 */
export function binaryGraphCut(options: BinaryCutOptions = {}): Backend {
  const cut = new BinaryCut(options.dynamic ?? true);
  return Object.freeze({
    name: "mincut",
    exactness: "binary submodular",
    supports(p: Potentials): string | null {
      return binaryRefusal(p);
    },
    minimize(p: Potentials, constraints?: Constraints): InferenceResult {
      checkConstraints("mincut", p, constraints);
      const why = binaryRefusal(p);
      if (why !== null) throw new NadirError("E_UNSUPPORTED", why);
      const r = cut.solve(
        allowedOnlyGraph("mincut", p, constraints, "viterbi"),
        constraints,
        "mincut",
      );
      if (p.kind === "chain")
        return { labels: r.labels, energy: chainEnergy(p, r.labels), exact: true };
      return r;
    },
  });
}

/** The graph-cut backend "mincut" (binary submodular energies, exact; dynamic cuts on). */
export const mincutBackend: Backend = binaryGraphCut();
