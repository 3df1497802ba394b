import { NadirError } from "../core/errors.ts";

/**
 * The loss table of energy-based learning (LeCun, Chopra, Hadsell, Ranzato &
 * Huang, "A Tutorial on Energy-Based Learning", 2006, table 1).
 *
 * A loss sees only energies — never features, weights or labelings — and
 * returns its value and its derivatives with respect to those energies. The
 * trainer turns them into a weight gradient through the architecture:
 *
 *   ∂L/∂W = dEC · ∂E(W, Yⁱ, Xⁱ)/∂W + dEI · ∂E(W, Ȳ, Xⁱ)/∂W + dF · Σ_Y P_β(Y|Xⁱ) ∂E(W, Y, Xⁱ)/∂W
 *
 * (the last term because ∂F_β/∂W is the Gibbs expectation of ∂E/∂W, i.e. the
 * marginals at β). Lower energy is better everywhere, so every contrastive
 * loss here is non-decreasing in E_C and non-increasing in E_I and F_β.
 *
 * Notation:
 * - E_C the energy of the correct answer Yⁱ;
 * - E_I the energy of the most offending incorrect answer
 *   Ȳ = argmin_{Y ≠ Yⁱ} E(Y) ("offending"), or, for the perceptron, of the
 *   machine's answer argmin_Y E(Y), which may be Yⁱ itself ("answer");
 * - F_β = −(1/β) log Σ_Y exp(−β E(Y)) the free energy ("free-energy");
 *   F_β ≤ min_Y E(Y) and F_β → min_Y E(Y) as β → ∞.
 *
 * Subgradients. At a kink the derivative is always the one of the FLAT piece:
 * a loss sitting exactly on the boundary of a region where it is constant
 * reports zero derivatives (no update). Concretely:
 * - hinge at m + E_C − E_I = 0: dEC = dEI = 0 (the slope is used only where m + E_C − E_I > 0);
 * - lvq2 at E_C − E_I = M: dEC = dEI = 0 (saturated); but at E_C − E_I = 0 the
 *   slope (1, −1) applies: a tie between the correct and the most offending
 *   answer is a mistake of the decision (it may go either way), and without
 *   this LVQ2 could never leave W = 0, where every pair ties;
 * - square-square at E_I = m needs no choice: max(0, m − E_I)² is C¹, its
 *   derivative −2·max(0, m − E_I) is 0 from both sides (only the curvature jumps).
 *
 * `evaluate` is a hot-path call: it does not validate its arguments
 * (validation happens once, in `makeLoss`) and it writes into `out` when given.
 */

export type LossName =
  | "energy"
  | "perceptron"
  | "hinge"
  | "log"
  | "lvq2"
  | "mce"
  | "square-square"
  | "square-exp"
  | "nll"
  | "mee"
  | "cd";

/**
 * What a loss needs from inference besides E_C:
 * - "none": nothing;
 * - "answer": the energy of the machine's answer min_Y E(Y) (may be the correct one);
 * - "offending": the energy of the most offending incorrect answer min_{Y ≠ Yⁱ} E(Y);
 * - "free-energy": F_β (and, for the weight gradient, the marginals at β);
 * - "sample": the energy of an answer drawn from the Gibbs distribution P_β(Y|Xⁱ).
 */
export type LossNeed = "none" | "answer" | "offending" | "free-energy" | "sample";

export interface LossParams {
  /** m, the margin of hinge and square-square (≥ 0; default 1) */
  margin: number;
  /** β, the inverse temperature of nll and mee (> 0; default 1) */
  beta: number;
  /** γ, the weight of the exponential term of square-exp (> 0; default 1) */
  gamma: number;
  /** M, the saturation level of lvq2 (> 0; default 1) */
  lvqMax: number;
}

/** A loss value and its derivatives w.r.t. E_C, E_I and F_β (0 where not used). */
export interface LossValue {
  value: number;
  dEC: number;
  dEI: number;
  dF: number;
}

export interface Loss {
  readonly name: LossName;
  readonly needs: LossNeed;
  readonly params: LossParams;
  /**
   * true when the loss is meant for plain gradient methods (SGD, L-BFGS): its
   * formula is C² in its energy arguments (log, mce, square-exp, nll, mee;
   * energy, which is linear, too). false when it is piecewise: hinge and lvq2
   * have kinks (and flat parts), square-square is only C¹ (its curvature
   * jumps at E_I = m), and the perceptron E_C − min_Y E(Y) is piecewise linear
   * in W by construction — these are for subgradient / perceptron-style
   * updates (use the conventions documented at the top of this module).
   */
  readonly smooth: boolean;
  /** true for square-square and square-exp: they assume E ≥ 0 (see src/loss/positive.ts) */
  readonly needsNonNegativeEnergies: boolean;
  /**
   * Value and derivatives at (E_C, E_other). E_other is E_I for "answer" and
   * "offending" losses, F_β for "free-energy" ones; ignored for "energy".
   * Writes into `out` (all four fields) and returns it when given.
   */
  evaluate(EC: number, Eother: number, out?: LossValue): LossValue;
}

/** One row of the loss table, for the README and `--help`. */
export interface LossInfo {
  name: LossName;
  formula: string;
  margin: string;
  needs: LossNeed;
  use: string;
}

// ---------------------------------------------------------------------------
// Numerically stable scalar helpers.

/** softplus(x) = log(1 + eˣ), without overflow: max(x, 0) + log1p(e^{−|x|}). */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** The logistic σ(x) = 1 / (1 + e^{−x}); exp is only taken of a non-positive number. */
function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

// ---------------------------------------------------------------------------
// The losses. Each kernel fills `o` completely and returns it.

type Kernel = (EC: number, Eo: number, p: LossParams, o: LossValue) => LossValue;

interface LossDef extends LossInfo {
  smooth: boolean;
  nonNegative: boolean;
  kernel: Kernel;
}

function put(o: LossValue, value: number, dEC: number, dEI: number, dF: number): LossValue {
  o.value = value;
  o.dEC = dEC;
  o.dEI = dEI;
  o.dF = dF;
  return o;
}

/**
 * Energy loss: L = E_C;  ∂L/∂E_C = 1.
 * Pushes the correct answer down and nothing up: collapses any architecture
 * that can lower every energy at once.
 */
const energy: LossDef = {
  name: "energy",
  formula: "E_C",
  margin: "none — does not pull up incorrect answers",
  needs: "none",
  use: "Only for architectures where pushing down E_C cannot collapse the surface (e.g. when lowering E_C raises the other energies); on a linear chain it drives all energies to −∞ (collapse).",
  smooth: true,
  nonNegative: false,
  kernel: (EC, _Eo, _p, o) => put(o, EC, 1, 0, 0),
};

/**
 * Perceptron loss: L = E_C − E_I with E_I = min_Y E(Y) the machine's answer;
 * ∂L/∂E_C = 1, ∂L/∂E_I = −1.
 * L ≥ 0 when E_I really is the minimum. When the machine's answer is the
 * correct one, E_I = E_C, L = 0 and the two derivatives cancel in the weight
 * gradient (same labeling), so the trainer may skip the update.
 */
const perceptron: LossDef = {
  name: "perceptron",
  formula: "E_C − min_Y E(Y)",
  margin: "none (zero)",
  needs: "answer",
  use: "The structured perceptron: needs only the machine's answer (Viterbi), updates only on mistakes and has no margin, so pair it with weight averaging.",
  smooth: false,
  nonNegative: false,
  kernel: (EC, EI, _p, o) => put(o, EC - EI, 1, -1, 0),
};

/**
 * Hinge loss: L = max(0, m + E_C − E_I);
 * ∂L/∂E_C = 1, ∂L/∂E_I = −1 where m + E_C − E_I > 0, else 0 (the kink takes the flat side).
 */
const hinge: LossDef = {
  name: "hinge",
  formula: "max(0, m + E_C − E_I)",
  margin: "m (explicit)",
  needs: "offending",
  use: "Large-margin training (structured SVM style): demands E_I ≥ E_C + m and stops pushing once it holds; combine with L2 regularization.",
  smooth: false,
  nonNegative: false,
  kernel: (EC, EI, p, o) => {
    const a = p.margin + EC - EI;
    return a > 0 ? put(o, a, 1, -1, 0) : put(o, 0, 0, 0, 0);
  },
};

/**
 * Log loss: L = log(1 + exp(E_C − E_I)) = softplus(E_C − E_I);
 * ∂L/∂E_C = σ(E_C − E_I), ∂L/∂E_I = −σ(E_C − E_I).
 * Computed as a stable softplus: finite for any finite E_C − E_I.
 */
const logLoss: LossDef = {
  name: "log",
  formula: "log(1 + exp(E_C − E_I))",
  margin: "soft, infinite",
  needs: "offending",
  use: "A smooth hinge for gradient methods: keeps pushing E_I above E_C with a force that decays but never vanishes.",
  smooth: true,
  nonNegative: false,
  kernel: (EC, EI, _p, o) => {
    const d = EC - EI;
    const s = logistic(d);
    return put(o, softplus(d), s, -s, 0);
  },
};

/**
 * LVQ2 loss: L = min(M, max(0, E_C − E_I));
 * ∂L/∂E_C = 1, ∂L/∂E_I = −1 where 0 < E_C − E_I < M, else 0 (both kinks take the flat side).
 * (The tutorial divides E_C − E_I by δ·E_I; nadir uses the unnormalized difference.)
 */
const lvq2: LossDef = {
  name: "lvq2",
  formula: "min(M, max(0, E_C − E_I))",
  margin: "zero, saturates at M",
  needs: "offending",
  use: "Learning vector quantization: corrects only actual mistakes and ignores gross ones (E_C − E_I ≥ M), so mislabeled outliers cannot dominate; gives no margin.",
  smooth: false,
  nonNegative: false,
  kernel: (EC, EI, p, o) => {
    const d = EC - EI;
    if (d < 0) return put(o, 0, 0, 0, 0);
    if (d >= p.lvqMax) return put(o, p.lvqMax, 0, 0, 0);
    return put(o, d, 1, -1, 0);
  },
};

/**
 * Minimum classification error loss: L = σ(E_C − E_I) = 1 / (1 + exp(−(E_C − E_I)));
 * ∂L/∂E_C = σ(d)·σ(−d), ∂L/∂E_I = −σ(d)·σ(−d) with d = E_C − E_I (stable logistic).
 */
const mce: LossDef = {
  name: "mce",
  formula: "σ(E_C − E_I) = 1 / (1 + exp(E_I − E_C))",
  margin: "soft",
  needs: "offending",
  use: "Minimum classification error (speech recognition): a smooth count of errors, non-convex and saturating for gross errors, robust to outliers; best after a convex warm start.",
  smooth: true,
  nonNegative: false,
  kernel: (EC, EI, _p, o) => {
    const d = EC - EI;
    const s = logistic(d);
    const g = s * logistic(-d);
    return put(o, s, g, -g, 0);
  },
};

/**
 * Square-square loss: L = E_C² + max(0, m − E_I)²;
 * ∂L/∂E_C = 2·E_C, ∂L/∂E_I = −2·max(0, m − E_I) (continuous: 0 at E_I = m from both sides).
 * Assumes E ≥ 0: it pushes E_C towards 0 and E_I up to at least m.
 */
const squareSquare: LossDef = {
  name: "square-square",
  formula: "E_C² + max(0, m − E_I)²",
  margin: "m on E_I",
  needs: "offending",
  use: "Regression-style contrastive training (e.g. siamese networks): E_C towards 0, E_I above m; needs non-negative energies.",
  smooth: false,
  nonNegative: true,
  kernel: (EC, EI, p, o) => {
    const r = p.margin - EI;
    return r > 0 ? put(o, EC * EC + r * r, 2 * EC, -2 * r, 0) : put(o, EC * EC, 2 * EC, 0, 0);
  },
};

/**
 * Square-exponential loss: L = E_C² + γ·exp(−E_I);
 * ∂L/∂E_C = 2·E_C, ∂L/∂E_I = −γ·exp(−E_I).
 * Assumes E ≥ 0 (then γ·exp(−E_I) ≤ γ); far outside that domain, for
 * E_I < ln γ − 709.78, γ·exp(−E_I) overflows to Infinity.
 */
const squareExp: LossDef = {
  name: "square-exp",
  formula: "E_C² + γ·exp(−E_I)",
  margin: "soft via γ",
  needs: "offending",
  use: "Like square-square but pulls E_I up with an exponentially decaying force instead of a hard margin; needs non-negative energies.",
  smooth: true,
  nonNegative: true,
  kernel: (EC, EI, p, o) => {
    const g = p.gamma * Math.exp(-EI);
    return put(o, EC * EC + g, 2 * EC, -g, 0);
  },
};

/**
 * Negative log-likelihood loss: L = E_C − F_β = E_C + (1/β) log Σ_Y exp(−β E(Y));
 * ∂L/∂E_C = 1, ∂L/∂F_β = −1 (so ∂L/∂W = ∂E_C/∂W − E_{P_β}[∂E/∂W]).
 * L = −(1/β) log P_β(Yⁱ|Xⁱ) ≥ 0; with F_β = min_Y E(Y) (β → ∞) it is the perceptron loss.
 */
const nll: LossDef = {
  name: "nll",
  formula: "E_C + (1/β) log Σ_Y exp(−β E(Y)) = E_C − F_β",
  margin: "soft via β",
  needs: "free-energy",
  use: "Conditional random fields (maximum conditional likelihood / MMI): pulls up every answer in proportion to its Gibbs probability; needs the free energy and marginals (forward–backward).",
  smooth: true,
  nonNegative: false,
  kernel: (EC, F, _p, o) => put(o, EC - F, 1, 0, -1),
};

/**
 * Minimum empirical error loss: L = 1 − P_β(Yⁱ|Xⁱ) = 1 − exp(−β(E_C − F_β));
 * ∂L/∂E_C = β·P, ∂L/∂F_β = −β·P with P = exp(−β(E_C − F_β)).
 * Mathematically E_C ≥ F_β (P ≤ 1); if rounding gives E_C < F_β, P is taken
 * as 1 (L = 0, ∂L/∂E_C = β, ∂L/∂F_β = −β: the limit at E_C = F_β).
 * The value is computed as −expm1(−β(E_C − F_β)), accurate when P ≈ 1.
 */
const mee: LossDef = {
  name: "mee",
  formula: "1 − exp(−β E_C) / Z_β = 1 − exp(−β (E_C − F_β))",
  margin: "soft via β",
  needs: "free-energy",
  use: "Minimum empirical error: the expected 0/1 error under the Gibbs distribution, bounded in [0, 1); non-convex but robust to label noise.",
  smooth: true,
  nonNegative: false,
  kernel: (EC, F, p, o) => {
    const x = EC > F ? -p.beta * (EC - F) : 0;
    const P = Math.exp(x);
    const g = p.beta * P;
    return put(o, 0 - Math.expm1(x), g, 0, -g); // 0 − … keeps +0 at P = 1
  },
};

/**
 * Contrastive divergence: L = E_C − E(Ỹ), Ỹ drawn from P_β(Y|Xⁱ) (an exact
 * sample on chains; k Gibbs sweeps started at Yⁱ on loopy graphs, CD-k);
 * ∂L/∂E_C = 1, ∂L/∂E(Ỹ) = −1. In expectation over Ỹ its gradient is NLL's,
 * ∂E_C/∂W − E_{P_β}[∂E/∂W]: it pulls up one sampled answer instead of all of
 * them in proportion to their probability. The value is a noisy estimate
 * (it can be negative).
 */
const cd: LossDef = {
  name: "cd",
  formula: "E_C − E(Ỹ), Ỹ ~ P_β(Y|X)",
  margin: "soft via β (in expectation)",
  needs: "sample",
  use: "Contrastive divergence: a stochastic NLL that pulls up one sampled answer per example (forward-filtering backward-sampling on chains, Gibbs sweeps from the data on loopy graphs); for SGD-style optimizers, not L-BFGS.",
  smooth: false,
  nonNegative: false,
  kernel: (EC, ES, _p, o) => put(o, EC - ES, 1, -1, 0),
};

const DEFS: readonly LossDef[] = [
  energy,
  perceptron,
  hinge,
  logLoss,
  lvq2,
  mce,
  squareSquare,
  squareExp,
  nll,
  mee,
  cd,
];

export const LOSS_NAMES: readonly LossName[] = Object.freeze(DEFS.map((d) => d.name));

export const LOSS_TABLE: readonly LossInfo[] = Object.freeze(
  DEFS.map(({ name, formula, margin, needs, use }) =>
    Object.freeze({ name, formula, margin, needs, use }),
  ),
);

// ---------------------------------------------------------------------------
// Construction (the boundary: names and parameters are validated here).

const DEFAULTS: Readonly<LossParams> = Object.freeze({ margin: 1, beta: 1, gamma: 1, lvqMax: 1 });

/** Per parameter: is the value admissible, and how to say what is expected. */
const PARAM_RULES: Readonly<
  Record<keyof LossParams, { ok: (v: number) => boolean; want: string }>
> = {
  margin: { ok: (v) => v >= 0, want: "a finite number ≥ 0" },
  beta: { ok: (v) => v > 0, want: "a finite number > 0" },
  gamma: { ok: (v) => v > 0, want: "a finite number > 0" },
  lvqMax: { ok: (v) => v > 0, want: "a finite number > 0" },
};

function checkParams(params: Partial<LossParams>): LossParams {
  const out: LossParams = { ...DEFAULTS };
  for (const key of Object.keys(params)) {
    if (!Object.hasOwn(PARAM_RULES, key))
      throw new NadirError(
        "E_ARG",
        `unknown loss parameter '${key}'; expected one of ${Object.keys(PARAM_RULES).join(", ")}`,
      );
    const k = key as keyof LossParams;
    const v: unknown = params[k];
    if (v === undefined) continue;
    const rule = PARAM_RULES[k];
    if (typeof v !== "number" || !Number.isFinite(v) || !rule.ok(v))
      throw new NadirError("E_ARG", `loss parameter ${k}: expected ${rule.want}, got ${String(v)}`);
    out[k] = v;
  }
  return out;
}

class TableLoss implements Loss {
  readonly name: LossName;
  readonly needs: LossNeed;
  readonly params: LossParams;
  readonly smooth: boolean;
  readonly needsNonNegativeEnergies: boolean;
  private readonly kernel: Kernel;

  constructor(def: LossDef, params: LossParams) {
    this.name = def.name;
    this.needs = def.needs;
    this.params = Object.freeze(params);
    this.smooth = def.smooth;
    this.needsNonNegativeEnergies = def.nonNegative;
    this.kernel = def.kernel;
  }

  evaluate(EC: number, Eother: number, out?: LossValue): LossValue {
    return this.kernel(EC, Eother, this.params, out ?? { value: 0, dEC: 0, dEI: 0, dF: 0 });
  }
}

/**
 * The loss called `name` with parameters `params` (defaults m = 1, β = 1,
 * γ = 1, M = 1). Every parameter is checked whether or not the loss uses it.
 * Throws NadirError E_ARG for an unknown name, an unknown parameter, or a
 * value that is not finite or out of range (margin < 0, beta/gamma/lvqMax ≤ 0).
 */
export function makeLoss(name: string, params: Partial<LossParams> = {}): Loss {
  const def = DEFS.find((d) => d.name === name);
  if (def === undefined)
    throw new NadirError(
      "E_ARG",
      `unknown loss '${name}'; expected one of ${LOSS_NAMES.join(", ")}`,
    );
  return new TableLoss(def, checkParams(params));
}
