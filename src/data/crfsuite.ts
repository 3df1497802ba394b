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

  constructor(file: string) {
    this.file = file;
    this.sentence = new SentenceBuffer(file);
  }

  push(text: string, line: number, out: Sentence[], raw?: Uint8Array): void {
    if (text.length === 0 || /^[ \t]*$/.test(text)) {
      this.sentence.flush(out);
      return;
    }
    if (text.charCodeAt(0) === 64 /* @ */) return; // a declaration (@weight:…)
    const fields = text.split("\t");
    // a trailing tab (common in generated files) adds no attribute
    while (fields.length > 1 && fields[fields.length - 1] === "") fields.pop();
    for (let i = 1; i < fields.length; i++) {
      const f = fields[i]!;
      if (f === "") {
        throw new NadirError(
          "E_PARSE",
          `field ${i + 1}: expected an attribute (name or name:value), got an empty field`,
          { file: this.file, line },
        );
      }
      if (f.indexOf(":") >= 0) {
        const a = parseAttributeField(f);
        if (Number.isNaN(a.value)) {
          throw new NadirError(
            "E_PARSE",
            `field ${i + 1}: expected name:value with a finite number after the first unescaped ':' (write a literal ':' as '\\:'), got '${f.length > 60 ? `${f.slice(0, 60)}…` : f}'`,
            { file: this.file, line },
          );
        }
        if (a.name === "") {
          throw new NadirError(
            "E_PARSE",
            `field ${i + 1}: expected an attribute name before ':', got '${f}'`,
            { file: this.file, line },
          );
        }
      }
    }
    this.sentence.add(fields, text, line, raw);
  }

  end(out: Sentence[]): void {
    this.sentence.flush(out);
  }
}

/** Stream the sequences of a CRFsuite data file ("-" = stdin, ".gz" ok). */
export async function* readCrfsuiteData(path: string): AsyncGenerator<Sentence> {
  yield* readParsed(path, new CrfsuiteParser(displayName(path)));
}

/** Parse CRFsuite data text (all of it); `file` names it in errors. */
export function parseCrfsuiteData(text: string, file = "<text>"): Sentence[] {
  return parseText(text, new CrfsuiteParser(file));
}
