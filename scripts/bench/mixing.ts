/**
 * Parameter mixing on CoNLL-2000: the single-process averaged perceptron
 * against iterative parameter mixing over 1, 2, 4, 8 shards (threads =
 * min(shards, --max-threads)), 10 epochs each on train.txt with
 * graphs/chunk.json; F1 on test.txt by conlleval's rules (nothing is tuned on
 * it: no dev set, the last epoch's model). Time is the wall time of the
 * epochs (attribute extraction is the same for every row and reported once).
 * Prints a table, then one JSON line: {"rows":[{"shards","threads","f1","epochs_s"}…],…}
 *
 *   npx tsx scripts/bench/mixing.ts [--train FILE --test FILE --graph SPEC --epochs N
 *                                    --shards 1,2,4,8 --max-threads 2 --mixing uniform|weighted]
 */

import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs, rssMb } from "./args.ts";

const args = benchArgs({
  train: "../shared/corpora/conll2000/train.txt",
  test: "../shared/corpora/conll2000/test.txt",
  graph: "graphs/chunk.json",
  epochs: "10",
  shards: "1,2,4,8",
  "max-threads": "2",
  mixing: "uniform",
});

try {
  const spec = loadSpec(args.graph);
  const train = await readCorpus(args.train, spec.format);
  const test = await readCorpus(args.test, spec.format);
  const epochs = Number(args.epochs);
  const maxThreads = Number(args["max-threads"]);
  const runs: {
    label: string;
    shards: number;
    threads: number;
    options: Record<string, unknown>;
  }[] = [{ label: "single process", shards: 0, threads: 1, options: {} }];
  for (const s of args.shards.split(",").map(Number)) {
    const threads = Math.min(s, maxThreads);
    runs.push({
      label: "mixing",
      shards: s,
      threads,
      options: { shards: s, threads, mixing: args.mixing },
    });
  }
  const rows: {
    shards: number;
    threads: number;
    f1: number;
    epochs_s: number;
    mistakes: number;
  }[] = [];
  let extract = 0;
  for (const r of runs) {
    const result = trainTagger({
      spec,
      train,
      options: { epochs, ...r.options },
      onEpoch: (e) =>
        process.stderr.write(
          `  epoch ${e.epoch}: ${e.mistakes} mistakes (${e.seconds.toFixed(2)} s)\n`,
        ),
    });
    extract = result.extractSeconds;
    const ev = evaluateTagger(result.model, test);
    const row = {
      shards: r.shards,
      threads: r.threads,
      f1: Number(ev.chunks!.f1.toFixed(2)),
      epochs_s: Number(result.trainSeconds.toFixed(2)),
      mistakes: result.reports.at(-1)!.mistakes,
    };
    rows.push(row);
    process.stderr.write(
      `${r.label}, ${r.shards || "-"} shards, ${r.threads} thread(s): F1 ${row.f1}, epochs ${row.epochs_s} s\n`,
    );
  }
  const base = rows[0]!;
  const lines = [
    "| run | shards | threads | F1 | Δ F1 | epochs (s) | last-epoch mistakes |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r, i) =>
        `| ${i === 0 ? "averaged perceptron, one process" : "parameter mixing"} | ${r.shards || "–"} | ${r.threads} | ${r.f1.toFixed(2)} | ${i === 0 ? "" : (r.f1 - base.f1).toFixed(2)} | ${r.epochs_s.toFixed(1)} | ${r.mistakes} |`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  console.log(
    JSON.stringify({
      epochs,
      mixing: args.mixing,
      extract_s: Number(extract.toFixed(2)),
      rows,
      rss_mb: rssMb(),
    }),
  );
} catch (e) {
  process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
  process.exit(1);
}
