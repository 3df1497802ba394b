/**
 * Min-sum message passing speed on a 4-connected Potts grid (default 256×256,
 * 4 labels, unaries uniform in [0, 1) from a seeded Rng, Potts weight 1):
 * loopy BP with the flooding and the sequential schedule and TRW-S, a fixed
 * number of iterations each (tolerance 0), after a short warm-up.
 *
 * A message is one vector of L values: BP sends a variable→factor and a
 * factor→variable message per (factor, slot) per sweep (unary factors are
 * folded into the variables and send none); TRW-S sends one message per
 * pairwise factor in each of its two passes.
 * Last line: {"grid":256,"labels":4,"flooding_msgs_per_s":…,"sequential_msgs_per_s":…,
 *             "trws_msgs_per_s":…,"trws_lower_bound":…,"bp_energy":…}
 *
 *   npx tsx scripts/bench/bp.ts [--grid 256 --labels 4 --iterations 20 --seed 1]
 */
import { Rng } from "../../src/core/rng.ts";
import { FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { bpMessagesPerSweep, bpMinimize } from "../../src/inference/bp.ts";
import { trwsMinimize } from "../../src/inference/trws.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({ grid: "256", labels: "4", iterations: "20", seed: "1" });
const N = Number(args.grid);
const L = Number(args.labels);
const iters = Number(args.iterations);

const rng = new Rng(Number(args.seed));
const b = new FactorGraphBuilder();
b.addVariables(N * N, L);
for (let v = 0; v < N * N; v++)
  b.addFactor(
    [v],
    Array.from({ length: L }, () => rng.next()),
  );
const potts = Array.from({ length: L * L }, (_, i) => (Math.floor(i / L) === i % L ? 0 : 1));
let pairwise = 0;
for (let r = 0; r < N; r++) {
  for (let c = 0; c < N; c++) {
    const v = r * N + c;
    if (c + 1 < N) {
      b.addFactor([v, v + 1], potts);
      pairwise++;
    }
    if (r + 1 < N) {
      b.addFactor([v, v + N], potts);
      pairwise++;
    }
  }
}
const g = b.build();
const perSweep = bpMessagesPerSweep(g);

// Warm-up (JIT) on the same graph.
bpMinimize(g, undefined, { schedule: "flooding", maxIterations: 2, tolerance: 0 });
bpMinimize(g, undefined, { schedule: "sequential", maxIterations: 2, tolerance: 0 });
trwsMinimize(g, undefined, { maxIterations: 2, tolerance: 0 });

function timed<R>(f: () => R): { r: R; s: number } {
  const t0 = performance.now();
  const r = f();
  return { r, s: (performance.now() - t0) / 1000 };
}

const fl = timed(() =>
  bpMinimize(g, undefined, { schedule: "flooding", maxIterations: iters, tolerance: 0 }),
);
const sq = timed(() =>
  bpMinimize(g, undefined, { schedule: "sequential", maxIterations: iters, tolerance: 0 }),
);
const tr = timed(() => trwsMinimize(g, undefined, { maxIterations: iters, tolerance: 0 }));

const line = (name: string, msgs: number, s: number, extra: string) =>
  process.stdout.write(
    `${name}: ${msgs} messages in ${s.toFixed(3)} s = ${(msgs / s / 1e6).toFixed(2)} M msg/s; ${extra}\n`,
  );
line(
  "bp flooding",
  perSweep * fl.r.iterations,
  fl.s,
  `energy ${fl.r.energy.toFixed(3)}, ${fl.r.iterations} sweeps, converged ${fl.r.converged}`,
);
line(
  "bp sequential",
  perSweep * sq.r.iterations,
  sq.s,
  `energy ${sq.r.energy.toFixed(3)}, ${sq.r.iterations} sweeps, converged ${sq.r.converged}`,
);
line(
  "trws",
  2 * pairwise * tr.r.iterations,
  tr.s,
  `energy ${tr.r.energy.toFixed(3)}, lower bound ${tr.r.lowerBound.toFixed(3)}, ${tr.r.iterations} iterations`,
);
console.log(
  JSON.stringify({
    grid: N,
    labels: L,
    flooding_msgs_per_s: Math.round((perSweep * fl.r.iterations) / fl.s),
    sequential_msgs_per_s: Math.round((perSweep * sq.r.iterations) / sq.s),
    trws_msgs_per_s: Math.round((2 * pairwise * tr.r.iterations) / tr.s),
    trws_lower_bound: tr.r.lowerBound,
    trws_energy: tr.r.energy,
    bp_energy: sq.r.energy,
    bp_flooding_energy: fl.r.energy,
  }),
);
