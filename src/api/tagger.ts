/**
 * The sequence tagger as a library, at the level of sklearn-crfsuite:
 * `Tagger.train(data, options)`, `predict`, `kbest`, `marginals`, `score`,
 * `evaluate`, and models that travel as files or as bytes.
 *
 * ```ts
 * const tagger = Tagger.train([{ tokens: ["The", "dog", "barks"], labels: ["DET", "NOUN", "VERB"] }]);
 * tagger.predict(["The", "cat", "barks"]); // ["DET", "NOUN", "VERB"]
 * ```
 */
import type { GraphSpec } from "../architecture/spec.ts";
import { loadSpec, parseSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { type CrfsuiteWriteOptions, writeCrfsuiteModel } from "../interop/crfsuite-writer.ts";
import type { TrainOptions } from "../optimize/options.ts";
import type { EpochReport } from "../optimize/perceptron.ts";
import type { DetectionCalibration } from "../tagger/detection.ts";
import { evaluateTagger } from "../tagger/evaluate.ts";
import {
  explainSentence,
  type ModelDescription,
  type SentenceExplanation,
} from "../tagger/inspect.ts";
import { Model } from "../tagger/model.ts";
import { trainTagger } from "../tagger/train.ts";
import {
  isSentenceList,
  RowMaker,
  type TokenSentence,
  type TrainingSentence,
} from "./sentences.ts";

/** A spec: a shipped name (`"pos"`, `"chunk"`, `"ner"`, …), a path to a JSON file, or the JSON object itself. */
export type SpecRef = string | GraphSpec | Readonly<Record<string, unknown>>;

/** Options of `Tagger.train`: the spec, a dev set, and any option of `nadir train` (camelCase). */
export interface TaggerTrainOptions extends Partial<TrainOptions> {
  /** The architecture: features, structure, label encoding (default: `"pos"`, word features). */
  spec?: SpecRef;
  /** Held-out sentences: the best epoch on them is kept, and detection is calibrated on them. */
  dev?: readonly TrainingSentence[];
  /** Called after every epoch (or L-BFGS evaluation). */
  onEpoch?: (report: EpochReport) => void;
}

/** One of the k best labelings, lowest energy first. */
export interface ScoredLabeling {
  labels: string[];
  energy: number;
}

/** What `score` says about a labeling of a sentence. */
export interface LabelingScore {
  /** E(W, y, x) */
  energy: number;
  /** F_β = −(1/β) log Σ_y exp(−β E(y)) */
  freeEnergy: number;
  /** P_β(y | x) = exp(−β (E(y) − F_β)) */
  probability: number;
  /** the detection verdict (with a threshold calibrated on dev data at training), if any */
  detection: { compatible: boolean; score: number; threshold: number } | undefined;
}

/** Token accuracy, and chunk precision/recall/F1 when the spec has a chunk encoding (percent). */
export interface TaggerScores {
  accuracy: number;
  tokens: number;
  sentences: number;
  chunks: { precision: number; recall: number; f1: number } | undefined;
}

function resolveSpec(ref: SpecRef | undefined, data: readonly unknown[]): GraphSpec {
  if (ref === undefined) {
    const item = data[0];
    const first =
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? (item as { tokens?: unknown; labels?: unknown })
        : undefined;
    const tok = Array.isArray(first?.tokens) ? first.tokens[0] : undefined;
    if (first && "labels" in first && typeof tok !== "string" && tok !== undefined)
      throw new NadirError(
        "E_ARG",
        "Tagger.train: tokens with several columns need options.spec (a shipped name such as 'chunk', a path, or a spec object)",
      );
    if (first && !("labels" in first))
      throw new NadirError(
        "E_ARG",
        "Tagger.train: corpus sentences need options.spec (it says which column is the label)",
      );
    return loadSpec("pos");
  }
  if (typeof ref === "string") return loadSpec(ref);
  if (typeof ref !== "object" || ref === null || Array.isArray(ref))
    throw new NadirError("E_ARG", `options.spec: expected a name, a path or an object`);
  if ("source" in ref && "templates" in ref && Array.isArray(ref.templates) && "derived" in ref)
    return ref as GraphSpec;
  return parseSpec(ref, "options.spec");
}

export class Tagger {
  /** The trained energy model underneath (the four questions, weights, the spec). */
  readonly model: Model;
  /** How training went (epochs, dev scores, the kept epoch); undefined for a loaded tagger. */
  readonly training:
    | {
        reports: EpochReport[];
        bestEpoch: number;
        inference: string;
        calibration: DetectionCalibration | undefined;
        seconds: number;
      }
    | undefined;
  private readonly rows: RowMaker;

  private constructor(model: Model, training?: Tagger["training"]) {
    this.model = model;
    this.training = training;
    this.rows = new RowMaker(model.spec);
  }

  /**
   * Train a tagger. `data` holds `{ tokens, labels }` sentences (or corpus
   * sentences from `readCorpus`); `options.spec` chooses the features and
   * structure; every option of `nadir train` is accepted (`epochs`, `loss`,
   * `optimizer`, `c2`, …), with the spec's `train` section as defaults.
   */
  static train(data: readonly TrainingSentence[], options: TaggerTrainOptions = {}): Tagger {
    if (!Array.isArray(data))
      throw new NadirError("E_ARG", "Tagger.train: expected an array of sentences");
    const { spec: specRef, dev, onEpoch, ...rest } = options;
    const spec = resolveSpec(specRef, data);
    const rows = new RowMaker(spec);
    const train = rows.labeledAll(data, "training");
    const devRows = dev === undefined ? undefined : rows.labeledAll(dev, "dev");
    const t0 = performance.now();
    const r = trainTagger({
      spec,
      train,
      ...(devRows ? { dev: devRows } : {}),
      options: rest,
      ...(onEpoch ? { onEpoch } : {}),
    });
    return new Tagger(r.model, {
      reports: r.reports,
      bestEpoch: r.bestEpoch,
      inference: r.inference,
      calibration: r.calibration,
      seconds: (performance.now() - t0) / 1000,
    });
  }

  /** Wrap a trained `Model`. */
  static fromModel(model: Model): Tagger {
    return new Tagger(model);
  }

  /** Read a model file written by `save` or `nadir train` (checked on load). */
  static load(path: string): Tagger {
    return new Tagger(Model.load(path));
  }

  /** A tagger from the bytes of a model file (no file system needed). */
  static fromBytes(bytes: Uint8Array): Tagger {
    return new Tagger(Model.fromBytes(bytes));
  }

  /** Write the model file atomically. */
  save(path: string): void {
    this.model.save(path);
  }

  /** The bytes of the model file. */
  toBytes(): Uint8Array {
    return this.model.toBytes();
  }

  /**
   * The model as a CRFsuite model file (`lCRF`), for `crfsuite tag` and
   * python-crfsuite: weights = −energies; start/end energies folded into the
   * `__BOS__`/`__EOS__` attributes (first-order chains only).
   */
  toCrfsuite(options: CrfsuiteWriteOptions = {}): Uint8Array {
    return writeCrfsuiteModel(this.model, options);
  }

  /** The label set, in the model's order (the order of `marginals`' columns). */
  get labels(): readonly string[] {
    return this.model.labels;
  }

  /** The spec the model was trained with. */
  get spec(): GraphSpec {
    return this.model.spec;
  }

  /** The input columns a token carries (`["w"]` for word specs, `["w", "pos"]` for chunk). */
  get columns(): readonly string[] {
    return this.rows.columns;
  }

  /**
   * The lowest-energy labeling ŷ = argmin_y E(W, y, x) of one sentence, or of
   * each sentence of a list (a list's elements are arrays: tokens given as
   * column arrays go inside a list).
   */
  predict(sentence: readonly (string | Readonly<Record<string, string>>)[]): string[];
  predict(sentences: readonly TokenSentence[]): string[][];
  predict(x: TokenSentence | readonly TokenSentence[]): string[] | string[][] {
    if (isSentenceList(x))
      return x.map((s, i) => this.model.tag(this.rows.rows(s, `sentence ${i}`)));
    return this.model.tag(this.rows.rows(x, "sentence"));
  }

  /** The k lowest-energy labelings in order, each with its energy (k-best Viterbi). */
  kbest(sentence: TokenSentence, k: number): ScoredLabeling[] {
    if (!Number.isInteger(k) || k < 1)
      throw new NadirError("E_ARG", `kbest: expected k to be an integer ≥ 1, got ${k}`);
    return this.model.decide(this.rows.rows(sentence, "sentence"), k);
  }

  /**
   * Per-token marginals of the Gibbs distribution P_β(y|x) ∝ exp(−β E(y, x)):
   * for each token, `{ label: probability }` over the model's labels.
   */
  marginals(sentence: TokenSentence, options: { beta?: number } = {}): Record<string, number>[] {
    const beta = checkBeta(options.beta);
    const rows = this.rows.rows(sentence, "sentence");
    if (rows.length === 0) return [];
    const { marginals } = this.model.density(rows, beta);
    const L = this.model.labels.length;
    return rows.map((_, t) => {
      const rec: Record<string, number> = {};
      for (let l = 0; l < L; l++) rec[this.model.labels[l]!] = marginals[t * L + l]!;
      return rec;
    });
  }

  /** Energy, free energy, Gibbs probability at β and detection verdict of a labeling. */
  score(
    sentence: TokenSentence,
    labels: readonly string[],
    options: { beta?: number } = {},
  ): LabelingScore {
    const beta = checkBeta(options.beta);
    const rows = this.rows.rows(sentence, "sentence");
    if (!Array.isArray(labels) || labels.length !== rows.length)
      throw new NadirError(
        "E_ARG",
        `score: expected one label per token (${rows.length}), got ${Array.isArray(labels) ? labels.length : typeof labels}`,
      );
    const d = this.model.density(rows, beta, labels);
    const energy = this.model.energy(rows, labels);
    const calibrated = this.model.extra.detectThreshold !== undefined;
    return {
      energy,
      freeEnergy: d.freeEnergy,
      probability: d.probability ?? 0,
      detection: calibrated ? this.model.detect(rows, labels) : undefined,
    };
  }

  /**
   * What the model holds (`nadir dump`): labels, transition energies, the
   * `top` lowest- and highest-energy attributes per label, counts, the spec.
   */
  dump(options: { top?: number } = {}): ModelDescription {
    return this.model.describe(options.top ?? 10);
  }

  /**
   * Why the model labels a sentence as it does (`nadir explain`): per token
   * the chosen label, the runner-up and its margin, and the `top` attributes
   * for and against the choice as energy contributions (they add up to E).
   */
  explain(sentence: TokenSentence, options: { top?: number } = {}): SentenceExplanation {
    return explainSentence(this.model, this.rows.rows(sentence, "sentence"), options.top ?? 5);
  }

  /** Tag labeled sentences and score the predictions against their labels. */
  evaluate(data: readonly TrainingSentence[]): TaggerScores {
    const ev = evaluateTagger(this.model, this.rows.labeledAll(data, "evaluation"));
    return {
      accuracy: ev.accuracy,
      tokens: ev.tokens,
      sentences: ev.sentences,
      chunks: ev.chunks
        ? { precision: ev.chunks.precision, recall: ev.chunks.recall, f1: ev.chunks.f1 }
        : undefined,
    };
  }
}

function checkBeta(beta: number | undefined): number {
  const b = beta ?? 1;
  if (typeof b !== "number" || !(b > 0) || !Number.isFinite(b))
    throw new NadirError("E_ARG", `expected beta to be a finite number > 0, got ${String(b)}`);
  return b;
}
