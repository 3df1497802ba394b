/**
 * k-best Viterbi memory and time on long chains: for each T, a child process
 * builds a random chain (L labels, normal potentials, seed 1), runs
 * kbestViterbi once to warm up on a short chain, then once on T tokens, and
 * reports the wall time, the peak RSS of the process and its RSS before the
 * call (so the growth is the k-best's own memory).
 *
 *   npx tsx scripts/bench/kbest.ts [--T 1000,10000,100000] [--K 5] [--L 23]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Rng } from "../../src/core/rng.ts";
import { chainPotentials } from "../../src/graph/chain.ts";
import { kbestViterbi } from "../../src/inference/kbest.ts";
import { benchArgs } from "./args.ts";

const a = benchArgs({ T: "1000,10000,100000", K: "5", L: "23", child: "" });
const K = Number(a.K);
const L = Number(a.L);

function chain(T: number) {
  const rng = new Rng(1);
  const r = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

if (a.child) {
  const T = Number(a.child);
  kbestViterbi(chain(50), K);
  const p = chain(T);
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const rs = kbestViterbi(p, K);
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    JSON.stringify({
      T,
      answers: rs.length,
      ms,
      rssBefore: before,
      peak,
      gap: rs.at(-1)!.energy - rs[0]!.energy,
    }),
  );
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`k-best Viterbi, K = ${K}, L = ${L}, random normal potentials (seed 1)`);
  console.log("| T | time (ms) | RSS before (MB) | peak RSS (MB) | growth (MB) |");
  console.log("|---:|---:|---:|---:|---:|");
  for (const T of a.T.split(",").map(Number)) {
    const out = execFileSync(
      process.execPath,
      [...process.execArgv, self, "--child", String(T), "--K", String(K), "--L", String(L)],
      { encoding: "utf8" },
    );
    const r = JSON.parse(out) as { ms: number; rssBefore: number; peak: number };
    const mb = (x: number) => (x / 1e6).toFixed(0);
    console.log(
      `| ${T.toLocaleString("en")} | ${r.ms.toFixed(1)} | ${mb(r.rssBefore)} | ${mb(r.peak)} | ${mb(Math.max(0, r.peak - r.rssBefore))} |`,
    );
  }
}
