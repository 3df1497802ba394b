import type { SentenceLike } from "../architecture/features.ts";
import { labelOf } from "../architecture/features.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { tokenAccuracy } from "../eval/accuracy.ts";
import { type ChunkReport, scoreChunks } from "../eval/chunks.ts";
import type { Model } from "./model.ts";

/**
 * The spec's model-selection score of predictions (higher is better): token
 * accuracy or chunk F1, in percent. Chunk F1 reads the labels in the spec's
 * encoding; a spec without one (CRFsuite attribute files, whose labels are
 * plain strings) is read as IOB2, conlleval's default, rather than silently
 * scored by accuracy.
 */
export function scoreSequences(
  spec: GraphSpec,
  gold: readonly string[][],
  pred: readonly string[][],
): number {
  if (spec.metric === "chunk-f1") {
    const encoding = spec.encoding === "none" ? "iob2" : spec.encoding;
    return scoreChunks(gold, pred, { encoding, strict: false }).f1;
  }
  return tokenAccuracy(gold, pred);
}

export interface TaggerEvaluation {
  /** token accuracy in percent */
  accuracy: number;
  tokens: number;
  sentences: number;
  /** conlleval chunk scores when the spec has a chunk encoding */
  chunks: ChunkReport | undefined;
  /** seconds spent decoding (feature extraction + Viterbi), and the throughput */
  seconds: number;
  tokensPerSecond: number;
  predictions: string[][];
}

/** Tag gold-labeled sentences with a model and score the predictions against the gold column. */
export function evaluateTagger(model: Model, sentences: readonly SentenceLike[]): TaggerEvaluation {
  const spec = model.spec;
  const gold: string[][] = [];
  const pred: string[][] = [];
  let tokens = 0;
  const t0 = performance.now();
  for (const s of sentences) {
    if (s.tokens.length === 0) continue;
    pred.push(model.tag(s.tokens));
    tokens += s.tokens.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sentences) {
    if (s.tokens.length === 0) continue;
    gold.push(s.tokens.map((tok) => labelOf(tok, spec.label) ?? ""));
  }
  const chunks =
    spec.encoding !== "none"
      ? scoreChunks(gold, pred, { encoding: spec.encoding, strict: false })
      : undefined;
  return {
    accuracy: tokenAccuracy(gold, pred),
    tokens,
    sentences: gold.length,
    chunks,
    seconds,
    tokensPerSecond: seconds > 0 ? tokens / seconds : Number.POSITIVE_INFINITY,
    predictions: pred,
  };
}
