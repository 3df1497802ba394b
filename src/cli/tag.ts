import { NadirError } from "../core/errors.ts";
import { streamCorpus } from "../data/corpus.ts";
import { Model } from "../model.ts";
import { type Command, flag } from "./args.ts";
import { Output } from "./output.ts";

export const tagCommand: Command = {
  name: "tag",
  summary: "label a corpus with a trained model (prediction appended as the last column)",
  usage: "nadir tag --model MODEL [FILE|-] [--output FILE] [--kbest K] [--marginals] [--beta B]",
  options: [
    flag("model", "model file written by nadir train"),
    flag("output", "write here instead of stdout (atomically)"),
    {
      name: "kbest",
      type: "int",
      default: 1,
      min: 1,
      help: "append the K lowest-energy labelings, best first, one column each",
    },
    flag(
      "marginals",
      "write each predicted label as label/probability, its Gibbs marginal at β",
      "boolean",
    ),
    {
      name: "beta",
      type: "number",
      default: 1,
      min: 1e-12,
      help: "inverse temperature β of the marginals",
    },
  ],
  async run(v, positionals) {
    if (!v.model) throw new NadirError("E_ARG", "tag: --model is required (see nadir tag --help)");
    if (positionals.length > 1)
      throw new NadirError("E_ARG", `tag: expected one input file, got ${positionals.length}`);
    const model = Model.load(v.model as string);
    const input = positionals[0] ?? "-";
    const out = new Output(v.output as string | undefined);
    const k = (v.kbest as number | undefined) ?? 1;
    const marginals = v.marginals === true;
    const beta = (v.beta as number | undefined) ?? 1;
    const conllu = model.spec.format === "conllu";
    const labelCol = model.spec.label;
    const L = model.labels.length;
    for await (const s of streamCorpus(input, model.spec.format)) {
      const T = s.tokens.length;
      const answers =
        k === 1 && !marginals ? [{ labels: model.tag(s.tokens) }] : model.decide(s.tokens, k);
      const mu = marginals && T > 0 ? model.density(s.tokens, beta).marginals : null;
      for (let t = 0; t < T; t++) {
        const tok = s.tokens[t]!;
        let cols = "";
        for (const a of answers) {
          const lab = a.labels[t]!;
          cols += `\t${lab}`;
          if (mu) cols += `/${mu[t * L + model.labels.indexOf(lab)]!.toFixed(4)}`;
        }
        // fewer labelings than K exist (short sentences): keep the rows rectangular
        for (let i = answers.length; i < k; i++) cols += "\t_";
        if (conllu) {
          // CoNLL-U: FORM, gold label, prediction(s) — the columns `nadir eval` reads.
          const form = tok[model.spec.columns.w ?? 1] ?? tok[1]!;
          out.write(`${form}\t${tok[labelCol] ?? "_"}${cols}\n`);
        } else {
          const line = s.lines[t]!;
          out.write(
            line.includes("\t") ? `${line}${cols}\n` : `${line}${cols.replaceAll("\t", " ")}\n`,
          );
        }
      }
      out.write("\n");
    }
    out.close();
  },
};
