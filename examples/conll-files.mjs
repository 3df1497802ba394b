// Training from CoNLL-U files with a shipped spec, as `nadir train` does:
//   node examples/conll-files.mjs TRAIN.conllu[.gz] TEST.conllu[.gz]
// (defaults: the UD English EWT dev and test files shipped in nadir's repository).
import { readCorpus, Tagger } from "nadir";

const [
  train = "corpora/ud-english-ewt/en_ewt-ud-dev.conllu.gz",
  test = "corpora/ud-english-ewt/en_ewt-ud-test.conllu.gz",
] = process.argv.slice(2);

const trainSet = await readCorpus(train, "conllu");
const testSet = await readCorpus(test, "conllu");
const tagger = Tagger.train(trainSet, { spec: "pos", epochs: 5 });
const { accuracy, tokens } = tagger.evaluate(testSet);
console.log(
  `UPOS accuracy ${accuracy.toFixed(2)}% on ${tokens} tokens (trained on ${trainSet.length} sentences)`,
);
console.log(tagger.predict("I saw her duck .".split(" ")).join(" "));
