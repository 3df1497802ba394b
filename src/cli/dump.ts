/**
 * `nadir dump MODEL [--top K] [--json]`: what a model holds — labels,
 * transition energies, the K strongest attributes per label (lowest and
 * highest energies), counts, the spec and the settings saved with it. Works
 * on nadir models and on CRFsuite model files alike.
 */
import { NadirError } from "../core/errors.ts";
import { describeModel, formatDescription } from "../tagger/inspect.ts";
import { Model } from "../tagger/model.ts";
import { type Command, flag } from "./args.ts";

export const dumpCommand: Command = {
  name: "dump",
  summary:
    "show a model: labels, transition energies, strongest attributes per label, counts, spec",
  usage: "nadir dump MODEL [--top K] [--json]",
  options: [
    {
      name: "top",
      type: "int",
      default: 10,
      min: 0,
      help: "attributes per label, each way (lowest and highest energies)",
    },
    flag("json", "one JSON object instead of text", "boolean"),
  ],
  run(v, positionals) {
    if (positionals.length !== 1)
      throw new NadirError(
        "E_ARG",
        `dump: expected one model file, got ${positionals.length} (see nadir dump --help)`,
      );
    const d = describeModel(Model.load(positionals[0]!), (v.top as number | undefined) ?? 10);
    process.stdout.write(v.json === true ? `${JSON.stringify(d)}\n` : formatDescription(d));
  },
};
