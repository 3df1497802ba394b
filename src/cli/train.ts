import { existsSync, realpathSync } from "node:fs";
import { resolve } from "node:path";
import { type CorpusSentence, readCorpus, streamCorpus } from "../architecture/corpus.ts";
import { readCrfppTemplate } from "../architecture/crfpp-template.ts";
import { loadSpec, parseSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import {
  applySpecOptions,
  SPEC_OPTIONS,
  splitSpecOptions,
  TRAIN_OPTIONS,
  trainOptions,
} from "../optimize/options.ts";
import type { EpochReport } from "../optimize/perceptron.ts";
import { trainTaggerStream } from "../tagger/train.ts";
import { type Command, flag, required } from "./args.ts";
import { Progress } from "./progress.ts";

/** The same file (after symlinks) when it exists, else the same absolute path. */
function samePath(a: string, b: string): boolean {
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return real(a) === real(b);
}

const num = (x: number | undefined, digits = 4): string =>
  x === undefined
    ? "-"
    : Math.abs(x) >= 1e5 || (x !== 0 && Math.abs(x) < 1e-3)
      ? x.toExponential(3)
      : x.toFixed(digits);

/** The spec of a CRF++ template file; what the translation dropped goes to stderr. */
function templateSpec(path: string) {
  const t = readCrfppTemplate(path);
  for (const note of t.notes) process.stderr.write(`${path}: ${note}\n`);
  return parseSpec(t.spec, path);
}

export const trainCommand: Command = {
  name: "train",
  summary: "train a sequence labeler on a corpus and write a model file",
  usage:
    "nadir train --graph SPEC --train FILE [--dev FILE] --model OUT [options]\n       nadir train --template CRFPP_TEMPLATE --train FILE --model OUT [options]",
  options: [
    flag("graph", "graph spec (graphs/*.json): columns, templates, structure"),
    flag(
      "template",
      "a CRF++ template file (U00:%x[-1,0]/%x[0,0] … B) instead of --graph: translated into a spec",
    ),
    flag("train", "training corpus (CoNLL columns or CoNLL-U per the spec; .gz ok; - = stdin)"),
    flag("dev", "development corpus: scored after every epoch, best epoch kept"),
    flag("model", "where to write the model (written atomically)"),
    ...TRAIN_OPTIONS,
    ...SPEC_OPTIONS,
  ],
  async run(v) {
    if (v.graph && v.template)
      throw new NadirError("E_ARG", "train: give --graph or --template, not both");
    if (!v.graph && !v.template)
      throw new NadirError(
        "E_ARG",
        "train: --graph (or --template, a CRF++ template) is required (see nadir train --help)",
      );
    required(v, "train", "train");
    const modelPath = required(v, "model", "train");
    for (const k of ["train", "dev", "graph", "template", "init", "resume"]) {
      const p = v[k] as string | undefined;
      if (p && p !== "-" && samePath(p, modelPath))
        throw new NadirError(
          "E_ARG",
          `train: --model ${modelPath} is also the --${k} file; it would be overwritten (choose another --model)`,
        );
    }
    const spec = v.template ? templateSpec(v.template as string) : loadSpec(v.graph as string);
    const options: Record<string, unknown> = {};
    for (const o of [...TRAIN_OPTIONS, ...SPEC_OPTIONS])
      if (v[o.name] !== undefined) options[o.name] = v[o.name];
    // bad options fail now, before the corpus is read
    const split = splitSpecOptions(options);
    const effective = applySpecOptions(spec, split.spec);
    trainOptions(effective.train, split.train);
    const read = async (path: string, what: string) => {
      const t0 = performance.now();
      const s = await readCorpus(path, spec.format);
      let tokens = 0;
      for (const x of s) tokens += x.tokens.length;
      process.stderr.write(
        `read ${what} ${path === "-" ? "<stdin>" : path}: ${s.length} sentences, ${tokens} tokens (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
      return s;
    };
    const dev = v.dev ? await read(v.dev as string, "dev data") : undefined;
    // The training corpus streams into feature extraction: its text is never
    // all in memory at once (peak memory: the extracted instances, not the file).
    const trainPath = v.train as string;
    const t0 = performance.now();
    let sentences = 0;
    let tokens = 0;
    async function* counted(): AsyncGenerator<CorpusSentence> {
      for await (const s of streamCorpus(trainPath, spec.format)) {
        sentences++;
        tokens += s.tokens.length;
        yield s;
      }
    }
    const lbfgs = (v.optimizer ?? (spec.train.optimizer as string | undefined)) === "lbfgs";
    const progress = new Progress("training", lbfgs ? "iterations" : "sentences");
    let epochs = 0;
    const result = await trainTaggerStream({
      spec,
      train: counted(),
      dev,
      options,
      onExtracted: (x) =>
        process.stderr.write(
          `read training data ${trainPath === "-" ? "<stdin>" : trainPath}: ${sentences} sentences, ${tokens} tokens (${((performance.now() - t0) / 1000).toFixed(1)} s, extraction included)\n` +
            `extracted ${x.attributes} attributes, ${x.labels} labels from ${x.sentences} sentences (${x.seconds.toFixed(1)} s)\n`,
        ),
      onProgress: (done, total) =>
        progress.update(done, total, lbfgs ? `iteration ${done}` : `epoch ${epochs + 1}`),
      onEpoch: (r: EpochReport) => {
        epochs = r.epoch;
        progress.done();
        const devScore = r.dev === undefined ? "" : `, dev ${effective.metric} ${r.dev.toFixed(2)}`;
        process.stderr.write(
          lbfgs
            ? `iteration ${r.epoch}, objective ${num(r.objective ?? r.loss * sentences)}, ‖g‖ ${num(r.gradNorm)}, step ${num(r.step)}${devScore} (${r.seconds.toFixed(1)} s)\n`
            : `epoch ${r.epoch}: ${r.mistakes} mistakes, loss ${r.loss.toFixed(3)}${devScore.replace(",", "")} (${r.seconds.toFixed(1)} s)\n`,
        );
      },
    });
    process.stderr.write(`inference: ${result.inference}\n`);
    result.model.save(modelPath);
    process.stderr.write(
      `trained on ${sentences} sentences: ${result.model.fx.numAttributes} attributes, ${result.model.labels.length} labels; ` +
        `kept ${lbfgs ? "iteration" : "epoch"} ${result.bestEpoch}; model written to ${modelPath}\n`,
    );
  },
};
