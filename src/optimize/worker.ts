/**
 * A worker thread of ParallelObjective: rebuilds the objective from plain
 * data, then evaluates its shard every time the generation counter moves.
 */
import { workerData } from "node:worker_threads";
import { type Encoding, encodingConstraints, withEnd } from "../architecture/labels.ts";
import { architectureFrom } from "../architecture/registry.ts";
import { getBackend } from "../inference/registry.ts";
import { viterbiBackend } from "../inference/viterbi.ts";
import { makeLoss } from "../loss/index.ts";
import { EnergyObjective } from "./objective.ts";
import { CTRL, type ObjectiveConfig, type Packed, unpack } from "./parallel.ts";
import { serveGenerations } from "./worker-loop.ts";

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
serveGenerations(d.ctrl, CTRL, d.failure, () => {
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
  return () => {
    const g = d.g;
    g.fill(0);
    d.values[d.slot] = objective.evaluateRange(data, d.from, d.to, d.W, g);
  };
});
