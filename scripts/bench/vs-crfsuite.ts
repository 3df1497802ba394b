/**
 * nadir against CRFsuite (python-crfsuite, CRFsuite's C library) side by side,
 * interleaved in one run on CoNLL-2000 chunking, both reading the SAME CRFsuite
 * data files (the attributes of ../shared/tools/conll2crfsuite.py; nadir reads
 * them with graphs/crfsuite.json, so both train over exactly the same attribute
 * set and observed (attribute, label) pairs — the fairest comparison):
 *
 *   ap      averaged perceptron, 10 epochs            (nadir: perceptron loss + optimizer)
 *   pa      passive-aggressive (PA-I, C = 1), 10 epochs (nadir: hinge loss + pa)
 *   lbfgs   NLL with L-BFGS, 100 iterations, c2 = 1    (nadir: nll + lbfgs, one thread)
 *   lbfgs2  the same, nadir's gradient summed over 2 worker threads (the machine's two
 *           cores; CRFsuite's trainer has one thread): the wall-time comparison
 *   tag     tagging the 47k-token test file as a process, start-up and model load
 *           included (nadir tag vs. a python script around pycrfsuite.Tagger, and
 *           vs. the C front end below); with --input crfsuite also "tag-floor":
 *           each side tags an empty file (start-up + model load only), the
 *           time nadir spends before its first token against C's whole run
 *
 * nadir trains with --features observed (default of this script): weights
 * only for the (attribute, label) pairs seen in training, as CRFsuite does by
 * default (feature.possible_states = 0) — the same parameter count on both
 * sides; --features all measures nadir's spec default instead.
 *
 * Every run is a child process under /usr/bin/time (peak RSS, %M). nadir's
 * training time is its whole process (read, extract, train, write the model);
 * CRFsuite's is reported twice: its whole python process, and Trainer.train()
 * alone (C: feature generation, training, model writing — no Python reading),
 * the stricter comparison, used for the ratios.
 *
 * A second peer is CRFsuite as a C process, as the issue measured it with
 * `crfsuite learn` / `crfsuite tag`: scripts/bench/peers/crfsuite/driver.c, a
 * small front end on the same C library (built by build.sh beside it from the
 * npm package `crfsuite`'s sources; its AP and PA models are byte-identical to
 * python-crfsuite's). Its whole process — reading the data file in C, training
 * or tagging, writing — is the "C process" column and the second ratio.
 * --cli PATH picks the binary (built there when missing); --cli none skips it.
 * With --input conll its input is the CoNLL columns too: conll2crfsuite.py
 * piped into it (CRFsuite has no templates, so that is its whole pipeline).
 * The order alternates every
 * repetition; medians and the spread (min–max) are printed, then a table of
 * nadir / CRFsuite ratios and one JSON line.
 *
 *   npx tsx scripts/bench/vs-crfsuite.ts [--corpus ../shared/corpora/conll2000]
 *     [--tools ../shared/tools] [--out /tmp/nadir-vs-crfsuite] [--repeat 3]
 *     [--lbfgs-repeat 2] [--only ap,pa,lbfgs,lbfgs2,tag] [--epochs 10] [--iterations 100]
 *     [--nadir "node bin/nadir.js"] [--input crfsuite|conll] [--features observed|all]
 *     [--cli /tmp/nadir-vs-crfsuite/crfsuite-cli | none]
 *     [--before "node /tmp/nadir-before/bin/nadir.js"]   (a second nadir build in the
 *      same repetitions: the before/after of an optimization, both against CRFsuite)
 *
 * --input conll: nadir reads the CoNLL columns with graphs/chunk.json instead
 * (the same attributes, extracted by nadir's templates; CRFsuite still reads
 * the attribute files).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scoreChunks } from "../../src/eval/chunks.ts";
import { benchArgs } from "./args.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../..");
const a = benchArgs({
  corpus: join(root, "../shared/corpora/conll2000"),
  tools: join(root, "../shared/tools"),
  out: "/tmp/nadir-vs-crfsuite",
  repeat: "3",
  "lbfgs-repeat": "2",
  only: "ap,pa,lbfgs,lbfgs2,tag",
  epochs: "10",
  iterations: "100",
  nadir: `${process.execPath} ${join(root, "bin/nadir.js")}`,
  input: "crfsuite",
  features: "observed",
  before: "",
  cli: "",
});
if (a.input !== "crfsuite" && a.input !== "conll") {
  process.stderr.write(`ERROR: --input: expected crfsuite or conll, got ${a.input}\n`);
  process.exit(1);
}
mkdirSync(a.out, { recursive: true });
const only = new Set(a.only.split(","));
const helper = join(here, "vs-crfsuite.py");

/** The C front end (scripts/bench/peers/crfsuite), built when missing; null: not measured. */
const cli: string | null = (() => {
  if (a.cli === "none") return null;
  const bin = a.cli || join(a.out, "crfsuite-cli");
  if (existsSync(bin)) return bin;
  const r = spawnSync("sh", [join(here, "peers/crfsuite/build.sh"), bin], { encoding: "utf8" });
  if (r.status === 0 && existsSync(bin)) return bin;
  process.stderr.write(
    `note: the C front end was not built (${r.stderr.trim()}); its columns stay empty\n`,
  );
  return null;
})();

// CRFsuite data files, as CRFsuite's example script writes them
const data: Record<string, string> = {};
for (const part of ["train", "test"]) {
  const dst = join(a.out, `${part}.crfsuite.txt`);
  if (!existsSync(dst)) {
    const src = readFileSync(join(a.corpus, `${part}.txt`));
    const tool = join(a.tools, "conll2crfsuite.py");
    writeFileSync(dst, execFileSync("python3", [tool], { input: src, maxBuffer: 1 << 30 }));
  }
  data[part] = dst;
}

interface Run {
  wall: number;
  rssMb: number;
  stdout: string;
}

/** One child process under /usr/bin/time: wall seconds (measured here) and peak RSS. */
function timed(cmd: string[]): Run {
  const tf = join(a.out, "time.txt");
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", "-o", tf, ...cmd], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`ERROR: ${cmd.join(" ")} exited ${r.status}\n${r.stderr}\n`);
    process.exit(1);
  }
  const kb = Number(readFileSync(tf, "utf8").trim().split("\n").at(-1));
  return { wall, rssMb: kb / 1024, stdout: r.stdout };
}

const nadir = a.nadir.split(" ");
/** --before CMD: another nadir build (e.g. the commit before an optimization) run in the same repetitions. */
const before = a.before ? a.before.split(" ") : null;

const nadirOptions: Record<string, string[]> = {
  ap: ["--loss", "perceptron", "--optimizer", "perceptron", "--epochs", a.epochs],
  pa: ["--loss", "hinge", "--optimizer", "pa", "--pa-c", "1", "--epochs", a.epochs],
  lbfgs: ["--loss", "nll", "--optimizer", "lbfgs", "--iterations", a.iterations, "--c2", "1"],
  lbfgs2: ["--loss", "nll", "--optimizer", "lbfgs", "--iterations", a.iterations, "--c2", "1"],
};

/** nadir's input: the same CRFsuite data files, or the CoNLL columns with graphs/chunk.json. */
const conll = a.input === "conll";
const nadirData = (part: string) => (conll ? join(a.corpus, `${part}.txt`) : data[part]!);

function nadirTrain(alg: string, bin = nadir, who = "nadir"): Run {
  const m = join(a.out, `${who}-${alg}.nadir`);
  const graph = join(root, conll ? "graphs/chunk.json" : "graphs/crfsuite.json");
  return timed([
    ...bin,
    "train",
    "--graph",
    graph,
    "--train",
    nadirData("train"),
    "--model",
    m,
    "--threads",
    alg === "lbfgs2" ? "2" : "1",
    "--features",
    a.features,
    ...nadirOptions[alg]!,
  ]);
}

/**
 * The C process's command: it reads the attribute file, or with --input conll
 * the CoNLL columns through CRFsuite's extractor (conll2crfsuite.py piped
 * into it: what a CRFsuite user runs, since CRFsuite has no templates).
 */
function cliCommand(args: string[], part: "train" | "test"): string[] {
  if (!conll) return [cli!, ...args, data[part]!];
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const tool = join(a.tools, "conll2crfsuite.py");
  const pipe = `python3 ${q(tool)} < ${q(join(a.corpus, `${part}.txt`))} | ${[cli!, ...args, "-"].map(q).join(" ")}`;
  return ["sh", "-c", pipe];
}

/** The same training as a C process: the front end reads the data, trains, writes the model. */
function cliTrain(alg: string): Run {
  const m = join(a.out, `cli-${alg}.crfsuite`);
  const algorithm = alg === "lbfgs2" ? "lbfgs" : alg;
  const n = algorithm === "lbfgs" ? a.iterations : a.epochs;
  const params = ["-p", `max_iterations=${n}`];
  if (algorithm === "lbfgs") params.push("-p", "c1=0", "-p", "c2=1");
  return timed(cliCommand(["learn", "-a", algorithm, ...params, "-m", m], "train"));
}

function cliTag(alg: string): Run & { f1: number } {
  const out = join(a.out, `cli-${alg}.pred`);
  const m = join(a.out, `cli-${alg}.crfsuite`);
  const r = timed(cliCommand(["tag", "-m", m], "test"));
  writeFileSync(out, r.stdout);
  return { ...r, f1: f1(out) };
}

function crfTrain(alg: string): Run & { trainS: number } {
  const m = join(a.out, `crfsuite-${alg}.crfsuite`);
  const algorithm = alg === "lbfgs2" ? "lbfgs" : alg;
  const n = algorithm === "lbfgs" ? a.iterations : a.epochs;
  const cmd = ["python3", helper, "train", "--train", data.train!, "--model", m];
  const r = timed([...cmd, "--algorithm", algorithm, "--iterations", n, "--c2", "1"]);
  return { ...r, trainS: JSON.parse(r.stdout.trim().split("\n").at(-1)!).train_s };
}

/** Gold labels of the test file (first field of each line), one array per sequence. */
function goldLabels(): string[][] {
  const seqs: string[][] = [[]];
  for (const line of readFileSync(data.test!, "utf8").split("\n")) {
    if (line.trim() === "") {
      if (seqs.at(-1)!.length) seqs.push([]);
    } else seqs.at(-1)!.push(line.slice(0, line.indexOf("\t")));
  }
  if (!seqs.at(-1)!.length) seqs.pop();
  return seqs;
}

/** Predicted labels from a file: the last tab field of each line, a blank line between sequences. */
function predictedLabels(file: string): string[][] {
  const seqs: string[][] = [[]];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.trim() === "") {
      if (seqs.at(-1)!.length) seqs.push([]);
    } else seqs.at(-1)!.push(line.trimEnd().split(/[\t ]/).at(-1)!);
  }
  if (!seqs.at(-1)!.length) seqs.pop();
  return seqs;
}

const gold = goldLabels();
const f1 = (file: string) => scoreChunks(gold, predictedLabels(file)).f1;

function nadirTag(alg: string, bin = nadir, who = "nadir"): Run & { f1: number } {
  const out = join(a.out, `${who}-${alg}.pred`);
  const m = join(a.out, `${who}-${alg}.nadir`);
  const r = timed([...bin, "tag", "--model", m, nadirData("test"), "--output", out]);
  return { ...r, f1: f1(out) };
}

function crfTag(alg: string): Run & { f1: number } {
  const out = join(a.out, `crfsuite-${alg}.pred`);
  const m = join(a.out, `crfsuite-${alg}.crfsuite`);
  const r = timed(["python3", helper, "tag", "--model", m, "--test", data.test!, "--out", out]);
  return { ...r, f1: f1(out) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  const k = s.length >> 1;
  return s.length % 2 ? s[k]! : (s[k - 1]! + s[k]!) / 2;
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

interface Row {
  what: string;
  nadir: number[];
  peer: number[];
  peerProcess?: number[];
  nadirRss: number[];
  peerRss: number[];
  nadirF1?: number;
  peerF1?: number;
  before: number[];
  beforeRss: number[];
  beforeF1?: number;
  /** the C front end's whole process */
  cli: number[];
  cliRss: number[];
  cliF1?: number;
}
const rows: Row[] = [];

/** A row with no measurement yet. */
function emptyRow(what: string): Row {
  return {
    what,
    nadir: [],
    peer: [],
    nadirRss: [],
    peerRss: [],
    before: [],
    beforeRss: [],
    cli: [],
    cliRss: [],
  };
}

for (const alg of ["ap", "pa", "lbfgs", "lbfgs2"]) {
  if (!only.has(alg)) continue;
  const reps = Number(alg.startsWith("lbfgs") ? a["lbfgs-repeat"] : a.repeat);
  const row: Row = { ...emptyRow(`train ${alg}`), peerProcess: [] };
  for (let i = 0; i < reps; i++) {
    const order =
      i % 2 === 0 ? ["nadir", "before", "peer", "cli"] : ["cli", "peer", "before", "nadir"];
    for (const who of order) {
      if (who === "before" && !before) continue;
      if (who === "cli" && !cli) continue;
      if (who === "cli") {
        const r = cliTrain(alg);
        row.cli.push(r.wall);
        row.cliRss.push(r.rssMb);
      } else if (who === "nadir") {
        const r = nadirTrain(alg);
        row.nadir.push(r.wall);
        row.nadirRss.push(r.rssMb);
      } else if (who === "before") {
        const r = nadirTrain(alg, before!, "before");
        row.before.push(r.wall);
        row.beforeRss.push(r.rssMb);
      } else {
        const r = crfTrain(alg);
        row.peer.push(r.trainS);
        row.peerProcess!.push(r.wall);
        row.peerRss.push(r.rssMb);
      }
      process.stderr.write(`${alg} ${who} done (${i + 1}/${reps})\n`);
    }
  }
  row.nadirF1 = nadirTag(alg).f1;
  row.peerF1 = crfTag(alg).f1;
  if (before) row.beforeF1 = nadirTag(alg, before, "before").f1;
  if (cli) row.cliF1 = cliTag(alg).f1;
  rows.push(row);
  const med = (xs: number[]) => median(xs).toFixed(2);
  process.stderr.write(
    `${alg}: nadir ${med(row.nadir)} s ${med(row.nadirRss)} MB F1 ${row.nadirF1.toFixed(2)}; CRFsuite train() ${med(row.peer)} s, process ${med(row.peerProcess!)} s, ${med(row.peerRss)} MB F1 ${row.peerF1.toFixed(2)}\n`,
  );
}

if (only.has("tag")) {
  const alg = only.has("ap") || !existsSync(join(a.out, "nadir-lbfgs.nadir")) ? "ap" : "lbfgs";
  if (!existsSync(join(a.out, `nadir-${alg}.nadir`))) nadirTrain(alg);
  if (!existsSync(join(a.out, `crfsuite-${alg}.crfsuite`))) crfTrain(alg);
  if (before && !existsSync(join(a.out, `before-${alg}.nadir`))) nadirTrain(alg, before, "before");
  const row = emptyRow(`tag (${alg} model)`);
  if (cli && !existsSync(join(a.out, `cli-${alg}.crfsuite`))) cliTrain(alg);
  for (let i = 0; i < Number(a.repeat) + 2; i++) {
    const order =
      i % 2 === 0 ? ["nadir", "before", "peer", "cli"] : ["cli", "peer", "before", "nadir"];
    for (const who of order) {
      if (who === "before" && !before) continue;
      if (who === "cli" && !cli) continue;
      if (who === "cli") {
        const r = cliTag(alg);
        row.cli.push(r.wall);
        row.cliRss.push(r.rssMb);
        row.cliF1 = r.f1;
      } else if (who === "peer") {
        const r = crfTag(alg);
        row.peer.push(r.wall);
        row.peerRss.push(r.rssMb);
        row.peerF1 = r.f1;
      } else {
        const r = who === "nadir" ? nadirTag(alg) : nadirTag(alg, before!, "before");
        (who === "nadir" ? row.nadir : row.before).push(r.wall);
        (who === "nadir" ? row.nadirRss : row.beforeRss).push(r.rssMb);
        if (who === "nadir") row.nadirF1 = r.f1;
        else row.beforeF1 = r.f1;
      }
    }
  }
  rows.push(row);
  if (!conll) rows.push(tagFloor(alg));
}

/**
 * The floor of `tag`: each side tags an empty file, which costs its start-up
 * and its model load and nothing else (crfsuite input only: with --input
 * conll the C side is a pipeline whose floor is Python's).
 */
function tagFloor(alg: string): Row {
  const empty = join(a.out, "empty.txt");
  writeFileSync(empty, "");
  const row = emptyRow(`tag-floor (${alg} model; an empty file: start-up + model load only)`);
  const sink = join(a.out, "empty.pred");
  for (let i = 0; i < Number(a.repeat) + 2; i++) {
    for (const who of i % 2 === 0 ? ["nadir", "peer", "cli"] : ["cli", "peer", "nadir"]) {
      if (who === "cli" && !cli) continue;
      const r =
        who === "nadir"
          ? timed([
              ...nadir,
              "tag",
              "--model",
              join(a.out, `nadir-${alg}.nadir`),
              empty,
              "--output",
              sink,
            ])
          : who === "peer"
            ? timed([
                "python3",
                helper,
                "tag",
                "--model",
                join(a.out, `crfsuite-${alg}.crfsuite`),
                "--test",
                empty,
                "--out",
                sink,
              ])
            : timed([cli!, "tag", "-m", join(a.out, `cli-${alg}.crfsuite`), empty]);
      const [t, m] =
        who === "nadir"
          ? [row.nadir, row.nadirRss]
          : who === "peer"
            ? [row.peer, row.peerRss]
            : [row.cli, row.cliRss];
      t.push(r.wall);
      m.push(r.rssMb);
    }
  }
  return row;
}

const targets: Record<string, { time?: number; rss?: number; f1?: number }> = {
  "train ap": { time: 0.8, rss: 1.5 },
  "train lbfgs": { time: 1, f1: 93.6 },
  "train lbfgs2": { time: 1, f1: 93.6 },
};

const lines = [
  "",
  `nadir vs CRFsuite (python-crfsuite ${pyVersion()}), CoNLL-2000; CRFsuite reads the data files of conll2crfsuite.py, nadir ${conll ? "the CoNLL columns with graphs/chunk.json" : "the same files with graphs/crfsuite.json"}; medians [min–max] over the repetitions, interleaved`,
  "",
  `| run | nadir s | CRFsuite s (train() / process) | time ratio | nadir RSS MB | CRFsuite RSS MB | RSS ratio | F1 nadir / CRFsuite | target |${cli ? " C process s | time ratio vs C process | C RSS MB | RSS ratio vs C |" : ""}${before ? " before: time ratio, RSS ratio, F1 |" : ""}`,
  `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${cli ? " --- | --- | --- | --- |" : ""}${before ? " --- |" : ""}`,
];
const json: Record<string, unknown> = {
  bench: "vs-crfsuite",
  input: a.input,
  features: a.features,
  repeat: Number(a.repeat),
};
for (const r of rows) {
  const tr = median(r.nadir) / median(r.peer);
  const rr = median(r.nadirRss) / median(r.peerRss);
  const t = targets[r.what.split(" (")[0]!];
  const goals: string[] = [];
  if (r.what.startsWith("tag (")) goals.push(`time ≤ 1 ${tr <= 1 ? "✓" : "✗"}`);
  if (t?.time !== undefined) goals.push(`time ≤ ${t.time} ${tr <= t.time ? "✓" : "✗"}`);
  if (t?.rss !== undefined) goals.push(`RSS ≤ ${t.rss} ${rr <= t.rss ? "✓" : "✗"}`);
  if (t?.f1 !== undefined) goals.push(`F1 ≥ ${t.f1} ${(r.nadirF1 ?? 0) >= t.f1 ? "✓" : "✗"}`);
  const peerCol = r.peerProcess
    ? `${median(r.peer).toFixed(2)} [${spread(r.peer)}] / ${median(r.peerProcess).toFixed(2)}`
    : `${median(r.peer).toFixed(2)} [${spread(r.peer)}]`;
  const hasCli = r.cli.length > 0;
  const cr = hasCli ? median(r.nadir) / median(r.cli) : Number.NaN;
  const crr = hasCli ? median(r.nadirRss) / median(r.cliRss) : Number.NaN;
  const cliCols = !cli
    ? ""
    : hasCli
      ? ` ${median(r.cli).toFixed(2)} [${spread(r.cli)}] | **${cr.toFixed(2)}** | ${median(r.cliRss).toFixed(0)} | **${crr.toFixed(2)}** |`
      : " — | — | — | — |";
  lines.push(
    `| ${r.what} | ${median(r.nadir).toFixed(2)} [${spread(r.nadir)}] | ${peerCol} | **${tr.toFixed(2)}** | ${median(r.nadirRss).toFixed(0)} | ${median(r.peerRss).toFixed(0)} | **${rr.toFixed(2)}** | ${r.nadirF1 === undefined ? "—" : `${r.nadirF1.toFixed(2)} / ${r.peerF1?.toFixed(2)}`} | ${goals.join(", ")} |${cliCols}${before ? ` ${(median(r.before) / median(r.peer)).toFixed(2)}, ${(median(r.beforeRss) / median(r.peerRss)).toFixed(2)}, ${r.beforeF1?.toFixed(2)} |` : ""}`,
  );
  json[r.what.split(" (")[0]!.replace(" ", "_")] = {
    nadir_s: r.nadir,
    crfsuite_s: r.peer,
    crfsuite_process_s: r.peerProcess,
    nadir_rss_mb: r.nadirRss,
    crfsuite_rss_mb: r.peerRss,
    time_ratio: Number(tr.toFixed(3)),
    rss_ratio: Number(rr.toFixed(3)),
    nadir_f1: r.nadirF1,
    crfsuite_f1: r.peerF1,
    ...(hasCli
      ? {
          cli_s: r.cli,
          cli_rss_mb: r.cliRss,
          cli_f1: r.cliF1,
          cli_time_ratio: Number(cr.toFixed(3)),
          cli_rss_ratio: Number(crr.toFixed(3)),
        }
      : {}),
    ...(before
      ? {
          before_s: r.before,
          before_rss_mb: r.beforeRss,
          before_time_ratio: Number((median(r.before) / median(r.peer)).toFixed(3)),
          before_rss_ratio: Number((median(r.beforeRss) / median(r.peerRss)).toFixed(3)),
          before_f1: r.beforeF1,
        }
      : {}),
  };
}
process.stdout.write(`${lines.join("\n")}\n\n${JSON.stringify(json)}\n`);

function pyVersion(): string {
  try {
    return execFileSync(
      "python3",
      ["-c", "import pycrfsuite,importlib.metadata as m;print(m.version('python-crfsuite'))"],
      {
        encoding: "utf8",
      },
    ).trim();
  } catch {
    return "?";
  }
}
