/**
 * Is the averaged perceptron's fast path (src/optimize/perceptron.ts: decode,
 * then one sparse difference update with lazy averaging) still worth its own
 * loop? It is compared with the general trainer (trainEnergy: the loss table's
 * perceptron row through EnergyObjective and the Structure, the online
 * "perceptron" step with averaging) on the same instances, interleaved,
 * fastest of --runs each. Both are scored on the dev split (the last 10% of
 * CoNLL-2000 train) by token accuracy.
 * Last line: {"fast_s","general_s","ratio","fast_acc","general_acc","epochs"}
 *
 *   npx tsx scripts/bench/perceptron-path.ts [--train FILE --graph SPEC --epochs N --runs R]
 */
import { readCorpus } from "../../src/architecture/corpus.ts";
import {
  buildTrainingSet,
  encodeSentence,
  FeatureExtractor,
  type Instance,
} from "../../src/architecture/features.ts";
import { LinearChain } from "../../src/architecture/linear-chain.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { viterbiBackend, viterbiInto } from "../../src/inference/viterbi.ts";
import { trainOptions } from "../../src/optimize/options.ts";
import { trainPerceptron } from "../../src/optimize/perceptron.ts";
import { trainEnergy } from "../../src/optimize/trainer.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({
  train: "../shared/corpora/conll2000/train.txt",
  graph: "graphs/chunk.json",
  epochs: "5",
  runs: "2",
});
const spec = loadSpec(args.graph);
const all = await readCorpus(args.train, spec.format);
const cut = Math.floor(all.length * 0.9);
const fx = new FeatureExtractor(spec);
const set = buildTrainingSet(fx, all.slice(0, cut));
const dev = all.slice(cut).map((s) => encodeSentence(fx, s, set.labels, true));
const arch = new LinearChain(fx.numAttributes, set.labels.size);
const opts = trainOptions({ epochs: Number(args.epochs), threads: 1 });
const out = new Int32Array(1024);

function accuracy(W: Float64Array, dev: readonly Instance[]): number {
  let right = 0;
  let n = 0;
  for (const x of dev) {
    viterbiInto(arch.potentials(x, W), out);
    for (let t = 0; t < x.T; t++) {
      if (x.labels[t]! < 0) continue;
      n++;
      if (out[t] === x.labels[t]) right++;
    }
  }
  return (100 * right) / n;
}

const fast = () =>
  trainPerceptron(arch, set.instances, opts, (x, W, y) => {
    const p = arch.potentials(x, W);
    return chainEnergy(p, x.labels) - viterbiInto(p, y);
  }).W;
const general = () =>
  trainEnergy(arch, set.instances, opts, {
    backend: viterbiBackend,
    constraintsFor: () => undefined,
  }).W;

let best = { fast: Number.POSITIVE_INFINITY, general: Number.POSITIVE_INFINITY };
let W = { fast: new Float64Array(0), general: new Float64Array(0) };
for (let r = 0; r < Number(args.runs); r++) {
  for (const [name, f] of [
    ["fast", fast],
    ["general", general],
  ] as const) {
    const t0 = performance.now();
    const w = f();
    const s = (performance.now() - t0) / 1000;
    process.stderr.write(`run ${r + 1} ${name}: ${s.toFixed(2)} s\n`);
    if (s < best[name]) best = { ...best, [name]: s };
    W = { ...W, [name]: w };
  }
}
console.log(
  JSON.stringify({
    fast_s: Number(best.fast.toFixed(2)),
    general_s: Number(best.general.toFixed(2)),
    ratio: Number((best.general / best.fast).toFixed(2)),
    fast_acc: Number(accuracy(W.fast, dev).toFixed(2)),
    general_acc: Number(accuracy(W.general, dev).toFixed(2)),
    epochs: Number(args.epochs),
  }),
);
