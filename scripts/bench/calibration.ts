/**
 * Calibrated energies on UD English EWT (UPOS): temperature scaling of the
 * Gibbs distribution fitted on dev (β of least sequence NLL), the expected
 * calibration error of the token marginals before (β = 1) and after, and two
 * separately trained models — the averaged perceptron on graphs/pos.json and
 * a log-loss model on a wider feature set — combined by adding their
 * calibrated energies β₁E₁ + β₂E₂, against each alone, on dev and test.
 *
 *   npx tsx scripts/bench/calibration.ts
 */

import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec, parseSpec } from "../../src/architecture/spec.ts";
import { calibrationError, EnergySum, fitTemperature } from "../../src/tagger/calibration.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import type { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({ dir: "corpora/ud-english-ewt" });
const [train, dev, test] = await Promise.all(
  ["train", "dev", "test"].map((s) => readCorpus(`${args.dir}/en_ewt-ud-${s}.conllu.gz`, "conllu")),
);
const pos = loadSpec("pos");
// a second expert: a wider window, longer suffixes and full shapes, trained with the log loss
const source = pos.source as { derived: Record<string, string>; templates: string[] };
const lite = parseSpec(
  {
    ...source,
    name: "pos-wide",
    derived: { ...source.derived, s5: "suffix(lw,5)", sh: "shape(w)" },
    templates: [
      ...source.templates,
      ...["lw[-3]", "lw[3]", "s5[0]", "sh[0]", "s3[-2]", "s3[2]", "lw[-2]|lw[-1]", "lw[1]|lw[2]"],
    ],
  },
  "pos-wide",
);
const t0 = performance.now();
const a = trainTagger({ spec: pos, train: train!, dev: dev! }).model;
const b = trainTagger({
  spec: lite,
  train: train!,
  dev: dev!,
  options: { loss: "log", optimizer: "sgd", eta: 0.1, epochs: 8 },
}).model;
const trainS = (performance.now() - t0) / 1000;
type Sentences = NonNullable<typeof test>;
const acc = (tag: (s: Sentences[number]) => string[], data: Sentences | undefined) => {
  let ok = 0;
  let n = 0;
  for (const s of data!) {
    const y = tag(s);
    s.tokens.forEach((tok, t) => {
      n++;
      if (tok[3] === y[t]) ok++;
    });
  }
  return (100 * ok) / n;
};
const report: Record<string, unknown> = { train_s: +trainS.toFixed(1) };
const betas: number[] = [];
for (const [name, m] of [
  ["perceptron, pos.json", a],
  ["log loss, pos-wide", b],
] as [string, Model][]) {
  const fit = fitTemperature(m, dev!);
  betas.push(fit.beta);
  const before = calibrationError(m, test!, 1);
  const after = calibrationError(m, test!, fit.beta);
  const row = {
    beta: +fit.beta.toPrecision(4),
    dev_nll_per_sentence: {
      at_1: +(fit.nllAtOne / fit.sentences).toFixed(4),
      at_beta: +(fit.nll / fit.sentences).toFixed(4),
    },
    test_ece: { at_1: +before.ece.toFixed(4), at_beta: +after.ece.toFixed(4) },
    dev_acc: +evaluateTagger(m, dev!).accuracy.toFixed(2),
    test_acc: +evaluateTagger(m, test!).accuracy.toFixed(2),
  };
  report[name] = row;
  console.log(name, JSON.stringify(row));
}
const sum = new EnergySum([a, b], betas);
const raw = new EnergySum([a, b], [1, 1]);
const joint = sum.fit(dev!);
report.combined = {
  betas: betas.map((x) => +x.toPrecision(4)),
  dev_acc: +acc((s) => sum.tag(s), dev).toFixed(2),
  test_acc: +acc((s) => sum.tag(s), test).toFixed(2),
  jointly_fitted: {
    betas: joint.betas.map((x) => +x.toPrecision(4)),
    dev_acc: +acc((s) => joint.tag(s), dev).toFixed(2),
    test_acc: +acc((s) => joint.tag(s), test).toFixed(2),
  },
  uncalibrated_sum: {
    dev_acc: +acc((s) => raw.tag(s), dev).toFixed(2),
    test_acc: +acc((s) => raw.tag(s), test).toFixed(2),
  },
};
console.log("combined", JSON.stringify(report.combined));
console.log(JSON.stringify(report));
