/**
 * A worker thread of the parameter-mixing trainer (mixing.ts): rebuilds the
 * shard trainer from plain data, then, every time the generation counter
 * moves, trains its shards one epoch from the mixed weights and writes their
 * raw and averaged weights and their mistakes into shared memory.
 */
import { workerData } from "node:worker_threads";
import { writeFailure } from "../core/threads.ts";
import { MIX_CTRL, makeShardTrainer, type ShardConfig, shardSeed, workerShards } from "./mixing.ts";
import type { Packed } from "./parallel.ts";

const d = workerData as {
  failure: Uint8Array;
  ctrl: Int32Array;
  config: ShardConfig;
  packed: Packed;
  bounds: number[];
  shards: number[];
  S: number;
  mixed: Float64Array;
  raws: Float64Array[];
  avgs: (Float64Array | null)[];
  stats: Float64Array;
};
const { ctrl } = d;
try {
  const trainer = makeShardTrainer(d.config);
  const shard = workerShards(d.packed, d.bounds);
  const data = d.shards.map((s) => shard(s));
  Atomics.add(ctrl, MIX_CTRL.READY, 1);
  Atomics.notify(ctrl, MIX_CTRL.READY);
  // Generation 0 is "nothing asked yet" (reading the current one could miss
  // a first epoch the parent started between our READY and here).
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, MIX_CTRL.GEN, seen);
    seen = Atomics.load(ctrl, MIX_CTRL.GEN);
    if (Atomics.load(ctrl, MIX_CTRL.STOP) !== 0) break;
    const epoch = Atomics.load(ctrl, MIX_CTRL.EPOCH);
    for (let i = 0; i < d.shards.length; i++) {
      const s = d.shards[i]!;
      const raw = d.raws[i]!;
      const r = trainer(d.mixed, data[i]!, shardSeed(d.config.options.seed, epoch, s, d.S), {
        raw,
        avg: d.avgs[i] ?? raw,
      });
      d.stats[2 * s] = r.mistakes;
      d.stats[2 * s + 1] = r.loss;
    }
    Atomics.add(ctrl, MIX_CTRL.DONE, 1);
    Atomics.notify(ctrl, MIX_CTRL.DONE);
  }
} catch (e) {
  // Reported through shared memory (the parent waits in Atomics.wait); never rethrown.
  writeFailure(d.failure, e);
  Atomics.store(ctrl, MIX_CTRL.FAILED, 1);
  Atomics.notify(ctrl, MIX_CTRL.DONE);
  Atomics.notify(ctrl, MIX_CTRL.READY);
}
