/**
 * The CoNLL-U column names, apart from the reader (data/lines.ts reads files),
 * so a spec can name columns without pulling file I/O into its import graph.
 */
import { NadirError } from "../core/errors.ts";

/** The ten CoNLL-U columns, in file order. */
export const CONLLU_COLUMNS = [
  "ID",
  "FORM",
  "LEMMA",
  "UPOS",
  "XPOS",
  "FEATS",
  "HEAD",
  "DEPREL",
  "DEPS",
  "MISC",
] as const;

/** Index (0..9) of a CoNLL-U column name, case-insensitive; unknown names → E_SPEC. */
export function conlluColumnIndex(name: string): number {
  const i = (CONLLU_COLUMNS as readonly string[]).indexOf(name.toUpperCase());
  if (i < 0) {
    throw new NadirError(
      "E_SPEC",
      `unknown CoNLL-U column "${name}": expected one of ${CONLLU_COLUMNS.join(", ")}`,
    );
  }
  return i;
}
