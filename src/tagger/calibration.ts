/**
 * Calibrated energies. Energies are uncalibrated: only their differences
 * within one model mean something, so the energies of two separately trained
 * models cannot be added as they are. Through the Gibbs distribution
 * P_β(y|x) = exp(−β E(y, x)) / Z_β they become probabilities, and the β that
 * makes those probabilities honest is fitted on held-out data (temperature
 * scaling): it minimizes the sequence NLL
 *
 *   L(β) = Σᵢ β E(yⁱ, xⁱ) + log Z_β(xⁱ),  L′(β) = Σᵢ E(yⁱ) − ⟨E⟩_β,  L″(β) = Σᵢ Var_β(E) ≥ 0,
 *
 * a convex function of β, minimized here by golden-section search on log β.
 * Calibrated models combine as a product of experts: decode
 * argmin_y Σ_m β_m E_m(y, x) (first-order chains over the same labels).
 */
import type { SentenceLike } from "../architecture/features.ts";
import { labelOf } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { type ChainPotentials, chainEnergy, chainPotentials } from "../graph/chain.ts";
import { forwardBackward, freeEnergy } from "../inference/forward-backward.ts";
import { viterbi } from "../inference/viterbi.ts";
import type { Model } from "./model.ts";

function gold(model: Model, s: SentenceLike): string[] {
  return s.tokens.map((tok) => labelOf(tok, model.spec.label) ?? "");
}

/** First-order chain potentials of a sentence under a model (refused for other structures). */
function potentialsOf(model: Model, s: SentenceLike): ChainPotentials {
  if (model.arch.order !== 1 || model.arch.skip)
    throw new NadirError(
      "E_UNSUPPORTED",
      `calibration needs first-order chain models; ${model.spec.name} is ${model.spec.structure}`,
    );
  return model.potentials(model.encode(s.tokens));
}

/** Σᵢ −log P_β(yⁱ|xⁱ) over gold-labeled sentences whose labels the model knows, and their count. */
export function sequenceNll(
  model: Model,
  data: readonly SentenceLike[],
  beta: number,
): { nll: number; sentences: number } {
  let nll = 0;
  let n = 0;
  for (const s of data) {
    if (s.tokens.length === 0) continue;
    const labels = gold(model, s);
    if (labels.some((l) => !model.labels.includes(l))) continue;
    const p = potentialsOf(model, s);
    const y = model.labelIds(labels);
    nll += beta * (chainEnergy(p, y) - freeEnergy(p, beta, model.constraintsFor(p.T)));
    n++;
  }
  return { nll, sentences: n };
}

/** The β of least sequence NLL on `dev` (golden section on log β over [lo, hi]). */
export function fitTemperature(
  model: Model,
  dev: readonly SentenceLike[],
  options: { lo?: number; hi?: number; tolerance?: number } = {},
): { beta: number; nll: number; nllAtOne: number; sentences: number } {
  const tol = options.tolerance ?? 1e-4;
  const lb = goldenSection(
    (x) => sequenceNll(model, dev, Math.exp(x)).nll,
    Math.log(options.lo ?? 1e-3),
    Math.log(options.hi ?? 1e3),
    tol,
  );
  const beta = Math.exp(lb);
  const at = sequenceNll(model, dev, beta);
  return { beta, nll: at.nll, nllAtOne: sequenceNll(model, dev, 1).nll, sentences: at.sentences };
}

/**
 * Expected calibration error of the token marginals at β: tokens binned by
 * their confidence (the largest marginal), ECE = Σ_b (n_b/n)·|acc_b − conf_b|,
 * where a token is correct when its most probable label is the gold one.
 */
export function calibrationError(
  model: Model,
  data: readonly SentenceLike[],
  beta: number,
  bins = 15,
): { ece: number; accuracy: number; confidence: number; tokens: number } {
  const n = new Float64Array(bins);
  const acc = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const L = model.labels.length;
  let tokens = 0;
  for (const s of data) {
    if (s.tokens.length === 0) continue;
    const p = potentialsOf(model, s);
    const m = forwardBackward(p, beta, {
      pairwise: "none",
      ...(model.constraintsFor(p.T) ? { constraints: model.constraintsFor(p.T)! } : {}),
    });
    const labels = gold(model, s);
    for (let t = 0; t < p.T; t++) {
      let best = 0;
      for (let l = 1; l < L; l++) if (m.unary[t * L + l]! > m.unary[t * L + best]!) best = l;
      const c = m.unary[t * L + best]!;
      const b = Math.min(bins - 1, Math.floor(c * bins));
      n[b]!++;
      conf[b] = conf[b]! + c;
      acc[b] = acc[b]! + (model.labels[best] === labels[t] ? 1 : 0);
      tokens++;
    }
  }
  let ece = 0;
  let A = 0;
  let C = 0;
  for (let b = 0; b < bins; b++) {
    if (n[b] === 0) continue;
    ece += Math.abs(acc[b]! - conf[b]!) / tokens;
    A += acc[b]!;
    C += conf[b]!;
  }
  return { ece, accuracy: A / tokens, confidence: C / tokens, tokens };
}

/** The minimum of a unimodal f on [a, b] by golden-section search, to within `tol`. */
function goldenSection(f: (x: number) => number, a: number, b: number, tol: number): number {
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tol) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = f(d);
    }
  }
  return (a + b) / 2;
}

/** Σ_m β_m p_m of chain potentials over the same T and L. */
function sumPotentials(
  parts: readonly ChainPotentials[],
  betas: readonly number[],
): ChainPotentials {
  const { T, L } = parts[0]!;
  const unary = new Float64Array(T * L);
  const trans = new Float64Array(L * L);
  const start = new Float64Array(L);
  const end = new Float64Array(L);
  parts.forEach((p, m) => {
    const b = betas[m]!;
    for (let k = 0; k < T * L; k++) unary[k] = unary[k]! + b * p.unary[k]!;
    for (let k = 0; k < L * L; k++) trans[k] = trans[k]! + b * p.transition[k]!;
    for (let k = 0; k < L; k++) {
      start[k] = start[k]! + b * p.start[k]!;
      end[k] = end[k]! + b * p.end[k]!;
    }
  });
  return chainPotentials(T, L, unary, trans, start, end);
}

/**
 * A product of experts: first-order chain models over the same label set,
 * decoded by argmin_y Σ_m β_m E_m(y, x) (each model extracts its own features).
 */
export class EnergySum {
  readonly models: readonly Model[];
  readonly betas: readonly number[];
  readonly labels: readonly string[];
  /** per model, its label id of each of the first model's labels */
  private readonly maps: Int32Array[];

  constructor(models: readonly Model[], betas: readonly number[]) {
    if (models.length === 0 || models.length !== betas.length)
      throw new NadirError("E_ARG", "EnergySum: expected one β per model, at least one model");
    const labels = models[0]!.labels;
    this.maps = models.map((m, i) => {
      if (m.labels.length !== labels.length || labels.some((l) => !m.labels.includes(l)))
        throw new NadirError("E_ARG", `EnergySum: model ${i} has another label set`);
      return Int32Array.from(labels, (l) => m.labels.indexOf(l));
    });
    this.models = models;
    this.betas = betas;
    this.labels = labels;
  }

  /** The summed potentials Σ_m β_m p_m(x), in the first model's label order. */
  potentials(s: SentenceLike): ChainPotentials {
    const T = s.tokens.length;
    const L = this.labels.length;
    const unary = new Float64Array(T * L);
    const trans = new Float64Array(L * L);
    const start = new Float64Array(L);
    const end = new Float64Array(L);
    this.models.forEach((m, i) => {
      const p = potentialsOf(m, s);
      const map = this.maps[i]!;
      const b = this.betas[i]!;
      for (let t = 0; t < T; t++)
        for (let l = 0; l < L; l++)
          unary[t * L + l] = unary[t * L + l]! + b * p.unary[t * L + map[l]!]!;
      for (let a = 0; a < L; a++) {
        start[a] = start[a]! + b * p.start[map[a]!]!;
        end[a] = end[a]! + b * p.end[map[a]!]!;
        for (let c = 0; c < L; c++)
          trans[a * L + c] = trans[a * L + c]! + b * p.transition[map[a]! * L + map[c]!]!;
      }
    });
    return chainPotentials(T, L, unary, trans, start, end);
  }

  /**
   * Fit the weights β_m jointly on gold-labeled data: the sequence NLL of the
   * product of experts, L(β) = Σᵢ Σ_m β_m E_m(yⁱ) + log Σ_y exp(−Σ_m β_m E_m(y)),
   * is convex in β (log-linear), minimized by rounds of golden-section search
   * along each coordinate (on log β_m), starting from the current betas.
   * Returns a new EnergySum.
   */
  fit(dev: readonly SentenceLike[], options: { rounds?: number } = {}): EnergySum {
    const cached: {
      p: ChainPotentials[];
      y: Int32Array;
      constraints: ReturnType<Model["constraintsFor"]>;
    }[] = [];
    for (const s of dev) {
      if (s.tokens.length === 0) continue;
      const labels = gold(this.models[0]!, s);
      if (labels.some((l) => !this.labels.includes(l))) continue;
      const one = this.models.map((m, i) =>
        new EnergySum([m], [1]).withMap(this.maps[i]!, this.labels).potentials(s),
      );
      cached.push({
        p: one,
        y: Int32Array.from(labels, (l) => this.labels.indexOf(l)),
        constraints: this.models[0]!.constraintsFor(s.tokens.length),
      });
    }
    const nll = (betas: number[]): number => {
      let f = 0;
      for (const c of cached) {
        const p = sumPotentials(c.p, betas);
        f += chainEnergy(p, c.y) - freeEnergy(p, 1, c.constraints);
      }
      return f;
    };
    const betas = [...this.betas];
    for (let round = 0; round < (options.rounds ?? 4); round++) {
      for (let m = 0; m < betas.length; m++) {
        const at = (lb: number) => {
          const b = [...betas];
          b[m] = Math.exp(lb);
          return nll(b);
        };
        const lb = Math.log(betas[m]!);
        betas[m] = Math.exp(goldenSection(at, lb - 3, lb + 3, 1e-3));
      }
    }
    return new EnergySum(this.models, betas);
  }

  /** This sum with model 0's label map replaced (internal: one model in another's label order). */
  private withMap(map: Int32Array, labels: readonly string[]): EnergySum {
    const e = Object.create(EnergySum.prototype) as EnergySum;
    Object.assign(e, { models: this.models, betas: this.betas, labels, maps: [map] });
    return e;
  }

  /** argmin_y Σ_m β_m E_m(y, x), as label names (under the first model's constraints). */
  tag(s: SentenceLike): string[] {
    if (s.tokens.length === 0) return [];
    const r = viterbi(this.potentials(s), this.models[0]!.constraintsFor(s.tokens.length));
    return Array.from(r.labels, (l) => this.labels[l]!);
  }
}
