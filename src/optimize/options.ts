import { NadirError } from "../core/errors.ts";

/**
 * Training options, declared once: the library reads defaults from here and
 * the CLI builds its flags and `--help` from the same table.
 */
export interface OptionDecl {
  name: string;
  type: "int" | "number" | "string" | "boolean";
  default: number | string | boolean;
  help: string;
  choices?: readonly string[];
  min?: number;
}

export const TRAIN_OPTIONS = [
  { name: "epochs", type: "int", default: 10, min: 1, help: "passes over the training data" },
  {
    name: "seed",
    type: "int",
    default: 1,
    min: 0,
    help: "seed of the shuffles and initializations",
  },
  {
    name: "shuffle",
    type: "boolean",
    default: true,
    help: "shuffle the training data every epoch",
  },
  {
    name: "average",
    type: "boolean",
    default: true,
    help: "return the average of the weights over all updates (averaged perceptron)",
  },
  {
    name: "keep-best",
    type: "boolean",
    default: true,
    help: "with a dev set, keep the weights of the epoch with the best dev score",
  },
] as const satisfies readonly OptionDecl[];

export interface TrainOptions {
  epochs: number;
  seed: number;
  shuffle: boolean;
  average: boolean;
  keepBest: boolean;
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

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
    default:
      if (typeof v !== "string") return bad("a string");
      if (decl.choices && !decl.choices.includes(v))
        return bad(`one of ${decl.choices.join(", ")}`);
      return v;
  }
}

/**
 * Resolve options: declared defaults, then the spec's `train` section, then
 * explicit values (library call or CLI flags), later ones winning.
 */
export function resolveOptions(
  decls: readonly OptionDecl[],
  ...layers: (Record<string, unknown> | undefined)[]
): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  const byName = new Map(decls.map((d) => [d.name, d]));
  for (const d of decls) out[camel(d.name)] = d.default;
  layers.forEach((layer, i) => {
    if (!layer) return;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const kebab = k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const d = byName.get(kebab) ?? byName.get(k);
      if (!d) {
        throw new NadirError(
          "E_ARG",
          `unknown training option '${k}'${i === 0 ? " in the spec" : ""}; expected one of ${decls.map((x) => x.name).join(", ")}`,
        );
      }
      out[camel(d.name)] = coerceOption(d, v, i === 0 ? "spec train" : "option");
    }
  });
  return out;
}

export function trainOptions(...layers: (Record<string, unknown> | undefined)[]): TrainOptions {
  return resolveOptions(TRAIN_OPTIONS, ...layers) as unknown as TrainOptions;
}
