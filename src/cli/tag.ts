/**
 * `nadir tag`: label a corpus with a trained model, streaming. Each sentence
 * is written (and flushed) as soon as it is decoded, in input order, with
 * flat memory on unbounded input, so `nadir tag --model M -` can sit in a
 * live pipeline or be a Spark `RDD.pipe` stage.
 *
 * Text output (CoNLL models): every input line echoed byte for byte (invalid
 * UTF-8 included) with the prediction(s) appended, a blank line after each
 * sentence. CoNLL-U models: `FORM GOLD PREDICTED…` rows (an empty FORM is
 * written as `_`), the columns `nadir eval` and `nadir score` read.
 *
 * JSON Lines output (`--jsonl`, or `--json`, the same): one object per
 * sentence, one per line:
 *   { "sentence": 1,              // 1-based sentence number
 *     "line": 12,                 // line of its first token in the input
 *     "tokens": ["He", …],        // the word column
 *     "labels": ["B-NP", …],      // argmin_y E(y, x)
 *     "energy": -12.3,            // E of that labeling (lower is better)
 *     "confidence": [0.98, …],    // --marginals: P_β(y_t = label_t | x)
 *     "marginals": [{"B-NP": 0.98, …}, …], // --marginals: every label's marginal
 *     "beta": 1,                  // --marginals: β of those marginals
 *     "kbest": [{"labels": […], "energy": -12.3}, …] } // --kbest K > 1, best first
 */

import { type CorpusSentence, checkTokenColumns, streamCorpus } from "../architecture/corpus.ts";
import { Model } from "../tagger/model.ts";
import { type Command, flag, oneInput, required } from "./args.ts";
import { Output } from "./output.ts";

const JSON_SCHEMA =
  '--json/--jsonl: one object per sentence per line: {"sentence", "line", "tokens", "labels", "energy"' +
  ', with --marginals "confidence", "marginals" (label → P per token), "beta"; with --kbest K>1 "kbest": [{"labels", "energy"}]}';

export const tagCommand: Command = {
  name: "tag",
  summary: "label a corpus with a trained model (prediction appended as the last column)",
  usage: `nadir tag --model MODEL [FILE|-] [--output FILE] [--kbest K] [--marginals] [--beta B] [--jsonl]\n\n${JSON_SCHEMA}`,
  options: [
    flag("model", "model file written by nadir train"),
    flag(
      "output",
      "write here (streamed to a temporary file, renamed at the end) instead of stdout",
    ),
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
    flag("jsonl", "JSON Lines: one object per sentence (schema above)", "boolean"),
    flag("json", "the same as --jsonl", "boolean"),
  ],
  async run(v, positionals) {
    const modelPath = required(v, "model", "tag");
    const input = oneInput(positionals, "tag");
    const model = Model.load(modelPath);
    const opts: TagOptions = {
      k: (v.kbest as number | undefined) ?? 1,
      marginals: v.marginals === true,
      beta: (v.beta as number | undefined) ?? 1,
      json: v.jsonl === true || v.json === true,
    };
    const out = new Output(v.output as string | undefined);
    try {
      let n = 0;
      for await (const s of streamCorpus(input, model.spec.format)) {
        checkTokenColumns(s, model.fx.minColumns);
        await out.write(formatSentence(model, s, ++n, opts));
      }
      await out.close();
    } catch (e) {
      out.abort();
      throw e;
    }
  },
};

interface TagOptions {
  k: number;
  marginals: boolean;
  beta: number;
  json: boolean;
}

/** One decoded sentence in the chosen output form (a string, or bytes when echoing invalid UTF-8). */
function formatSentence(
  model: Model,
  s: CorpusSentence,
  n: number,
  o: TagOptions,
): string | Uint8Array {
  const T = s.tokens.length;
  const L = model.labels.length;
  const answers =
    o.k === 1 && !o.marginals && !o.json
      ? [{ labels: model.tag(s.tokens), energy: 0 }]
      : model.decide(s.tokens, o.k);
  const mu = o.marginals && T > 0 ? model.density(s.tokens, o.beta).marginals : null;
  const formCol = model.spec.columns.w ?? (model.spec.format === "conllu" ? 1 : 0);
  if (o.json) {
    const best = answers[0]!;
    const obj: Record<string, unknown> = {
      sentence: n,
      line: s.firstLine,
      // the word column; for CRFsuite data (no words) each item's attribute fields
      tokens:
        model.spec.format === "crfsuite"
          ? s.tokens.map((tok) => tok.slice(1).flatMap((f) => f.split("\t")))
          : s.tokens.map((tok) => tok[formCol] ?? tok[0]!),
      labels: best.labels,
      energy: best.energy,
    };
    if (mu) {
      const conf = new Array<number>(T);
      const marg = new Array<Record<string, number>>(T);
      for (let t = 0; t < T; t++) {
        const row: Record<string, number> = {};
        for (let l = 0; l < L; l++) row[model.labels[l]!] = mu[t * L + l]!;
        marg[t] = row;
        conf[t] = row[best.labels[t]!]!;
      }
      obj.confidence = conf;
      obj.marginals = marg;
      obj.beta = o.beta;
    }
    if (o.k > 1) obj.kbest = answers;
    return `${JSON.stringify(obj)}\n`;
  }
  const conllu = model.spec.format === "conllu";
  const labelCol = model.spec.label;
  const index = mu ? new Map(model.labels.map((l, i) => [l, i])) : null;
  let text = "";
  const parts: (string | Uint8Array)[] = [];
  for (let t = 0; t < T; t++) {
    const tok = s.tokens[t]!;
    let cols = "";
    for (const a of answers) {
      const lab = a.labels[t]!;
      cols += `\t${lab}`;
      if (mu) cols += `/${mu[t * L + index!.get(lab)!]!.toFixed(4)}`;
    }
    // fewer labelings than K exist (short sentences): keep the rows rectangular
    for (let i = answers.length; i < o.k; i++) cols += "\t_";
    const raw = s.raw?.[t];
    if (model.spec.format === "crfsuite") {
      // CRFsuite data: the reference label and the prediction(s), as `crfsuite tag -r` writes them
      text += `${tok[0]}${cols}\n`;
    } else if (conllu) {
      // CoNLL-U: FORM, gold label, prediction(s) — the columns `nadir eval` reads.
      const rest = `\t${tok[labelCol] || "_"}${cols}\n`;
      const rawForm = raw ? tabField(raw, formCol) : undefined;
      if (rawForm && rawForm.length > 0) {
        parts.push(text, rawForm);
        text = rest;
      } else text += `${tok[formCol] || "_"}${rest}`;
    } else {
      // the appended columns follow the line's own separator (tab if it has one)
      const tabbed = raw ? raw.includes(9) : s.lines[t]!.includes("\t");
      const tail = `${tabbed ? cols : cols.replaceAll("\t", " ")}\n`;
      if (raw) {
        parts.push(text, raw);
        text = tail;
      } else text += s.lines[t]! + tail;
    }
  }
  text += "\n";
  if (parts.length === 0) return text;
  parts.push(text);
  return Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)));
}

/** The bytes of tab-separated field `i` of a raw line. */
function tabField(raw: Uint8Array, i: number): Uint8Array | undefined {
  let start = 0;
  for (let f = 0; f < i; f++) {
    const tab = raw.indexOf(9, start);
    if (tab < 0) return undefined;
    start = tab + 1;
  }
  const end = raw.indexOf(9, start);
  return raw.subarray(start, end < 0 ? raw.length : end);
}
