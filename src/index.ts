/**
 * nadir's public API: energy-based structured prediction.
 * Lower energy is better everywhere.
 *
 * Start with the applications — `Tagger` (sequence labeling), `Segmenter`
 * (image segmentation by graph cuts), `Completer` (sentence completion);
 * the layers under them (factor graphs, inference backends, the loss table,
 * optimizers) are exported for building your own energies.
 */
export {
  type ClassificationData,
  Classifier,
  readClassificationData,
} from "./api/classifier.ts";
export {
  type CompleteOptions,
  Completer,
  type Completion,
  DEFAULT_COMPLETION_MODEL,
} from "./api/completer.ts";
export {
  type ImageInput,
  type MaskInput,
  Segmenter,
  type SegmenterTrainOptions,
} from "./api/segmenter.ts";
export type {
  LabeledSentence,
  Token,
  TokenColumns,
  TokenSentence,
  TrainingSentence,
} from "./api/sentences.ts";
export {
  type LabelingScore,
  type ScoredLabeling,
  type SpecRef,
  Tagger,
  type TaggerScores,
  type TaggerTrainOptions,
} from "./api/tagger.ts";
export { type CorpusSentence, readCorpus, streamCorpus } from "./architecture/corpus.ts";
export {
  type CrfppTranslation,
  looksLikeCrfppTemplate,
  readCrfppTemplate,
  translateCrfppTemplate,
} from "./architecture/crfpp-template.ts";
export { Dictionary, FeatureExtractor, type Instance } from "./architecture/features.ts";
export { encodingConstraints } from "./architecture/labels.ts";
export { LinearChain, observedRows, type StateRows } from "./architecture/linear-chain.ts";
// non-linear energies: modules with fprop/bprop, the collapse experiment, sentence completion
export * as modules from "./architecture/modules.ts";
export { type GraphSpec, loadSpec, parseSpec } from "./architecture/spec.ts";
export { type LabeledData, parseCsv, parseLibsvm } from "./classify/data.ts";
export {
  type Dataset,
  LINEAR_DEFAULTS,
  LinearModel,
  type LinearTrainOptions,
  linearObjective,
  trainLinear,
} from "./classify/linear.ts";
export { Lbl } from "./complete/lbl.ts";
export {
  accuracy as completionAccuracy,
  type CompletionQuestion,
  candidateEnergy,
  chooseCandidate,
  parseLmFormat,
  type Scoring,
} from "./complete/msr.ts";
export { readDocuments, splitSentences, stripGutenberg, tokenize } from "./complete/text.ts";
export { topK } from "./complete/topk.ts";
export {
  COMPLETION_DEFAULTS,
  type CompletionTrainOptions,
  trainCompletion,
} from "./complete/train.ts";
export { type ErrorCode, NadirError } from "./core/errors.ts";
export { Rng } from "./core/rng.ts";
export { resolveSpecPath, shippedSpecNames } from "./core/shipped.ts";
export {
  type AttributeField,
  escapeAttribute,
  formatAttributeField,
  parseAttributeField,
  parseCrfsuiteData,
  readCrfsuiteData,
} from "./data/crfsuite.ts";
export {
  type BitImage,
  bitImage,
  decodePng,
  encodePbm,
  encodePgm,
  encodePng,
  type GrayImage,
  grayImage,
  grayToMask,
  maskToGray,
  parsePnm,
  readGray,
  readMask,
  writeMask,
  writePng,
} from "./data/image.ts";
export * from "./data/index.ts";
export * from "./eval/index.ts";
export * from "./graph/index.ts";
export * from "./inference/index.ts";
export {
  type CrfsuiteModelParts,
  isCrfsuiteModel,
  readCrfsuiteModel,
} from "./interop/crfsuite-model.ts";
export {
  type CrfsuiteWriteOptions,
  hashlittle,
  writeCrfsuiteModel,
} from "./interop/crfsuite-writer.ts";
export * from "./loss/index.ts";
export { lbfgs } from "./optimize/lbfgs.ts";
export { trainMixing } from "./optimize/mixing.ts";
export { TRAIN_OPTIONS, type TrainOptions, trainOptions } from "./optimize/options.ts";
export type { EpochReport } from "./optimize/perceptron.ts";
export { trainEnergy } from "./optimize/trainer.ts";
export { runCollapse } from "./regress/collapse.ts";
export {
  type EnergyGrad,
  type GradientSearchOptions,
  type HmcOptions,
  hmc,
  minimizeEnergy,
  mostOffendingContinuous,
} from "./regress/continuous.ts";
export * from "./segment/index.ts";
export {
  calibrationError,
  EnergySum,
  fitTemperature,
  sequenceNll,
} from "./tagger/calibration.ts";
export { calibrateDetection, corruptLabeling } from "./tagger/detection.ts";
export { evaluateTagger, scoreSequences } from "./tagger/evaluate.ts";
export {
  type AttributeContribution,
  type AttributeEnergy,
  describeModel,
  explainSentence,
  type ModelDescription,
  type SentenceExplanation,
  type TokenExplanation,
} from "./tagger/inspect.ts";
export { combineModels, mixModels } from "./tagger/mix-models.ts";
export { Model } from "./tagger/model.ts";
export { type TrainInput, type TrainResult, trainTagger } from "./tagger/train.ts";
