export {
  type BpBackend,
  type BpOptions,
  type BpResult,
  bp,
  bpBackend,
  bpMessagesPerSweep,
  bpMinimize,
} from "./bp.ts";
export { BP_OPTIONS, type MessageOptions, type Schedule } from "./bp-graph.ts";
export { checkConstraints } from "./constraints.ts";
export {
  DEFAULT_MAX_CONFIGURATIONS,
  type ExhaustiveOptions,
  exhaustive,
  exhaustiveBackend,
  exhaustiveKBest,
  exhaustiveMinimize,
} from "./exhaustive.ts";
export {
  type ChainMarginals,
  emptyChainMarginals,
  entropy,
  expectedEnergy,
  type ForwardBackwardOptions,
  forwardBackward,
  freeEnergy,
  gibbsProbability,
  logGibbsProbability,
} from "./forward-backward.ts";
export { kbestViterbi } from "./kbest.ts";
export {
  type MeanFieldOptions,
  type MeanFieldResult,
  meanField,
  meanFieldBackend,
  meanFieldDecoder,
} from "./mean-field.ts";
export * from "./mincut/index.ts";
export {
  hamming,
  lossAugmented,
  mostOffending,
  mostOffendingChain,
  mostOffendingChainInto,
  mostOffendingClamped,
  type OffendingMode,
  type OffendingOptions,
} from "./offending.ts";
export { backendNames, getBackend, hasKBest, registerBackend } from "./registry.ts";
export {
  type GibbsOptions,
  type GibbsResult,
  gibbsSample,
  type SampleOptions,
  sampleChain,
} from "./sampling.ts";
export { type SumProductOptions, type SumProductResult, sumProduct } from "./sum-product.ts";
export {
  type TrwsBackend,
  type TrwsOptions,
  type TrwsResult,
  trws,
  trwsBackend,
  trwsMinimize,
} from "./trws.ts";
export type {
  Backend,
  Constraints,
  InferenceResult,
  KBestBackend,
  Potentials,
} from "./types.ts";
export { viterbi, viterbiBackend, viterbiInto } from "./viterbi.ts";
