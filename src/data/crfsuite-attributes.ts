/**
 * CRFsuite attribute fields (`name[:value]`, escaped colons and backslashes), apart from
 * the file reader (crfsuite-data.ts), so the feature extractor can parse
 * them without pulling file I/O into its import graph.
 */

/** An attribute field split into its (unescaped) name and its value. */
export interface AttributeField {
  name: string;
  value: number;
}

/**
 * Split a field at its first unescaped colon and unescape the name; the
 * value is NaN when the text after the colon is not a finite number (the
 * caller reports it). Fast path: a field without `\` and `:` is its own name.
 */
export function parseAttributeField(field: string): AttributeField {
  const colon = field.indexOf(":");
  const slash = field.indexOf("\\");
  if (slash < 0) {
    if (colon < 0) return { name: field, value: 1 };
    return { name: field.slice(0, colon), value: parseValue(field.slice(colon + 1)) };
  }
  let name = "";
  let i = 0;
  const n = field.length;
  for (; i < n; i++) {
    const c = field.charCodeAt(i);
    if (c === 92 /* \ */ && i + 1 < n) {
      const d = field.charCodeAt(i + 1);
      if (d === 58 /* : */ || d === 92) {
        name += field[i + 1];
        i++;
        continue;
      }
    } else if (c === 58) {
      return { name, value: parseValue(field.slice(i + 1)) };
    }
    name += field[i];
  }
  return { name, value: 1 };
}

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

function parseValue(s: string): number {
  return NUMBER.test(s) ? Number(s) : Number.NaN;
}

/** Escape an attribute name for a CRFsuite data file (`:` → `\:`, `\` → `\\`). */
export function escapeAttribute(name: string): string {
  return name.replace(/[\\:]/g, (c) => `\\${c}`);
}

/** A field as written: the escaped name, `:value` when the value is not 1. */
export function formatAttributeField(name: string, value = 1): string {
  return value === 1 ? escapeAttribute(name) : `${escapeAttribute(name)}:${value}`;
}
