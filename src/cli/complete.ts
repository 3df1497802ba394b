import { Completer, DEFAULT_COMPLETION_MODEL } from "../api/completer.ts";
import { NadirError } from "../core/errors.ts";
import { type Command, flag } from "./args.ts";

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
    const completer = Completer.load((v.model as string | undefined) || DEFAULT_COMPLETION_MODEL);
    const beta = (v.beta as number | undefined) ?? 1;
    const best = completer.complete(positionals[0]!, {
      k: (v.k as number | undefined) ?? 10,
      beta,
      choices: ((v.choices as string | undefined) ?? "").split(","),
    });
    if (v.json === true) {
      process.stdout.write(
        `${JSON.stringify({ beta, freeEnergy: completer.freeEnergy(positionals[0]!, { beta, choices: ((v.choices as string | undefined) ?? "").split(",") }), completions: best })}\n`,
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
