/**
 * `npm start`: the main job on the shipped corpus. Trains a UPOS tagger on
 * UD English EWT train (graphs/pos.json, averaged perceptron, best epoch on
 * dev), reports token accuracy on EWT test, saves the model, reloads it and
 * tags a sample sentence.
 */
import { mkdirSync } from "node:fs";
import { readCorpus } from "../src/architecture/corpus.ts";
import { loadSpec } from "../src/architecture/spec.ts";
import { evaluateTagger } from "../src/tagger/evaluate.ts";
import { Model } from "../src/tagger/model.ts";
import { trainTagger } from "../src/tagger/train.ts";

const dir = "corpora/ud-english-ewt";
const t0 = performance.now();
const spec = loadSpec("graphs/pos.json");
const [train, dev, test] = await Promise.all(
  ["train", "dev", "test"].map((s) => readCorpus(`${dir}/en_ewt-ud-${s}.conllu.gz`, spec.format)),
);
console.log(
  `UD English EWT: ${train!.length} train, ${dev!.length} dev, ${test!.length} test sentences (CC BY-SA 4.0, see ${dir}/SOURCE.md)`,
);
const result = trainTagger({
  spec,
  train: train!,
  dev: dev!,
  onEpoch: (r) =>
    console.log(
      `epoch ${String(r.epoch).padStart(2)}: ${r.mistakes} sentences wrong, dev accuracy ${r.dev?.toFixed(2)}% (${r.seconds.toFixed(1)} s)`,
    ),
});
console.log(
  `kept epoch ${result.bestEpoch}: ${result.model.fx.numAttributes} attributes × ${result.model.labels.length} labels`,
);
const ev = evaluateTagger(result.model, test!);
console.log(`UPOS accuracy on EWT test: ${ev.accuracy.toFixed(2)}% over ${ev.tokens} tokens`);

mkdirSync("models", { recursive: true });
const path = "models/ewt-upos.nadir";
result.model.save(path);
const model = Model.load(path);
const sample = "The quick brown fox jumps over the lazy dog .".split(" ");
const tags = model.tagWords(sample);
console.log(`model saved to ${path} and reloaded; it tags:`);
console.log(sample.map((w, i) => `${w}/${tags[i]}`).join(" "));
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
