// The four questions on a trained tagger: the best labeling, the k best with
// their energies, the Gibbs marginals at an inverse temperature β, and the
// energy / probability of a given labeling. Then the model travels as a file
// and as bytes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tagger } from "nadir";

const words = {
  DET: ["the", "a", "this"],
  NOUN: ["dog", "cat", "bird", "fish"],
  VERB: ["runs", "sleeps", "eats"],
};
const data = [];
for (const d of words.DET)
  for (const n of words.NOUN)
    for (const v of words.VERB) data.push({ tokens: [d, n, v], labels: ["DET", "NOUN", "VERB"] });

const tagger = Tagger.train(data, { epochs: 5, seed: 1 });
const sentence = ["this", "bird", "runs"];

console.log("predict:", tagger.predict(sentence).join(" "));
for (const { labels, energy } of tagger.kbest(sentence, 3))
  console.log("kbest:", labels.join(" "), energy.toFixed(3));
for (const beta of [0.1, 1, 10]) {
  const m = tagger.marginals(sentence, { beta });
  console.log(`marginals at beta=${beta}: P(token 1 = NOUN) = ${m[1].NOUN.toFixed(4)}`);
}
const s = tagger.score(sentence, ["DET", "NOUN", "VERB"]);
console.log(`score: energy ${s.energy.toFixed(3)}, probability ${s.probability.toFixed(4)}`);

const dir = mkdtempSync(join(tmpdir(), "nadir-example-"));
try {
  tagger.save(join(dir, "tagger.nadir"));
  const fromFile = Tagger.load(join(dir, "tagger.nadir"));
  const fromBytes = Tagger.fromBytes(tagger.toBytes());
  console.log(
    "reloaded:",
    fromFile.predict(sentence).join(" "),
    "|",
    fromBytes.predict(sentence).join(" "),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
