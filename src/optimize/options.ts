import { type GraphSpec, parseSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { LOSS_NAMES, makeLoss } from "../loss/index.ts";

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
  /** The value names a file: accepted from the command line or a library call, never from a spec. */
  file?: boolean;
}

export const OPTIMIZERS = ["perceptron", "sgd", "adagrad", "pa", "lbfgs"] as const;

export const TRAIN_OPTIONS = [
  {
    name: "loss",
    type: "string",
    default: "perceptron",
    choices: LOSS_NAMES,
    help: "loss of energy-based learning (see the README's loss table)",
  },
  {
    name: "optimizer",
    type: "string",
    default: "perceptron",
    choices: OPTIMIZERS,
    help: "perceptron (η = 1), sgd, adagrad, pa (passive-aggressive), lbfgs (full batch, smooth losses)",
  },
  {
    name: "inference",
    type: "string",
    default: "auto",
    choices: [
      "auto",
      "viterbi",
      "exhaustive",
      "bp",
      "trws",
      "mincut",
      "expansion",
      "swap",
      "meanfield",
    ],
    help: "inference backend for decoding and the most offending answer (auto: the exact one the structure allows)",
  },
  {
    name: "offending",
    type: "string",
    default: "exact",
    choices: ["exact", "hamming"],
    help: "most offending incorrect answer: exact argmin over Y ≠ Yⁱ, or loss-augmented argmin E(Y) − m·Hamming(Y, Yⁱ)",
  },
  {
    name: "margin",
    type: "number",
    default: 1,
    min: 0,
    help: "margin m of hinge and square-square (Hamming scale with --offending hamming)",
  },
  {
    name: "beta",
    type: "number",
    default: 1,
    min: 1e-12,
    help: "inverse temperature β of nll and mee",
  },
  {
    name: "gamma",
    type: "number",
    default: 1,
    min: 1e-12,
    help: "γ of the square-exponential loss",
  },
  {
    name: "lvq-max",
    type: "number",
    default: 1,
    min: 1e-12,
    help: "saturation M of the LVQ2 loss",
  },
  {
    name: "epochs",
    type: "int",
    default: 10,
    min: 1,
    help: "passes over the training data (online optimizers)",
  },
  { name: "iterations", type: "int", default: 100, min: 1, help: "L-BFGS iterations" },
  {
    name: "eta",
    type: "number",
    default: 0.1,
    min: 1e-12,
    help: "initial step size η₀ (sgd, adagrad)",
  },
  {
    name: "c2",
    type: "number",
    default: 1,
    min: 0,
    help: "L2 regularization: c2/2·‖W‖² over the training set",
  },
  {
    name: "pa-c",
    type: "number",
    default: 1,
    min: 1e-12,
    help: "aggressiveness C of passive-aggressive steps",
  },
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
    help: "return the average of the weights over all steps (any online optimizer)",
  },
  {
    name: "keep-best",
    type: "boolean",
    default: true,
    help: "with a dev set, keep the weights of the epoch with the best dev score",
  },
  {
    name: "patience",
    type: "int",
    default: 0,
    min: 0,
    help: "early stopping: stop after this many dev evaluations without improvement (0: never)",
  },
  {
    name: "eval-every",
    type: "int",
    default: 10,
    min: 1,
    help: "L-BFGS iterations between dev evaluations",
  },
  {
    name: "init",
    type: "string",
    default: "",
    file: true,
    help: "start from this model's weights (matched by attribute and label names), e.g. to warm-start mee or mce",
  },
  {
    name: "threads",
    type: "int",
    default: 0,
    min: 0,
    help: "threads: L-BFGS splits its batch objective over them (0: NADIR_THREADS or all cores); the online optimizers train by parameter mixing over --shards shards when N > 1",
  },
  {
    name: "shards",
    type: "int",
    default: 0,
    min: 0,
    help: "online optimizers: train by iterative parameter mixing over this many shards of the training data, one epoch per shard from the mixed weights, each in a thread (0: --threads when it is > 1, else no mixing)",
  },
  {
    name: "mixing",
    type: "string",
    default: "uniform",
    choices: ["uniform", "weighted"],
    help: "parameter mixing: uniform average of the shard weights, or weighted by each shard's mistakes (updates) in the epoch",
  },
  {
    name: "checkpoint",
    type: "string",
    default: "",
    file: true,
    help: "write a checkpoint here (atomically) after every epoch / dev evaluation",
  },
  {
    name: "resume",
    type: "string",
    default: "",
    file: true,
    help: "resume training from this checkpoint (same data and spec)",
  },
] as const satisfies readonly OptionDecl[];

export interface TrainOptions {
  loss: string;
  optimizer: (typeof OPTIMIZERS)[number];
  inference: string;
  offending: "exact" | "hamming";
  margin: number;
  beta: number;
  gamma: number;
  lvqMax: number;
  epochs: number;
  iterations: number;
  eta: number;
  c2: number;
  paC: number;
  seed: number;
  shuffle: boolean;
  average: boolean;
  keepBest: boolean;
  patience: number;
  evalEvery: number;
  threads: number;
  shards: number;
  mixing: "uniform" | "weighted";
  init: string;
  checkpoint: string;
  resume: string;
}

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

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
  return out;
}

export function trainOptions(...layers: (Record<string, unknown> | undefined)[]): TrainOptions {
  const o = resolveOptions(TRAIN_OPTIONS, ...layers) as unknown as TrainOptions;
  // combinations that cannot train, refused before any data is read
  if (o.optimizer === "lbfgs" && !makeLoss(o.loss).smooth) {
    throw new NadirError(
      "E_ARG",
      `lbfgs needs a smooth loss (log, mce, square-exp, nll, mee, energy); ${o.loss} is not — use sgd, adagrad or pa`,
    );
  }
  return o;
}

/**
 * Spec-level options: settings of the graph spec that `nadir train` (and
 * `trainTagger`'s options) may override. Unset, the spec's value holds.
 */
export const SPEC_OPTIONS = [
  {
    name: "features",
    type: "string",
    default: "",
    choices: ["observed", "all"],
    help: "state weights for the (attribute, label) pairs observed in training (CRFsuite's default: smaller, faster) or all pairs; default: the spec's",
  },
  {
    name: "min-count",
    type: "int",
    default: "",
    min: 1,
    help: "drop attributes seen fewer times in training; default: the spec's",
  },
  {
    name: "encoding",
    type: "string",
    default: "",
    choices: ["iob2", "iob1", "bioes", "none"],
    help: "label encoding for chunk scores and constraints; default: the spec's",
  },
  {
    name: "constrained",
    type: "boolean",
    default: false,
    help: "forbid transitions the encoding cannot produce (--no-constrained: allow them); default: the spec's",
  },
  {
    name: "metric",
    type: "string",
    default: "",
    choices: ["accuracy", "chunk-f1"],
    help: "model selection metric on dev; default: the spec's",
  },
  {
    name: "outside",
    type: "string",
    default: "",
    choices: ["skip", "pad"],
    help: "template windows reaching outside the sentence: skip the attribute or pad; default: the spec's",
  },
  {
    name: "boundary",
    type: "boolean",
    default: false,
    help: "emit __BOS__ / __EOS__ attributes (--no-boundary: don't); default: the spec's",
  },
  {
    name: "submodular",
    type: "boolean",
    default: false,
    help: "binary labels: keep pairwise energies submodular while training; default: the spec's",
  },
] as const satisfies readonly OptionDecl[];

/**
 * Split explicit options into spec-level settings (SPEC_OPTIONS, by kebab or
 * camel name) and training options.
 */
export function splitSpecOptions(options: Record<string, unknown> | undefined): {
  spec: Record<string, unknown>;
  train: Record<string, unknown>;
} {
  const spec: Record<string, unknown> = {};
  const train: Record<string, unknown> = {};
  const names = new Set<string>(SPEC_OPTIONS.map((o) => o.name));
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v === undefined) continue;
    const kebab = k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (names.has(kebab)) spec[kebab] = v;
    else train[k] = v;
  }
  return { spec, train };
}

/**
 * The spec with spec-level overrides applied: its JSON source is rewritten
 * and checked again (so the model file records what was trained).
 */
export function applySpecOptions(spec: GraphSpec, overrides: Record<string, unknown>): GraphSpec {
  const keys = Object.keys(overrides);
  if (keys.length === 0) return spec;
  const source = spec.source;
  if (typeof source !== "object" || source === null || Array.isArray(source)) {
    throw new NadirError(
      "E_ARG",
      `spec options (${keys.join(", ")}) need a spec read from JSON (parseSpec / loadSpec)`,
    );
  }
  const json: Record<string, unknown> = { ...(source as Record<string, unknown>) };
  for (const d of SPEC_OPTIONS as readonly OptionDecl[]) {
    const v = overrides[d.name];
    if (v !== undefined) json[camel(d.name)] = coerceOption(d, v, "train");
  }
  return parseSpec(json, `${spec.name} spec with options`);
}
