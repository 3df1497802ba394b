import { NadirError } from "../core/errors.ts";
import type { ChainPotentials } from "./chain.ts";
import type { FactorGraph } from "./factor-graph.ts";

/**
 * The shape of a factor graph, as the exact backends need it.
 *
 * We look at the factor graph as the bipartite graph it is (variable nodes,
 * factor nodes, an edge from each factor to each variable of its scope) and
 * take it literally, with no merging of factors:
 *
 * - "loopy": the bipartite graph has a cycle. A factor of arity ≥ 3 counts as
 *   one node, so a lone factor over (a, b, c) is not a cycle, but adding a
 *   pairwise factor over (a, b) makes one (a–f₃–b–f₂–a). Two factors over the
 *   same pair of variables also form a cycle: merge them first if you want a
 *   tree. Taken literally, "not loopy" means two-pass message passing on the
 *   factor graph as given is exact.
 * - "tree": no cycle (a forest counts; so do isolated variables).
 * - "chain": a tree in which every factor has arity ≤ 2 and every variable
 *   is in at most two pairwise factors: the variable graph is a disjoint
 *   union of simple paths. The paths need not follow variable ids (use
 *   {@link chainPaths} for their order). A graph without variables, or whose
 *   factors are all unary, is a chain.
 *
 * Factors of arity 1 (leaves) and arity 0 (constants) never make a cycle.
 * Chain potentials are always "chain".
 */
export type Topology = "chain" | "tree" | "loopy";

export function topology(p: ChainPotentials | FactorGraph): Topology {
  if (p.kind === "chain") return "chain";
  const g = p;
  const uf = new UnionFind(g.nVars + g.nFactors);
  let chain = true;
  const ptr = g.factorScopePtr;
  const vars = g.factorScopeVars;
  for (let f = 0; f < g.nFactors; f++) {
    const a = ptr[f]!;
    const b = ptr[f + 1]!;
    if (b - a > 2) chain = false;
    const node = g.nVars + f;
    for (let j = a; j < b; j++) {
      if (!uf.union(vars[j]!, node)) return "loopy";
    }
  }
  if (!chain) return "tree";
  const pvp = g.varFactorPtr;
  for (let v = 0; v < g.nVars; v++) {
    let pairwise = 0;
    for (let k = pvp[v]!; k < pvp[v + 1]!; k++) {
      const f = g.varFactorIds[k]!;
      if (ptr[f + 1]! - ptr[f]! === 2) pairwise++;
    }
    if (pairwise > 2) return "tree";
  }
  return "chain";
}

/**
 * The variable graph: u and v are neighbors when some factor has both in its
 * scope. CSR with sorted, distinct neighbors: v's are `idx[ptr[v] .. ptr[v+1])`.
 */
export function variableNeighbors(g: FactorGraph): { ptr: Int32Array; idx: Int32Array } {
  const n = g.nVars;
  const lists: number[][] = [];
  for (let v = 0; v < n; v++) lists.push([]);
  for (let f = 0; f < g.nFactors; f++) {
    const a = g.factorScopePtr[f]!;
    const b = g.factorScopePtr[f + 1]!;
    for (let i = a; i < b; i++) {
      const u = g.factorScopeVars[i]!;
      for (let j = a; j < b; j++) if (j !== i) lists[u]!.push(g.factorScopeVars[j]!);
    }
  }
  const ptr = new Int32Array(n + 1);
  const out: number[] = [];
  for (let v = 0; v < n; v++) {
    const l = lists[v]!.sort((x, y) => x - y);
    for (let k = 0; k < l.length; k++) if (k === 0 || l[k] !== l[k - 1]) out.push(l[k]!);
    ptr[v + 1] = out.length;
  }
  return { ptr, idx: Int32Array.from(out) };
}

/**
 * Connected components of the variables (two variables are connected when a
 * chain of factors links them). `id[v]` is in [0, count), numbered in order of
 * each component's smallest variable.
 */
export function components(g: FactorGraph): { count: number; id: Int32Array } {
  const uf = new UnionFind(g.nVars);
  for (let f = 0; f < g.nFactors; f++) {
    const a = g.factorScopePtr[f]!;
    const b = g.factorScopePtr[f + 1]!;
    for (let j = a + 1; j < b; j++) uf.union(g.factorScopeVars[a]!, g.factorScopeVars[j]!);
  }
  const id = new Int32Array(g.nVars).fill(-1);
  const rootId = new Int32Array(g.nVars).fill(-1);
  let count = 0;
  for (let v = 0; v < g.nVars; v++) {
    const r = uf.find(v);
    if (rootId[r] === -1) rootId[r] = count++;
    id[v] = rootId[r]!;
  }
  return { count, id };
}

/**
 * A schedule for exact two-pass message passing on a tree or forest (throws
 * NadirError("E_UNSUPPORTED") on a loopy graph). Nodes of the bipartite graph
 * are numbered: variable v is node v, factor f is node nVars + f.
 *
 * `order` lists every node once in breadth-first order from the roots (each
 * component is rooted at its smallest variable; a factor without variables is
 * its own root); `parent[node]` is the parent node or −1 for a root. Children
 * come after their parents, so iterate `order` backwards for leaves → root
 * (collect) and forwards for root → leaves (distribute).
 */
export function treeSchedule(g: FactorGraph): { order: Int32Array; parent: Int32Array } {
  if (topology(g) === "loopy") {
    throw new NadirError(
      "E_UNSUPPORTED",
      "treeSchedule: expected a tree or forest, got a factor graph with a cycle",
    );
  }
  const n = g.nVars + g.nFactors;
  const order = new Int32Array(n);
  const parent = new Int32Array(n).fill(-1);
  const visited = new Uint8Array(n);
  let head = 0;
  let tail = 0;
  const visit = (root: number) => {
    visited[root] = 1;
    order[tail++] = root;
    while (head < tail) {
      const node = order[head++]!;
      if (node < g.nVars) {
        for (let k = g.varFactorPtr[node]!; k < g.varFactorPtr[node + 1]!; k++) {
          const fn = g.nVars + g.varFactorIds[k]!;
          if (visited[fn] === 0) {
            visited[fn] = 1;
            parent[fn] = node;
            order[tail++] = fn;
          }
        }
      } else {
        const f = node - g.nVars;
        for (let j = g.factorScopePtr[f]!; j < g.factorScopePtr[f + 1]!; j++) {
          const v = g.factorScopeVars[j]!;
          if (visited[v] === 0) {
            visited[v] = 1;
            parent[v] = node;
            order[tail++] = v;
          }
        }
      }
    }
  };
  for (let v = 0; v < g.nVars; v++) if (visited[v] === 0) visit(v);
  for (let f = 0; f < g.nFactors; f++) if (visited[g.nVars + f] === 0) visit(g.nVars + f);
  return { order, parent };
}

/**
 * For a graph whose topology is "chain": its paths, each a list of variables
 * in path order starting from its smaller end; paths are sorted by their
 * first variable and isolated variables are paths of length 1. Throws
 * NadirError("E_UNSUPPORTED") for any other topology.
 */
export function chainPaths(g: FactorGraph): Int32Array[] {
  if (topology(g) !== "chain") {
    throw new NadirError("E_UNSUPPORTED", `chainPaths: expected a chain, got a ${topology(g)}`);
  }
  const { ptr, idx } = variableNeighbors(g);
  const done = new Uint8Array(g.nVars);
  const paths: Int32Array[] = [];
  const walk = (from: number): Int32Array => {
    const path: number[] = [];
    let prev = -1;
    let v = from;
    while (v >= 0) {
      done[v] = 1;
      path.push(v);
      let next = -1;
      for (let k = ptr[v]!; k < ptr[v + 1]!; k++) if (idx[k] !== prev) next = idx[k]!;
      prev = v;
      v = next;
    }
    return Int32Array.from(path);
  };
  // Ends have at most one neighbor; scanning ids upwards meets each path at its smaller end.
  for (let v = 0; v < g.nVars; v++) {
    if (done[v] === 0 && ptr[v + 1]! - ptr[v]! <= 1) paths.push(walk(v));
  }
  return paths;
}

/** Union–find with path halving and union by size. */
class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;

  constructor(n: number) {
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }

  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }

  /** Join the sets of a and b; false when they were already one set. */
  union(a: number, b: number): boolean {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return false;
    if (this.size[ra]! < this.size[rb]!) {
      const t = ra;
      ra = rb;
      rb = t;
    }
    this.parent[rb] = ra;
    this.size[ra]! += this.size[rb]!;
    return true;
  }
}
