import { loadSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { readCorpus } from "../data/corpus.ts";
import { TRAIN_OPTIONS } from "../optimize/options.ts";
import { trainTagger } from "../optimize/train.ts";
import { type Command, flag } from "./args.ts";
import { Progress } from "./progress.ts";

export const trainCommand: Command = {
  name: "train",
  summary: "train a sequence labeler on a corpus and write a model file",
  usage: "nadir train --graph SPEC --train FILE [--dev FILE] --model OUT [options]",
  options: [
    flag("graph", "graph spec (graphs/*.json): columns, templates, structure"),
    flag("train", "training corpus (CoNLL columns or CoNLL-U per the spec; .gz ok; - = stdin)"),
    flag("dev", "development corpus: scored after every epoch, best epoch kept"),
    flag("model", "where to write the model (written atomically)"),
    ...TRAIN_OPTIONS,
  ],
  async run(v) {
    for (const k of ["graph", "train", "model"]) {
      if (!v[k])
        throw new NadirError("E_ARG", `train: --${k} is required (see nadir train --help)`);
    }
    const spec = loadSpec(v.graph as string);
    const train = await readCorpus(v.train as string, spec.format);
    const dev = v.dev ? await readCorpus(v.dev as string, spec.format) : undefined;
    const progress = new Progress("training");
    const options: Record<string, unknown> = {};
    for (const o of TRAIN_OPTIONS) if (v[o.name] !== undefined) options[o.name] = v[o.name];
    let epochs = 0;
    const result = trainTagger({
      spec,
      train,
      dev,
      options,
      onProgress: (done, total) => progress.update(done, total, `epoch ${epochs + 1}`),
      onEpoch: (r) => {
        epochs = r.epoch;
        progress.done();
        const dev = r.dev === undefined ? "" : ` dev ${spec.metric} ${r.dev.toFixed(2)}`;
        process.stderr.write(
          `epoch ${r.epoch}: ${r.mistakes} mistakes, loss ${r.loss.toFixed(3)}${dev} (${r.seconds.toFixed(1)} s)\n`,
        );
      },
    });
    process.stderr.write(`inference: ${result.inference}\n`);
    result.model.save(v.model as string);
    process.stderr.write(
      `trained on ${train.length} sentences: ${result.model.fx.numAttributes} attributes, ${result.model.labels.length} labels; ` +
        `kept epoch ${result.bestEpoch}; model written to ${v.model}\n`,
    );
  },
};
