/**
 * `nadir score`: energy, Gibbs probability and detection verdict of the
 * labelings in a file. It reads every format `nadir tag` writes: CoNLL rows
 * with appended label columns (`label/probability` of --marginals and the `_`
 * padding of --kbest included), CoNLL-U files (the label column), and the
 * `FORM GOLD PREDICTED…` rows tag writes for CoNLL-U models. A label the
 * model does not know gives its labeling probability 0 (energy +∞); such
 * tokens are counted and reported once, at the end, on stderr.
 */

import { checkTokenColumns, lineOfToken } from "../architecture/corpus.ts";
import { NadirError } from "../core/errors.ts";
import { ConllParser, type Sentence } from "../data/conll.ts";
import { ConlluParser, type ConlluSentence } from "../data/conllu.ts";
import { displayName, readLineBatches } from "../data/lines.ts";
import type { Model } from "../tagger/model.ts";
import { Model as ModelClass } from "../tagger/model.ts";
import { type Command, flag, oneInput, required } from "./args.ts";
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
    flag(
      "output",
      "write here (streamed to a temporary file, renamed at the end) instead of stdout",
    ),
  ],
  async run(v, positionals) {
    const modelPath = required(v, "model", "score");
    const input = oneInput(positionals, "score");
    const model = ModelClass.load(modelPath);
    const beta = (v.beta as number | undefined) ?? 1;
    const json = v.json === true;
    const known = new Map(model.labels.map((l, i) => [l, i]));
    const unknown = { tokens: 0, labelings: 0, examples: [] as string[] };
    const out = new Output(v.output as string | undefined);
    try {
      let n = 0;
      if (!json)
        await out.write("sentence\tcolumn\tenergy\tprobability\tdetection_score\tcompatible\n");
      for await (const s of readScoreInput(input, model, v.columns as number)) {
        n++;
        const T = s.tokens.length;
        const d = model.density(s.tokens, beta);
        const rows = [];
        for (const lab of s.labelings) {
          const y = lab.labels.map((l) => cleanLabel(l, known));
          let bad = 0;
          for (let t = 0; t < T; t++) {
            if (known.has(y[t]!)) continue;
            bad++;
            if (unknown.examples.length < 3)
              unknown.examples.push(`'${y[t]}' at ${s.file}:${s.lineOf(t)}`);
          }
          if (bad > 0) {
            unknown.tokens += bad;
            unknown.labelings++;
            rows.push({
              column: lab.column,
              energy: null,
              probability: 0,
              score: null,
              compatible: false,
            });
            continue;
          }
          const energy = model.energy(s.tokens, y);
          // the verdict uses the calibrated threshold at the β it was calibrated with
          const calibrated = model.extra.detectThreshold !== undefined;
          rows.push({
            column: lab.column,
            energy,
            probability: Math.exp(-beta * (energy - d.freeEnergy)),
            score: (energy - d.freeEnergy) / T,
            compatible: calibrated ? model.detect(s.tokens, y).compatible : null,
          });
        }
        if (json) {
          await out.write(
            `${JSON.stringify({ sentence: n, freeEnergy: d.freeEnergy, entropy: d.entropy, labelings: rows })}\n`,
          );
        } else {
          let text = "";
          for (const r of rows) {
            const e = r.energy === null ? "Infinity" : r.energy.toFixed(4);
            const sc = r.score === null ? "Infinity" : r.score.toFixed(4);
            text += `${n}\t${r.column}\t${e}\t${r.probability.toExponential(4)}\t${sc}\t${r.compatible ?? "-"}\n`;
          }
          await out.write(text);
        }
      }
      await out.close();
    } catch (e) {
      out.abort();
      throw e;
    }
    if (unknown.tokens > 0) {
      process.stderr.write(
        `warning: ${unknown.tokens} token${unknown.tokens === 1 ? "" : "s"} in ${unknown.labelings} labeling${unknown.labelings === 1 ? "" : "s"} had labels unknown to the model (${unknown.examples.join(", ")}${unknown.tokens > unknown.examples.length ? ", …" : ""}): those labelings were given probability 0\n`,
      );
    }
  },
};

/** A tag output column: `label/probability` (tag --marginals) stands for the label. */
function cleanLabel(l: string, known: Map<string, number>): string {
  if (known.has(l)) return l;
  const slash = l.lastIndexOf("/");
  if (slash > 0 && Number.isFinite(Number(l.slice(slash + 1)))) {
    const base = l.slice(0, slash);
    if (known.has(base)) return base;
  }
  return l;
}

interface ScoreSentence {
  /** tokens as the model reads them */
  tokens: string[][];
  labelings: { column: number; labels: string[] }[];
  file: string;
  lineOf(t: number): number;
}

/**
 * The sentences of a file to score. A CoNLL-U model reads either a CoNLL-U
 * file (decided by its first word line having 10 tab-separated fields) or
 * tag's `FORM GOLD PREDICTED…` rows.
 */
async function* readScoreInput(
  path: string,
  model: Model,
  columns: number | undefined,
): AsyncGenerator<ScoreSentence> {
  const file = displayName(path);
  const inputCols = model.nColumns - 1;
  let mode: "conll" | "conllu" | "rows" | undefined =
    model.spec.format === "conllu" ? undefined : "conll";
  let conll: ConllParser | undefined;
  let conllu: ConlluParser | undefined;
  const sents: (Sentence | ConlluSentence)[] = [];
  const convert = (s: Sentence | ConlluSentence): ScoreSentence | undefined => {
    const T = s.tokens.length;
    if (T === 0) return undefined;
    const lineOf = (t: number) => lineOfToken(s, t);
    if (mode === "conllu") {
      const col = model.spec.label;
      return {
        tokens: s.tokens,
        labelings: [{ column: col + 1, labels: s.tokens.map((tok) => tok[col]!) }],
        file: s.file,
        lineOf,
      };
    }
    const width = s.tokens[0]!.length;
    const first = mode === "rows" ? 1 : inputCols;
    const wanted = columns || width - first;
    if (wanted < 1 || wanted > width - (mode === "rows" ? 1 : 0)) {
      throw new NadirError(
        "E_PARSE",
        `expected at least one labeling column after the ${first} input column${first === 1 ? "" : "s"}, got ${width} columns`,
        { file: s.file, line: s.firstLine },
      );
    }
    const labelings = [];
    for (let c = width - wanted; c < width; c++) {
      const labels = s.tokens.map((tok) => tok[c]!);
      if (labels.every((l) => l === "_")) continue; // tag --kbest padding: no such labeling
      labelings.push({ column: c + 1, labels });
    }
    let tokens = s.tokens;
    if (mode === "rows") {
      // FORM GOLD PREDICTED…: FORM goes where the model reads its word column
      const formCol = model.spec.columns.w ?? 1;
      for (const [name, c] of Object.entries(model.spec.columns)) {
        if (c !== formCol) {
          throw new NadirError(
            "E_PARSE",
            `rows of 'FORM GOLD PREDICTED' hold only the word; model ${model.spec.name} also reads column '${name}' (score the CoNLL-U file instead)`,
            { file: s.file, line: s.firstLine },
          );
        }
      }
      tokens = s.tokens.map((tok) => {
        const row = new Array<string>(10).fill("_");
        row[formCol] = tok[0]!;
        return row;
      });
    }
    checkTokenColumns({ ...s, tokens }, model.fx.minColumns);
    return { tokens, labelings, file: s.file, lineOf };
  };
  const minColumns = mode === "conll" ? inputCols + 1 : 2;
  for await (const { lines, firstLine, raw } of readLineBatches(path)) {
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!;
      if (mode === undefined) {
        if (text.trim() === "" || text.startsWith("#")) continue;
        mode = text.split("\t").length === 10 ? "conllu" : "rows";
      }
      if (mode === "conllu") {
        conllu ??= new ConlluParser(file);
        conllu.push(text, firstLine + i, sents as ConlluSentence[], raw?.[i]);
      } else {
        conll ??= new ConllParser(file, { minColumns: mode === "conll" ? minColumns : 2 });
        conll.push(text, firstLine + i, sents as Sentence[], raw?.[i]);
      }
    }
    for (const s of sents) {
      const c = convert(s);
      if (c) yield c;
    }
    sents.length = 0;
  }
  conll?.end(sents as Sentence[]);
  conllu?.end(sents as ConlluSentence[]);
  for (const s of sents) {
    const c = convert(s);
    if (c) yield c;
  }
}
