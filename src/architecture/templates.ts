import { NadirError } from "../core/errors.ts";

/** One reference `col[offset]` inside a template. */
export interface TemplatePart {
  column: string;
  offset: number;
}

/**
 * A feature template in the CRF++/CRFsuite style: `w[-1]|w[0]` joins the
 * values of column w at offsets −1 and 0 into the attribute
 * `w[-1]|w[0]=He|said`. A template without references (`bias`) is a
 * constant attribute on every position.
 */
export interface Template {
  name: string;
  parts: TemplatePart[];
}

const PART = /^([A-Za-z_][\w-]*)\[\s*([+-]?\d+)\s*\]$/;

export function parseTemplate(text: string, where: string): Template {
  const name = text.trim();
  if (name === "")
    throw new NadirError("E_SPEC", `${where}: expected a template like w[0] or w[-1]|w[0], got ''`);
  if (!name.includes("[")) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) {
      throw new NadirError(
        "E_SPEC",
        `${where}: expected a template like w[0] or a constant name like bias, got '${text}'`,
      );
    }
    return { name, parts: [] };
  }
  const parts: TemplatePart[] = [];
  for (const piece of name.split("|")) {
    const m = PART.exec(piece.trim());
    if (!m) {
      throw new NadirError("E_SPEC", `${where}: expected col[offset] in '${text}', got '${piece}'`);
    }
    parts.push({ column: m[1]!, offset: Number(m[2]) });
  }
  return { name, parts };
}
