/**
 * Iterative parameter mixing (McDonald, Hall & Mann 2010): the training data
 * split into S shards; every epoch each shard trains one pass from the mixed
 * weights — in its own worker thread — and the shard weights are mixed
 * (uniformly, or weighted by each shard's number of mistakes / updates).
 *
 * Determinism: a shard's epoch is a pure function of the mixed weights, its
 * sentences and its seed `shardSeed(seed, epoch, shard, S)`, and the main
 * thread mixes in shard order; so the model depends on the seed and the
 * shard count, never on the thread count or on timing.
 *
 * Averaging: a shard returns its raw weights (they are mixed into the next
 * epoch's start) and its average over the epoch's steps; the model is the
 * mean over epochs of the mixed shard averages,
 * Ā = (1/E) Σₑ Σₛ μₛₑ · avgₛₑ, with the same coefficients μ as the raw mix.
 *
 * The same algorithm across processes (a Spark driver): per shard
 * `nadir train --init MIXED --epochs 1 --seed shardSeed(…) --no-average`,
 * then `nadir mix … --weights μ` (see `mixModels`).
 */
import type { Worker } from "node:worker_threads";
import type { ArchitectureDescription } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { type Encoding, encodingConstraints, withEnd } from "../architecture/labels.ts";
import { LinearChain } from "../architecture/linear-chain.ts";
import { submodularProjection } from "../architecture/submodular.ts";
import { NadirError } from "../core/errors.ts";
import { nodeBuiltin } from "../core/host.ts";
import { failureBuffer, readFailure, workerUrl } from "../core/threads.ts";
import { chooseBackend, structuresFor } from "../structure/index.ts";
import { divergedError, smallerStep } from "./finite.ts";
import type { TrainOptions } from "./options.ts";
import { defaultThreads, pack, unpack } from "./parallel.ts";
import {
  type Decoder,
  type EpochReport,
  type PerceptronResult,
  trainPerceptron,
} from "./perceptron.ts";
import { trainEnergy } from "./trainer.ts";

/** What a worker needs to rebuild a shard trainer: plain data only. */
export interface ShardConfig {
  /** the architecture, rebuilt by architectureFrom */
  arch: ArchitectureDescription;
  /** the averaged-perceptron fast path (perceptron loss and step, Viterbi) */
  fast: boolean;
  backend: string;
  encoding: string;
  constrained: boolean;
  labels: string[];
  submodular: boolean;
  options: TrainOptions;
}

/** One shard's epoch: its raw weights, its average over the epoch, its mistakes. */
export interface ShardEpoch {
  raw: Float64Array;
  avg: Float64Array;
  mistakes: number;
  loss: number;
}

/**
 * Train one shard's epoch from `init`; the raw weights go to `raw` and the
 * average to `avg` when given (the perceptron writes there directly).
 */
export type ShardTrainer = (
  init: Float64Array,
  data: readonly Instance[],
  seed: number,
  out?: { raw: Float64Array; avg: Float64Array },
) => ShardEpoch;

/**
 * The seed of shard `shard`'s shuffle in epoch `epoch` (1-based): a driver
 * running shards as separate processes passes it as `--seed`.
 */
export function shardSeed(seed: number, epoch: number, shard: number, shards: number): number {
  return seed + (epoch - 1) * shards + shard;
}

/** Shard s holds sentences [bounds[s], bounds[s+1]): contiguous, ⌊s·N/S⌋. */
export function shardBounds(n: number, shards: number): number[] {
  const b: number[] = [];
  for (let s = 0; s <= shards; s++) b.push(Math.floor((s * n) / shards));
  return b;
}

/**
 * Mixing coefficients μ (summing to 1): uniform, or proportional to each
 * shard's mistakes (uniform when no shard made one).
 */
export function mixingCoefficients(mode: string, mistakes: readonly number[]): number[] {
  const S = mistakes.length;
  let total = 0;
  for (const m of mistakes) total += m;
  if (mode === "weighted" && total > 0) return mistakes.map((m) => m / total);
  return mistakes.map(() => 1 / S);
}

/** out[k] = Σₛ μₛ · Wₛ[k], summed in shard order (the same bits for any thread count). */
export function mixInto(out: Float64Array, parts: readonly Float64Array[], mu: readonly number[]) {
  const K = out.length;
  out.fill(0);
  for (let s = 0; s < parts.length; s++) {
    const w = parts[s]!;
    const m = mu[s]!;
    for (let k = 0; k < K; k++) out[k] = out[k]! + m * w[k]!;
  }
}

/**
 * One pass over the weights: mixed = Σₛ μₛ·rawₛ; with averages (sum, avgs
 * non-null) also sum += Σₛ μₛ·avgₛ and current = sum / epoch — every sum in
 * shard order, as `mixInto` and `nadir mix` do. Returns the first index that
 * is not finite, or −1.
 */
function mixEpoch(
  mixed: Float64Array,
  raws: readonly Float64Array[],
  current: Float64Array,
  sum: Float64Array | null,
  avgs: readonly Float64Array[],
  mu: readonly number[],
  epoch: number,
): number {
  const K = mixed.length;
  const S = raws.length;
  let bad = -1;
  for (let k = 0; k < K; k++) {
    let r = 0;
    for (let s = 0; s < S; s++) r += mu[s]! * raws[s]![k]!;
    mixed[k] = r;
    if (sum) {
      let a = 0;
      for (let s = 0; s < S; s++) a += mu[s]! * avgs[s]![k]!;
      const t = sum[k]! + a;
      sum[k] = t;
      current[k] = t / epoch;
      if (bad < 0 && t - t !== 0) bad = k;
    } else if (bad < 0 && r - r !== 0) bad = k;
  }
  return bad;
}

/** Build the trainer of one shard's epoch (in the main thread or in a worker). */
export function makeShardTrainer(c: ShardConfig): ShardTrainer {
  const arch = LinearChain.fromDescription(c.arch);
  const base = c.constrained ? encodingConstraints(c.encoding as Encoding, c.labels) : undefined;
  const constraintsFor = (T: number) =>
    c.constrained ? withEnd(base, c.encoding as Encoding, c.labels, T) : undefined;
  const project = c.submodular
    ? (w: (k: number) => number) => submodularProjection(arch, w)
    : undefined;
  const backend = chooseBackend(c.backend);
  const structures = structuresFor(arch, backend);
  const decode: Decoder = (x, W, out) => {
    const st = structures.of(x);
    st.bind(x, W, 1);
    return st.energy(x.labels) - st.argmin(constraintsFor(x.T), out);
  };
  const U = c.fast && c.options.average ? new Float64Array(arch.K) : undefined;
  return (init, data, seed, out) => {
    const opts: TrainOptions = {
      ...c.options,
      epochs: 1,
      seed,
      keepBest: false,
      patience: 0,
      checkpoint: "",
      resume: "",
      init: "",
    };
    const r: PerceptronResult = c.fast
      ? trainPerceptron(
          arch,
          data,
          opts,
          decode,
          { project },
          init,
          out ? { W: out.raw, U, avg: out.avg } : undefined,
        )
      : trainEnergy(
          arch,
          data,
          opts,
          {
            backend,
            constraintsFor,
            labels: { encoding: c.encoding, constrained: c.constrained, names: c.labels },
          },
          { project },
          init,
        );
    const rep = r.reports[0];
    const raw = r.last ?? r.W;
    if (out && raw !== out.raw) out.raw.set(raw);
    if (out && r.W !== out.avg && r.W !== out.raw) out.avg.set(r.W);
    return {
      raw,
      avg: r.W,
      mistakes: rep?.mistakes ?? 0,
      loss: (rep?.loss ?? 0) * data.length,
    };
  };
}

/** Shards and threads of a run, or null when it does not mix (one process, all data). */
export function mixingPlan(o: TrainOptions): { shards: number; threads: number } | null {
  // L-BFGS keeps --threads for its batch objective; only --shards asks it to mix
  if (o.optimizer === "lbfgs" && o.shards === 0) return null;
  const shards = o.shards > 0 ? o.shards : o.threads > 1 ? o.threads : 0;
  if (shards === 0) return null;
  if (o.optimizer === "lbfgs") {
    throw new NadirError(
      "E_ARG",
      `--shards ${shards}: parameter mixing is for the online optimizers (perceptron, sgd, adagrad, pa); lbfgs uses --threads for its batch objective`,
    );
  }
  if (o.checkpoint || o.resume) {
    throw new NadirError(
      "E_UNSUPPORTED",
      "--checkpoint / --resume are not supported with parameter mixing (--shards, --threads > 1)",
    );
  }
  const threads = Math.max(1, Math.min(shards, o.threads > 0 ? o.threads : defaultThreads()));
  return { shards, threads };
}

// control words shared with the workers
const GEN = 0;
const DONE = 1;
const READY = 2;
const STOP = 3;
const FAILED = 4;
const EPOCH = 5;
export const MIX_CTRL = { GEN, DONE, READY, STOP, FAILED, EPOCH };

function sharedF64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8));
}

export interface MixingHooks {
  evaluate?: (W: Float64Array) => number;
  onEpoch?: (r: EpochReport) => void;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Train by iterative parameter mixing over `shards` contiguous shards of
 * `data` with `threads` threads (the main thread takes the shards s with
 * s mod threads = 0, worker t the shards with s mod threads = t).
 */
export function trainMixing(
  config: ShardConfig,
  data: readonly Instance[],
  plan: { shards: number; threads: number },
  hooks: MixingHooks = {},
  init?: Float64Array,
): PerceptronResult {
  const opts = config.options;
  const K = LinearChain.fromDescription(config.arch).K;
  const S = Math.max(1, Math.min(plan.shards, data.length));
  const threads = Math.max(1, Math.min(plan.threads, S));
  const bounds = shardBounds(data.length, S);
  const shardData = (all: readonly Instance[], s: number) => all.slice(bounds[s], bounds[s + 1]);
  const average = opts.average;
  const mixed = threads > 1 ? sharedF64(K) : new Float64Array(K);
  if (init) mixed.set(init);
  const raws: Float64Array[] = [];
  const avgs: Float64Array[] = [];
  for (let s = 0; s < S; s++) {
    raws.push(threads > 1 ? sharedF64(K) : new Float64Array(K));
    avgs.push(average ? (threads > 1 ? sharedF64(K) : new Float64Array(K)) : raws[s]!);
  }
  const stats = threads > 1 ? sharedF64(2 * S) : new Float64Array(2 * S);
  const local = makeShardTrainer(config);
  const runShard = (s: number, epoch: number) => {
    const r = local(mixed, shardData(data, s), shardSeed(opts.seed, epoch, s, S), {
      raw: raws[s]!,
      avg: avgs[s]!,
    });
    stats[2 * s] = r.mistakes;
    stats[2 * s + 1] = r.loss;
  };

  const workers: Worker[] = [];
  const ctrl = new Int32Array(new SharedArrayBuffer(8 * 4));
  const failure = failureBuffer();
  const close = () => {
    Atomics.store(ctrl, STOP, 1);
    Atomics.add(ctrl, GEN, 1);
    Atomics.notify(ctrl, GEN);
    for (const w of workers) void w.terminate();
    workers.length = 0;
  };
  const failed = (what: string): NadirError => {
    close();
    const why = readFailure(failure);
    return new NadirError(
      "E_UNSUPPORTED",
      `parameter mixing: ${what}${why ? `: ${why}` : ""}${what.includes("start") ? "; use --threads 1" : ""}`,
    );
  };
  if (threads > 1) {
    const packed = pack(data);
    const { Worker } = nodeBuiltin("node:worker_threads", "parameter mixing with threads > 1");
    for (let t = 1; t < threads; t++) {
      const mine: number[] = [];
      for (let s = t; s < S; s += threads) mine.push(s);
      const worker = new Worker(workerUrl(import.meta.url, "../optimize/mix-worker"), {
        workerData: {
          failure,
          ctrl,
          config,
          packed,
          bounds,
          shards: mine,
          S,
          mixed,
          raws: mine.map((s) => raws[s]),
          avgs: mine.map((s) => (average ? avgs[s] : null)),
          stats,
        },
        execArgv: process.execArgv.filter((a) => !a.startsWith("--cpu-prof")),
      });
      worker.unref();
      // failures arrive through ctrl/failure; an escaped 'error' must not be uncaught
      worker.on("error", () => {
        Atomics.store(ctrl, FAILED, 1);
      });
      workers.push(worker);
    }
  }
  // Workers start up while the main thread trains its first shard: they
  // answer generation 1 whenever they are ready (they wait from generation 0).
  const started = Date.now();

  const sumAvg = average ? new Float64Array(K) : null;
  const current = average ? new Float64Array(K) : mixed;
  const reports: EpochReport[] = [];
  let best: Float64Array | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestEpoch = opts.epochs;
  let sinceBest = 0;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      if (threads > 1) {
        Atomics.store(ctrl, DONE, 0);
        Atomics.store(ctrl, EPOCH, epoch);
        Atomics.add(ctrl, GEN, 1);
        Atomics.notify(ctrl, GEN);
      }
      for (let s = 0; s < S; s += threads) {
        runShard(s, epoch);
        hooks.onProgress?.(bounds[s + 1]!, data.length);
      }
      if (threads > 1) {
        for (;;) {
          const done = Atomics.load(ctrl, DONE);
          if (done >= threads - 1) break;
          if (Atomics.load(ctrl, FAILED) !== 0)
            throw failed(
              Atomics.load(ctrl, READY) < threads - 1
                ? "worker threads failed to start"
                : "a worker thread failed",
            );
          if (Atomics.load(ctrl, READY) < threads - 1 && Date.now() - started > 60_000)
            throw failed("worker threads failed to start within 60 s");
          Atomics.wait(ctrl, DONE, done, 1000);
        }
        if (Atomics.load(ctrl, FAILED) !== 0) throw failed("a worker thread failed");
      }
      const mistakes: number[] = [];
      let lossSum = 0;
      for (let s = 0; s < S; s++) {
        mistakes.push(stats[2 * s]!);
        lossSum += stats[2 * s + 1]!;
      }
      const mu = mixingCoefficients(opts.mixing, mistakes);
      const bad = mixEpoch(mixed, raws, current, sumAvg, avgs, mu, epoch);
      if (bad >= 0)
        throw divergedError(
          `epoch ${epoch}`,
          `weight ${bad} became ${current[bad]} after mixing`,
          smallerStep(opts.eta, opts.optimizer),
        );
      const dev = hooks.evaluate ? hooks.evaluate(current) : undefined;
      let stop = false;
      if (dev !== undefined) {
        if (dev > bestScore) {
          bestScore = dev;
          bestEpoch = epoch;
          sinceBest = 0;
          if (opts.keepBest) {
            best ??= new Float64Array(K);
            best.set(current);
          }
        } else if (opts.patience > 0 && ++sinceBest >= opts.patience) stop = true;
      }
      let total = 0;
      for (const m of mistakes) total += m;
      const r: EpochReport = {
        epoch,
        mistakes: total,
        loss: data.length ? lossSum / data.length : 0,
        dev,
        seconds: (performance.now() - t0) / 1000,
      };
      reports.push(r);
      hooks.onEpoch?.(r);
      if (stop) break;
    }
  } finally {
    if (threads > 1) close();
  }
  if (best) return { W: best, bestEpoch, reports };
  return {
    W: Float64Array.from(current),
    last: Float64Array.from(mixed),
    bestEpoch: reports.length ? reports[reports.length - 1]!.epoch : 0,
    reports,
  };
}

/** Rebuild a shard's instances in a worker (views of the packed arrays). */
export function workerShards(
  packed: Parameters<typeof unpack>[0],
  bounds: readonly number[],
): (s: number) => Instance[] {
  const all = unpack(packed);
  return (s) => all.slice(bounds[s], bounds[s + 1]);
}
