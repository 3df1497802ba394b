/**
 * nadir's public API: energy-based structured prediction.
 * Lower energy is better everywhere.
 */
export { Dictionary, FeatureExtractor, type Instance } from "./architecture/features.ts";
export { encodingConstraints } from "./architecture/labels.ts";
export { LinearChain, observedRows, type StateRows } from "./architecture/linear-chain.ts";
export { type GraphSpec, loadSpec, parseSpec } from "./architecture/spec.ts";
export { type ErrorCode, NadirError } from "./core/errors.ts";
export { Rng } from "./core/rng.ts";
export { type CorpusSentence, readCorpus, streamCorpus } from "./data/corpus.ts";
export * from "./data/index.ts";
export { calibrateDetection, corruptLabeling } from "./eval/detection.ts";
export { evaluateTagger, scoreSequences } from "./eval/evaluate.ts";
export * from "./eval/index.ts";
export * from "./graph/index.ts";
export * from "./inference/index.ts";
export * from "./loss/index.ts";
export { Model } from "./model.ts";
export { lbfgs } from "./optimize/lbfgs.ts";
export { TRAIN_OPTIONS, type TrainOptions, trainOptions } from "./optimize/options.ts";
export { trainTagger } from "./optimize/train.ts";
export { trainEnergy } from "./optimize/trainer.ts";
