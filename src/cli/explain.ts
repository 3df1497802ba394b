/**
 * `nadir explain --model M [FILE|-] [--top K] [--json]`: per sentence of a
 * corpus, the decision split into energies — per token the chosen label, the
 * runner-up (the label whose best labeling through the token comes next) and
 * its margin, and the attributes that push the chosen label down and the
 * runner-up up, as energy contributions (exact: E = Σ weights).
 */

import { checkTokenColumns, streamCorpus } from "../architecture/corpus.ts";
import { explainSentence, formatExplanation } from "../tagger/inspect.ts";
import { Model } from "../tagger/model.ts";
import { type Command, flag, oneInput, required } from "./args.ts";
import { Output } from "./output.ts";

export const explainCommand: Command = {
  name: "explain",
  summary:
    "per token, the attributes behind the chosen label and against the runner-up, as energies",
  usage: "nadir explain --model MODEL [FILE|-] [--top K] [--json] [--output FILE]",
  options: [
    flag("model", "model file (nadir or CRFsuite)"),
    { name: "top", type: "int", default: 5, min: 0, help: "attributes for and against, per token" },
    flag("json", "JSON Lines: one explanation object per sentence", "boolean"),
    flag("output", "write here instead of stdout"),
  ],
  async run(v, positionals) {
    const modelPath = required(v, "model", "explain");
    const input = oneInput(positionals, "explain");
    const model = Model.load(modelPath);
    const top = (v.top as number | undefined) ?? 5;
    const spec = model.spec;
    // the column naming a token: the word column if any, else the first input column
    const wordCol = spec.columns.w ?? Object.values(spec.columns)[0];
    const out = new Output(v.output as string | undefined);
    try {
      let n = 0;
      for await (const s of streamCorpus(input, spec.format)) {
        checkTokenColumns(s, model.fx.minColumns);
        const e = explainSentence(model, s.tokens, top);
        n++;
        if (v.json === true) {
          await out.write(`${JSON.stringify({ sentence: n, line: s.firstLine, ...e })}\n`);
        } else {
          const words = s.tokens.map((tok) =>
            wordCol !== undefined
              ? (tok[wordCol] ?? "")
              : // CRFsuite data: the w[0]= attribute, if the file has one
                (tok.find((f) => f.startsWith("w[0]="))?.slice(5) ?? ""),
          );
          await out.write(
            `${formatExplanation(e, words, `sentence ${n} (${s.file}:${s.firstLine})`)}\n`,
          );
        }
      }
      await out.close();
    } catch (e) {
      out.abort();
      throw e;
    }
  },
};
