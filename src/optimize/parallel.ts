import type { Worker } from "node:worker_threads";
import type { Architecture, ArchitectureDescription } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { NadirError } from "../core/errors.ts";
import { hasNodeHost, nodeBuiltin } from "../core/host.ts";
import { failureBuffer, readFailure, workerUrl } from "../core/threads.ts";

/** What a worker needs to rebuild the objective: plain data only. */
export interface ObjectiveConfig {
  /** the architecture, rebuilt by architectureFrom */
  arch: ArchitectureDescription;
  loss: string;
  params: { margin: number; beta: number; gamma: number; lvqMax: number };
  offending: "exact" | "hamming";
  backend: string;
  encoding: string;
  constrained: boolean;
  labels: string[];
}

/** Sum of losses over a range of instances, gradient added into g. */
export type ShardEvaluator = (W: Float64Array, g: Float64Array, from: number, to: number) => number;

const GEN = 0;
const DONE = 1;
const READY = 2;
const STOP = 3;
const FAILED = 4;

function shared<T extends Int32Array | Float64Array>(
  Ctor: { new (b: ArrayBufferLike): T; BYTES_PER_ELEMENT: number },
  n: number,
): T {
  const bytes = Math.max(1, n) * Ctor.BYTES_PER_ELEMENT;
  // A page without cross-origin isolation has no SharedArrayBuffer; it trains
  // in one thread, where plain memory does.
  return new Ctor(
    typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes),
  );
}

/** Pack instances into shared arrays: per-instance starts into flat offsets/attrs/labels. */
export function pack(data: readonly Instance[]) {
  let nOff = 0;
  let nAttr = 0;
  let nSkip = 0;
  for (const x of data) {
    nOff += x.T + 1;
    nAttr += x.attrs.length;
    nSkip += x.skips?.length ?? 0;
  }
  const skipIndex = shared(Int32Array, data.length + 1);
  const skips = shared(Int32Array, nSkip);
  let k = 0;
  data.forEach((x, i) => {
    skipIndex[i] = k;
    if (x.skips) {
      skips.set(x.skips, k);
      k += x.skips.length;
    }
  });
  skipIndex[data.length] = k;
  const index = shared(Int32Array, 3 * data.length + 3);
  const offsets = shared(Int32Array, nOff);
  const attrs = shared(Int32Array, nAttr);
  const labels = shared(Int32Array, nOff);
  // real attribute values (crfsuite data), only when some instance has them
  const hasValues = data.some((x) => x.values !== undefined);
  const values = shared(Float64Array, hasValues ? nAttr : 0);
  const valued = shared(Int32Array, hasValues ? data.length : 0);
  let o = 0;
  let a = 0;
  let l = 0;
  data.forEach((x, i) => {
    index[3 * i] = o;
    index[3 * i + 1] = a;
    index[3 * i + 2] = l;
    offsets.set(x.offsets, o);
    attrs.set(x.attrs, a);
    labels.set(x.labels, l);
    if (x.values) {
      values.set(x.values, a);
      valued[i] = 1;
    }
    o += x.T + 1;
    a += x.attrs.length;
    l += x.T;
  });
  index[3 * data.length] = o;
  index[3 * data.length + 1] = a;
  index[3 * data.length + 2] = l;
  return {
    index,
    offsets,
    attrs,
    labels,
    skipIndex,
    skips,
    hasSkips: nSkip > 0 || data.some((x) => x.skips),
    values,
    valued,
    n: data.length,
  };
}

/** Rebuild instances from packed shared arrays (views, no copy). */
export function unpack(
  p: Omit<ReturnType<typeof pack>, "values" | "valued"> & {
    values?: Float64Array;
    valued?: Int32Array;
  },
): Instance[] {
  const out: Instance[] = [];
  for (let i = 0; i < p.n; i++) {
    const o0 = p.index[3 * i]!;
    const o1 = p.index[3 * i + 3]!;
    const a0 = p.index[3 * i + 1]!;
    const a1 = p.index[3 * i + 4]!;
    const l0 = p.index[3 * i + 2]!;
    const T = o1 - o0 - 1;
    const x: Instance = {
      T,
      offsets: p.offsets.subarray(o0, o1),
      attrs: p.attrs.subarray(a0, a1),
      labels: p.labels.subarray(l0, l0 + T),
    };
    if (p.hasSkips) x.skips = p.skips.subarray(p.skipIndex[i]!, p.skipIndex[i + 1]!);
    if (p.valued?.[i] === 1) x.values = p.values!.subarray(a0, a1);
    out.push(x);
  }
  return out;
}

/**
 * A full-batch objective split over threads: the main thread evaluates the
 * first shard while worker threads evaluate the others on the same weights
 * (shared memory); shards are balanced by token count. `fg` stays
 * synchronous — the main thread waits on Atomics — so any batch optimizer
 * can call it. One thread: no worker at all.
 */
export class ParallelObjective {
  private readonly workers: Worker[] = [];
  private readonly ctrl: Int32Array;
  private readonly W: Float64Array;
  private readonly grads: Float64Array[] = [];
  private readonly values: Float64Array;
  private readonly bounds: number[];
  private gen = 0;
  /** a worker's failure message (shared memory: readable while this thread waits) */
  private readonly failure = failureBuffer();

  private readonly local: ShardEvaluator;

  constructor(
    arch: Architecture,
    data: readonly Instance[],
    config: ObjectiveConfig,
    local: ShardEvaluator,
    threads = defaultThreads(),
  ) {
    this.local = local;
    const n = Math.max(1, Math.min(threads, data.length));
    // Balance shards by tokens (the cost is O(T·L²) per instance).
    let total = 0;
    for (const x of data) total += x.T;
    this.bounds = [0];
    let acc = 0;
    for (let i = 0; i < data.length && this.bounds.length < n; i++) {
      acc += data[i]!.T;
      if (acc >= (total * this.bounds.length) / n) this.bounds.push(i + 1);
    }
    while (this.bounds.length < n) this.bounds.push(data.length);
    this.bounds.push(data.length);
    this.ctrl = shared(Int32Array, 8);
    this.W = shared(Float64Array, arch.K);
    this.values = shared(Float64Array, n);
    if (n === 1) return;
    const packed = pack(data);
    for (let w = 1; w < n; w++) {
      const g = shared(Float64Array, arch.K);
      this.grads.push(g);
      const { Worker } = nodeBuiltin("node:worker_threads", "training with threads > 1");
      const worker = new Worker(workerUrl(import.meta.url, "../optimize/worker"), {
        workerData: {
          failure: this.failure,
          config,
          packed,
          ctrl: this.ctrl,
          W: this.W,
          g,
          values: this.values,
          slot: w,
          from: this.bounds[w],
          to: this.bounds[w + 1],
        },
        execArgv: process.execArgv.filter((a) => !a.startsWith("--cpu-prof")),
      });
      worker.unref();
      // A failure is reported through `ctrl` and `failure`; an 'error' event
      // (one that escaped the worker) must not become an uncaught exception.
      worker.on("error", () => {
        Atomics.store(this.ctrl, FAILED, 1);
      });
      this.workers.push(worker);
    }
    // Wait until every worker has built its objective (or one failed).
    const deadline = Date.now() + 60_000;
    while (Atomics.load(this.ctrl, READY) < n - 1) {
      if (Atomics.load(this.ctrl, FAILED) !== 0) break;
      if (Date.now() > deadline) break;
      Atomics.wait(this.ctrl, READY, Atomics.load(this.ctrl, READY), 100);
    }
    if (Atomics.load(this.ctrl, READY) < n - 1) {
      this.close();
      const why = readFailure(this.failure);
      throw new NadirError(
        "E_UNSUPPORTED",
        `parallel objective: worker threads failed to start${why ? ` (${why})` : ""}; use --threads 1`,
      );
    }
  }

  get threads(): number {
    return this.bounds.length - 1;
  }

  /** f(W) = Σᵢ Lᵢ(W) and its gradient into g (overwritten). */
  fg(W: Float64Array, g: Float64Array): number {
    const n = this.bounds.length - 1;
    g.fill(0);
    if (n === 1) return this.local(W, g, 0, this.bounds[1]!);
    this.W.set(W);
    Atomics.store(this.ctrl, DONE, 0);
    this.gen++;
    Atomics.store(this.ctrl, GEN, this.gen);
    Atomics.notify(this.ctrl, GEN);
    let f = this.local(W, g, 0, this.bounds[1]!);
    for (;;) {
      const done = Atomics.load(this.ctrl, DONE);
      if (done >= n - 1) break;
      if (Atomics.load(this.ctrl, FAILED) !== 0) {
        this.close();
        const why = readFailure(this.failure);
        throw new NadirError(
          "E_UNSUPPORTED",
          `parallel objective: a worker thread failed${why ? `: ${why}` : ""}`,
        );
      }
      Atomics.wait(this.ctrl, DONE, done, 1000);
    }
    for (let w = 1; w < n; w++) {
      f += this.values[w]!;
      const gw = this.grads[w - 1]!;
      for (let k = 0; k < g.length; k++) g[k] = g[k]! + gw[k]!;
    }
    return f;
  }

  close(): void {
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}

/** Threads for batch objectives: NADIR_THREADS, or the machine's parallelism (at most 8). */
export function defaultThreads(): number {
  if (!hasNodeHost()) return 1; // a browser: the page runs training in one Web Worker
  const env = Number(process.env.NADIR_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  return Math.max(1, Math.min(8, nodeBuiltin("node:os").availableParallelism()));
}

export const CTRL = { GEN, DONE, READY, STOP, FAILED };
export type Packed = ReturnType<typeof pack>;
