import { beginsWord } from "../architecture/labels.ts";
import { NadirError } from "../core/errors.ts";

/**
 * Chinese word segmentation as character tagging.
 *
 * A sentence's words (gold: the FORMs of a CoNLL-U sentence) become one row
 * per character — `char  type  label` in CoNLL column format — with either
 * - "bmes": B (first character of a multi-character word), M (inside), E
 *   (last), S (a one-character word) — graphs/cws.json; or
 * - "binary": B (a word starts at this character) or I (it does not) —
 *   graphs/cws-binary.json, a 2-label chain that graph cuts can decode.
 *
 * `type` is the character's class: H (Han), D (digit), L (other letter),
 * P (punctuation or symbol), O (anything else). Characters are code points
 * (a character outside the BMP is one character). A whitespace character
 * inside a word cannot be written as a column and is refused (E_PARSE).
 *
 * Words are scored by their spans: a predicted word is correct when both its
 * boundaries match a gold word's (precision, recall and F1 over words).
 */

export type CwsScheme = "bmes" | "binary";

const HAN = /\p{Script=Han}/u;
const DIGIT = /\p{Nd}/u;
const LETTER = /\p{L}/u;
const PUNCT = /[\p{P}\p{S}]/u;
const SPACE = /\s/u;

/** The class of a character: H (Han), D (digit), L (letter), P (punctuation/symbol), O (other). */
export function charType(ch: string): string {
  if (HAN.test(ch)) return "H";
  if (DIGIT.test(ch)) return "D";
  if (LETTER.test(ch)) return "L";
  if (PUNCT.test(ch)) return "P";
  return "O";
}

/** The character labels of a sequence of words under a scheme. */
export function wordLabels(
  words: readonly string[],
  scheme: CwsScheme,
): { chars: string[]; labels: string[] } {
  const chars: string[] = [];
  const labels: string[] = [];
  for (const w of words) {
    const cs = Array.from(w);
    cs.forEach((c, i) => {
      chars.push(c);
      if (scheme === "binary") labels.push(i === 0 ? "B" : "I");
      else labels.push(cs.length === 1 ? "S" : i === 0 ? "B" : i === cs.length - 1 ? "E" : "M");
    });
  }
  return { chars, labels };
}

/**
 * Word spans [start, end) (character offsets) encoded by labels: a word
 * starts at t = 0, at a B or S, and after an E or S (BMES; so that any label
 * sequence, even an ill-formed one, is a segmentation); at t = 0 and at every
 * B (binary). Returned flat: [s0, e0, s1, e1, …].
 */
export function labelSpans(labels: readonly string[], scheme: CwsScheme): number[] {
  const T = labels.length;
  const starts: number[] = [];
  for (let t = 0; t < T; t++) {
    const l = labels[t]!;
    const start =
      scheme === "binary" ? t === 0 || l === "B" : beginsWord(t > 0 ? labels[t - 1]! : null, l);
    if (start) starts.push(t);
  }
  const out: number[] = [];
  for (let i = 0; i < starts.length; i++)
    out.push(starts[i]!, i + 1 < starts.length ? starts[i + 1]! : T);
  return out;
}

/** The words of a character sequence under labels. */
export function labelsToWords(
  chars: readonly string[],
  labels: readonly string[],
  scheme: CwsScheme,
): string[] {
  if (chars.length !== labels.length)
    throw new NadirError(
      "E_ARG",
      `expected one label per character (${chars.length}), got ${labels.length}`,
    );
  const s = labelSpans(labels, scheme);
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 2) out.push(chars.slice(s[i]!, s[i + 1]!).join(""));
  return out;
}

/** Word-level precision, recall and F1 (in %), accumulated over sentences. */
export class WordScorer {
  gold = 0;
  predicted = 0;
  correct = 0;

  /** Add a sentence: gold and predicted labels over the same characters. */
  add(gold: readonly string[], predicted: readonly string[], scheme: CwsScheme): void {
    if (gold.length !== predicted.length)
      throw new NadirError(
        "E_ARG",
        `expected ${gold.length} predicted labels, got ${predicted.length}`,
      );
    const g = labelSpans(gold, scheme);
    const p = labelSpans(predicted, scheme);
    this.gold += g.length / 2;
    this.predicted += p.length / 2;
    // Both span lists are sorted and non-overlapping: merge.
    let i = 0;
    let j = 0;
    while (i < g.length && j < p.length) {
      if (g[i] === p[j]) {
        if (g[i + 1] === p[j + 1]) this.correct++;
        i += 2;
        j += 2;
      } else if (g[i]! < p[j]!) i += 2;
      else j += 2;
    }
  }

  get precision(): number {
    return this.predicted === 0 ? 0 : (100 * this.correct) / this.predicted;
  }
  get recall(): number {
    return this.gold === 0 ? 0 : (100 * this.correct) / this.gold;
  }
  get f1(): number {
    const p = this.precision;
    const r = this.recall;
    return p + r === 0 ? 0 : (2 * p * r) / (p + r);
  }
}

/** A sentence given as words, with where it came from (for errors). */
export interface WordSentence {
  words: readonly string[];
  file?: string;
  /** line of the first word; word i is on line firstLine + i */
  firstLine?: number;
}

/**
 * CoNLL column text (`char<TAB>type<TAB>label`, a blank line after each
 * sentence) of sentences given as words. Empty sentences are skipped.
 * E_PARSE (file:line) for a word that is empty or holds whitespace.
 */
export function charsConll(sentences: Iterable<WordSentence>, scheme: CwsScheme): string {
  const parts: string[] = [];
  for (const s of sentences) {
    if (s.words.length === 0) continue;
    s.words.forEach((w, i) => {
      if (w === "" || SPACE.test(w)) {
        throw new NadirError(
          "E_PARSE",
          `word ${i + 1} expected non-empty and without whitespace (characters become columns), got ${JSON.stringify(w)}`,
          { file: s.file, line: s.firstLine === undefined ? undefined : s.firstLine + i },
        );
      }
    });
    const { chars, labels } = wordLabels(s.words, scheme);
    for (let t = 0; t < chars.length; t++)
      parts.push(`${chars[t]}\t${charType(chars[t]!)}\t${labels[t]}\n`);
    parts.push("\n");
  }
  return parts.join("");
}

/**
 * The words of CoNLL-U sentences (FORM, column 2) with their lines, for
 * {@link charsConll}. Multiword token ranges (`1-2`) and empty nodes (`1.1`)
 * carry no word of their own and are skipped.
 */
export function conlluWords(
  sentences: Iterable<{ tokens: string[][]; file?: string; firstLine?: number }>,
): WordSentence[] {
  const out: WordSentence[] = [];
  for (const s of sentences) {
    const words: string[] = [];
    for (const tok of s.tokens) {
      const id = tok[0] ?? "";
      if (id.includes("-") || id.includes(".")) continue;
      words.push(tok[1] ?? "");
    }
    out.push({ words, file: s.file, firstLine: s.firstLine });
  }
  return out;
}
