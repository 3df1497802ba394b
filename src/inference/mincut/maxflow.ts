import { NadirError } from "../../core/errors.ts";
import { resized } from "../workspace.ts";

/**
 * Maximum flow / minimum s-t cut by the Boykov–Kolmogorov augmenting-path
 * algorithm ("An Experimental Comparison of Min-Cut/Max-Flow Algorithms for
 * Energy Minimization in Vision", PAMI 2004), following the structure of the
 * authors' library (maxflow 3.0x): two search trees, S from the source and T
 * to the sink, grown breadth-first from a FIFO of active nodes and kept
 * between augmentations; orphans re-adopted with the timestamp/distance
 * heuristics; and dynamic cuts (Kohli–Torr, "Dynamic Graph Cuts", PAMI 2007):
 * after a run, terminal capacities may change and `maxflow(true)` continues
 * from the previous flow and trees.
 *
 * Representation (flat typed arrays, grown by doubling):
 * - arcs come in pairs: `addEdge` makes arc 2e (i→j) and its sister 2e+1
 *   (j→i), so `sister(a) = a ^ 1`; `head[a]` is the arc's head, the tail is
 *   `head[a ^ 1]`; `rCap[a]` the residual capacity; arcs out of node i form
 *   the list `first[i]`, `nextArc[a]`, … (−1 ends it).
 * - terminal arcs are folded into one number per node, `trCap[i]`: positive =
 *   residual capacity from the source, negative = residual capacity to the
 *   sink. `addTweights(i, cs, ct)` adds `min(cs, ct)` to the flow right away
 *   (the part that goes s→i→t) and keeps `cs − ct`.
 *
 * Capacities are doubles. `addTweights` accepts negative terminal weights
 * (they are energies: the value returned by `maxflow` is then the minimum over
 * cuts of Σ cut terminal weights + Σ cut edge capacities, which may be
 * negative); edge capacities must be ≥ 0. Exact for integer or dyadic
 * capacities whose sums fit in 2^53; otherwise as exact as double sums are.
 *
 * Segments: a node is on the SINK side (1) when it ends in the sink tree,
 * otherwise on the SOURCE side (0) — free nodes go to the source, as in the
 * library. The cut "source side = nodes not in the sink tree" is a minimum
 * cut.
 */

/** Segment of a node after `maxflow`: the source side. */
export const SOURCE = 0;
/** Segment of a node after `maxflow`: the sink side. */
export const SINK = 1;
export type Segment = typeof SOURCE | typeof SINK;

/** `parent[i]`: no parent (a free node). Also "not in the active list" for `next`. */
const NONE = -1;
/** `parent[i]`: attached directly to its terminal. */
const TERMINAL = -2;
/** `parent[i]`: an orphan waiting for adoption. */
const ORPHAN = -3;
/** Distances of nodes without a path to a terminal. */
const INFINITE_D = 0x7fffffff;
/** Timestamps are reset before they could overflow an Int32. */
const TIME_LIMIT = 0x3fffffff;

function checkCapacity(who: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0x3fffffff) {
    throw new NadirError("E_ARG", `MaxflowGraph: ${who} expected an integer ≥ 0, got ${n}`);
  }
  return n;
}

export class MaxflowGraph {
  // Nodes.
  private nNodes = 0;
  private first: Int32Array;
  private parent: Int32Array;
  /** Next node in the active FIFO; the last points to itself; NONE when not active. */
  private next: Int32Array;
  private ts: Int32Array;
  private dist: Int32Array;
  private isSink: Uint8Array;
  private isMarked: Uint8Array;
  private trCap: Float64Array;
  // Arcs.
  private nArcs = 0;
  private head: Int32Array;
  private nextArc: Int32Array;
  private rCap: Float64Array;
  // Orphans: the ones made by an augmentation (a stack, like the library's
  // "front" list), and a FIFO of the ones found while adopting (and of the
  // ones reuseTreesInit leaves for run()).
  private orphanStack: Int32Array;
  private orphanQueue: Int32Array;
  private oqHead = 0;
  private oqTail = 0;
  // State.
  private flow = 0;
  private time = 0;
  private iteration = 0;
  /** Nodes or edges were added since the last run: trees cannot be reused. */
  private structureChanged = true;
  private qFirst = NONE;
  private qLast = NONE;

  /**
   * An empty graph with room for `nodeCapacity` nodes and `edgeCapacity`
   * edges (each edge is two arcs); both grow as needed.
   */
  constructor(nodeCapacity = 16, edgeCapacity = 16) {
    const n = Math.max(1, checkCapacity("nodeCapacity", nodeCapacity));
    const m = 2 * Math.max(1, checkCapacity("edgeCapacity", edgeCapacity));
    this.first = new Int32Array(n);
    this.parent = new Int32Array(n);
    this.next = new Int32Array(n);
    this.ts = new Int32Array(n);
    this.dist = new Int32Array(n);
    this.isSink = new Uint8Array(n);
    this.isMarked = new Uint8Array(n);
    this.trCap = new Float64Array(n);
    this.orphanStack = new Int32Array(n);
    this.orphanQueue = new Int32Array(n + 1);
    this.head = new Int32Array(m);
    this.nextArc = new Int32Array(m);
    this.rCap = new Float64Array(m);
  }

  /** Number of nodes. */
  get nodeCount(): number {
    return this.nNodes;
  }

  /** Number of edges added (each edge is a pair of arcs). */
  get edgeCount(): number {
    return this.nArcs >> 1;
  }

  /** The flow of the last run (or the constant collected by `addTweights` so far). */
  get flowValue(): number {
    return this.flow;
  }

  /** Remove every node and edge, keeping the allocated memory (workspace reuse). */
  reset(): void {
    this.nNodes = 0;
    this.nArcs = 0;
    this.flow = 0;
    this.time = 0;
    this.iteration = 0;
    this.structureChanged = true;
    this.qFirst = NONE;
    this.qLast = NONE;
    this.oqHead = 0;
    this.oqTail = 0;
  }

  /** Make room for `nodes` nodes and `edges` edges in all. */
  reserve(nodes: number, edges: number): void {
    if (nodes > this.first.length) this.growNodes(nodes);
    if (2 * edges > this.head.length) this.growArcs(2 * edges);
  }

  private growNodes(need: number): void {
    const n = Math.max(need, 2 * this.first.length);
    this.first = resized(this.first, n);
    this.parent = resized(this.parent, n);
    this.next = resized(this.next, n);
    this.ts = resized(this.ts, n);
    this.dist = resized(this.dist, n);
    this.isSink = resized(this.isSink, n);
    this.isMarked = resized(this.isMarked, n);
    this.trCap = resized(this.trCap, n);
    this.orphanStack = new Int32Array(n);
    this.orphanQueue = new Int32Array(n + 1);
  }

  private growArcs(need: number): void {
    const m = Math.max(need, 2 * this.head.length);
    this.head = resized(this.head, m);
    this.nextArc = resized(this.nextArc, m);
    this.rCap = resized(this.rCap, m);
  }

  /** Add `count` nodes (no terminal weights, no edges); returns the id of the first. */
  addNode(count = 1): number {
    if (!Number.isInteger(count) || count < 0) {
      throw new NadirError("E_ARG", `addNode: expected a count ≥ 0, got ${count}`);
    }
    const id = this.nNodes;
    const n = id + count;
    if (n > this.first.length) this.growNodes(n);
    this.first.fill(NONE, id, n);
    this.parent.fill(NONE, id, n);
    this.next.fill(NONE, id, n);
    this.ts.fill(0, id, n);
    this.dist.fill(0, id, n);
    this.isSink.fill(0, id, n);
    this.isMarked.fill(0, id, n);
    this.trCap.fill(0, id, n);
    this.nNodes = n;
    this.structureChanged = true;
    return id;
  }

  private checkNode(who: string, i: number): void {
    if (!(i >= 0 && i < this.nNodes && Number.isInteger(i))) {
      throw new NadirError("E_ARG", `${who}: expected a node id in [0, ${this.nNodes}), got ${i}`);
    }
  }

  /**
   * Add the edge i→j with capacity `cap` and j→i with `revCap` (both finite,
   * ≥ 0). An edge from a node to itself is ignored. Returns the edge's index.
   */
  addEdge(i: number, j: number, cap: number, revCap = 0): number {
    this.checkNode("addEdge", i);
    this.checkNode("addEdge", j);
    if (!(cap >= 0 && cap < Number.POSITIVE_INFINITY)) {
      throw new NadirError(
        "E_ARG",
        `addEdge(${i}, ${j}): cap expected a finite number ≥ 0, got ${cap}`,
      );
    }
    if (!(revCap >= 0 && revCap < Number.POSITIVE_INFINITY)) {
      throw new NadirError(
        "E_ARG",
        `addEdge(${i}, ${j}): revCap expected a finite number ≥ 0, got ${revCap}`,
      );
    }
    const a = this.nArcs;
    if (i === j) return a >> 1;
    if (a + 2 > this.head.length) this.growArcs(a + 2);
    this.head[a] = j;
    this.rCap[a] = cap;
    this.nextArc[a] = this.first[i]!;
    this.first[i] = a;
    this.head[a + 1] = i;
    this.rCap[a + 1] = revCap;
    this.nextArc[a + 1] = this.first[j]!;
    this.first[j] = a + 1;
    this.nArcs = a + 2;
    this.structureChanged = true;
    return a >> 1;
  }

  /**
   * Add `capSource` to the capacity of s→i and `capSink` to that of i→t (any
   * finite signs: they are energies of "i on the sink side" and "i on the
   * source side"). Allowed after a run: the node is then marked
   * ({@link markNode}) so that `maxflow(true)` re-examines it.
   */
  addTweights(i: number, capSource: number, capSink: number): void {
    this.checkNode("addTweights", i);
    if (!Number.isFinite(capSource) || !Number.isFinite(capSink)) {
      throw new NadirError(
        "E_ARG",
        `addTweights(${i}): expected finite capacities, got ${capSource}, ${capSink}`,
      );
    }
    const delta = this.trCap[i]!;
    if (delta > 0) capSource += delta;
    else capSink -= delta;
    this.flow += Math.min(capSource, capSink);
    this.trCap[i] = capSource - capSink;
    if (this.iteration > 0) this.markNode(i);
  }

  /** The residual terminal capacity of i (positive: from the source; negative: to the sink). */
  getTrCap(i: number): number {
    this.checkNode("getTrCap", i);
    return this.trCap[i]!;
  }

  /** The residual capacity of arc `2·edge` (i→j, `reverse` false) or `2·edge+1` (j→i). */
  getRCap(edge: number, reverse = false): number {
    const a = 2 * edge + (reverse ? 1 : 0);
    if (!(a >= 0 && a < this.nArcs && Number.isInteger(edge))) {
      throw new NadirError(
        "E_ARG",
        `getRCap: expected an edge id in [0, ${this.nArcs >> 1}), got ${edge}`,
      );
    }
    return this.rCap[a]!;
  }

  /** Ask the next `maxflow(true)` to re-examine node i (its terminal weights changed). */
  markNode(i: number): void {
    this.checkNode("markNode", i);
    this.setActive(i);
    this.isMarked[i] = 1;
  }

  /** Segment of node i after a run: SINK (1) in the sink tree, SOURCE (0) otherwise. */
  whatSegment(i: number): Segment {
    this.checkNode("whatSegment", i);
    return this.parent[i] !== NONE && this.isSink[i] === 1 ? SINK : SOURCE;
  }

  /** Write every node's segment into `out[0 … nodeCount−1]` (no checks, no allocation). */
  segmentsInto(out: Int32Array | Uint8Array): void {
    const parent = this.parent;
    const isSink = this.isSink;
    for (let i = 0; i < this.nNodes; i++) out[i] = parent[i] !== NONE && isSink[i] === 1 ? 1 : 0;
  }

  /**
   * Compute the maximum flow (= minimum cut, including the constants gathered
   * by `addTweights`) and return it. With `reuseTrees` after a previous run
   * (and no node or edge added since) the search trees and flow of that run
   * are reused, re-examining only the nodes marked since (dynamic cuts);
   * otherwise the trees are rebuilt from the terminal capacities (the flow
   * already pushed is kept either way: the residual graph is the state).
   */
  maxflow(reuseTrees = false): number {
    if (reuseTrees && this.iteration > 0 && !this.structureChanged) this.reuseTreesInit();
    else this.init();
    this.structureChanged = false;
    this.run();
    this.iteration++;
    return this.flow;
  }

  // -------------------------------------------------------------------------

  private init(): void {
    const { nNodes: n, next, parent, trCap, isSink, ts, dist } = this;
    this.isMarked.fill(0, 0, n);
    this.oqHead = 0;
    this.oqTail = 0;
    this.time = 0;
    let qFirst = NONE;
    let qLast = NONE;
    for (let i = 0; i < n; i++) {
      ts[i] = 0;
      const c = trCap[i]!;
      if (c !== 0) {
        isSink[i] = c > 0 ? 0 : 1;
        parent[i] = TERMINAL;
        dist[i] = 1;
        if (qLast !== NONE) next[qLast] = i;
        else qFirst = i;
        qLast = i;
        next[i] = i;
      } else {
        parent[i] = NONE;
        next[i] = NONE;
      }
    }
    this.qFirst = qFirst;
    this.qLast = qLast;
  }

  private setActive(i: number): void {
    const next = this.next;
    if (next[i] === NONE) {
      if (this.qLast !== NONE) next[this.qLast] = i;
      else this.qFirst = i;
      this.qLast = i;
      next[i] = i;
    }
  }

  private pushOrphanRear(i: number): void {
    this.parent[i] = ORPHAN;
    const q = this.orphanQueue;
    q[this.oqTail] = i;
    this.oqTail = this.oqTail + 1 === q.length ? 0 : this.oqTail + 1;
  }

  /** Kohli–Torr: re-root the marked nodes after their terminal capacities changed. */
  private reuseTreesInit(): void {
    const { next, parent, trCap, isSink, isMarked, ts, dist, first, nextArc, head, rCap } = this;
    let queue = this.qFirst;
    this.qFirst = NONE;
    this.qLast = NONE;
    this.oqHead = 0;
    this.oqTail = 0;
    this.bumpTime();
    const time = this.time;
    while (queue !== NONE) {
      const i = queue;
      queue = next[i]!;
      if (queue === i) queue = NONE;
      next[i] = NONE;
      isMarked[i] = 0;
      this.setActive(i);
      const c = trCap[i]!;
      if (c === 0) {
        if (parent[i] !== NONE) this.pushOrphanRear(i);
        continue;
      }
      // A source-side node (c > 0) joins the source tree, a sink-side one the sink tree.
      const side = c > 0 ? 0 : 1;
      if (parent[i] === NONE || isSink[i] !== side) {
        isSink[i] = side;
        for (let a = first[i]!; a !== NONE; a = nextArc[a]!) {
          const j = head[a]!;
          if (isMarked[j] === 0) {
            if (parent[j] === (a ^ 1)) this.pushOrphanRear(j);
            if (parent[j] !== NONE && isSink[j] !== side && rCap[a ^ side]! > 0) this.setActive(j);
          }
        }
      }
      parent[i] = TERMINAL;
      ts[i] = time;
      dist[i] = 1;
    }
    // The orphans queued here are adopted first thing in run().
  }

  private bumpTime(): void {
    if (++this.time >= TIME_LIMIT) {
      this.ts.fill(0, 0, this.nNodes);
      this.time = 1;
    }
  }

  /**
   * The main loop: grow, augment, adopt, until no active node is left. One
   * function with every array, the active FIFO's ends, the orphan stack and
   * queue, the time and the flow in locals (written back at the end): the
   * hot path makes no calls. The orphans left by `reuseTreesInit` (in the
   * queue) are adopted first.
   */
  private run(): void {
    const {
      first,
      nextArc,
      head,
      rCap,
      parent,
      next,
      ts,
      dist,
      isSink,
      trCap,
      orphanStack: stack,
      orphanQueue: q,
    } = this;
    const size = q.length;
    let top = 0;
    let qh = this.oqHead;
    let qt = this.oqTail;
    let qFirst = this.qFirst;
    let qLast = this.qLast;
    let time = this.time;
    let flow = this.flow;
    let current = NONE;
    let adopting = qh !== qt;
    for (;;) {
      if (!adopting) {
        let i = current;
        if (i !== NONE) {
          next[i] = NONE;
          if (parent[i] === NONE) i = NONE;
        }
        if (i === NONE) {
          // next_active: pop the FIFO until a node with a parent comes out.
          for (;;) {
            i = qFirst;
            if (i === NONE) break;
            const nx = next[i]!;
            if (nx === i) {
              qFirst = NONE;
              qLast = NONE;
            } else {
              qFirst = nx;
            }
            next[i] = NONE;
            if (parent[i] !== NONE) break;
          }
          if (i === NONE) break;
        }

        // Growth.
        let middle = NONE;
        const tsi = ts[i]!;
        const di = dist[i]!;
        // A source-tree node (side 0) grows along arcs i→j with residual
        // capacity, a sink-tree node (side 1) along arcs j→i (the sister).
        const side = isSink[i]!;
        for (let a = first[i]!; a !== NONE; a = nextArc[a]!) {
          if (rCap[a ^ side] !== 0) {
            const j = head[a]!;
            if (parent[j] === NONE) {
              isSink[j] = side;
              parent[j] = a ^ 1;
              ts[j] = tsi;
              dist[j] = di + 1;
              if (next[j] === NONE) {
                if (qLast !== NONE) next[qLast] = j;
                else qFirst = j;
                qLast = j;
                next[j] = j;
              }
            } else if (isSink[j] !== side) {
              middle = a ^ side;
              break;
            } else if (ts[j]! <= tsi && dist[j]! > di) {
              parent[j] = a ^ 1;
              ts[j] = tsi;
              dist[j] = di + 1;
            }
          }
        }
        if (++time >= TIME_LIMIT) {
          ts.fill(0, 0, this.nNodes);
          time = 1;
        }
        if (middle === NONE) {
          current = NONE;
          continue;
        }
        next[i] = i; // active flag: i stays the current node
        current = i;

        // Augmentation along source tree → middle → sink tree. The trees are
        // mirror images: walking from middle to the source (t = 1) the
        // residual toward the root is on the sister of a node's parent arc
        // and the root's is trCap; to the sink (t = 0) it is on the parent
        // arc itself and the root's is −trCap.
        let bottleneck = rCap[middle]!;
        for (let t = 1; t >= 0; t--) {
          const sign = t === 1 ? 1 : -1;
          let k = head[middle ^ t]!;
          for (;;) {
            const a = parent[k]!;
            if (a === TERMINAL) break;
            const c = rCap[a ^ t]!;
            if (bottleneck > c) bottleneck = c;
            k = head[a]!;
          }
          if (bottleneck > sign * trCap[k]!) bottleneck = sign * trCap[k]!;
        }
        // Push it; saturated tree arcs make orphans (stacked, as the library's "front").
        rCap[middle ^ 1] = rCap[middle ^ 1]! + bottleneck;
        rCap[middle] = rCap[middle]! - bottleneck;
        for (let t = 1; t >= 0; t--) {
          let k = head[middle ^ t]!;
          for (;;) {
            const a = parent[k]!;
            if (a === TERMINAL) break;
            rCap[a ^ t ^ 1] = rCap[a ^ t ^ 1]! + bottleneck;
            const c = rCap[a ^ t]! - bottleneck;
            rCap[a ^ t] = c;
            if (c === 0) {
              parent[k] = ORPHAN;
              stack[top++] = k;
            }
            k = head[a]!;
          }
          const c = t === 1 ? trCap[k]! - bottleneck : trCap[k]! + bottleneck;
          trCap[k] = c;
          if (c === 0) {
            parent[k] = ORPHAN;
            stack[top++] = k;
          }
        }
        flow += bottleneck;
        qh = 0;
        qt = 0;
      }
      adopting = false;

      // Adoption: each stacked orphan, then the orphans it makes (FIFO). For
      // orphan i, find a new parent in its own tree: a neighbor j with
      // residual capacity on the tree-direction arc whose parent chain
      // reaches the terminal (not an orphan), the one with the smallest
      // distance; the chains walked are stamped with the time and their
      // distances. Without one, i becomes free: its children become orphans
      // and its tree neighbors become active.
      for (;;) {
        if (qh === qt) {
          if (top === 0) break;
          qh = 0;
          qt = 1;
          q[0] = stack[--top]!;
        }
        const i = q[qh]!;
        qh = qh + 1 === size ? 0 : qh + 1;
        const sink = isSink[i]!;
        // Source tree: the arc j→i must have residual capacity (the sister
        // of a0); sink tree: the arc i→j (a0).
        const dir = sink === 1 ? 0 : 1;
        let aMin = NONE;
        let dMin = INFINITE_D;
        for (let a0 = first[i]!; a0 !== NONE; a0 = nextArc[a0]!) {
          if (rCap[a0 ^ dir] === 0) continue;
          let j = head[a0]!;
          if (isSink[j] !== sink || parent[j] === NONE) continue;
          // Check the origin of j.
          let d = 0;
          for (;;) {
            if (ts[j] === time) {
              d += dist[j]!;
              break;
            }
            const a = parent[j]!;
            d++;
            if (a === TERMINAL) {
              ts[j] = time;
              dist[j] = 1;
              break;
            }
            if (a === ORPHAN) {
              d = INFINITE_D;
              break;
            }
            j = head[a]!;
          }
          if (d < INFINITE_D) {
            if (d < dMin) {
              aMin = a0;
              dMin = d;
            }
            // Stamp the path.
            for (j = head[a0]!; ts[j] !== time; j = head[parent[j]!]!) {
              ts[j] = time;
              dist[j] = d--;
            }
          }
        }
        if (aMin !== NONE) {
          parent[i] = aMin;
          ts[i] = time;
          dist[i] = dMin + 1;
          continue;
        }
        parent[i] = NONE;
        for (let a0 = first[i]!; a0 !== NONE; a0 = nextArc[a0]!) {
          const j = head[a0]!;
          const a = parent[j]!;
          if (isSink[j] !== sink || a === NONE) continue;
          if (rCap[a0 ^ dir] !== 0 && next[j] === NONE) {
            if (qLast !== NONE) next[qLast] = j;
            else qFirst = j;
            qLast = j;
            next[j] = j;
          }
          if (a >= 0 && head[a] === i) {
            parent[j] = ORPHAN;
            q[qt] = j;
            qt = qt + 1 === size ? 0 : qt + 1;
          }
        }
      }
    }
    this.qFirst = qFirst;
    this.qLast = qLast;
    this.oqHead = 0;
    this.oqTail = 0;
    this.time = time;
    this.flow = flow;
  }
}
