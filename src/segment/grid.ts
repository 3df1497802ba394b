import { NadirError } from "../core/errors.ts";
import type { GrayImage } from "../data/image.ts";
import { type FactorGraph, FactorGraphBuilder } from "../graph/factor-graph.ts";
import { MaxflowGraph } from "../inference/mincut/maxflow.ts";
import type { GridFeature, GridSpec } from "./spec.ts";

/**
 * The grid energy of a binary labeling y ∈ {0, 1}^P of an image's pixels
 * (1 = foreground), with x_p = sample / maxval ∈ [0, 1]:
 *
 *   E(W, y, x) = Σ_p Σ_f W_f[y_p]·φ_f(x, p)
 *              + Σ_{p~q} [y_p ≠ y_q]·g_pq·(w_potts·exp(−(x_p − x_q)²/(2σ²)) + w_const)
 *
 * φ_f are the spec's unary features, p~q runs over the 4- or 8-connected
 * grid's edges (each once), g_pq = 1 for horizontal and vertical edges and the
 * spec's `diagonal` factor for diagonal ones (1/√2 by default). With
 * w_potts, w_const ≥ 0 every pairwise term is submodular (E(0,1) + E(1,0) ≥
 * E(0,0) + E(1,1) = 0) and one minimum s-t cut finds the exact minimum.
 *
 * W is one flat Float64Array of K = 2F + 2 weights:
 * [ W_0[0], W_0[1], W_1[0], W_1[1], …, W_{F−1}[1] | w_potts | w_const ].
 */

/** An image prepared for a grid energy: its features and its edges. */
export interface GridInstance {
  readonly width: number;
  readonly height: number;
  /** pixels P = width·height */
  readonly P: number;
  /** features per pixel */
  readonly F: number;
  /** φ, P×F row-major */
  readonly phi: Float64Array;
  /** edge e joins pixels edgeP[e] < edgeQ[e] */
  readonly edgeP: Int32Array;
  readonly edgeQ: Int32Array;
  /** coefficient of w_potts on edge e: g_e·exp(−(x_p − x_q)²/(2σ²)) (g_e without contrast) */
  readonly cPotts: Float64Array;
  /** coefficient of w_const on edge e: g_e */
  readonly cConst: Float64Array;
  /** σ used by the contrast term (NaN without contrast) */
  readonly sigma: number;
}

/** Number of weights of a spec's grid energy. */
export function gridWeightCount(spec: GridSpec): number {
  return 2 * spec.features.length + 2;
}

/** Names of the weights, in W's order (for model files and reports). */
export function gridWeightNames(spec: GridSpec): string[] {
  const out: string[] = [];
  for (const f of spec.features) out.push(`${f.name}[0]`, `${f.name}[1]`);
  out.push("potts", "const");
  return out;
}

/** Summed-area table of v over a w×h grid: S[(y)(w+1) + x] = Σ_{y'<y, x'<x} v. */
function integral(v: Float64Array, w: number, h: number): Float64Array {
  const S = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    const o = (y + 1) * (w + 1);
    const up = y * (w + 1);
    for (let x = 0; x < w; x++) {
      row += v[y * w + x]!;
      S[o + x + 1] = S[up + x + 1]! + row;
    }
  }
  return S;
}

/** Window sums of radius r (clipped at the border) and the pixel counts, into `sum`/`cnt`. */
function boxSums(
  S: Float64Array,
  w: number,
  h: number,
  r: number,
  sum: Float64Array,
  cnt: Float64Array,
): void {
  for (let y = 0; y < h; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(h, y + r + 1);
    for (let x = 0; x < w; x++) {
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(w, x + r + 1);
      const s =
        S[y1 * (w + 1) + x1]! -
        S[y0 * (w + 1) + x1]! -
        S[y1 * (w + 1) + x0]! +
        S[y0 * (w + 1) + x0]!;
      sum[y * w + x] = s;
      cnt[y * w + x] = (y1 - y0) * (x1 - x0);
    }
  }
}

/** The features and edges of an image under a spec. */
export function gridInstance(img: GrayImage, spec: GridSpec): GridInstance {
  const { width: w, height: h } = img;
  const P = w * h;
  const x = new Float64Array(P);
  const inv = 1 / img.maxval;
  for (let p = 0; p < P; p++) x[p] = img.data[p]! * inv;
  const feats = spec.features;
  const F = feats.length;
  const phi = new Float64Array(P * F);
  let S: Float64Array | null = null;
  let S2: Float64Array | null = null;
  const sum = new Float64Array(P);
  const sum2 = new Float64Array(P);
  const cnt = new Float64Array(P);
  for (let f = 0; f < F; f++) {
    const feat: GridFeature = feats[f]!;
    switch (feat.kind) {
      case "bias":
        for (let p = 0; p < P; p++) phi[p * F + f] = 1;
        break;
      case "x":
        for (let p = 0; p < P; p++) phi[p * F + f] = x[p]!;
        break;
      case "x2":
        for (let p = 0; p < P; p++) phi[p * F + f] = x[p]! * x[p]!;
        break;
      case "mean":
        S ??= integral(x, w, h);
        boxSums(S, w, h, feat.r, sum, cnt);
        for (let p = 0; p < P; p++) phi[p * F + f] = sum[p]! / cnt[p]!;
        break;
      case "std": {
        S ??= integral(x, w, h);
        if (S2 === null) {
          const xx = new Float64Array(P);
          for (let p = 0; p < P; p++) xx[p] = x[p]! * x[p]!;
          S2 = integral(xx, w, h);
        }
        boxSums(S, w, h, feat.r, sum, cnt);
        boxSums(S2, w, h, feat.r, sum2, cnt);
        for (let p = 0; p < P; p++) {
          const m = sum[p]! / cnt[p]!;
          phi[p * F + f] = Math.sqrt(Math.max(0, sum2[p]! / cnt[p]! - m * m));
        }
        break;
      }
    }
  }

  // Edges: right, down, and with 8-connectivity down-right and down-left.
  const eight = spec.connectivity === 8;
  let nE = (w - 1) * h + w * (h - 1);
  if (eight) nE += 2 * (w - 1) * (h - 1);
  const edgeP = new Int32Array(nE);
  const edgeQ = new Int32Array(nE);
  const cConst = new Float64Array(nE);
  let e = 0;
  const g = spec.diagonal;
  for (let y = 0; y < h; y++) {
    for (let c = 0; c < w; c++) {
      const p = y * w + c;
      if (c + 1 < w) {
        edgeP[e] = p;
        edgeQ[e] = p + 1;
        cConst[e++] = 1;
      }
      if (y + 1 < h) {
        edgeP[e] = p;
        edgeQ[e] = p + w;
        cConst[e++] = 1;
        if (eight && c + 1 < w) {
          edgeP[e] = p;
          edgeQ[e] = p + w + 1;
          cConst[e++] = g;
        }
        if (eight && c > 0) {
          edgeP[e] = p;
          edgeQ[e] = p + w - 1;
          cConst[e++] = g;
        }
      }
    }
  }
  const cPotts = new Float64Array(nE);
  let sigma = Number.NaN;
  if (spec.contrast) {
    let s2: number;
    if (spec.sigma === "auto") {
      let acc = 0;
      for (let k = 0; k < nE; k++) {
        const d = x[edgeP[k]!]! - x[edgeQ[k]!]!;
        acc += d * d;
      }
      s2 = nE > 0 ? acc / nE : 0;
    } else s2 = spec.sigma * spec.sigma;
    sigma = Math.sqrt(s2);
    for (let k = 0; k < nE; k++) {
      const d = x[edgeP[k]!]! - x[edgeQ[k]!]!;
      // A flat image (σ = 0): every difference is 0 and the term is 1.
      cPotts[k] = cConst[k]! * (s2 > 0 ? Math.exp((-d * d) / (2 * s2)) : 1);
    }
  } else cPotts.set(cConst);
  return { width: w, height: h, P, F, phi, edgeP, edgeQ, cPotts, cConst, sigma };
}

function checkWeights(inst: GridInstance, W: Float64Array, who: string): void {
  const K = 2 * inst.F + 2;
  if (W.length !== K)
    throw new NadirError("E_ARG", `${who}: expected ${K} weights, got ${W.length}`);
}

function checkLabeling(inst: GridInstance, y: ArrayLike<number>, who: string): void {
  if (y.length !== inst.P)
    throw new NadirError("E_ARG", `${who}: expected ${inst.P} labels, got ${y.length}`);
}

/** Unary energies of pixel p: U_p(0), U_p(1). */
function unaryPair(inst: GridInstance, W: Float64Array, p: number): [number, number] {
  const F = inst.F;
  const phi = inst.phi;
  let u0 = 0;
  let u1 = 0;
  for (let f = 0; f < F; f++) {
    const v = phi[p * F + f]!;
    u0 += W[2 * f]! * v;
    u1 += W[2 * f + 1]! * v;
  }
  return [u0, u1];
}

/** E(W, y, x) by the formula (the reference for the factor graph and the cut). */
export function gridEnergy(inst: GridInstance, W: Float64Array, y: ArrayLike<number>): number {
  checkWeights(inst, W, "gridEnergy");
  checkLabeling(inst, y, "gridEnergy");
  const { P, F, phi, edgeP, edgeQ, cPotts, cConst } = inst;
  let e = 0;
  for (let p = 0; p < P; p++) {
    const l = y[p]!;
    const row = p * F;
    for (let f = 0; f < F; f++) e += W[2 * f + l]! * phi[row + f]!;
  }
  const wp = W[2 * F]!;
  const wc = W[2 * F + 1]!;
  for (let k = 0; k < edgeP.length; k++) {
    if (y[edgeP[k]!] !== y[edgeQ[k]!]) e += wp * cPotts[k]! + wc * cConst[k]!;
  }
  return e;
}

/**
 * The grid energy as a factor graph: variable p (domain 2) per pixel, a
 * unary factor [U_p(0), U_p(1)] per pixel (ids 0 … P−1), then a pairwise
 * factor [0, c, c, 0] per edge, c = g·(w_potts·contrast + w_const).
 */
export function gridFactorGraph(inst: GridInstance, W: Float64Array): FactorGraph {
  checkWeights(inst, W, "gridFactorGraph");
  const b = new FactorGraphBuilder();
  b.addVariables(inst.P, 2);
  for (let p = 0; p < inst.P; p++) b.addFactor([p], unaryPair(inst, W, p));
  const wp = W[2 * inst.F]!;
  const wc = W[2 * inst.F + 1]!;
  for (let k = 0; k < inst.edgeP.length; k++) {
    const c = wp * inst.cPotts[k]! + wc * inst.cConst[k]!;
    b.addFactor([inst.edgeP[k]!, inst.edgeQ[k]!], [0, c, c, 0]);
  }
  return b.build();
}

/** A loss-augmentation: subtract `margin` from every label that differs from `gold`. */
export interface Augment {
  gold: Uint8Array;
  margin: number;
}

/**
 * Minimizes grid energies by one minimum cut built straight into a
 * MaxflowGraph (no factor graph: a 400×328 8-connected grid is 131,200 nodes
 * and 522,618 edges). Pixel p is node p; label 1 = the sink side. Keeps its
 * workspace between calls.
 */
export class GridCut {
  private readonly mf = new MaxflowGraph();
  private seg = new Uint8Array(0);

  /**
   * argmin_y E(W, y, x) (with `aug`: argmin_y E(W, y, x) − m·Δ(y, gold), the
   * loss-augmented answer; Δ the Hamming distance folds into the unaries).
   * Refuses (E_UNSUPPORTED) weights that make an edge non-submodular
   * (w_potts·contrast + w_const < 0). Returns the labeling and its true energy
   * E(W, y, x) (without the augmentation).
   */
  minimize(
    inst: GridInstance,
    W: Float64Array,
    aug?: Augment,
  ): { labels: Uint8Array; energy: number } {
    checkWeights(inst, W, "GridCut.minimize");
    const { P, F, phi, edgeP, edgeQ, cPotts, cConst } = inst;
    if (aug) checkLabeling(inst, aug.gold, "GridCut.minimize(gold)");
    const wp = W[2 * F]!;
    const wc = W[2 * F + 1]!;
    const mf = this.mf;
    mf.reset();
    mf.reserve(P, edgeP.length);
    mf.addNode(P);
    const diff = new Float64Array(F);
    for (let f = 0; f < F; f++) diff[f] = W[2 * f + 1]! - W[2 * f]!;
    const m = aug ? aug.margin : 0;
    const gold = aug?.gold;
    for (let p = 0; p < P; p++) {
      // d = U_p(1) − U_p(0) (the constant U_p(0) is left out of the cut)
      let d = 0;
      const row = p * F;
      for (let f = 0; f < F; f++) d += diff[f]! * phi[row + f]!;
      if (gold !== undefined) d += gold[p] === 1 ? m : -m;
      if (d > 0) mf.addTweights(p, d, 0);
      else if (d < 0) mf.addTweights(p, 0, -d);
    }
    for (let k = 0; k < edgeP.length; k++) {
      const c = wp * cPotts[k]! + wc * cConst[k]!;
      if (c > 0) mf.addEdge(edgeP[k]!, edgeQ[k]!, c, c);
      else if (c < 0) {
        throw new NadirError(
          "E_UNSUPPORTED",
          `grid cut: edge (${edgeP[k]}, ${edgeQ[k]}) is not submodular: its disagreement energy is ${c} < 0 (w_potts = ${wp}, w_const = ${wc}; both must be ≥ 0)`,
        );
      }
    }
    mf.maxflow();
    if (this.seg.length < P) this.seg = new Uint8Array(P);
    mf.segmentsInto(this.seg);
    const labels = this.seg.slice(0, P);
    return { labels, energy: gridEnergy(inst, W, labels) };
  }
}

/** grad += scale·∂E(W, y, x)/∂W. */
export function accumulateGrid(
  inst: GridInstance,
  y: ArrayLike<number>,
  scale: number,
  grad: Float64Array,
): void {
  const { P, F, phi, edgeP, edgeQ, cPotts, cConst } = inst;
  for (let p = 0; p < P; p++) {
    const l = y[p]!;
    const row = p * F;
    for (let f = 0; f < F; f++) grad[2 * f + l] = grad[2 * f + l]! + scale * phi[row + f]!;
  }
  let sp = 0;
  let sc = 0;
  for (let k = 0; k < edgeP.length; k++) {
    if (y[edgeP[k]!] !== y[edgeQ[k]!]) {
      sp += cPotts[k]!;
      sc += cConst[k]!;
    }
  }
  grad[2 * F] = grad[2 * F]! + scale * sp;
  grad[2 * F + 1] = grad[2 * F + 1]! + scale * sc;
}

/**
 * grad += scale · E_q[∂E(W, y, x)/∂W] under marginals: `q` the foreground
 * probability of each pixel (P), `differ` the probability that the two ends
 * of each edge take different labels (one per edge) — the expectation of
 * `accumulateGrid`'s gradient, which is linear in the indicators.
 */
export function accumulateGridMarginals(
  inst: GridInstance,
  q: ArrayLike<number>,
  differ: ArrayLike<number>,
  scale: number,
  grad: Float64Array,
): void {
  const { P, F, phi, edgeP, cPotts, cConst } = inst;
  for (let p = 0; p < P; p++) {
    const q1 = q[p]!;
    const row = p * F;
    for (let f = 0; f < F; f++) {
      const v = scale * phi[row + f]!;
      grad[2 * f] = grad[2 * f]! + (1 - q1) * v;
      grad[2 * f + 1] = grad[2 * f + 1]! + q1 * v;
    }
  }
  let sp = 0;
  let sc = 0;
  for (let k = 0; k < edgeP.length; k++) {
    sp += differ[k]! * cPotts[k]!;
    sc += differ[k]! * cConst[k]!;
  }
  grad[2 * F] = grad[2 * F]! + scale * sp;
  grad[2 * F + 1] = grad[2 * F + 1]! + scale * sc;
}
