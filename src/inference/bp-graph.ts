import { NadirError } from "../core/errors.ts";
import type { OptionDecl } from "../core/options.ts";
import type { ChainPotentials } from "../graph/chain.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import { topology, treeSchedule } from "../graph/topology.ts";
import type { Constraints, Potentials } from "./types.ts";

/**
 * The message-passing view of potentials shared by min-sum BP, TRW-S and
 * sum-product BP (one semiring per kernel; the structure is semiring-free).
 *
 * Factors of arity 0 are summed into `constant` and factors of arity 1 into
 * the per-variable `unary` (nVars × stride); only the factors of arity ≥ 2
 * exchange messages. Edges are the (factor, slot) pairs of those factors,
 * numbered consecutively: factor f owns edges `ptr[f] .. ptr[f+1])`, edge e
 * touches variable `edgeVar[e]`, and a message on edge e lives at
 * `e · stride .. e · stride + domain − 1` of a flat Float64Array. Removing
 * leaves and constants keeps cycles and trees as they were, so `loopy` is the
 * topology of the factor graph as given (see graph/topology.ts).
 *
 * For a factor graph the structure is built once and cached (graphs are
 * frozen); chain potentials may be reused workspaces, so theirs is built per
 * call, with the chain-only constraints folded in as +Infinity energies.
 */
export interface MessageGraph {
  readonly nVars: number;
  /** Row stride of per-variable arrays: maxDomain (L for chains). */
  readonly stride: number;
  readonly domains: Int32Array;
  /** Σ of the arity-1 tables per variable, nVars × stride (0 past a domain). */
  readonly unary: Float64Array;
  /** Σ of the arity-0 tables. */
  readonly constant: number;
  /** Number of factors of arity ≥ 2. */
  readonly nF: number;
  /** Id of each such factor in the source graph (−1 for chain transitions). */
  readonly factorId: Int32Array;
  /** Edge ranges, nF + 1. */
  readonly ptr: Int32Array;
  readonly edgeVar: Int32Array;
  /** Table stride of each edge's variable. */
  readonly edgeStride: Int32Array;
  readonly edgeFactor: Int32Array;
  readonly tableOff: Int32Array;
  readonly tableSize: Int32Array;
  readonly tables: Float64Array;
  /** 1 when a pairwise table is Potts: `pottsSame` on the diagonal, `pottsDiff` elsewhere. */
  readonly potts: Uint8Array;
  readonly pottsSame: Float64Array;
  readonly pottsDiff: Float64Array;
  /** Edges of variable v: `varEdge[varPtr[v] .. varPtr[v+1])`, ascending. */
  readonly varPtr: Int32Array;
  readonly varEdge: Int32Array;
  readonly loopy: boolean;
  readonly maxArity: number;
  /**
   * Two-pass schedule when not loopy (null otherwise): nodes are variables
   * (v < nVars) and factors (nVars + f), parents before children.
   */
  readonly order: Int32Array | null;
  readonly parent: Int32Array | null;
}

const cache = new WeakMap<FactorGraph, MessageGraph>();

interface Parts {
  nVars: number;
  stride: number;
  domains: Int32Array;
  unary: Float64Array;
  constant: number;
  scopes: Int32Array[];
  strides: Int32Array[];
  tableOff: number[];
  tableSize: number[];
  factorId: number[];
  tables: Float64Array;
  loopy: boolean;
}

function assemble(d: Parts, order: Int32Array | null, parent: Int32Array | null): MessageGraph {
  const nF = d.scopes.length;
  const ptr = new Int32Array(nF + 1);
  let maxArity = 0;
  for (let f = 0; f < nF; f++) {
    const k = d.scopes[f]!.length;
    if (k > maxArity) maxArity = k;
    ptr[f + 1] = ptr[f]! + k;
  }
  const nE = ptr[nF]!;
  const edgeVar = new Int32Array(nE);
  const edgeStride = new Int32Array(nE);
  const edgeFactor = new Int32Array(nE);
  const deg = new Int32Array(d.nVars + 1);
  for (let f = 0; f < nF; f++) {
    const s = d.scopes[f]!;
    for (let j = 0; j < s.length; j++) {
      const e = ptr[f]! + j;
      edgeVar[e] = s[j]!;
      edgeStride[e] = d.strides[f]![j]!;
      edgeFactor[e] = f;
      deg[s[j]! + 1]!++;
    }
  }
  for (let v = 0; v < d.nVars; v++) deg[v + 1]! += deg[v]!;
  const varEdge = new Int32Array(nE);
  const fill = deg.slice(0, d.nVars);
  for (let e = 0; e < nE; e++) varEdge[fill[edgeVar[e]!]!++] = e;

  const potts = new Uint8Array(nF);
  const pottsSame = new Float64Array(nF);
  const pottsDiff = new Float64Array(nF);
  const tables = d.tables;
  for (let f = 0; f < nF; f++) {
    if (d.scopes[f]!.length !== 2) continue;
    const L = d.domains[d.scopes[f]![0]!]!;
    if (L < 2 || d.domains[d.scopes[f]![1]!]! !== L) continue;
    const off = d.tableOff[f]!;
    const same = tables[off]!;
    const diff = tables[off + 1]!;
    let ok = true;
    for (let a = 0; a < L && ok; a++) {
      for (let b = 0; b < L; b++) {
        if (tables[off + a * L + b] !== (a === b ? same : diff)) {
          ok = false;
          break;
        }
      }
    }
    if (ok) {
      potts[f] = 1;
      pottsSame[f] = same;
      pottsDiff[f] = diff;
    }
  }
  return {
    nVars: d.nVars,
    stride: d.stride,
    domains: d.domains,
    unary: d.unary,
    constant: d.constant,
    nF,
    factorId: Int32Array.from(d.factorId),
    ptr,
    edgeVar,
    edgeStride,
    edgeFactor,
    tableOff: Int32Array.from(d.tableOff),
    tableSize: Int32Array.from(d.tableSize),
    tables,
    potts,
    pottsSame,
    pottsDiff,
    varPtr: deg,
    varEdge,
    loopy: d.loopy,
    maxArity,
    order,
    parent,
  };
}

/** The (cached) message graph of a factor graph. */
export function graphMessages(g: FactorGraph): MessageGraph {
  const hit = cache.get(g);
  if (hit !== undefined) return hit;
  const stride = g.maxDomain;
  const unary = new Float64Array(g.nVars * stride);
  let constant = 0;
  const scopes: Int32Array[] = [];
  const strides: Int32Array[] = [];
  const tableOff: number[] = [];
  const tableSize: number[] = [];
  const factorId: number[] = [];
  const reduced = new Int32Array(g.nFactors).fill(-1);
  for (let f = 0; f < g.nFactors; f++) {
    const a = g.factorScopePtr[f]!;
    const b = g.factorScopePtr[f + 1]!;
    const off = g.factorTableOffset[f]!;
    if (b - a === 0) {
      constant += g.tables[off]!;
    } else if (b - a === 1) {
      const v = g.factorScopeVars[a]!;
      const row = v * stride;
      for (let l = 0; l < g.domains[v]!; l++) unary[row + l]! += g.tables[off + l]!;
    } else {
      reduced[f] = scopes.length;
      scopes.push(g.factorScopeVars.subarray(a, b));
      strides.push(g.factorScopeStrides.subarray(a, b));
      tableOff.push(off);
      tableSize.push(g.factorTableOffset[f + 1]! - off);
      factorId.push(f);
    }
  }
  const loopy = topology(g) === "loopy";
  let order: Int32Array | null = null;
  let parent: Int32Array | null = null;
  if (!loopy) {
    // The graph's schedule with the leaves (unary and constant factors) dropped.
    const s = treeSchedule(g);
    const n = g.nVars;
    const map = (node: number): number =>
      node < n ? node : reduced[node - n]! < 0 ? -1 : n + reduced[node - n]!;
    const o: number[] = [];
    parent = new Int32Array(n + scopes.length).fill(-1);
    for (let i = 0; i < s.order.length; i++) {
      const node = map(s.order[i]!);
      if (node < 0) continue;
      o.push(node);
      const p = s.parent[s.order[i]!]!;
      parent[node] = p < 0 ? -1 : map(p);
    }
    order = Int32Array.from(o);
  }
  const mg = assemble(
    {
      nVars: g.nVars,
      stride,
      domains: g.domains,
      unary,
      constant,
      scopes,
      strides,
      tableOff,
      tableSize,
      factorId,
      tables: g.tables,
      loopy,
    },
    order,
    parent,
  );
  cache.set(g, mg);
  return mg;
}

/**
 * The message graph of chain potentials (built per call): start, unaries and
 * end folded into `unary`, every transition sharing one (copied) table.
 * The chain-only constraints of `c` become +Infinity energies:
 * forbiddenStart in the first unary, forbiddenTransitions in the table.
 */
export function chainMessages(p: ChainPotentials, c: Constraints | undefined): MessageGraph {
  const { T, L } = p;
  const unary = new Float64Array(T * L);
  for (let t = 0; t < T; t++) {
    const row = t * L;
    for (let l = 0; l < L; l++) unary[row + l] = p.unary[row + l]!;
  }
  if (T > 0) {
    const last = (T - 1) * L;
    for (let l = 0; l < L; l++) {
      unary[l]! += p.start[l]!;
      unary[last + l]! += p.end[l]!;
    }
  }
  const tables = p.transition.slice(0, L * L);
  const ft = c?.forbiddenTransitions;
  if (ft !== undefined) for (let i = 0; i < L * L; i++) if (ft[i] !== 0) tables[i] = Infinity;
  const fs = c?.forbiddenStart;
  if (fs !== undefined && T > 0) for (let l = 0; l < L; l++) if (fs[l] !== 0) unary[l] = Infinity;
  const nF = Math.max(0, T - 1);
  const scopes: Int32Array[] = [];
  const strides: Int32Array[] = [];
  const zeros: number[] = new Array<number>(nF).fill(0);
  const sizes: number[] = new Array<number>(nF).fill(L * L);
  const ids: number[] = new Array<number>(nF).fill(-1);
  const st = Int32Array.of(L, 1);
  for (let t = 1; t < T; t++) {
    scopes.push(Int32Array.of(t - 1, t));
    strides.push(st);
  }
  // Two-pass schedule: 0, (0,1), 1, (1,2), 2, …
  const order = new Int32Array(T + nF);
  const parent = new Int32Array(T + nF).fill(-1);
  let k = 0;
  for (let t = 0; t < T; t++) {
    if (t > 0) {
      const fn = T + t - 1;
      order[k++] = fn;
      parent[fn] = t - 1;
      parent[t] = fn;
    }
    order[k++] = t;
  }
  return assemble(
    {
      nVars: T,
      stride: L,
      domains: new Int32Array(T).fill(L),
      unary,
      constant: 0,
      scopes,
      strides,
      tableOff: zeros,
      tableSize: sizes,
      factorId: ids,
      tables,
      loopy: false,
    },
    order,
    parent,
  );
}

export function messagesOf(p: Potentials, c: Constraints | undefined): MessageGraph {
  return p.kind === "chain" ? chainMessages(p, c) : graphMessages(p);
}

/**
 * Copy `mg.unary` into `out` with +Infinity at the labels `allowed` forbids
 * (row stride `mg.stride`; positions past a domain are left at +Infinity).
 * Returns false when some variable has no allowed label.
 */
export function clampUnary(
  mg: MessageGraph,
  allowed: Uint8Array | undefined,
  out: Float64Array,
): boolean {
  const { nVars, stride, domains, unary } = mg;
  for (let v = 0; v < nVars; v++) {
    const row = v * stride;
    const d = domains[v]!;
    let any = false;
    for (let l = 0; l < d; l++) {
      const ok = allowed === undefined || allowed[row + l] !== 0;
      const u = unary[row + l]!;
      out[row + l] = ok ? u : Infinity;
      if (ok && u < Infinity) any = true;
    }
    for (let l = d; l < stride; l++) out[row + l] = Infinity;
    if (!any) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Options shared by the message-passing backends.

export type Schedule = "flooding" | "sequential";

export interface MessageOptions {
  /** "sequential" (default): factors in id order, direction alternating per sweep; "flooding": all at once. */
  schedule?: Schedule;
  /** Weight of the old message in [0, 1) (default 0). */
  damping?: number;
  /** Stop when the largest change of a factor→variable message is ≤ tolerance (default 1e-6). */
  tolerance?: number;
  /** Iteration cap on loopy graphs (default 100). */
  maxIterations?: number;
}

/** The options, declared once (name, default, help) for the library and a CLI. */
export const BP_OPTIONS = [
  {
    name: "schedule",
    type: "string",
    default: "sequential",
    choices: ["sequential", "flooding"],
    help: "message schedule on loopy graphs: sequential (factor order, alternating sweeps) or flooding (parallel)",
  },
  {
    name: "damping",
    type: "number",
    default: 0,
    min: 0,
    help: "weight of the previous factor→variable message, in [0, 1)",
  },
  {
    name: "tolerance",
    type: "number",
    default: 1e-6,
    min: 0,
    help: "converged when no message changes by more than this",
  },
  {
    name: "max-iterations",
    type: "int",
    default: 100,
    min: 1,
    help: "iteration cap (sweeps) on loopy graphs",
  },
] as const satisfies readonly OptionDecl[];

export interface ResolvedMessageOptions {
  schedule: Schedule;
  damping: number;
  tolerance: number;
  maxIterations: number;
}

/** Validate options at the boundary (NadirError "E_ARG" saying expected vs. got). */
export function resolveMessageOptions(
  who: string,
  o: MessageOptions | undefined,
): ResolvedMessageOptions {
  const schedule = o?.schedule ?? "sequential";
  if (schedule !== "sequential" && schedule !== "flooding") {
    throw new NadirError(
      "E_ARG",
      `${who}: schedule expected "sequential" or "flooding", got '${String(schedule)}'`,
    );
  }
  const damping = o?.damping ?? 0;
  if (typeof damping !== "number" || !(damping >= 0 && damping < 1)) {
    throw new NadirError("E_ARG", `${who}: damping expected a number in [0, 1), got ${damping}`);
  }
  const tolerance = o?.tolerance ?? 1e-6;
  if (typeof tolerance !== "number" || !(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new NadirError(
      "E_ARG",
      `${who}: tolerance expected a finite number ≥ 0, got ${tolerance}`,
    );
  }
  const maxIterations = o?.maxIterations ?? 100;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new NadirError(
      "E_ARG",
      `${who}: maxIterations expected an integer ≥ 1, got ${maxIterations}`,
    );
  }
  return { schedule, damping, tolerance, maxIterations };
}

/**
 * Advance the odometer `x` over the scope of the factor whose edges start at
 * e0 (row-major, last slot fastest; wraps to all zeros after the last entry).
 */
export function nextEntry(
  x: Int32Array,
  arity: number,
  e0: number,
  edgeVar: Int32Array,
  domains: Int32Array,
): void {
  let j = arity - 1;
  while (j >= 0) {
    const xj = x[j]! + 1;
    if (xj < domains[edgeVar[e0 + j]!]!) {
      x[j] = xj;
      return;
    }
    x[j] = 0;
    j--;
  }
}

/** Workspaces of one message-passing backend (message-passing.ts) and its factor kernels; they grow to the largest graph seen. */
export interface MessageWork {
  f2v: Float64Array;
  v2f: Float64Array;
  bel: Float64Array;
  /** Per-variable unary in the semiring's units, nVars × stride. */
  unary: Float64Array;
  /** The factor tables the kernels read (the graph's, or −β times them). */
  tables: Float64Array;
  /** New factor→variable messages of one factor, slot j at j·stride. */
  tmp: Float64Array;
  /** Per (factor, label): the minimizing table index of the tree pass (min-sum). */
  arg: Int32Array;
  /** Per-label maxima of the log-sum-exp kernels (sum-product). */
  mx: Float64Array;
  /** Odometer over a factor's scope. */
  odo: Int32Array;
}
