// The library from strict TypeScript (tsc --strict, exactOptionalPropertyTypes,
// noPropertyAccessFromIndexSignature): the types say what each call takes and gives.
import {
  type LabeledSentence,
  NadirError,
  type ScoredLabeling,
  Tagger,
  type TaggerTrainOptions,
} from "nadir";

const data: LabeledSentence[] = [
  { tokens: ["the", "dog", "barks"], labels: ["DET", "NOUN", "VERB"] },
  { tokens: ["a", "cat", "sleeps"], labels: ["DET", "NOUN", "VERB"] },
];
const options: TaggerTrainOptions = { epochs: 3, loss: "hinge", optimizer: "pa" };
const tagger: Tagger = Tagger.train(data, options);
const tags: string[] = tagger.predict(["the", "cat", "barks"]);
const many: string[][] = tagger.predict([
  ["a", "dog"],
  ["the", "cat"],
]);
const best: ScoredLabeling[] = tagger.kbest(["a", "dog", "sleeps"], 2);
const marginals: Record<string, number>[] = tagger.marginals(["a", "dog"], { beta: 2 });
// biome-ignore lint/complexity/useLiteralKeys: noPropertyAccessFromIndexSignature asks for brackets
const pNoun: number | undefined = marginals[1]?.["NOUN"];
const bytes: Uint8Array = tagger.toBytes();
try {
  Tagger.fromBytes(bytes.subarray(0, 10));
} catch (e) {
  if (e instanceof NadirError) console.log(`refused: ${e.code}`);
}
console.log(tags.join(" "), many.length, best[0]?.energy, pNoun);
