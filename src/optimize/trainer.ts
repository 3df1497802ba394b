import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { Backend } from "../inference/types.ts";
import { type Loss, makeLoss } from "../loss/index.ts";
import {
  type Checkpoint,
  checkpointArray,
  checkpointNumber,
  checkResume,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import {
  divergedError,
  firstNonFinite,
  hasGold,
  largestMagnitude,
  OVERFLOW,
  smallerStep,
} from "./finite.ts";
import { type LbfgsResult, type LbfgsState, lbfgs } from "./lbfgs.ts";
import { EnergyObjective } from "./objective.ts";
import { makeOnlineOptimizer } from "./online.ts";
import type { TrainOptions } from "./options.ts";
import { defaultThreads, ParallelObjective } from "./parallel.ts";
import type { PerceptronResult } from "./perceptron.ts";
import {
  type EpochReport,
  epochReport,
  restoreSelector,
  Selector,
  selectorCheckpoint,
} from "./selection.ts";

export interface TrainerHooks {
  /** corrections (index, delta) of W after each step, e.g. a submodular projection */
  project?: (w: (k: number) => number) => [number, number][];
  /** dev score of a weight vector (higher is better) */
  evaluate?: (W: Float64Array) => number;
  onEpoch?: (r: EpochReport) => void;
  onProgress?: (done: number, total: number) => void;
}

/** L-BFGS's part of a checkpoint: f, ∇f, the stored pairs, ρ and the history. */
function lbfgsCheckpoint(st: LbfgsState): {
  header: Record<string, number>;
  arrays: Record<string, Float64Array>;
} {
  const arrays: Record<string, Float64Array> = {
    g: st.g,
    rho: st.rho,
    history: Float64Array.from(st.history),
  };
  for (const [k, v] of st.S) arrays[`S${k}`] = v;
  for (const [k, v] of st.Y) arrays[`Y${k}`] = v;
  return {
    header: { f: st.f, evaluations: st.evaluations, head: st.head, stored: st.stored },
    arrays,
  };
}

/** The L-BFGS state saved by `lbfgsCheckpoint` (the iteration count from the header). */
function restoreLbfgs(ck: Checkpoint, K: number, path: string): LbfgsState {
  const num = (name: string) => checkpointNumber(ck, name, path);
  const rho = ck.arrays.rho;
  const head = num("head");
  const stored = num("stored");
  if (
    !rho ||
    !Number.isInteger(head) ||
    !Number.isInteger(stored) ||
    head >= rho.length ||
    stored > rho.length ||
    head < 0 ||
    stored < 0
  )
    throw new NadirError("E_MODEL", "checkpoint lacks a consistent L-BFGS memory", { file: path });
  const S = new Map<number, Float64Array>();
  const Y = new Map<number, Float64Array>();
  const m = rho.length;
  for (let j = 0; j < stored; j++) {
    const k = (head - 1 - j + m) % m;
    S.set(k, checkpointArray(ck, `S${k}`, K, path));
    Y.set(k, checkpointArray(ck, `Y${k}`, K, path));
  }
  const history = ck.arrays.history;
  if (!history || history.length === 0)
    throw new NadirError("E_MODEL", "checkpoint lacks the L-BFGS history", { file: path });
  return {
    it: num("iteration"),
    evaluations: num("evaluations"),
    f: num("f"),
    g: checkpointArray(ck, "g", K, path),
    S,
    Y,
    rho,
    head,
    stored,
    history: Array.from(history),
  };
}

/** How the trainer answers inference: the chosen backend and the decoding constraints. */
export interface EnergyInference {
  backend: Backend;
  constraintsFor: (T: number) => Constraints | undefined;
  /** how worker threads rebuild the decoding constraints (batch optimizers) */
  labels?: { encoding: string; constrained: boolean; names: string[] };
}

/**
 * Train the linear-chain energy with any loss of the table and any optimizer:
 * online (perceptron step, SGD, AdaGrad, passive-aggressive; shuffled epochs,
 * optional averaging) or L-BFGS over the full batch (smooth losses). With a
 * dev set (`hooks.evaluate`) the best evaluation's weights are kept and
 * `patience` stops early; `checkpoint` writes a resumable state after every
 * epoch or evaluation, `resume` continues from one.
 */
export function trainEnergy(
  arch: Architecture,
  data: readonly Instance[],
  opts: TrainOptions,
  inference: EnergyInference,
  hooks: TrainerHooks = {},
  /** starting weights (a warm start) */
  init?: Float64Array,
): PerceptronResult {
  const loss = makeLoss(opts.loss, {
    margin: opts.margin,
    beta: opts.beta,
    gamma: opts.gamma,
    lvqMax: opts.lvqMax,
  });
  const objective = new EnergyObjective(arch, {
    loss,
    offending: opts.offending,
    backend: inference.backend,
    constraintsFor: inference.constraintsFor,
  });
  const select = new Selector(opts.keepBest, opts.patience);
  const reports: EpochReport[] = [];

  const run: Run = { arch, data, opts, inference, hooks, init, loss, objective, select, reports };
  return opts.optimizer === "lbfgs" ? trainBatch(run) : trainOnline(run);
}

/** What both training loops share: the data, the objective, and best-epoch selection. */
interface Run {
  arch: Architecture;
  data: readonly Instance[];
  opts: TrainOptions;
  inference: EnergyInference;
  hooks: TrainerHooks;
  init: Float64Array | undefined;
  loss: Loss;
  objective: EnergyObjective;
  select: Selector;
  reports: EpochReport[];
}

/** L-BFGS over the full batch (smooth losses), the gradient summed over worker threads; a checkpoint every evalEvery iterations. */
function trainBatch(run: Run): PerceptronResult {
  const { arch, data, opts, inference, hooks, init, loss, objective, select, reports } = run;
  if (!loss.smooth) {
    throw new NadirError(
      "E_ARG",
      `lbfgs needs a smooth loss (log, mce, square-exp, nll, mee, energy); ${loss.name} is not — use sgd, adagrad or pa`,
    );
  }
  const W = new Float64Array(arch.K);
  if (init) W.set(init);
  let done = 0;
  let resume: LbfgsState | undefined;
  if (opts.resume) {
    const path = opts.resume;
    const ck = loadCheckpoint(path);
    checkResume(ck, "lbfgs", arch.K, path);
    W.set(checkpointArray(ck, "W", arch.K, path));
    done = checkpointNumber(ck, "iteration", path);
    resume = restoreLbfgs(ck, arch.K, path);
    restoreSelector(select, ck, path);
  }
  const c2 = opts.c2;
  let t0 = performance.now();
  const local = (w: Float64Array, g: Float64Array, from: number, to: number): number =>
    objective.evaluateRange(data, from, to, w, g);
  const threads = opts.threads > 0 ? opts.threads : defaultThreads();
  const batch = new ParallelObjective(
    arch,
    data,
    {
      arch: arch.describe(),
      loss: loss.name,
      params: { ...loss.params },
      offending: opts.offending,
      backend: inference.backend.name,
      encoding: inference.labels?.encoding ?? "none",
      constrained: inference.labels?.constrained ?? false,
      labels: inference.labels?.names ?? [],
    },
    local,
    inference.labels ? threads : 1,
  );
  const fg = (w: Float64Array, g: Float64Array): number => {
    let f: number;
    try {
      f = batch.fg(w, g);
    } catch (e) {
      // weights this large overflow the energies: no labeling keeps a finite energy
      const big = largestMagnitude(w);
      if (big >= OVERFLOW) {
        nonFinite = `the weights reached ${big} and the energies overflowed (${(e as Error).message})`;
        return Number.POSITIVE_INFINITY;
      }
      throw e;
    }
    if (c2 > 0) {
      let sq = 0;
      for (let k = 0; k < w.length; k++) {
        sq += w[k]! * w[k]!;
        g[k] = g[k]! + c2 * w[k]!;
      }
      f += 0.5 * c2 * sq;
    }
    // A point where the objective, a weight or the gradient is not finite
    // is refused (+∞: the line search backs off from it).
    const kw = firstNonFinite(w);
    const kg = kw < 0 ? firstNonFinite(g) : -1;
    if (f - f !== 0 || kw >= 0 || kg >= 0) {
      nonFinite =
        kw >= 0
          ? `weight ${kw} became ${w[kw]}`
          : kg >= 0
            ? `gradient entry ${kg} became ${g[kg]}`
            : `the ${loss.name} objective became ${f}`;
      return Number.POSITIVE_INFINITY;
    }
    return f;
  };
  let nonFinite = "";
  let result: LbfgsResult;
  const prev = new Float64Array(W); // the last point, for the step length in the report
  try {
    result = lbfgs(W, fg, {
      maxIterations: opts.iterations,
      resume,
      onIteration: (iteration, f, w, gnorm, state) => {
        hooks.onProgress?.(iteration, opts.iterations);
        const evalNow =
          hooks.evaluate && (iteration % opts.evalEvery === 0 || iteration === opts.iterations);
        const dev = evalNow ? hooks.evaluate!(w) : undefined;
        const stop = select.see(iteration, dev, w);
        let step = 0;
        for (let k = 0; k < w.length; k++) {
          const d = w[k]! - prev[k]!;
          step += d * d;
        }
        prev.set(w);
        const r: EpochReport = {
          epoch: iteration,
          mistakes: 0,
          loss: f / Math.max(1, data.length),
          dev,
          seconds: (performance.now() - t0) / 1000,
          objective: f,
          gradNorm: gnorm,
          step: Math.sqrt(step),
        };
        t0 = performance.now();
        reports.push(r);
        hooks.onEpoch?.(r);
        if (opts.checkpoint && (evalNow || iteration % opts.evalEvery === 0)) {
          const sel = selectorCheckpoint(select);
          const st = lbfgsCheckpoint(state());
          saveCheckpoint(opts.checkpoint, {
            header: { kind: "lbfgs", K: arch.K, iteration, ...st.header, ...sel.header },
            arrays: { W: w, ...st.arrays, ...sel.arrays },
          });
        }
        return stop;
      },
    });
  } finally {
    batch.close(); // worker threads end with the run, even when it throws
  }
  if (!Number.isFinite(result.f) || firstNonFinite(W) >= 0) {
    throw divergedError(
      `iteration ${result.iterations} of L-BFGS`,
      nonFinite || "the objective is not finite",
      smallerStep(opts.eta, "lbfgs"),
    );
  }
  if (select.best) return { W: select.best, bestEpoch: select.bestEpoch, reports };
  return { W, bestEpoch: done + reports.length, reports };
}

/** Online optimizers over shuffled epochs (perceptron step, SGD, AdaGrad, PA; optional averaging); a checkpoint every epoch. */
function trainOnline(run: Run): PerceptronResult {
  const { arch, data, opts, hooks, init, loss, objective, select, reports } = run;
  const opt = makeOnlineOptimizer(opts.optimizer, arch.K, {
    eta: opts.eta,
    c2: opts.c2,
    n: data.length,
    average: opts.average,
    paC: opts.paC,
    nonNegative: loss.needsNonNegativeEnergies,
  });
  if (init) opt.V.set(init);
  const kind = `online-${opts.optimizer}`;
  const rng = new Rng(opts.seed);
  const order = new Int32Array(data.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  let first = 1;
  if (opts.resume) {
    const ck = loadCheckpoint(opts.resume);
    checkResume(ck, kind, arch.K, opts.resume);
    const scalars: Record<string, number> = {};
    for (const [k, v] of Object.entries((ck.header.scalars ?? {}) as Record<string, number>))
      scalars[k] = v;
    opt.restore({ arrays: ck.arrays, scalars });
    rng.state = Number(ck.header.rng);
    first = Number(ck.header.epoch) + 1;
    const o = ck.arrays.order;
    if (o) for (let i = 0; i < order.length; i++) order[i] = o[i]!;
    restoreSelector(select, ck, opts.resume);
  }
  const grad = arch.gradient();
  const W = new Float64Array(arch.K);
  const hint = smallerStep(opts.eta, opts.optimizer);
  const progressEvery = Math.max(1, Math.floor(data.length / 100));
  for (let epoch = first; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    if (opts.shuffle) rng.shuffle(order);
    let lossSum = 0;
    let mistakes = 0;
    for (let n = 0; n < order.length; n++) {
      const x = data[order[n]!]!;
      let v: number;
      try {
        v = objective.evaluate(x, opt.V, opt.scale, grad.g, 1);
      } catch (e) {
        // non-finite weights make every energy infinite ("no labeling satisfies…")
        const big = largestMagnitude(opt.V, opt.scale);
        if (big >= OVERFLOW) {
          throw divergedError(
            `epoch ${epoch}`,
            `the weights reached ${big} and the energies overflowed (${(e as Error).message})`,
            hint,
          );
        }
        throw e;
      }
      if (v - v !== 0 && (!Number.isNaN(v) || hasGold(x.labels, x.T))) {
        throw divergedError(
          `epoch ${epoch}, example ${n + 1} of the shuffled order`,
          `the ${loss.name} loss became ${v}`,
          hint,
        );
      }
      // what the step may read: x's rows, or only those where gold and the other answer differ
      const diff = objective.difference;
      if (diff !== null) grad.touchDifference(x, x.labels, diff);
      else if (objective.accumulated) grad.touch(x);
      if (!Number.isNaN(v)) {
        lossSum += v;
        if (v > 0) mistakes++;
        opt.step(grad, v);
        if (hooks.project)
          for (const [k, d] of hooks.project((k) => opt.scale * opt.V[k]!)) opt.adjust(k, d);
      }
      if (objective.accumulated) grad.clear();
      else grad.forget(); // a flat loss there: nothing to zero
      if (hooks.onProgress && n % progressEvery === 0) hooks.onProgress(n, order.length);
    }
    opt.weights(W, opts.average);
    const bad = firstNonFinite(W);
    if (bad >= 0 || lossSum - lossSum !== 0) {
      throw divergedError(
        `epoch ${epoch}`,
        bad >= 0
          ? `weight ${bad} became ${W[bad]}`
          : `the summed ${loss.name} loss became ${lossSum}`,
        hint,
      );
    }
    const dev = hooks.evaluate ? hooks.evaluate(W) : undefined;
    const stop = select.see(epoch, dev, W);
    const r = epochReport(epoch, mistakes, lossSum, data.length, dev, t0);
    reports.push(r);
    hooks.onEpoch?.(r);
    if (opts.checkpoint) {
      const st = opt.state();
      const sel = selectorCheckpoint(select);
      saveCheckpoint(opts.checkpoint, {
        header: { kind, K: arch.K, epoch, rng: rng.state, scalars: st.scalars, ...sel.header },
        arrays: { ...st.arrays, order: Float64Array.from(order), ...sel.arrays },
      });
    }
    if (stop) break;
  }
  if (select.best) return { W: select.best, bestEpoch: select.bestEpoch, reports };
  opt.weights(W, opts.average);
  // the raw weights too, when W is their average (parameter mixing mixes the raw ones)
  const last = opts.average ? opt.weights(new Float64Array(arch.K), false) : W;
  return { W, last, bestEpoch: reports.length ? reports[reports.length - 1]!.epoch : 0, reports };
}
