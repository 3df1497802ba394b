/**
 * What the playground draws for a tagged sentence: the unary energies of
 * every label at every position (the trellis), the Viterbi path and the
 * most offending incorrect path (the lowest-energy labeling other than the
 * answer: the second of the k-best), with their energies.
 */

import { RowMaker, type TokenSentence } from "../api/sentences.ts";
import type { Tagger } from "../api/tagger.ts";

export interface Trellis {
  labels: string[];
  /** T × L unary energies, row-major (position t, label l at t·L + l) */
  unary: Float64Array;
  T: number;
  L: number;
  /** L × L transition energies (from i to j at i·L + j) */
  transition: Float64Array;
  viterbi: { labels: string[]; energy: number };
  /** argmin over y ≠ ŷ of E(y): undefined for a one-labeling sentence */
  offending: { labels: string[]; energy: number } | undefined;
}

/** The trellis of a sentence under a tagger's first-order chain energy. */
export function trellis(tagger: Tagger, sentence: TokenSentence): Trellis {
  const model = tagger.model;
  const rows = new RowMaker(model.spec).rows(sentence, "sentence");
  const p = model.potentials(model.encode(rows));
  const best = tagger.kbest(sentence, 2);
  return {
    labels: [...model.labels],
    unary: Float64Array.from(p.unary),
    T: p.T,
    L: p.L,
    transition: Float64Array.from(p.transition),
    viterbi: best[0]!,
    offending: best[1],
  };
}
