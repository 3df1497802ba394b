/**
 * CRFsuite data files (what `crfsuite learn` / `crfsuite tag` read and
 * CRFsuite's example scripts write): one item per line,
 *
 *   LABEL<TAB>ATTR[:VALUE]<TAB>ATTR[:VALUE]…
 *
 * a blank line between sequences. Inside a field `\:` is a literal colon and
 * `\\` a backslash; the first unescaped colon starts the value (a real
 * number, default 1). The label field may be empty (tagging unlabeled data).
 * Lines whose first field starts with `@` are declarations (`@weight:…`),
 * skipped as CRFsuite does.
 *
 * A sentence's rows keep the raw fields (label first, escapes and values
 * untouched), so `nadir tag` can echo them; the feature extractor of a
 * `"format": "crfsuite"` spec turns fields into attribute names and values
 * with `parseAttributeField`.
 */
import { NadirError } from "../core/errors.ts";
import { type Sentence, SentenceBuffer } from "./conll.ts";
import { parseAttributeField } from "./crfsuite-attributes.ts";
import { displayName, type LineParser, parseText, readParsed } from "./lines.ts";

export {
  type AttributeField,
  escapeAttribute,
  formatAttributeField,
  parseAttributeField,
} from "./crfsuite-attributes.ts";

/**
 * Incremental parser of CRFsuite data: `push` lines in order, then `end`.
 * Every attribute field is checked here (a value that is not a finite number
 * is an E_PARSE at file:line), so the feature extractor can trust the rows.
 */
export class CrfsuiteParser implements LineParser<Sentence> {
  private readonly file: string;
  private readonly sentence: SentenceBuffer;
  private readonly packed: boolean;

  /**
   * `packed`: each row is `[label, attributes]`, the attribute fields kept as
   * one tab-separated string (what the feature extractor scans without a
   * string per field); otherwise `[label, field, field, …]`.
   */
  constructor(file: string, packed = false) {
    this.file = file;
    this.sentence = new SentenceBuffer(file);
    this.packed = packed;
  }

  push(text: string, line: number, out: Sentence[], raw?: Uint8Array): void {
    const c0 = text.charCodeAt(0);
    if (text.length === 0 || ((c0 === 32 || c0 === 9) && /^[ \t]*$/.test(text))) {
      this.sentence.flush(out);
      return;
    }
    if (c0 === 64 /* @ */) return; // a declaration (@weight:…)
    // a trailing tab (common in generated files) adds no attribute
    let end = text.length;
    while (end > 0 && text.charCodeAt(end - 1) === 9) end--;
    const tab = text.indexOf("\t");
    if (tab < 0 || tab >= end) {
      this.sentence.add([tab < 0 ? text : text.slice(0, tab)], text, line, raw);
      return;
    }
    const label = text.slice(0, tab);
    const rest = end === text.length ? text.slice(tab + 1) : text.slice(tab + 1, end);
    if (rest.indexOf("\t\t") >= 0 || rest.charCodeAt(0) === 9) {
      const at =
        rest.charCodeAt(0) === 9
          ? 0
          : rest.slice(0, rest.indexOf("\t\t") + 1).split("\t").length - 1;
      throw new NadirError(
        "E_PARSE",
        `field ${at + 2}: expected an attribute (name or name:value), got an empty field`,
        { file: this.file, line },
      );
    }
    if (!this.packed || rest.indexOf(":") >= 0) {
      const fields = rest.split("\t");
      for (let i = 0; i < fields.length; i++) this.check(fields[i]!, i + 2, line);
      if (!this.packed) {
        fields.unshift(label);
        this.sentence.add(fields, text, line, raw);
        return;
      }
    }
    this.sentence.add([label, rest], text, line, raw);
  }

  /** A field with a colon: a finite value after it, a name before it. */
  private check(f: string, field: number, line: number): void {
    if (f.indexOf(":") < 0) return;
    const a = parseAttributeField(f);
    if (Number.isNaN(a.value)) {
      throw new NadirError(
        "E_PARSE",
        `field ${field}: expected name:value with a finite number after the first unescaped ':' (write a literal ':' as '\\:'), got '${f.length > 60 ? `${f.slice(0, 60)}…` : f}'`,
        { file: this.file, line },
      );
    }
    if (a.name === "") {
      throw new NadirError(
        "E_PARSE",
        `field ${field}: expected an attribute name before ':', got '${f}'`,
        { file: this.file, line },
      );
    }
  }

  end(out: Sentence[]): void {
    this.sentence.flush(out);
  }
}

/** Stream the sequences of a CRFsuite data file ("-" = stdin, ".gz" ok). */
export async function* readCrfsuiteData(path: string, packed = false): AsyncGenerator<Sentence> {
  yield* readParsed(path, new CrfsuiteParser(displayName(path), packed));
}

/** Parse CRFsuite data text (all of it); `file` names it in errors. */
export function parseCrfsuiteData(text: string, file = "<text>"): Sentence[] {
  return parseText(text, new CrfsuiteParser(file));
}
