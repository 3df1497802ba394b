// Sentence completion with the model shipped in the package: the lowest-energy
// words for the blank, or a ranking of given choices.
import { Completer } from "nadir";

const completer = Completer.load();
for (const c of completer.complete("Mr. Sherlock ___ was seated at the table .", { k: 3 }))
  console.log(`${c.word}\t${c.energy.toFixed(3)}\t${c.probability.toFixed(4)}`);
const [best] = completer.complete("I beg your ___ .", { choices: ["pardon", "money", "house"] });
console.log(`best choice: ${best.word} (p = ${best.probability.toFixed(3)})`);
