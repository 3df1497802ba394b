/**
 * CoNLL-2002 Spanish NER: the chain (graphs/ner.json) and the skip-chain
 * (graphs/ner-skip.json) side by side, trained with the same loss and
 * optimizer, the best epoch chosen on esp.testa, scored once on esp.testb
 * (conlleval F1). The skip-chain decodes sentences with skip edges by BP.
 * Last line: {"chain":{"f1":…,"train_s":…},"skip":{"f1":…,"train_s":…}}
 *
 * `--inference meanfield` makes NLL on skip-chain sentences use mean-field
 * marginals instead of sum-product BP; `--only chain|skip` runs one of the two.
 *
 *   npx tsx scripts/bench/ner.ts [--train FILE --dev FILE --test FILE --loss perceptron --optimizer perceptron --epochs 15 --inference auto --only skip]
 */

import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const dir = "../shared/corpora/conll2002";
const args = benchArgs({
  train: `${dir}/esp.train`,
  dev: `${dir}/esp.testa`,
  test: `${dir}/esp.testb`,
  loss: "perceptron",
  optimizer: "perceptron",
  epochs: "15",
  offending: "hamming",
  inference: "auto",
  only: "",
});

try {
  const out: Record<
    string,
    { f1: number; train_s: number; dev_f1: number; epoch: number; skip_edges?: number }
  > = {};
  for (const [key, graph] of [
    ["chain", "graphs/ner.json"],
    ["skip", "graphs/ner-skip.json"],
  ] as const) {
    if (args.only && args.only !== key) continue;
    const spec = loadSpec(graph);
    const t0 = performance.now();
    const train = await readCorpus(args.train, spec.format);
    const dev = await readCorpus(args.dev, spec.format);
    const r = trainTagger({
      spec,
      train,
      dev,
      options: {
        loss: args.loss,
        optimizer: args.optimizer,
        epochs: Number(args.epochs),
        offending: args.offending,
        inference: args.inference,
      },
      onEpoch: (e) =>
        process.stderr.write(
          `${key} epoch ${e.epoch}: dev F1 ${e.dev?.toFixed(2)} (${e.seconds.toFixed(1)} s)\n`,
        ),
    });
    const s = (performance.now() - t0) / 1000;
    const test = await readCorpus(args.test, spec.format);
    const ev = evaluateTagger(r.model, test);
    let edges = 0;
    if (spec.skip) for (const sent of test) edges += r.model.encode(sent.tokens).skips?.length ?? 0;
    out[key] = {
      f1: Number(ev.chunks!.f1.toFixed(2)),
      train_s: Number(s.toFixed(1)),
      dev_f1: Number(Math.max(...r.reports.map((e) => e.dev ?? 0)).toFixed(2)),
      epoch: r.bestEpoch,
      ...(spec.skip ? { skip_edges: edges / 2 } : {}),
    };
    process.stderr.write(`${key}: ${JSON.stringify(out[key])}\n`);
  }
  console.log(JSON.stringify(out));
} catch (e) {
  process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
  process.exit(1);
}
