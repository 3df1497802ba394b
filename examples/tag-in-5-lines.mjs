// Tagging in five lines: train a tagger on sentences held in memory, tag a new one.
import { Tagger } from "nadir";

const data = [
  { tokens: ["the", "dog", "barks"], labels: ["DET", "NOUN", "VERB"] },
  { tokens: ["a", "cat", "sleeps"], labels: ["DET", "NOUN", "VERB"] },
  { tokens: ["the", "bird", "sings"], labels: ["DET", "NOUN", "VERB"] },
];
const tagger = Tagger.train(data, { epochs: 5 });
console.log(tagger.predict(["a", "dog", "sings"]).join(" "));
