export { checkConstraints } from "./constraints.ts";
export {
  DEFAULT_MAX_CONFIGURATIONS,
  type ExhaustiveOptions,
  exhaustive,
  exhaustiveBackend,
  exhaustiveKBest,
  exhaustiveMinimize,
} from "./exhaustive.ts";
export { kbestViterbi } from "./kbest.ts";
export { backendNames, getBackend, hasKBest, registerBackend } from "./registry.ts";
export type {
  Backend,
  Constraints,
  InferenceResult,
  KBestBackend,
  Potentials,
} from "./types.ts";
export { viterbi, viterbiBackend, viterbiInto } from "./viterbi.ts";
