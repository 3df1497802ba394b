import { NadirError } from "../core/errors.ts";
import { streamCorpus } from "../data/corpus.ts";
import { Model } from "../model.ts";
import { type Command, flag } from "./args.ts";
import { Output } from "./output.ts";

export const tagCommand: Command = {
  name: "tag",
  summary: "label a corpus with a trained model (prediction appended as the last column)",
  usage: "nadir tag --model MODEL [FILE|-] [--output FILE]",
  options: [
    flag("model", "model file written by nadir train"),
    flag("output", "write here instead of stdout (atomically)"),
  ],
  async run(v, positionals) {
    if (!v.model) throw new NadirError("E_ARG", "tag: --model is required (see nadir tag --help)");
    if (positionals.length > 1)
      throw new NadirError("E_ARG", `tag: expected one input file, got ${positionals.length}`);
    const model = Model.load(v.model as string);
    const input = positionals[0] ?? "-";
    const out = new Output(v.output as string | undefined);
    const conllu = model.spec.format === "conllu";
    const labelCol = model.spec.label;
    for await (const s of streamCorpus(input, model.spec.format)) {
      const labels = model.tag(s.tokens);
      for (let t = 0; t < s.tokens.length; t++) {
        const tok = s.tokens[t]!;
        if (conllu) {
          // CoNLL-U: FORM, gold label, prediction — the columns `nadir eval` reads.
          const form = tok[model.spec.columns.w ?? 1] ?? tok[1]!;
          out.write(`${form}\t${tok[labelCol] ?? "_"}\t${labels[t]}\n`);
        } else {
          const line = s.lines[t]!;
          out.write(`${line}${line.includes("\t") ? "\t" : " "}${labels[t]}\n`);
        }
      }
      out.write("\n");
    }
    out.close();
  },
};
