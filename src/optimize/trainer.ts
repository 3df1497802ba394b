import type { Instance } from "../architecture/features.ts";
import type { LinearChain } from "../architecture/linear-chain.ts";
import { NadirError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import type { Backend, Constraints } from "../inference/types.ts";
import { makeLoss } from "../loss/index.ts";
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { RowGradient } from "./gradient.ts";
import { lbfgs } from "./lbfgs.ts";
import { EnergyObjective } from "./objective.ts";
import { makeOnlineOptimizer } from "./online.ts";
import type { TrainOptions } from "./options.ts";
import { defaultThreads, ParallelObjective } from "./parallel.ts";
import type { EpochReport, PerceptronResult } from "./perceptron.ts";

export interface TrainerHooks {
  /** corrections (index, delta) of W after each step, e.g. a submodular projection */
  project?: (w: (k: number) => number) => [number, number][];
  /** dev score of a weight vector (higher is better) */
  evaluate?: (W: Float64Array) => number;
  onEpoch?: (r: EpochReport) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Tracks the best dev score, its weights, and patience (early stopping). */
class Selector {
  best: Float64Array | null = null;
  bestScore = Number.NEGATIVE_INFINITY;
  bestEpoch = 0;
  sinceBest = 0;

  constructor(
    private readonly keepBest: boolean,
    private readonly patience: number,
  ) {}

  /** Record a dev score; returns true when training should stop. */
  see(epoch: number, score: number | undefined, W: Float64Array): boolean {
    if (score === undefined) return false;
    if (score > this.bestScore) {
      this.bestScore = score;
      this.bestEpoch = epoch;
      this.sinceBest = 0;
      if (this.keepBest) {
        this.best ??= new Float64Array(W.length);
        this.best.set(W);
      }
    } else {
      this.sinceBest++;
    }
    return this.patience > 0 && this.sinceBest >= this.patience;
  }
}

/** The selector's part of a checkpoint: header fields and the best weights. */
function selectorCheckpoint(select: Selector): {
  header: Record<string, number>;
  arrays: Record<string, Float64Array>;
} {
  return {
    header: {
      bestScore: select.bestScore,
      bestEpoch: select.bestEpoch,
      sinceBest: select.sinceBest,
    },
    arrays: select.best ? { best: select.best } : {},
  };
}

function restoreSelector(select: Selector, ck: Checkpoint): void {
  if (ck.arrays.best) select.best = ck.arrays.best;
  if (ck.header.bestScore !== undefined) select.bestScore = Number(ck.header.bestScore);
  select.bestEpoch = Number(ck.header.bestEpoch ?? 0);
  select.sinceBest = Number(ck.header.sinceBest ?? 0);
}

function checkResume(ck: Checkpoint, kind: string, K: number, path: string): void {
  if (ck.header.kind !== kind || ck.header.K !== K) {
    throw new NadirError(
      "E_MODEL",
      `checkpoint is for ${String(ck.header.kind)} with K = ${String(ck.header.K)}; this run is ${kind} with K = ${K} (same data, spec and optimizer needed)`,
      { file: path },
    );
  }
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
  arch: LinearChain,
  data: readonly Instance[],
  opts: TrainOptions,
  inference: {
    backend: Backend;
    constraintsFor: (T: number) => Constraints | undefined;
    /** how worker threads rebuild the decoding constraints (batch optimizers) */
    labels?: { encoding: string; constrained: boolean; names: string[] };
  },
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
  arch.cacheExpanded = true; // every instance is revisited: resolve its state weights once

  if (opts.optimizer === "lbfgs") {
    if (!loss.smooth) {
      throw new NadirError(
        "E_ARG",
        `lbfgs needs a smooth loss (log, mce, square-exp, nll, mee, energy); ${loss.name} is not — use sgd, adagrad or pa`,
      );
    }
    const W = new Float64Array(arch.K);
    if (init) W.set(init);
    let done = 0;
    if (opts.resume) {
      const ck = loadCheckpoint(opts.resume);
      checkResume(ck, "lbfgs", arch.K, opts.resume);
      const saved = ck.arrays.W;
      if (!saved || saved.length !== arch.K) {
        throw new NadirError("E_MODEL", "checkpoint lacks the weights W", { file: opts.resume });
      }
      W.set(saved);
      done = Number(ck.header.iteration ?? 0);
      restoreSelector(select, ck);
    }
    const c2 = opts.c2;
    let t0 = performance.now();
    const local = (w: Float64Array, g: Float64Array, from: number, to: number): number => {
      let f = 0;
      for (let i = from; i < to; i++) {
        const v = objective.evaluate(data[i]!, w, 1, g, 1);
        if (!Number.isNaN(v)) f += v;
      }
      return f;
    };
    const threads = opts.threads > 0 ? opts.threads : defaultThreads();
    const batch = new ParallelObjective(
      arch,
      data,
      {
        A: arch.A,
        L: arch.L,
        rows: arch.rows,
        order: arch.order,
        skip: arch.skip,
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
      let f = batch.fg(w, g);
      if (c2 > 0) {
        let sq = 0;
        for (let k = 0; k < w.length; k++) {
          sq += w[k]! * w[k]!;
          g[k] = g[k]! + c2 * w[k]!;
        }
        f += 0.5 * c2 * sq;
      }
      return f;
    };
    try {
      lbfgs(W, fg, {
        maxIterations: Math.max(0, opts.iterations - done),
        onIteration: (it, f, w) => {
          const iteration = done + it;
          hooks.onProgress?.(iteration, opts.iterations);
          const evalNow =
            hooks.evaluate && (iteration % opts.evalEvery === 0 || iteration === opts.iterations);
          const dev = evalNow ? hooks.evaluate!(w) : undefined;
          const stop = select.see(iteration, dev, w);
          const r: EpochReport = {
            epoch: iteration,
            mistakes: 0,
            loss: f / Math.max(1, data.length),
            dev,
            seconds: (performance.now() - t0) / 1000,
          };
          t0 = performance.now();
          reports.push(r);
          hooks.onEpoch?.(r);
          if (opts.checkpoint && (evalNow || iteration % opts.evalEvery === 0)) {
            const sel = selectorCheckpoint(select);
            saveCheckpoint(opts.checkpoint, {
              header: { kind: "lbfgs", K: arch.K, iteration, ...sel.header },
              arrays: { W: w, ...sel.arrays },
            });
          }
          return stop;
        },
      });
    } finally {
      batch.close(); // worker threads end with the run, even when it throws
    }
    if (select.best) return { W: select.best, bestEpoch: select.bestEpoch, reports };
    return { W, bestEpoch: done + reports.length, reports };
  }

  // Online optimizers.
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
    restoreSelector(select, ck);
  }
  const grad = new RowGradient(arch);
  const W = new Float64Array(arch.K);
  const progressEvery = Math.max(1, Math.floor(data.length / 100));
  for (let epoch = first; epoch <= opts.epochs; epoch++) {
    const t0 = performance.now();
    if (opts.shuffle) rng.shuffle(order);
    let lossSum = 0;
    let mistakes = 0;
    for (let n = 0; n < order.length; n++) {
      const x = data[order[n]!]!;
      grad.touch(x);
      const v = objective.evaluate(x, opt.V, opt.scale, grad.g, 1);
      if (!Number.isNaN(v)) {
        lossSum += v;
        if (v > 0) mistakes++;
        opt.step(grad, v);
        if (hooks.project)
          for (const [k, d] of hooks.project((k) => opt.scale * opt.V[k]!)) opt.adjust(k, d);
      }
      grad.clear();
      if (hooks.onProgress && n % progressEvery === 0) hooks.onProgress(n, order.length);
    }
    opt.weights(W, opts.average);
    const dev = hooks.evaluate ? hooks.evaluate(W) : undefined;
    const stop = select.see(epoch, dev, W);
    const r: EpochReport = {
      epoch,
      mistakes,
      loss: data.length ? lossSum / data.length : 0,
      dev,
      seconds: (performance.now() - t0) / 1000,
    };
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
  return { W, bestEpoch: reports.length ? reports[reports.length - 1]!.epoch : 0, reports };
}
