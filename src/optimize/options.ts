import { type GraphSpec, parseSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import {
  camel,
  coerceOption,
  kebab,
  type OptionDecl,
  type OptionsOf,
  resolveOptions,
} from "../core/options.ts";
import { backendNames } from "../inference/registry.ts";
import { LOSS_NAMES, makeLoss } from "../loss/index.ts";

/**
 * Training options, declared once: the library reads defaults from here and
 * the CLI builds its flags and `--help` from the same table.
 */
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
    choices: () => ["auto", ...backendNames()],
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
  {
    name: "files",
    type: "string",
    default: "",
    file: true,
    help: "a directory the spec's own files (network embeddings, lookup tables) are read from, besides the package's embeddings/ (a spec names them by a plain relative path)",
  },
] as const satisfies readonly OptionDecl[];

/** Resolved training options, inferred from TRAIN_OPTIONS. */
export type TrainOptions = OptionsOf<typeof TRAIN_OPTIONS>;

export function trainOptions(...layers: (Record<string, unknown> | undefined)[]): TrainOptions {
  const o = resolveOptions(TRAIN_OPTIONS, ...layers);
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
    if (names.has(kebab(k))) spec[kebab(k)] = v;
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
