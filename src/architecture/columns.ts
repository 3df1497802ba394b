import { NadirError } from "../core/errors.ts";

/**
 * Derived token columns: functions of one base column, computed once per
 * sentence. Expression syntax in a spec: `lower(w)`, `prefix(w,3)`,
 * `suffix(w,2)`, `shape(w)`, `shortshape(w)`, `caps(w)`, `length(w)`.
 */
export type DerivedFn = (s: string) => string;

/** Word shape: each character mapped to X (upper), x (lower), d (digit), or kept. */
export function shape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) out += "X";
    else if (c >= 97 && c <= 122) out += "x";
    else if (c >= 48 && c <= 57) out += "d";
    else {
      const ch = s[i]!;
      const up = ch.toUpperCase();
      const lo = ch.toLowerCase();
      out += up !== lo ? (ch === up ? "X" : "x") : ch;
    }
  }
  return out;
}

/** Shape with runs of the same class collapsed: "McDonald's" → "XxXx'x". */
export function shortShape(s: string): string {
  const full = shape(s);
  let out = "";
  for (let i = 0; i < full.length; i++) {
    const ch = full[i]!;
    if (i === 0 || ch !== full[i - 1]) out += ch;
  }
  return out;
}

/** Capitalization class: lower, init, upper, mixed, digit, other. */
export function caps(s: string): string {
  let up = 0;
  let lo = 0;
  let dig = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) dig++;
    else if (ch !== ch.toLowerCase()) up++;
    else if (ch !== ch.toUpperCase()) lo++;
  }
  if (up === 0 && lo === 0) return dig > 0 ? "digit" : "other";
  if (up === 0) return dig > 0 ? "lower+d" : "lower";
  if (lo === 0) return dig > 0 ? "upper+d" : "upper";
  const first = s[0]!;
  return first !== first.toLowerCase() && up === 1 ? "init" : "mixed";
}

const EXPR = /^([a-z]+)\(\s*([A-Za-z_][\w-]*)\s*(?:,\s*(\d+)\s*)?\)$/;

export interface DerivedColumn {
  name: string;
  source: string;
  fn: DerivedFn;
  expr: string;
}

/** Parse `lower(w)` / `suffix(w,3)` into a derived column over `source`. */
export function parseDerived(name: string, expr: string, where: string): DerivedColumn {
  const m = EXPR.exec(expr.trim());
  if (!m) {
    throw new NadirError(
      "E_SPEC",
      `${where}: expected an expression like lower(w) or suffix(w,3), got '${expr}'`,
    );
  }
  const [, op, source, nStr] = m;
  const n = nStr === undefined ? undefined : Number(nStr);
  const needN = op === "prefix" || op === "suffix";
  if (needN && (n === undefined || n < 1)) {
    throw new NadirError("E_SPEC", `${where}: ${op} needs a length ≥ 1, e.g. ${op}(${source},3)`);
  }
  if (!needN && n !== undefined)
    throw new NadirError("E_SPEC", `${where}: ${op} takes one argument, got '${expr}'`);
  let fn: DerivedFn;
  switch (op) {
    case "lower":
      fn = (s) => s.toLowerCase();
      break;
    case "upper":
      fn = (s) => s.toUpperCase();
      break;
    case "prefix":
      fn = (s) => (s.length >= n! ? s.slice(0, n) : `${s}~`);
      break;
    case "suffix":
      fn = (s) => (s.length >= n! ? s.slice(s.length - n!) : `~${s}`);
      break;
    case "shape":
      fn = shape;
      break;
    case "shortshape":
      fn = shortShape;
      break;
    case "caps":
      fn = caps;
      break;
    case "length":
      fn = (s) => (s.length > 9 ? "10+" : String(s.length));
      break;
    default:
      throw new NadirError(
        "E_SPEC",
        `${where}: unknown function '${op}'; expected one of lower, upper, prefix, suffix, shape, shortshape, caps, length`,
      );
  }
  return { name, source: source!, fn, expr };
}
