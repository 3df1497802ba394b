/** Corpus formats: line I/O, CoNLL columns, CoNLL-U. */
export type { ConllOptions, Sentence } from "./conll.ts";
export {
  ConllParser,
  formatConll,
  formatConllColumns,
  parseConll,
  readConll,
  sentenceColumn,
  splitColumns,
} from "./conll.ts";
export type { ConlluColumn, ConlluOptions, ConlluSentence } from "./conllu.ts";
export {
  CONLLU_COLUMNS,
  ConlluParser,
  conlluColumnIndex,
  parseConllu,
  readConllu,
} from "./conllu.ts";
export type { Line, LineBatch } from "./lines.ts";
export {
  displayName,
  readLineBatches,
  readLines,
  readTextFile,
  splitLines,
  writeText,
} from "./lines.ts";
