/**
 * Text for sentence completion: Project Gutenberg clean-up, a simple
 * lower-casing tokenizer, and a frequency-ranked vocabulary.
 */

import { NadirError } from "../core/errors.ts";
import { readFileText } from "../core/host.ts";

/** Reserved ids: unknown word and the sentence/file boundary (padding). */
export const UNK = "<unk>";
export const BOUNDARY = "<s>";
export const UNK_ID = 0;
export const BOUNDARY_ID = 1;
/** The first id of a real word (ids below are never predicted). */
export const FIRST_WORD = 2;

/**
 * Remove the old-style Project Gutenberg header and "SMALL PRINT" licence
 * (everything up to the line holding the `*END*` marker that closes it) and
 * the trailing "End of (the) Project Gutenberg ..." boilerplate. Line endings
 * become "\n". Text without the markers is returned with only the line ends normalized.
 */
export function stripGutenberg(raw: string): string {
  let text = raw.replace(/\r\n?/g, "\n");
  const sp = text.search(/SMALL PRINT/i);
  if (sp >= 0) {
    const end = text.indexOf("*END*", sp);
    if (end >= 0) {
      const eol = text.indexOf("\n", end);
      text = eol >= 0 ? text.slice(eol + 1) : "";
    }
  }
  const tail = text.search(/^[ \t]*End of (the )?Project Gutenberg/im);
  if (tail >= 0) text = text.slice(0, tail);
  return text;
}

const TOKEN = /[a-z0-9]+(?:'[a-z0-9]+)*|[.,;:!?"()-]/g;

/** Lower-case words (with inner apostrophes: "girl's") and single punctuation marks. */
export function tokenize(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/[`\u2019]/g, "'")
      .match(TOKEN) ?? []
  );
}

export class Vocab {
  readonly words: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(words: readonly string[]) {
    if (words[UNK_ID] !== UNK || words[BOUNDARY_ID] !== BOUNDARY)
      throw new NadirError("E_MODEL", "vocabulary must start with <unk> and <s>");
    this.words = words;
    this.ids = new Map(words.map((w, i) => [w, i]));
    if (this.ids.size !== words.length)
      throw new NadirError("E_MODEL", "vocabulary has duplicate words");
  }

  get size(): number {
    return this.words.length;
  }

  id(word: string): number {
    return this.ids.get(word) ?? UNK_ID;
  }

  has(word: string): boolean {
    return this.ids.has(word);
  }

  /**
   * The `max` most frequent tokens seen at least `minCount` times (ties broken
   * alphabetically) plus <unk> and <s>.
   */
  static build(counts: Map<string, number>, max: number, minCount = 1): Vocab {
    const ranked = [...counts.entries()]
      .filter(([w, c]) => w !== UNK && w !== BOUNDARY && c >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, max)
      .map(([w]) => w);
    return new Vocab([UNK, BOUNDARY, ...ranked]);
  }
}

export function countTokens(docs: Iterable<readonly string[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of docs) for (const t of d) counts.set(t, (counts.get(t) ?? 0) + 1);
  return counts;
}

const END = new Set([".", "!", "?"]);

/**
 * Split a token stream into sentences: a sentence ends at ".", "!" or "?",
 * together with the quote mark that closes a quotation right after it
 * (quotation marks alternate between opening and closing).
 */
export function splitSentences(tokens: readonly string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let inQuote = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    cur.push(t);
    let closes = false;
    if (t === '"') {
      closes = inQuote && END.has(tokens[i - 1] ?? "");
      inQuote = !inQuote;
    } else if (END.has(t)) closes = !(inQuote && tokens[i + 1] === '"');
    if (closes) {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Encode documents as one id stream; each document is preceded and followed
 * by `pad` boundary ids so that windows never span two documents.
 */
export function encode(
  docs: readonly (readonly string[])[],
  vocab: Vocab,
  pad: number,
): Int32Array {
  let n = pad;
  for (const d of docs) n += d.length + pad;
  const out = new Int32Array(n).fill(BOUNDARY_ID);
  let k = pad;
  for (const d of docs) {
    for (const t of d) out[k++] = vocab.id(t);
    k += pad;
  }
  return out;
}

/** Read, strip and tokenize text files (Gutenberg etexts or plain text). */
export function readDocuments(paths: readonly string[]): string[][] {
  return paths.map((p) => {
    let raw: string;
    try {
      raw = readFileText(p, "latin1");
    } catch (e) {
      throw new NadirError("E_IO", `cannot read: ${(e as Error).message}`, { file: p });
    }
    return tokenize(stripGutenberg(raw));
  });
}
