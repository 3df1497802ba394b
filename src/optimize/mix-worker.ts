/**
 * A worker thread of the parameter-mixing trainer (mixing.ts): rebuilds the
 * shard trainer from plain data, then, every time the generation counter
 * moves, trains its shards one epoch from the mixed weights and writes their
 * raw and averaged weights and their mistakes into shared memory.
 */
import { workerData } from "node:worker_threads";
import { MIX_CTRL, makeShardTrainer, type ShardConfig, shardSeed, workerShards } from "./mixing.ts";
import type { Packed } from "./parallel.ts";
import { serveGenerations } from "./worker-loop.ts";

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
serveGenerations(d.ctrl, MIX_CTRL, d.failure, () => {
  const trainer = makeShardTrainer(d.config);
  const shard = workerShards(d.packed, d.bounds);
  const data = d.shards.map((s) => shard(s));
  return () => {
    const epoch = Atomics.load(d.ctrl, MIX_CTRL.EPOCH);
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
  };
});
