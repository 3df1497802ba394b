import { fileURLToPath } from "node:url";
import { Lbl } from "../complete/lbl.ts";
import { FIRST_WORD, tokenize } from "../complete/text.ts";
import { logPartition, topK } from "../complete/topk.ts";
import { NadirError } from "../core/errors.ts";
import { type Command, flag } from "./args.ts";

/**
 * The small model shipped with nadir (models/completion.lbl, int8 rows), which
 * `nadir complete` loads when --model is not given, from wherever it runs.
 */
export const DEFAULT_COMPLETION_MODEL = fileURLToPath(
  new URL("../../models/completion.lbl", import.meta.url),
);

const BLANK = /_{2,}/;

export const completeCommand: Command = {
  name: "complete",
  summary: "fill the blank ___ of a sentence with the lowest-energy words (log-bilinear model)",
  usage:
    'nadir complete "The cat ate the ___" [--model M] [-k K] [--beta B] [--choices a,b,c] [--json]',
  options: [
    flag(
      "model",
      "completion model (default: the one shipped in models/; scripts/bench/completion.ts trains others)",
    ),
    { name: "k", type: "int", default: 10, min: 1, help: "how many words to print" },
    {
      name: "beta",
      type: "number",
      default: 1,
      min: 1e-12,
      help: "inverse temperature β of the Gibbs distribution",
    },
    flag("choices", "comma-separated candidate words (probabilities are over these)"),
    flag("json", "one JSON object instead of tab-separated lines", "boolean"),
  ],
  run(v, positionals) {
    if (positionals.length !== 1)
      throw new NadirError(
        "E_ARG",
        'complete: expected one sentence with a blank, e.g. "The cat ate the ___"',
      );
    const sentence = positionals[0]!;
    const parts = sentence.split(BLANK);
    if (parts.length !== 2)
      throw new NadirError("E_ARG", "complete: the sentence must contain exactly one blank (___)");
    const model = Lbl.load((v.model as string | undefined) || DEFAULT_COMPLETION_MODEL);
    const k = (v.k as number | undefined) ?? 10;
    const beta = (v.beta as number | undefined) ?? 1;
    // the model was trained on whole sentences, which end with punctuation:
    // a sentence that stops at the blank is closed with "."
    const right = tokenize(parts[1]!);
    const ctx = model.context(tokenize(parts[0]!), right.length > 0 ? right : ["."]);
    const E = model.energies(ctx, new Float64Array(model.V));
    let ids: Int32Array | undefined;
    const choices = ((v.choices as string | undefined) ?? "")
      .split(",")
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== "");
    if (choices.length > 0) {
      const unknown = choices.filter((c) => model.vocab.id(c) < FIRST_WORD);
      if (unknown.length > 0)
        throw new NadirError(
          "E_ARG",
          `complete: not in the model's vocabulary: ${unknown.join(", ")}`,
        );
      ids = Int32Array.from(new Set(choices.map((c) => model.vocab.id(c))));
    }
    const logZ = logPartition(E, beta, ids);
    const best = topK(E, k, ids).map((s) => ({
      word: model.vocab.words[s.id]!,
      energy: s.energy,
      probability: Math.exp(-beta * s.energy - logZ),
    }));
    if (v.json === true) {
      process.stdout.write(
        `${JSON.stringify({ beta, freeEnergy: -logZ / beta, completions: best })}\n`,
      );
      return;
    }
    process.stdout.write("word\tenergy\tprobability\n");
    for (const b of best)
      process.stdout.write(
        `${b.word}\t${b.energy.toFixed(4)}\t${b.probability.toExponential(4)}\n`,
      );
  },
};
