/**
 * A worker thread of ParallelObjective: rebuilds the objective from plain
 * data, then evaluates its shard every time the generation counter moves.
 */
import { workerData } from "node:worker_threads";
import { type Encoding, encodingConstraints, withEnd } from "../architecture/labels.ts";
import { architectureFrom } from "../architecture/registry.ts";
import { writeFailure } from "../core/threads.ts";
import { getBackend } from "../inference/registry.ts";
import { viterbiBackend } from "../inference/viterbi.ts";
import { makeLoss } from "../loss/index.ts";
import { EnergyObjective } from "./objective.ts";
import { CTRL, type ObjectiveConfig, type Packed, unpack } from "./parallel.ts";

const d = workerData as {
  failure: Uint8Array;
  config: ObjectiveConfig;
  packed: Packed;
  ctrl: Int32Array;
  W: Float64Array;
  g: Float64Array;
  values: Float64Array;
  slot: number;
  from: number;
  to: number;
};
const { ctrl } = d;
try {
  const c = d.config;
  const arch = architectureFrom(c.arch);
  const base = c.constrained ? encodingConstraints(c.encoding as Encoding, c.labels) : undefined;
  const objective = new EnergyObjective(arch, {
    loss: makeLoss(c.loss, c.params),
    offending: c.offending,
    backend: c.backend === "viterbi" ? viterbiBackend : getBackend(c.backend),
    constraintsFor: (T) =>
      c.constrained ? withEnd(base, c.encoding as Encoding, c.labels, T) : undefined,
  });
  const data = unpack(d.packed);
  Atomics.add(ctrl, CTRL.READY, 1);
  Atomics.notify(ctrl, CTRL.READY);
  // Generation 0 is "nothing asked yet". Reading the current generation here
  // instead would race with the parent: its first fg() may already have moved
  // GEN to 1 between our READY and this line, and we would wait for 2 forever.
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.GEN, seen);
    seen = Atomics.load(ctrl, CTRL.GEN);
    if (Atomics.load(ctrl, CTRL.STOP) !== 0) break;
    const g = d.g;
    g.fill(0);
    let f = 0;
    for (let i = d.from; i < d.to; i++) {
      const v = objective.evaluate(data[i]!, d.W, 1, g, 1);
      if (!Number.isNaN(v)) f += v;
    }
    d.values[d.slot] = f;
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
} catch (e) {
  // Reported through shared memory (the parent may be blocked in Atomics.wait);
  // never rethrown, so no uncaught exception reaches the parent or a test runner.
  writeFailure(d.failure, e);
  Atomics.store(ctrl, CTRL.FAILED, 1);
  Atomics.notify(ctrl, CTRL.DONE);
  Atomics.notify(ctrl, CTRL.READY);
}
