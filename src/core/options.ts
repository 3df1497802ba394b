import { NadirError } from "./errors.ts";

/**
 * An option, declared once: the library reads its default from here and the
 * CLI builds its flag and `--help` line from the same declaration.
 */
export interface OptionDecl {
  name: string;
  type: "int" | "number" | "string" | "boolean";
  default: number | string | boolean;
  help: string;
  /** The allowed values; a function when they are known only at run time (a registry). */
  choices?: readonly string[] | (() => readonly string[]);
  min?: number;
  /** The value names a file: accepted from the command line or a library call, never from a spec. */
  file?: boolean;
}

/** "lvq-max" → "lvqMax", as a type. */
export type CamelCase<S extends string> = S extends `${infer A}-${infer B}`
  ? `${A}${Capitalize<CamelCase<B>>}`
  : S;

/** The value type of one declaration: its choices, or its scalar type. */
export type OptionValue<D extends OptionDecl> = D extends { choices: readonly (infer C)[] }
  ? C
  : D["type"] extends "int" | "number"
    ? number
    : D["type"] extends "boolean"
      ? boolean
      : string;

/** The resolved options of a table: camel-cased names to value types, inferred from the table. */
export type OptionsOf<T extends readonly OptionDecl[]> = {
  -readonly [D in T[number] as CamelCase<D["name"]>]: OptionValue<D>;
};

/** "lvq-max" → "lvqMax". */
export const camel = (s: string): string =>
  s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** "lvqMax" → "lvq-max". */
export const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The allowed values of a declaration, or undefined when any value of its type is. */
export function choicesOf(decl: OptionDecl): readonly string[] | undefined {
  return typeof decl.choices === "function" ? decl.choices() : decl.choices;
}

/** Convert and check one option value (from a CLI string or a spec/library value). */
export function coerceOption(
  decl: OptionDecl,
  v: unknown,
  where: string,
): number | string | boolean {
  const bad = (expected: string): never => {
    throw new NadirError(
      "E_ARG",
      `${where} --${decl.name}: expected ${expected}, got ${JSON.stringify(v)}`,
    );
  };
  switch (decl.type) {
    case "int":
    case "number": {
      const x = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      if (typeof x !== "number" || !Number.isFinite(x))
        return bad(decl.type === "int" ? "an integer" : "a number");
      if (decl.type === "int" && !Number.isInteger(x)) return bad("an integer");
      if (decl.min !== undefined && x < decl.min) return bad(`a value ≥ ${decl.min}`);
      return x;
    }
    case "boolean":
      if (typeof v === "boolean") return v;
      if (v === "true" || v === "1" || v === "yes") return true;
      if (v === "false" || v === "0" || v === "no") return false;
      return bad("true or false");
    default: {
      if (typeof v !== "string") return bad("a string");
      const choices = choicesOf(decl);
      if (choices && !choices.includes(v)) return bad(`one of ${choices.join(", ")}`);
      return v;
    }
  }
}

/**
 * Resolve options: declared defaults, then the spec's section (layer 0, which
 * may not name files), then explicit values (library call or CLI flags), later
 * ones winning. Unknown names are refused with the list of known ones.
 */
export function resolveOptions<const T extends readonly OptionDecl[]>(
  decls: T,
  ...layers: (Record<string, unknown> | undefined)[]
): OptionsOf<T> {
  const out: Record<string, number | string | boolean> = {};
  const byName = new Map<string, OptionDecl>(decls.map((d) => [d.name, d]));
  for (const d of decls) out[camel(d.name)] = d.default;
  layers.forEach((layer, i) => {
    if (!layer) return;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const d = byName.get(kebab(k)) ?? byName.get(k);
      if (d?.file && i === 0) {
        throw new NadirError(
          "E_SPEC",
          `spec key 'train.${k}': a spec may not name files; give --${d.name} on the command line (or ${camel(d.name)} in the library call)`,
        );
      }
      if (!d) {
        throw new NadirError(
          "E_ARG",
          `unknown training option '${k}'${i === 0 ? " in the spec" : ""}; expected one of ${decls.map((x) => x.name).join(", ")}`,
        );
      }
      out[camel(d.name)] = coerceOption(d, v, i === 0 ? "spec train" : "option");
    }
  });
  return out as OptionsOf<T>;
}
