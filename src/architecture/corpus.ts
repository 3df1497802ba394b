import { NadirError } from "../core/errors.ts";
import { readConll } from "../data/conll.ts";
import { readConllu } from "../data/conllu.ts";
import { readCrfsuiteData } from "../data/crfsuite.ts";
import type { GraphSpec } from "./spec.ts";

/** A sentence as the architecture sees it: tokens[t][c], plus where it came from. */
export interface CorpusSentence {
  tokens: string[][];
  lines: string[];
  file: string;
  firstLine: number;
  /** The bytes of token lines that are not valid UTF-8 (sparse), for a verbatim echo. */
  raw?: (Uint8Array | undefined)[];
  /** Line number of each token when they are not consecutive lines (CoNLL-U). */
  tokenLines?: readonly number[];
}

/** The 1-based line of token t of a sentence read from a file. */
export function lineOfToken(
  s: { firstLine: number; tokenLines?: readonly number[] },
  t: number,
): number {
  return s.tokenLines?.[t] ?? s.firstLine + t;
}

/** Stream the sentences of a corpus file in the spec's format (`-` = stdin, `.gz` ok). */
export async function* streamCorpus(
  path: string,
  format: GraphSpec["format"],
): AsyncGenerator<CorpusSentence> {
  if (format === "conllu") {
    for await (const s of readConllu(path)) yield s;
  } else if (format === "crfsuite") {
    // packed rows: the extractor scans a row's attributes without a string per field
    for await (const s of readCrfsuiteData(path, true)) yield s;
  } else {
    for await (const s of readConll(path)) yield s;
  }
}

/** Read a whole corpus file into memory (training needs several passes). */
export async function readCorpus(
  path: string,
  format: GraphSpec["format"],
): Promise<CorpusSentence[]> {
  const out: CorpusSentence[] = [];
  for await (const s of streamCorpus(path, format)) out.push(s);
  return out;
}

/** Every token has at least `need` columns (E_PARSE at the token's file:line otherwise). */
export function checkTokenColumns(s: CorpusSentence, need: number): void {
  for (let t = 0; t < s.tokens.length; t++) {
    const n = s.tokens[t]!.length;
    if (n < need) {
      throw new NadirError("E_PARSE", `expected at least ${need} columns for the spec, got ${n}`, {
        file: s.file,
        line: lineOfToken(s, t),
      });
    }
  }
}
