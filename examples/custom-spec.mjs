// A custom spec: which columns feed the energy, the feature templates, the
// structure and the label encoding — here a chunker over word and POS columns
// with BIOES constraints, given tokens as records by column name.
import { Tagger } from "nadir";

const spec = {
  name: "tiny-chunk",
  format: "conll",
  columns: ["w", "pos"],
  derived: { lw: "lower(w)" },
  templates: ["bias", "lw[0]", "pos[-1]", "pos[0]", "pos[1]", "pos[-1]|pos[0]"],
  outside: "pad",
  encoding: "iob2",
  constrained: true,
  metric: "chunk-f1",
};
const row = (w, pos) => ({ w, pos });
const data = [
  {
    tokens: [row("He", "PRP"), row("reckons", "VBZ"), row("the", "DT"), row("deficit", "NN")],
    labels: ["B-NP", "B-VP", "B-NP", "I-NP"],
  },
  {
    tokens: [row("The", "DT"), row("pound", "NN"), row("is", "VBZ"), row("falling", "VBG")],
    labels: ["B-NP", "I-NP", "B-VP", "I-VP"],
  },
  {
    tokens: [row("Prices", "NNS"), row("rose", "VBD"), row("the", "DT"), row("day", "NN")],
    labels: ["B-NP", "B-VP", "B-NP", "I-NP"],
  },
];
const chunker = Tagger.train(data, { spec, epochs: 10 });
console.log(
  chunker.predict([row("The", "DT"), row("deficit", "NN"), row("rose", "VBD")]).join(" "),
);
console.log(`chunk F1 on the training data: ${chunker.evaluate(data).chunks.f1.toFixed(1)}`);
