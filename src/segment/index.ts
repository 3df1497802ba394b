/** Segmentation: binary grid energies minimized by graph cuts, and word segmentation helpers. */
export {
  type CwsScheme,
  charsConll,
  charType,
  conlluWords,
  labelSpans,
  labelsToWords,
  WordScorer,
  type WordSentence,
  wordLabels,
} from "./cws.ts";
export {
  type Augment,
  accumulateGrid,
  GridCut,
  type GridInstance,
  gridEnergy,
  gridFactorGraph,
  gridInstance,
  gridWeightCount,
  gridWeightNames,
} from "./grid.ts";
export {
  darkMask,
  flipNoise,
  gaussianNoise,
  iou,
  montage,
  otsuThreshold,
  pixelError,
  sameSize,
} from "./images.ts";
export { GRID_MODEL_FORMAT, GRID_MODEL_VERSION, GridModel } from "./model.ts";
export {
  GRID_TRAIN_DEFAULTS,
  GRID_TRAIN_OPTIONS,
  type GridFeature,
  type GridSpec,
  type GridTrainOptions,
  gridTrainOptions,
  loadGridSpec,
  parseGridFeature,
  parseGridSpec,
} from "./spec.ts";
export {
  type GridEpochReport,
  type GridExample,
  type GridTrainResult,
  gridLoss,
  trainGrid,
} from "./train.ts";
