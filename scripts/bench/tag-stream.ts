/**
 * Streaming `nadir tag` as a process: time to the first output line when
 * input arrives slowly, and peak RSS (VmHWM) with 100k and 1M tokens through
 * stdin (memory should stay flat as input grows).
 *
 *   npx tsx scripts/bench/tag-stream.ts [--corpus ../shared/corpora/conll2000/test.txt] [--tokens 100000,1000000]
 *
 * The model is trained for one epoch on the corpus itself (the figures are
 * about I/O and memory, not accuracy); the input repeats the corpus.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchArgs } from "./args.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const args = benchArgs({
  corpus: join(ROOT, "../shared/corpora/conll2000/test.txt"),
  tokens: "100000,1000000",
});
if (!existsSync(args.corpus)) {
  process.stderr.write(`ERROR: ${args.corpus}: no such file (pass --corpus, a CoNLL-2000 file)\n`);
  process.exit(1);
}
const NADIR = [process.execPath, "--import", "tsx", join(ROOT, "src/cli/bin.ts")];
const dir = mkdtempSync(join(tmpdir(), "nadir-bench-tag-"));
const model = join(dir, "chunk.model");

try {
  const tr = spawnSync(
    NADIR[0]!,
    [
      ...NADIR.slice(1),
      "train",
      ...["--graph", join(ROOT, "graphs/chunk.json"), "--train", args.corpus],
      ...["--model", model, "--epochs", "1"],
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (tr.status !== 0) throw new Error(`training failed: ${tr.stderr}`);
  const sentences = readFileSync(args.corpus, "utf8")
    .split(/\n\s*\n/)
    .filter((s) => s.trim() !== "")
    .map((s) => `${s.trim()}\n\n`);
  console.log(`corpus ${args.corpus}: ${sentences.length} sentences`);
  await firstOutput(sentences);
  for (const n of args.tokens.split(",").map(Number)) {
    await rss(sentences, n, false);
    await rss(sentences, n, true);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function peakKb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Start-up + model load, then per-sentence latency with input arriving one sentence at a time. */
async function firstOutput(sentences: string[]): Promise<void> {
  const t0 = performance.now();
  const child = spawn(NADIR[0]!, [...NADIR.slice(1), "tag", "--model", model, "-"], { cwd: ROOT });
  let buffered = "";
  let waiting: (() => void) | null = null;
  child.stdout.on("data", (b: Buffer) => {
    buffered += b.toString();
    if (buffered.includes("\n\n") && waiting) waiting();
  });
  const latencies: number[] = [];
  for (let i = 0; i < 5; i++) {
    const sent = performance.now();
    buffered = "";
    const got = new Promise<void>((r) => {
      waiting = r;
    });
    child.stdin.write(sentences[i]!);
    await got;
    latencies.push(performance.now() - (i === 0 ? t0 : sent));
    // the next sentence arrives a while later, as in a live pipeline
    await new Promise((r) => setTimeout(r, 200));
  }
  child.stdin.end();
  await new Promise((r) => child.once("exit", r));
  console.log(
    `time to first output line (spawn → first sentence out, start-up and model load included): ${latencies[0]!.toFixed(0)} ms`,
  );
  console.log(
    `later sentences, input → output: ${latencies
      .slice(1)
      .map((x) => x.toFixed(1))
      .join(", ")} ms`,
  );
}

/** Feed `tokens` tokens of repeated sentences through stdin, honouring back-pressure; sample peak RSS. */
async function rss(sentences: string[], tokens: number, toFile: boolean): Promise<void> {
  const t0 = performance.now();
  const out = join(dir, "tagged.txt");
  const extra = toFile ? ["--output", out] : [];
  const child = spawn(NADIR[0]!, [...NADIR.slice(1), "tag", "--model", model, "-", ...extra], {
    cwd: ROOT,
  });
  let outBytes = 0;
  child.stdout.on("data", (b: Buffer) => {
    outBytes += b.length;
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, peakKb(child.pid!));
  }, 20);
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  let sent = 0;
  for (let i = 0; sent < tokens; i++) {
    const s = sentences[i % sentences.length]!;
    sent += s.split("\n").filter((l) => l !== "").length;
    if (!child.stdin.write(s)) await new Promise((r) => child.stdin.once("drain", r));
  }
  // last sample just before the end of input: the process is still alive
  peak = Math.max(peak, peakKb(child.pid!));
  child.stdin.end();
  const code = await exited;
  clearInterval(timer);
  if (code !== 0) throw new Error(`tag failed (${code}): ${stderr}`);
  const s = (performance.now() - t0) / 1000;
  if (toFile) outBytes = statSync(out).size;
  console.log(
    `${sent} tokens through stdin → ${toFile ? "--output FILE" : "stdout"}: peak RSS ${(peak / 1024).toFixed(0)} MB, ${(outBytes / 1e6).toFixed(1)} MB out, ${s.toFixed(1)} s (${Math.round(sent / s)} tokens/s)`,
  );
}
