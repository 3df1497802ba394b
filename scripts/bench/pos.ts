/**
 * UPOS tagging benchmark on UD English EWT: train graphs/pos.json with the
 * averaged perceptron (10 epochs, best epoch on dev), report token accuracy
 * on test. train_s counts reading the files and extracting attributes.
 * Last line: {"accuracy":…,"train_s":…}
 *
 *   npx tsx scripts/bench/pos.ts [--train FILE --dev FILE --test FILE --graph SPEC]
 */

import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const dir = "corpora/ud-english-ewt";
const args = benchArgs({
  train: `${dir}/en_ewt-ud-train.conllu.gz`,
  dev: `${dir}/en_ewt-ud-dev.conllu.gz`,
  test: `${dir}/en_ewt-ud-test.conllu.gz`,
  graph: "graphs/pos.json",
  epochs: "10",
});

try {
  const spec = loadSpec(args.graph);
  const t0 = performance.now();
  const train = await readCorpus(args.train, spec.format);
  const dev = args.dev ? await readCorpus(args.dev, spec.format) : undefined;
  const result = trainTagger({
    spec,
    train,
    dev,
    options: { epochs: Number(args.epochs) },
    onEpoch: (r) =>
      process.stderr.write(
        `epoch ${r.epoch}: dev ${r.dev?.toFixed(2)} (${r.seconds.toFixed(2)} s)\n`,
      ),
  });
  const trainS = (performance.now() - t0) / 1000;
  const test = await readCorpus(args.test, spec.format);
  const ev = evaluateTagger(result.model, test);
  process.stderr.write(
    `kept epoch ${result.bestEpoch}; ${result.model.fx.numAttributes} attributes; test ${ev.tokens} tokens, ` +
      `${Math.round(ev.tokensPerSecond)} tokens/s\n`,
  );
  console.log(
    JSON.stringify({
      accuracy: Number(ev.accuracy.toFixed(2)),
      train_s: Number(trainS.toFixed(2)),
    }),
  );
} catch (e) {
  process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
  process.exit(1);
}
