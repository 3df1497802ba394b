import {
  bindLookups,
  fitTrainingTables,
  needsTrainingTables,
  withOwnTables,
} from "../architecture/derived-tables.ts";
import {
  checkGoldColumns,
  Dictionary,
  encodeSentence,
  FeatureExtractor,
  labelOf,
  type SentenceLike,
  type TrainingSet,
  TrainingSetBuilder,
} from "../architecture/features.ts";
import { observedRows } from "../architecture/linear-chain.ts";
import { networkOf } from "../architecture/network.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { submodularProjection } from "../architecture/submodular.ts";
import { NadirError } from "../core/errors.ts";
import { mixingPlan, trainMixing } from "../optimize/mixing.ts";
import {
  applySpecOptions,
  splitSpecOptions,
  type TrainOptions,
  trainOptions,
} from "../optimize/options.ts";
import { type Decoder, type EpochReport, trainPerceptron } from "../optimize/perceptron.ts";
import { trainEnergy } from "../optimize/trainer.ts";
import { chooseBackend, structuresFor } from "../structure/index.ts";
import { trainNetwork } from "./deep.ts";
import { calibrateDetection, type DetectionCalibration } from "./detection.ts";
import { scoreSequences } from "./evaluate.ts";
import { combineModels, sameSpec } from "./mix-models.ts";
import { Model } from "./model.ts";

export interface TrainInput {
  spec: GraphSpec;
  train: readonly SentenceLike[];
  dev?: readonly SentenceLike[];
  /**
   * Explicit options; they win over the spec's `train` section and the
   * defaults. Spec-level settings (SPEC_OPTIONS: features, min-count, …)
   * override the spec's own.
   */
  options?: Partial<TrainOptions> | Record<string, unknown>;
  onEpoch?: (r: EpochReport) => void;
  onProgress?: (done: number, total: number) => void;
  /** Called once the attributes are extracted, before the first epoch. */
  onExtracted?: (info: {
    sentences: number;
    attributes: number;
    labels: number;
    seconds: number;
  }) => void;
  /** Start from this model's weights (a warm start; `options.init` names a model file instead). */
  init?: Model;
}

export interface TrainResult {
  model: Model;
  reports: EpochReport[];
  bestEpoch: number;
  options: TrainOptions;
  /** the inference the structure and `--inference` resolved to, in words */
  inference: string;
  /** detection threshold calibrated on dev (gold vs corrupted labelings), when a dev set was given */
  calibration: DetectionCalibration | undefined;
  /** seconds spent on feature extraction and on the epochs */
  extractSeconds: number;
  trainSeconds: number;
}

/**
 * Train a sequence labeler: extract attributes under the spec, build the
 * dictionaries, then train the energy with the chosen loss and optimizer (the
 * averaged perceptron by default, on a dedicated fast path), and (with a dev
 * set) keep the evaluation with the best dev score under the spec's metric.
 */
export function trainTagger(input: TrainInput): TrainResult {
  const p = prepareTraining(input);
  for (const s of input.train) p.add(s);
  return trainPrepared(input, p, input.train[0]?.tokens[0]?.length ?? 0);
}

/**
 * The same, extracting the training set while the sentences stream in (e.g.
 * from `streamCorpus`): the corpus's strings are never all in memory at once,
 * only the extracted instances — the CLI's path. `sentences` and `tokens`
 * count what was read.
 */
export async function trainTaggerStream(
  input: Omit<TrainInput, "train"> & { train: AsyncIterable<SentenceLike> },
): Promise<TrainResult & { sentences: number; tokens: number }> {
  const p = prepareTraining(input);
  for await (const s of input.train) p.add(s);
  const b = p.builder;
  const result = trainPrepared(input, p, Math.max(0, b.nColumns));
  return { ...result, sentences: b.sentences, tokens: b.tokens };
}

interface Prepared {
  spec: GraphSpec;
  options: TrainOptions;
  t0: number;
  fx: FeatureExtractor;
  builder: TrainingSetBuilder;
  /** Add a training sentence (extracted at once; kept whole when a network needs its tokens). */
  add(s: SentenceLike): void;
  /** a network spec's non-empty training sentences, in the training set's order; else null */
  kept: SentenceLike[] | null;
  /**
   * A spec with ambiguity columns: the training sentences wait here until
   * their tables are counted (then they are extracted); else null.
   */
  pending: SentenceLike[] | null;
}

/** Options and spec checked and merged, an empty extractor and training-set builder. */
function prepareTraining(input: Omit<TrainInput, "train">): Prepared {
  const split = splitSpecOptions(input.options as Record<string, unknown> | undefined);
  // table columns (lookup, ambiguity): this training's own tables, the lookup files read now
  const spec = withOwnTables(applySpecOptions(input.spec, split.spec));
  const options = trainOptions(spec.train, split.train);
  bindLookups(spec, options.files ? [options.files] : []);
  const t0 = performance.now();
  const fx = new FeatureExtractor(spec);
  const builder = new TrainingSetBuilder(fx);
  const kept: SentenceLike[] | null = networkOf(spec) ? [] : null;
  const pending: SentenceLike[] | null = needsTrainingTables(spec) ? [] : null;
  const add = (s: SentenceLike): void => {
    if (pending) {
      pending.push(s);
      return;
    }
    builder.add(s);
    if (kept && s.tokens.length > 0) kept.push(s);
  };
  return { spec, options, t0, fx, builder, add, kept, pending };
}

/** Train on the sentences added to `p.builder` (see trainTagger). */
function trainPrepared(
  input: Omit<TrainInput, "train">,
  p: Prepared,
  nColumns: number,
): TrainResult {
  const { spec, options, t0, fx } = p;
  if (p.pending) {
    // ambiguity tables from the whole training set, then the sentences extracted (jackknifed)
    fitTrainingTables(spec, p.pending);
    for (const s of p.pending) {
      p.builder.add(s);
      if (p.kept && s.tokens.length > 0) p.kept.push(s);
    }
    p.pending.length = 0;
  }
  const set = p.builder.finish();
  if (set.instances.length === 0)
    throw new NadirError("E_ARG", "the training data holds no sentence");
  const from = input.init ?? (options.init ? Model.load(options.init) : undefined);
  // A warm start keeps the init model's labels, in its order (then the new
  // ones): shards trained from one mixed model then decode alike.
  const labelDict = from && sameSpec(from.spec, spec) ? seedLabels(set, from.labels) : set.labels;
  const labelNames = labelDict.names;
  const rows =
    spec.features === "observed"
      ? observedRows(set.instances, fx.numAttributes, labelNames.length)
      : null;
  const model = new Model(spec, labelNames, fx, null, nColumns, rows);
  for (const s of input.dev ?? []) checkGoldColumns(fx, s);
  checkDevLabels(input.dev, spec.label, new Set(labelNames));
  const dev = input.dev
    ?.filter((s) => s.tokens.length > 0)
    .map((s) => ({
      x: encodeSentence(fx, s, labelDict, false),
      gold: s.tokens.map((tok) =>
        spec.label < 0 ? tok[tok.length + spec.label]! : tok[spec.label]!,
      ),
    }));
  const extractSeconds = (performance.now() - t0) / 1000;
  input.onExtracted?.({
    sentences: set.instances.length,
    attributes: fx.numAttributes,
    labels: labelNames.length,
    seconds: extractSeconds,
  });

  const t1 = performance.now();
  const net = networkOf(spec);
  if (net && p.kept) {
    if (mixingPlan(options))
      throw new NadirError(
        "E_UNSUPPORTED",
        "--shards/--threads parameter mixing: network models train in one thread (mini-batches)",
      );
    const backend = chooseBackend(options.inference);
    const devSet = input.dev?.filter((s) => s.tokens.length > 0) ?? [];
    const r = trainNetwork({
      spec,
      net,
      set,
      sentences: p.kept,
      fx,
      rows,
      options,
      explicit: splitSpecOptions(input.options as Record<string, unknown> | undefined).train,
      backend,
      constraintsFor: (T) => model.constraintsFor(T),
      ...(dev?.length
        ? {
            dev: {
              xs: dev.map((d) => d.x),
              tokens: devSet.map((s) => s.tokens),
              score: (pred: string[][]) =>
                scoreSequences(
                  spec,
                  dev.map((d) => d.gold),
                  pred,
                ),
            },
          }
        : {}),
      onEpoch: input.onEpoch,
    });
    const trained = new Model(spec, labelNames, fx, r.W, nColumns, rows, r.network);
    if (options.inference !== "auto") trained.extra.inference = options.inference;
    return {
      inference: `${options.inference === "auto" ? "auto → " : ""}${structuresFor(r.network, backend).describe()}`,
      calibration: calibrationOf(trained, input.dev, labelNames, options.seed),
      model: trained,
      reports: r.reports,
      bestEpoch: r.bestEpoch,
      options,
      extractSeconds,
      trainSeconds: (performance.now() - t1) / 1000,
    };
  }
  const arch = model.arch;
  const backend = chooseBackend(options.inference);
  const structures = structuresFor(arch, backend);
  // ŷ = argmin_y E(W, y, x) through the sentence's structure and the chosen backend
  const decode: Decoder = (x, W, out) => {
    const st = structures.of(x);
    st.bind(x, W, 1);
    return st.energy(x.labels) - st.argmin(model.constraintsFor(x.T), out);
  };
  const evaluate = dev?.length
    ? (W: Float64Array) => {
        const gold: string[][] = [];
        const pred: string[][] = [];
        let out = new Int32Array(64);
        for (const d of dev) {
          if (out.length < d.x.T) out = new Int32Array(d.x.T * 2);
          decode(d.x, W, out);
          gold.push(d.gold);
          const labels = new Array<string>(d.x.T);
          for (let t = 0; t < d.x.T; t++) labels[t] = labelNames[out[t]!]!;
          pred.push(labels);
        }
        return scoreSequences(spec, gold, pred);
      }
    : undefined;
  const project = spec.submodular
    ? (w: (k: number) => number) => submodularProjection(arch, w)
    : undefined;
  const hooks = { evaluate, onEpoch: input.onEpoch, onProgress: input.onProgress, project };
  const init = from?.weightsFor(fx, arch, labelNames);
  const fast =
    options.loss === "perceptron" &&
    options.optimizer === "perceptron" &&
    backend.name === "viterbi";
  const plan = mixingPlan(options);
  const result = plan
    ? trainMixing(
        {
          arch: arch.describe(),
          fast,
          backend: backend.name,
          encoding: spec.encoding,
          constrained: spec.constrained,
          labels: labelNames,
          submodular: Boolean(spec.submodular),
          options,
        },
        set.instances,
        plan,
        hooks,
        init,
      )
    : fast
      ? trainPerceptron(arch, set.instances, options, decode, hooks, init)
      : trainEnergy(
          arch,
          set.instances,
          options,
          {
            backend,
            constraintsFor: (T) => model.constraintsFor(T),
            labels: { encoding: spec.encoding, constrained: spec.constrained, names: labelNames },
          },
          hooks,
          init,
        );
  model.W.set(result.W);
  const trainSeconds = (performance.now() - t1) / 1000;
  // Tag with the non-zero weights only: the same energies, faster potentials.
  // A warm start also keeps the init's weights for what this data lacks
  // (attributes, labels): training left them where they were.
  const trained = (
    from && sameSpec(from.spec, spec) ? combineModels([model, from], [1, 1], "first") : model
  ).compact();
  const calibration = calibrationOf(trained, input.dev, labelNames, options.seed);
  const inference = structures.describe();
  if (options.inference !== "auto") trained.extra.inference = options.inference;
  return {
    inference: options.inference === "auto" ? `auto → ${inference}` : inference,
    calibration,
    model: trained,
    reports: result.reports,
    bestEpoch: result.bestEpoch,
    options,
    extractSeconds,
    trainSeconds,
  };
}

/** The detection threshold on dev (first-order chains; needs a dev sentence whose labels the model all knows). */
function calibrationOf(
  model: Model,
  dev: readonly SentenceLike[] | undefined,
  labelNames: readonly string[],
  seed: number,
): DetectionCalibration | undefined {
  const known = new Set(labelNames);
  const label = model.spec.label;
  if (!dev || model.arch.order !== 1 || model.arch.skip) return undefined;
  if (!dev.some((s) => s.tokens.every((tok) => known.has(labelOf(tok, label) ?? ""))))
    return undefined;
  return calibrateDetection(model, dev, { seed });
}

/**
 * A dev set none of whose labels occur in the training data cannot select
 * anything: refuse it before training, at its first token's file:line.
 */
function checkDevLabels(
  dev: readonly SentenceLike[] | undefined,
  label: number,
  known: ReadonlySet<string>,
): void {
  if (!dev || dev.length === 0) return;
  let first: { s: SentenceLike; t: number } | undefined;
  for (const s of dev) {
    for (let t = 0; t < s.tokens.length; t++) {
      if (known.has(labelOf(s.tokens[t]!, label) ?? "")) return;
      first ??= { s, t };
    }
  }
  if (!first) return;
  const { s, t } = first;
  throw new NadirError(
    "E_ARG",
    `dev data: none of its labels occurs in the training data (e.g. '${labelOf(s.tokens[t]!, label)}'; training labels: ${[...known].slice(0, 10).join(" ")}${known.size > 10 ? " …" : ""})`,
    {
      file: s.file,
      line: s.tokenLines?.[t] ?? (s.firstLine === undefined ? undefined : s.firstLine + t),
    },
  );
}

/**
 * The training set's labels renumbered so that `first` (an init model's
 * labels) come first, in their order, then the data's other labels.
 */
function seedLabels(set: TrainingSet, first: readonly string[]): Dictionary {
  const dict = Dictionary.from(first);
  const remap = Int32Array.from(set.labels.names, (l) => dict.add(l));
  for (const x of set.instances) {
    const y = x.labels;
    for (let t = 0; t < x.T; t++) if (y[t]! >= 0) y[t] = remap[y[t]!]!;
  }
  return dict;
}
