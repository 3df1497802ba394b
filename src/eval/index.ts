/** Evaluation: token accuracy, per-label P/R/F1, conlleval chunk F1, reports. */
export type { Averages, LabelReport, LabelScore, LabelScorerOptions } from "./accuracy.ts";
export { LabelScorer, scoreLabels, tokenAccuracy } from "./accuracy.ts";
export type { Chunk, ChunkEncoding, ChunkOptions, ChunkReport, ChunkTypeScore } from "./chunks.ts";
export { ChunkScorer, chunkSpans, scoreChunks } from "./chunks.ts";
export {
  formatChunkReport,
  formatChunkReportJson,
  formatLabelReport,
  formatLabelReportJson,
  toFixedC,
} from "./report.ts";
