/**
 * CLI start-up: wall time of `nadir --help` and `nadir --version` from the
 * compiled package, beside the way the CLI ran before it was compiled (the
 * TypeScript sources through tsx's loader, every command imported), runs
 * interleaved, median and spread of N runs each. Needs dist/ (`npm run build`).
 * `--before DIR`: also time a checkout of an earlier version (its bin/nadir.js),
 * e.g. `git worktree add /tmp/before 4772293 && ln -s $PWD/node_modules /tmp/before/`.
 *
 *   npx tsx scripts/bench/startup.ts [--runs 20] [--before DIR]
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { benchArgs } from "./args.ts";

const args = benchArgs({ runs: "20", before: "" });
const runs = Number(args.runs);
const node = process.execPath;
const cases: Record<string, string[]> = {
  "nadir --help (compiled)": ["bin/nadir.js", "--help"],
  "nadir --version (compiled)": ["bin/nadir.js", "--version"],
  "nadir --help (sources through tsx)": ["--import", "tsx", "src/cli/bin.ts", "--help"],
  "node -e 0 (Node's own start-up)": ["-e", "0"],
};
if (args.before)
  cases[`nadir --help (${args.before})`] = [join(args.before, "bin/nadir.js"), "--help"];
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const t0 = performance.now();
    const r = spawnSync(node, args, { encoding: "utf8" });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
    times[name]!.push(ms);
  }
}
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const out: Record<string, { median_ms: number; min_ms: number; p90_ms: number }> = {};
for (const [name, xs] of Object.entries(times)) {
  out[name] = {
    median_ms: +q(xs, 0.5).toFixed(1),
    min_ms: +q(xs, 0).toFixed(1),
    p90_ms: +q(xs, 0.9).toFixed(1),
  };
  console.log(
    `${name.padEnd(52)} median ${q(xs, 0.5).toFixed(1)} ms  (min ${q(xs, 0).toFixed(1)}, p90 ${q(xs, 0.9).toFixed(1)}) over ${runs} runs`,
  );
}
console.log(JSON.stringify(out));
