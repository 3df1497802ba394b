import {
  buildTrainingSet,
  encodeSentence,
  FeatureExtractor,
  type SentenceLike,
} from "../architecture/features.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { scoreSequences } from "../eval/evaluate.ts";
import { viterbi, viterbiInto } from "../inference/viterbi.ts";
import { Model } from "../model.ts";
import { type TrainOptions, trainOptions } from "./options.ts";
import { type EpochReport, trainPerceptron } from "./perceptron.ts";

export interface TrainInput {
  spec: GraphSpec;
  train: readonly SentenceLike[];
  dev?: readonly SentenceLike[];
  /** Explicit options; they win over the spec's `train` section and the defaults. */
  options?: Partial<TrainOptions> | Record<string, unknown>;
  onEpoch?: (r: EpochReport) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface TrainResult {
  model: Model;
  reports: EpochReport[];
  bestEpoch: number;
  options: TrainOptions;
  /** seconds spent on feature extraction and on the epochs */
  extractSeconds: number;
  trainSeconds: number;
}

/**
 * Train a sequence labeler: extract attributes under the spec, build the
 * dictionaries, run the averaged perceptron with Viterbi decoding, and (with
 * a dev set) keep the epoch with the best dev score under the spec's metric.
 */
export function trainTagger(input: TrainInput): TrainResult {
  const { spec } = input;
  const options = trainOptions(spec.train, input.options as Record<string, unknown> | undefined);
  const t0 = performance.now();
  const fx = new FeatureExtractor(spec);
  const set = buildTrainingSet(fx, input.train);
  if (set.instances.length === 0)
    throw new NadirError("E_ARG", "the training data holds no sentence");
  const nColumns = input.train[0]?.tokens[0]?.length ?? 0;
  const labelNames = set.labels.names;
  const model = new Model(spec, labelNames, fx, null, nColumns);
  const dev = input.dev
    ?.filter((s) => s.tokens.length > 0)
    .map((s) => ({
      x: encodeSentence(fx, s, set.labels, false),
      gold: s.tokens.map((tok) =>
        spec.label < 0 ? tok[tok.length + spec.label]! : tok[spec.label]!,
      ),
    }));
  const extractSeconds = (performance.now() - t0) / 1000;

  const t1 = performance.now();
  const arch = model.arch;
  const evaluate = dev?.length
    ? (W: Float64Array) => {
        const gold: string[][] = [];
        const pred: string[][] = [];
        for (const d of dev) {
          const r = viterbi(arch.potentials(d.x, W), model.constraintsFor(d.x.T));
          gold.push(d.gold);
          pred.push(Array.from(r.labels, (l) => labelNames[l]!));
        }
        return scoreSequences(spec, gold, pred);
      }
    : undefined;
  const result = trainPerceptron(
    arch,
    set.instances,
    options,
    (p, x, out) => {
      viterbiInto(p, out, model.constraintsFor(x.T));
    },
    { evaluate, onEpoch: input.onEpoch, onProgress: input.onProgress },
  );
  model.W.set(result.W);
  return {
    model,
    reports: result.reports,
    bestEpoch: result.bestEpoch,
    options,
    extractSeconds,
    trainSeconds: (performance.now() - t1) / 1000,
  };
}
