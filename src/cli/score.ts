import { NadirError } from "../core/errors.ts";
import { streamCorpus } from "../data/corpus.ts";
import { Model } from "../model.ts";
import { type Command, flag } from "./args.ts";
import { Output } from "./output.ts";

export const scoreCommand: Command = {
  name: "score",
  summary: "energy, Gibbs probability and detection verdict of given labelings",
  usage: "nadir score --model MODEL [FILE|-] [--beta B] [--columns N] [--json]",
  options: [
    flag("model", "model file written by nadir train"),
    {
      name: "beta",
      type: "number",
      default: 1,
      min: 1e-12,
      help: "inverse temperature β of the Gibbs distribution",
    },
    {
      name: "columns",
      type: "int",
      default: 0,
      min: 0,
      help: "score the last N columns as labelings (0: every column after the model's input columns)",
    },
    flag("json", "one JSON object per sentence instead of tab-separated lines", "boolean"),
    flag("output", "write here instead of stdout (atomically)"),
  ],
  async run(v, positionals) {
    if (!v.model)
      throw new NadirError("E_ARG", "score: --model is required (see nadir score --help)");
    if (positionals.length > 1)
      throw new NadirError("E_ARG", `score: expected one input file, got ${positionals.length}`);
    const model = Model.load(v.model as string);
    const beta = (v.beta as number | undefined) ?? 1;
    const out = new Output(v.output as string | undefined);
    const json = v.json === true;
    const inputCols = model.nColumns - 1;
    let n = 0;
    if (!json) out.write("sentence\tcolumn\tenergy\tprobability\tdetection_score\tcompatible\n");
    for await (const s of streamCorpus(positionals[0] ?? "-", model.spec.format)) {
      n++;
      const T = s.tokens.length;
      if (T === 0) continue;
      const width = s.tokens[0]!.length;
      const wanted =
        (v.columns as number | undefined) ||
        (model.spec.format === "conllu" ? 1 : width - inputCols);
      if (wanted < 1 || wanted > width) {
        throw new NadirError(
          "E_PARSE",
          `expected at least one labeling column after the ${inputCols} input columns, got ${width} columns`,
          {
            file: s.file,
            line: s.firstLine,
          },
        );
      }
      const d = model.density(s.tokens, beta);
      const rows = [];
      for (let c = width - wanted; c < width; c++) {
        const col = model.spec.format === "conllu" ? model.spec.label : c;
        const y = s.tokens.map((tok) => tok[col]!);
        let energy: number;
        try {
          energy = model.energy(s.tokens, y);
        } catch (e) {
          throw new NadirError("E_PARSE", (e as Error).message, {
            file: s.file,
            line: s.firstLine,
          });
        }
        const probability = Math.exp(-beta * (energy - d.freeEnergy));
        const score = (energy - d.freeEnergy) / T;
        // the verdict uses the calibrated threshold at the β it was calibrated with
        const calibrated = model.extra.detectThreshold !== undefined;
        rows.push({
          column: col + 1,
          energy,
          probability,
          score,
          compatible: calibrated ? model.detect(s.tokens, y).compatible : null,
        });
      }
      if (json) {
        out.write(
          `${JSON.stringify({ sentence: n, freeEnergy: d.freeEnergy, entropy: d.entropy, labelings: rows })}\n`,
        );
      } else {
        for (const r of rows) {
          out.write(
            `${n}\t${r.column}\t${r.energy.toFixed(4)}\t${r.probability.toExponential(4)}\t${r.score.toFixed(4)}\t${r.compatible ?? "-"}\n`,
          );
        }
      }
    }
    out.close();
  },
};
