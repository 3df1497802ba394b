/**
 * CRF++ feature templates translated into a nadir graph spec.
 *
 *   # Unigram
 *   U00:%x[-2,0]
 *   U05:%x[-1,0]/%x[0,0]
 *   # Bigram
 *   B
 *
 * A `U` line is a unigram template: its `%x[row,col]` macros name the value
 * of column `col` (0-based, of the input columns; the label is the last
 * column) at relative position `row`; text around the macros only separates
 * them. CRF++ pads positions outside the sentence with `_B-1`, `_B-2`, … before
 * and `_B+1`, … after, so a window that reaches outside still fires, with a
 * value per distance — nadir's `"outside": "pad"` does the same (a distinct
 * value per distance), so the two define the same features. A `B` line alone
 * asks for label bigrams, which nadir's chain always has (several `B` lines
 * are the same); `B` lines with macros (transitions conditioned on the input)
 * have no nadir counterpart and are refused. `#` starts a comment line.
 *
 * Columns become `c0`, `c1`, …; `U05:%x[-1,0]/%x[0,0]` becomes the template
 * `c0[-1]|c0[0]`. Two lines that reduce to the same macros (e.g. `U01:%x[0,0]`
 * and `U02:%x[0,0]`) fire identically, so the second is dropped; a line
 * without macros is a constant (bias) attribute.
 */

import { NadirError } from "../core/errors.ts";
import { readFileText } from "../core/host.ts";

const MACRO = /%x\[\s*([+-]?\d+)\s*,\s*(\d+)\s*\]/g;

/** What a template file holds, translated: the spec JSON and notes on what changed. */
export interface CrfppTranslation {
  spec: Record<string, unknown>;
  /** Lines dropped (duplicates, extra `B` lines), with their line numbers. */
  notes: string[];
}

/** Is this text a CRF++ template (its first non-comment line starts with U or B)? */
export function looksLikeCrfppTemplate(text: string): boolean {
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    return /^[UB]/.test(line);
  }
  return false;
}

/** Translate CRF++ template text into a nadir spec (JSON, checked later by parseSpec). */
export function translateCrfppTemplate(text: string, file: string): CrfppTranslation {
  const templates: string[] = [];
  const seen = new Map<string, number>();
  const notes: string[] = [];
  let maxCol = -1;
  let bigram = 0;
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const at = { file, line: i + 1 };
    if (line === "" || line.startsWith("#")) return;
    const kind = line[0];
    if (kind !== "U" && kind !== "B") {
      throw new NadirError(
        "E_SPEC",
        `expected a template line starting with U (unigram) or B (bigram), or a # comment; got '${line}'`,
        at,
      );
    }
    const parts: string[] = [];
    let rest = "";
    let last = 0;
    for (const m of line.matchAll(MACRO)) {
      const row = Number(m[1]);
      const col = Number(m[2]);
      if (Math.abs(row) > 1000)
        throw new NadirError("E_SPEC", `%x[${row},${col}]: expected a row offset within ±1000`, at);
      maxCol = Math.max(maxCol, col);
      parts.push(`c${col}[${row}]`);
      rest += line.slice(last, m.index);
      last = m.index! + m[0].length;
    }
    rest += line.slice(last);
    if (rest.includes("%x") || /%[^x]/.test(rest))
      throw new NadirError(
        "E_SPEC",
        `expected macros of the form %x[row,col] (integers), got '${line}'`,
        at,
      );
    if (kind === "B") {
      if (parts.length > 0)
        throw new NadirError(
          "E_UNSUPPORTED",
          `'${line}': bigram templates with %x macros (transitions conditioned on the input) are not supported; a plain B line gives the label-bigram energies`,
          at,
        );
      if (++bigram > 1)
        notes.push(`line ${i + 1}: '${line}' repeats the label bigrams (B), dropped`);
      return;
    }
    // a line without macros is a constant: one bias attribute (every position)
    const name = parts.length > 0 ? parts.join("|") : "bias";
    const first = seen.get(name);
    if (first !== undefined) {
      notes.push(
        `line ${i + 1}: '${line}' fires exactly like line ${first} (the same macros), dropped`,
      );
      return;
    }
    seen.set(name, i + 1);
    templates.push(name);
  });
  if (templates.length === 0)
    throw new NadirError(
      "E_SPEC",
      "expected at least one U template line (e.g. U00:%x[0,0]); got none",
      { file },
    );
  if (bigram === 0)
    notes.push(
      "no B line: CRF++ would train without label bigrams; nadir's chain keeps its transition energies",
    );
  const columns: Record<string, number> = {};
  for (let c = 0; c <= maxCol; c++) columns[`c${c}`] = c;
  if (maxCol < 0) columns.c0 = 0;
  return {
    spec: {
      name: baseName(file).replace(/\.[^.]*$/, "") || "crfpp",
      description: `translated from the CRF++ template ${baseName(file)} (columns c0, c1, … are CRF++'s %x columns; positions outside the sentence padded as CRF++ pads them)`,
      format: "conll",
      columns,
      label: -1,
      templates,
      outside: "pad",
      padding: "crfpp",
      boundary: false,
      structure: "chain",
    },
    notes,
  };
}

/** Read a CRF++ template file into a spec JSON (E_IO if unreadable). */
export function readCrfppTemplate(path: string): CrfppTranslation {
  let text: string;
  try {
    text = readFileText(path);
  } catch (e) {
    throw new NadirError("E_IO", `cannot read template: ${(e as Error).message}`, { file: path });
  }
  return translateCrfppTemplate(text, path);
}

/** The last component of a path (either slash). */
function baseName(path: string): string {
  return path.replace(/^.*[\\/]/, "");
}
