/**
 * A completion training thread: rebuilds the model over the shared parameter
 * buffers and runs CompletionLearner steps on them until the deadline, its
 * share of the steps, or a stop request (Hogwild!: no locks).
 */
import { workerData } from "node:worker_threads";
import { Rng } from "../core/rng.ts";
import { Lbl } from "./lbl.ts";
import { Vocab } from "./text.ts";
import { CompletionLearner, type CompletionWorkerData, examplePositions } from "./train.ts";

const d = workerData as CompletionWorkerData;
const model = new Lbl(new Vocab(d.words), d.D, d.left, d.right, d.params);
const rng = new Rng(d.seed);
const learner = new CompletionLearner(model, d.acc, { ...d.options }, rng, d.noiseW, d.keep);
const pos = examplePositions(d.ids);
const chunk = d.options.loss === "nll" && d.options.noise > 0 ? 5_000 : 64;
let steps = 0;
while (pos.length > 0 && Atomics.load(d.stop, 0) === 0) {
  if (d.deadline > 0 && Date.now() >= d.deadline) break;
  if (d.maxSteps > 0 && steps >= d.maxSteps) break;
  const n = d.maxSteps > 0 ? Math.min(chunk, d.maxSteps - steps) : chunk;
  const now = Date.now();
  const byTime = d.deadline > 0 ? (now - d.start) / (d.deadline - d.start) : 0;
  learner.setProgress(Math.max(byTime, d.maxSteps > 0 ? steps / d.maxSteps : 0));
  const loss = learner.run(d.ids, pos, n);
  steps += n;
  d.counters[2 * d.slot] = steps;
  d.counters[2 * d.slot + 1] = d.counters[2 * d.slot + 1]! + loss;
}
