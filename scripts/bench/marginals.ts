/**
 * Approximate marginals on loopy grids against the exact ones: naive mean
 * field and loopy sum-product BP on random n×n grids (Potts or Ising-like
 * pairwise energies, random unaries), at β = 1, exact marginals and free
 * energy by enumeration. Reports the mean and largest absolute marginal error
 * of each, the free-energy gap (mean field: an upper bound, always ≥ 0; Bethe:
 * either sign), and the time per graph, for weak and strong couplings.
 *
 *   npx tsx scripts/bench/marginals.ts [--n 4 --labels 2 --graphs 50 --seed 1]
 */
import { Rng } from "../../src/core/rng.ts";
import { FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { meanField } from "../../src/inference/mean-field.ts";
import { sumProduct } from "../../src/inference/sum-product.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({ n: "4", labels: "2", graphs: "50", seed: "1" });
const n = Number(args.n);
const L = Number(args.labels);
const rng = new Rng(Number(args.seed));

/** Exact log Z and variable marginals by enumerating every labeling. */
function exact(g: ReturnType<FactorGraphBuilder["build"]>) {
  const V = g.nVars;
  const total = L ** V;
  const m = new Float64Array(V * L);
  let max = Number.NEGATIVE_INFINITY;
  const y = new Int32Array(V);
  const E = new Float64Array(total);
  for (let k = 0; k < total; k++) {
    let r = k;
    for (let v = 0; v < V; v++) {
      y[v] = r % L;
      r = Math.floor(r / L);
    }
    E[k] = g.energy(y);
    max = Math.max(max, -E[k]!);
  }
  let z = 0;
  for (let k = 0; k < total; k++) {
    const w = Math.exp(-E[k]! - max);
    z += w;
    let r = k;
    for (let v = 0; v < V; v++) {
      m[v * L + (r % L)] = m[v * L + (r % L)]! + w;
      r = Math.floor(r / L);
    }
  }
  for (let i = 0; i < m.length; i++) m[i] = m[i]! / z;
  const logZ = max + Math.log(z);
  return { marginals: m, freeEnergy: -logZ };
}

const rows: Record<string, unknown>[] = [];
for (const coupling of [0.3, 1, 2]) {
  const acc = {
    mf: { mean: 0, max: 0, gap: 0, ms: 0, minGap: Number.POSITIVE_INFINITY },
    bp: { mean: 0, max: 0, gap: 0, ms: 0, minGap: Number.POSITIVE_INFINITY },
  };
  const G = Number(args.graphs);
  for (let k = 0; k < G; k++) {
    const b = new FactorGraphBuilder();
    b.addVariables(n * n, L);
    for (let v = 0; v < n * n; v++)
      b.addFactor(
        [v],
        Array.from({ length: L }, () => rng.normal()),
      );
    const edge = (a: number, c: number) => {
      const w = coupling * rng.normal();
      // Potts-like with a random sign: w when the labels differ
      b.addFactor(
        [a, c],
        Array.from({ length: L * L }, (_, i) => (Math.floor(i / L) === i % L ? 0 : w)),
      );
    };
    for (let r = 0; r < n; r++)
      for (let c = 0; c < n; c++) {
        if (c + 1 < n) edge(r * n + c, r * n + c + 1);
        if (r + 1 < n) edge(r * n + c, (r + 1) * n + c);
      }
    const g = b.build();
    const ex = exact(g);
    let t0 = performance.now();
    const mf = meanField(g, { tolerance: 1e-10, maxIterations: 1000 });
    acc.mf.ms += performance.now() - t0;
    t0 = performance.now();
    const bp = sumProduct(g, 1, { tolerance: 1e-10, maxIterations: 1000, damping: 0.3 });
    acc.bp.ms += performance.now() - t0;
    for (const [key, m, F] of [
      ["mf", mf.marginals, mf.freeEnergy],
      ["bp", bp.variableMarginals, bp.freeEnergy],
    ] as const) {
      let s = 0;
      let mx = 0;
      for (let i = 0; i < ex.marginals.length; i++) {
        const e = Math.abs(m[i]! - ex.marginals[i]!);
        s += e;
        mx = Math.max(mx, e);
      }
      acc[key].mean += s / ex.marginals.length / G;
      acc[key].max = Math.max(acc[key].max, mx);
      acc[key].gap += (F - ex.freeEnergy) / G;
      acc[key].minGap = Math.min(acc[key].minGap, F - ex.freeEnergy);
    }
  }
  const row = {
    grid: `${n}×${n}, ${L} labels`,
    coupling,
    mean_field: {
      mean_abs_error: +acc.mf.mean.toFixed(4),
      max_abs_error: +acc.mf.max.toFixed(4),
      mean_free_energy_gap: +acc.mf.gap.toFixed(4),
      min_free_energy_gap: +acc.mf.minGap.toExponential(2),
      ms_per_graph: +(acc.mf.ms / G).toFixed(3),
    },
    sum_product_bp: {
      mean_abs_error: +acc.bp.mean.toFixed(4),
      max_abs_error: +acc.bp.max.toFixed(4),
      mean_free_energy_gap: +acc.bp.gap.toFixed(4),
      min_free_energy_gap: +acc.bp.minGap.toExponential(2),
      ms_per_graph: +(acc.bp.ms / G).toFixed(3),
    },
  };
  rows.push(row);
  console.log(JSON.stringify(row));
}
console.log(JSON.stringify(rows));
