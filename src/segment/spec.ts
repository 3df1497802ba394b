import { NadirError } from "../core/errors.ts";
import { readJsonFile } from "../core/json.ts";
import {
  camel,
  coerceOption,
  kebab,
  type OptionDecl,
  type OptionsOf,
  resolveOptions,
} from "../core/options.ts";
import { resolveSpecPath } from "../core/shipped.ts";
import { LOSS_NAMES } from "../loss/losses.ts";
import { ONLINE_OPTIMIZERS } from "../optimize/online.ts";

/**
 * A grid spec (graphs/grid.json): the energy of a binary labeling of an
 * image's pixels — which unary features, which neighborhood, how the pairwise
 * term depends on the contrast — and training defaults.
 *
 * ```json
 * { "name": "grid", "structure": "grid", "connectivity": 8,
 *   "features": ["bias", "x", "x^2", "mean(1)", "mean(2)"],
 *   "pairwise": { "sigma": "auto", "diagonal": 0.7071 },
 *   "train": { "epochs": 30, "eta": 1, "c2": 0.0001, "margin": 1, "loss": "hinge" } }
 * ```
 *
 * Features of a pixel p (x = sample / maxval ∈ [0, 1]):
 * - `bias`: 1;  `x`: x_p;  `x^2`: x_p²;
 * - `mean(r)`: the mean of x over the (2r+1)×(2r+1) window around p (cut at
 *   the border: the mean of the pixels inside the image);
 * - `std(r)`: the standard deviation of x over that window.
 *
 * Pairwise: `sigma` is σ of the contrast term exp(−(x_p − x_q)²/(2σ²)) —
 * a number, or "auto": σ² = the mean of (x_p − x_q)² over the image's edges
 * (Boykov–Jolly), so the term adapts to each image's contrast; `diagonal` is
 * the geometric factor of the diagonal edges of an 8-connected grid (1/√2 by
 * default; 1 weighs them like the others); `contrast: false` drops the
 * contrast term (plain Potts: every edge costs w_potts + w_const).
 */
export interface GridSpec {
  name: string;
  description: string;
  connectivity: 4 | 8;
  features: GridFeature[];
  sigma: number | "auto";
  diagonal: number;
  contrast: boolean;
  train: GridTrainOptions;
  /** The JSON the spec was read from (kept in model files). */
  source: unknown;
}

export type GridFeature =
  | { kind: "bias"; name: string }
  | { kind: "x"; name: string }
  | { kind: "x2"; name: string }
  | { kind: "mean"; name: string; r: number }
  | { kind: "std"; name: string; r: number };

/**
 * The trainer's options, declared once: the library's defaults and the CLI's
 * flags and `--help` (`nadir segment train`) come from this table; a spec's
 * `train` section overrides the defaults, explicit options override both.
 * The loss is any row of the loss table (src/loss) whose need the grid can
 * answer (all of them: see src/segment/train.ts); the optimizer one of the
 * online step rules of src/optimize/online.ts, or L-BFGS.
 */
export const GRID_TRAIN_OPTIONS = [
  {
    name: "epochs",
    type: "int",
    default: 30,
    min: 1,
    help: "passes over the training images (lbfgs: iterations)",
  },
  {
    name: "eta",
    type: "number",
    default: 1,
    min: 1e-12,
    help: "initial step size η₀ (sgd: step t is η₀/√t; adagrad: η)",
  },
  { name: "c2", type: "number", default: 1e-4, min: 0, help: "L2 regularization c2/2·‖W‖²" },
  {
    name: "margin",
    type: "number",
    default: 1,
    min: 0,
    help: "Hamming margin m per pixel: the loss-augmented answer is argmin E(y) − m·Δ(y, gold)",
  },
  {
    name: "seed",
    type: "int",
    default: 1,
    min: 0,
    help: "seed of the shuffles (and of cd's samples)",
  },
  {
    name: "average",
    type: "boolean",
    default: true,
    help: "return the average of the iterates, weighted by step number (Σ t·W_t / Σ t)",
  },
  {
    name: "loss",
    type: "string",
    default: "hinge",
    choices: LOSS_NAMES,
    help: "a loss of the loss table: hinge, log, mce, lvq2… on the loss-augmented minimum cut, perceptron on the minimum cut, nll and mee on the marginals of --marginals, cd on Gibbs sweeps",
  },
  {
    name: "optimizer",
    type: "string",
    default: "sgd",
    choices: [...ONLINE_OPTIMIZERS, "lbfgs"],
    help: "sgd (η₀/√t), adagrad, pa (passive-aggressive), perceptron (η = 1), or lbfgs (full batch, losses on the marginals)",
  },
  {
    name: "marginals",
    type: "string",
    default: "meanfield",
    choices: ["meanfield", "bp"],
    help: "nll, mee: Gibbs marginals and free energy by mean field or loopy sum-product BP",
  },
  {
    name: "beta",
    type: "number",
    default: 1,
    min: 1e-12,
    help: "nll, mee, cd: inverse temperature β",
  },
  { name: "gamma", type: "number", default: 1, min: 1e-12, help: "square-exp: γ" },
  { name: "lvq-max", type: "number", default: 1, min: 1e-12, help: "lvq2: saturation M" },
  {
    name: "cd-sweeps",
    type: "int",
    default: 1,
    min: 1,
    help: "cd: Gibbs sweeps from the gold labeling (CD-k)",
  },
  { name: "pa-c", type: "number", default: 1, min: 1e-12, help: "pa: aggressiveness C" },
] as const satisfies readonly OptionDecl[];

/** Options of the grid trainer, as inferred from the table (camel-cased names). */
export type GridTrainOptions = OptionsOf<typeof GRID_TRAIN_OPTIONS>;

export const GRID_TRAIN_DEFAULTS: Readonly<GridTrainOptions> = Object.freeze(
  resolveOptions(GRID_TRAIN_OPTIONS),
);

const KEYS = new Set([
  "$schema",
  "name",
  "description",
  "structure",
  "connectivity",
  "features",
  "pairwise",
  "train",
]);

function fail(where: string, msg: string): never {
  throw new NadirError("E_SPEC", `${where}: ${msg}`);
}

const FEATURE = /^(?:(bias)|(x)|(x\^2)|(mean|std)\(\s*(\d+)\s*\))$/;

/** Parse one feature name ("bias", "x", "x^2", "mean(r)", "std(r)"). */
export function parseGridFeature(s: unknown, where: string): GridFeature {
  if (typeof s !== "string") fail(where, `expected a feature name, got ${JSON.stringify(s)}`);
  const m = FEATURE.exec(s.trim());
  if (!m)
    fail(where, `unknown feature ${JSON.stringify(s)}; expected bias, x, x^2, mean(r) or std(r)`);
  if (m[1]) return { kind: "bias", name: "bias" };
  if (m[2]) return { kind: "x", name: "x" };
  if (m[3]) return { kind: "x2", name: "x^2" };
  const r = Number(m[5]);
  if (r < 1 || r > 50) fail(where, `expected a window radius in 1 … 50, got ${r}`);
  const kind = m[4] as "mean" | "std";
  return { kind, name: `${kind}(${r})`, r };
}

/**
 * Check training options (from a spec's `train`, the CLI or a library call,
 * in kebab or camel case) over `base`; `where` names them in errors.
 */
export function gridTrainOptions(
  base: Readonly<GridTrainOptions>,
  raw: Record<string, unknown>,
  where: string,
): GridTrainOptions {
  const out: GridTrainOptions = { ...base };
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    const decl = GRID_TRAIN_OPTIONS.find((d) => d.name === k || d.name === kebab(k));
    if (!decl) {
      throw new NadirError(
        "E_ARG",
        `${where}: unknown training option '${k}'; expected one of ${GRID_TRAIN_OPTIONS.map((d) => d.name).join(", ")}`,
      );
    }
    (out as Record<string, unknown>)[camel(decl.name)] = coerceOption(decl, v, where);
  }
  return out;
}

/** Check a parsed JSON value against the grid spec schema; `file` names it in errors. */
export function parseGridSpec(json: unknown, file: string): GridSpec {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    fail(file, "expected a JSON object");
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k))
      fail(`${file}: key '${k}'`, `unknown key; expected one of ${[...KEYS].join(", ")}`);
  }
  if (typeof o.name !== "string" || o.name === "")
    fail(`${file}: key 'name'`, `expected a name, got ${JSON.stringify(o.name)}`);
  if (o.description !== undefined && typeof o.description !== "string")
    fail(`${file}: key 'description'`, "expected a string");
  if ((o.structure ?? "grid") !== "grid")
    fail(`${file}: key 'structure'`, `expected "grid", got ${JSON.stringify(o.structure)}`);
  const connectivity = o.connectivity ?? 4;
  if (connectivity !== 4 && connectivity !== 8)
    fail(`${file}: key 'connectivity'`, `expected 4 or 8, got ${JSON.stringify(connectivity)}`);
  if (!Array.isArray(o.features) || o.features.length === 0)
    fail(
      `${file}: key 'features'`,
      'expected a non-empty array of features like "bias", "x", "mean(1)"',
    );
  const features: GridFeature[] = [];
  const seen = new Set<string>();
  o.features.forEach((f, i) => {
    const where = `${file}: key 'features[${i}]'`;
    const feat = parseGridFeature(f, where);
    if (seen.has(feat.name)) fail(where, `feature '${feat.name}' appears twice`);
    seen.add(feat.name);
    features.push(feat);
  });
  const pw = (o.pairwise ?? {}) as Record<string, unknown>;
  if (typeof pw !== "object" || pw === null || Array.isArray(pw))
    fail(`${file}: key 'pairwise'`, "expected an object");
  for (const k of Object.keys(pw)) {
    if (!["sigma", "diagonal", "contrast"].includes(k))
      fail(`${file}: key 'pairwise.${k}'`, "unknown key; expected sigma, diagonal or contrast");
  }
  const sigma = pw.sigma ?? "auto";
  if (sigma !== "auto" && !(typeof sigma === "number" && Number.isFinite(sigma) && sigma > 0))
    fail(
      `${file}: key 'pairwise.sigma'`,
      `expected "auto" or a number > 0, got ${JSON.stringify(sigma)}`,
    );
  const diagonal = pw.diagonal ?? Math.SQRT1_2;
  if (typeof diagonal !== "number" || !Number.isFinite(diagonal) || diagonal < 0)
    fail(
      `${file}: key 'pairwise.diagonal'`,
      `expected a number ≥ 0, got ${JSON.stringify(diagonal)}`,
    );
  const contrast = pw.contrast ?? true;
  if (typeof contrast !== "boolean")
    fail(
      `${file}: key 'pairwise.contrast'`,
      `expected true or false, got ${JSON.stringify(contrast)}`,
    );
  const train = o.train ?? {};
  if (typeof train !== "object" || train === null || Array.isArray(train))
    fail(`${file}: key 'train'`, "expected an object of training options");
  return {
    name: o.name,
    description: (o.description as string | undefined) ?? "",
    connectivity,
    features,
    sigma: sigma as number | "auto",
    diagonal,
    contrast,
    train: gridTrainOptions(
      GRID_TRAIN_DEFAULTS,
      train as Record<string, unknown>,
      `${file}: key 'train'`,
    ),
    source: json,
  };
}

/** Read and check a grid spec file. */
export function loadGridSpec(pathOrName: string): GridSpec {
  const path = resolveSpecPath(pathOrName);
  const json = readJsonFile(path, "spec");
  return parseGridSpec(json, path);
}
