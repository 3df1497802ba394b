import type { Constraints } from "../graph/constraints.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import { meanField } from "../inference/mean-field.ts";
import { mincutBackend } from "../inference/mincut/construct.ts";
import { lossAugmented, mostOffendingClamped } from "../inference/offending.ts";
import { gibbsSample } from "../inference/sampling.ts";
import { sumProduct } from "../inference/sum-product.ts";
import type { Backend } from "../inference/types.ts";
import { requireSupport, type Sampling, Structure, type Structures } from "../structure/index.ts";
import {
  accumulateGrid,
  accumulateGridMarginals,
  GridCut,
  type GridInstance,
  gridEnergy,
  gridFactorGraph,
} from "./grid.ts";

/** A training image as the structures see it: its grid instance and gold mask (T = P pixels). */
export interface GridItem {
  readonly inst: GridInstance;
  /** the gold mask, 1 = foreground (what the cut reads) */
  readonly gold: Uint8Array;
  /** the same labeling as label ids */
  readonly labels: Int32Array;
  readonly T: number;
}

/** The item of an image and its mask. */
export function gridItem(inst: GridInstance, gold: Uint8Array): GridItem {
  return { inst, gold, labels: Int32Array.from(gold), T: inst.P };
}

/**
 * The grid's Gibbs marginals at β — q[p] = P(y_p = 1) and, per edge, the
 * probability that its two pixels differ — and its free energy, by mean field
 * (a variational upper bound; the edges' probabilities from the factorized q)
 * or loopy sum-product BP (Bethe; from the pairwise factor marginals).
 */
export function gridMarginals(
  inst: GridInstance,
  W: Float64Array,
  beta: number,
  method: "meanfield" | "bp",
  g: FactorGraph = gridFactorGraph(inst, W),
): { q: Float64Array; differ: Float64Array; freeEnergy: number } {
  const q = new Float64Array(inst.P);
  const differ = new Float64Array(inst.edgeP.length);
  if (method === "meanfield") {
    const r = meanField(g, { beta, tolerance: 1e-6, maxIterations: 50 });
    for (let p = 0; p < inst.P; p++) q[p] = r.marginals[2 * p + 1]!;
    for (let k = 0; k < differ.length; k++) {
      const a = q[inst.edgeP[k]!]!;
      const b = q[inst.edgeQ[k]!]!;
      differ[k] = a * (1 - b) + (1 - a) * b;
    }
    return { q, differ, freeEnergy: r.freeEnergy };
  }
  const r = sumProduct(g, beta, { damping: 0.3, maxIterations: 50, tolerance: 1e-6 });
  for (let p = 0; p < inst.P; p++) q[p] = r.variableMarginals[2 * p + 1]!;
  // the pairwise factors follow the P unary ones, one per edge, tables [00, 01, 10, 11]
  for (let k = 0; k < differ.length; k++) {
    const off = g.factorTableOffset[inst.P + k]!;
    differ[k] = r.factorMarginals[off + 1]! + r.factorMarginals[off + 2]!;
  }
  return { q, differ, freeEnergy: r.freeEnergy };
}

/** How a grid answers the free energy: mean field or loopy sum-product BP, and their settings. */
export interface GridMarginalsOptions {
  marginals: "meanfield" | "bp";
}

function hamming(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/**
 * A binary grid over an image (submodular pairwise terms): energies per pixel,
 * E(W, y, x)/P, so losses compare across image sizes. With the min-cut backend
 * (the default) answers come from one minimum cut — exact — and the
 * loss-augmented answer folds −m·Δ into the unaries (the pairwise terms stay
 * submodular); any other backend answers on the grid's factor graph if its
 * `supports` agrees. The free energy and marginals come from `marginals`
 * (mean field or loopy sum-product BP), approximately; samples by Gibbs
 * sweeps from the data (CD-k).
 */
export class GridStructure extends Structure<GridItem> {
  readonly name = "grid";
  private readonly kernel: boolean;
  private readonly cut: GridCut;
  private readonly options: GridMarginalsOptions;
  private W: Float64Array = new Float64Array(0);
  private g: FactorGraph | null = null;
  private q: Float64Array = new Float64Array(0);
  private differ: Float64Array = new Float64Array(0);

  constructor(backend: Backend, options: GridMarginalsOptions, cut = new GridCut()) {
    super(backend);
    this.kernel = backend === mincutBackend;
    this.cut = cut;
    this.options = options;
  }

  bind(x: GridItem, W: Float64Array, s: number): void {
    this.x = x;
    this.W = s === 1 ? W : W.map((w) => w * s);
    this.g = null;
  }

  private graph(): FactorGraph {
    this.g ??= gridFactorGraph(this.x!.inst, this.W);
    return this.g;
  }

  private get P(): number {
    return this.x!.inst.P;
  }

  energy(y: ArrayLike<number>): number {
    return gridEnergy(this.x!.inst, this.W, y) / this.P;
  }

  argmin(c: Constraints | undefined, out: Int32Array): number {
    if (this.kernel && c === undefined) {
      const r = this.cut.minimize(this.x!.inst, this.W);
      out.set(r.labels);
      return r.energy / this.P;
    }
    const g = this.graph();
    requireSupport(this.backend, g, "a grid");
    const r = this.backend.minimize(g, c);
    this.exact = r.exact;
    out.set(r.labels);
    return r.energy / this.P;
  }

  offending(gold: Int32Array, c: Constraints | undefined, out: Int32Array): number {
    const r = mostOffendingClamped(this.backend, this.graph(), gold, c);
    if (r === null) return Number.POSITIVE_INFINITY;
    out.set(r.labels);
    return r.energy / this.P;
  }

  augmented(gold: Int32Array, m: number, c: Constraints | undefined, out: Int32Array): number {
    if (this.kernel && c === undefined) {
      const r = this.cut.minimize(this.x!.inst, this.W, { gold: this.x!.gold, margin: m });
      out.set(r.labels);
      return (r.energy - m * hamming(r.labels, gold)) / this.P;
    }
    const r = lossAugmented(this.backend, this.graph(), gold, m, c);
    out.set(r.labels);
    return r.augmentedEnergy / this.P;
  }

  marginals(beta: number, _c: Constraints | undefined, keep: boolean): number {
    const inst = this.x!.inst;
    const mg = gridMarginals(inst, this.W, beta, this.options.marginals, this.graph());
    if (keep) {
      this.q = mg.q;
      this.differ = mg.differ;
    }
    return mg.freeEnergy / inst.P;
  }

  accumulateMarginals(scale: number, grad: Float64Array): void {
    accumulateGridMarginals(this.x!.inst, this.q, this.differ, scale / this.P, grad);
  }

  sample(q: Sampling, out: Int32Array): number {
    // CD-k: k Gibbs sweeps started at the data
    const r = gibbsSample(this.graph(), 1, {
      beta: q.beta,
      burnIn: 0,
      thin: q.sweeps,
      rng: q.rng,
      init: q.gold,
    });
    const y = r.samples[0]!;
    out.set(y);
    return gridEnergy(this.x!.inst, this.W, y) / this.P;
  }

  protected accumulateLabeling(y: Int32Array, scale: number, grad: Float64Array): void {
    accumulateGrid(this.x!.inst, y, scale / this.P, grad);
  }
}

/** The structures of grid items: every image is a grid. */
export function gridStructures(
  backend: Backend,
  options: GridMarginalsOptions,
  cut?: GridCut,
): Structures<GridItem> {
  const s = new GridStructure(backend, options, cut);
  return {
    of: () => s,
    refuses: () => null,
    describe: () =>
      backend === mincutBackend
        ? "mincut (exact: binary submodular)"
        : `${backend.name} on the grid's factor graph (${backend.exactness})`,
  };
}
