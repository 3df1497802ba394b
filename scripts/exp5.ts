import { buildTrainingSet, FeatureExtractor, type Instance } from "../src/architecture/features.ts";
import { LinearChain, observedRows } from "../src/architecture/linear-chain.ts";
import { loadSpec } from "../src/architecture/spec.ts";
import { readCorpus } from "../src/data/corpus.ts";
import { chainEnergy } from "../src/graph/chain.ts";
import { backwardMinSum, ChainWorkspace } from "../src/inference/chain-kernel.ts";
import { emptyChainMarginals, forwardBackward } from "../src/inference/forward-backward.ts";

const spec = loadSpec("/tmp/chunk-obs.json");
const train = await readCorpus("../shared/corpora/conll2000/train.txt", spec.format);
const fx = new FeatureExtractor(spec);
const set = buildTrainingSet(fx, train);
const rows = observedRows(set.instances, fx.numAttributes, set.labels.size);
const arch = new LinearChain(fx.numAttributes, set.labels.size, rows);
arch.cacheExpanded = true;
const W = new Float64Array(arch.K);
for (let i = 0; i < W.length; i++) W[i] = ((i * 7919) % 13) * 0.01 - 0.06;
const G = new Float64Array(arch.K);
let out = emptyChainMarginals();
const ws = new ChainWorkspace();
ws.ensure(300, 30);
function pots(xs: Instance[]) {
  let s = 0;
  for (const x of xs) {
    const p = arch.potentials(x, W);
    s += p.unary[0]!;
  }
  return s;
}
function vit(xs: Instance[]) {
  let s = 0;
  for (const x of xs) {
    const p = arch.potentials(x, W);
    s += backwardMinSum(p.T, p.L, p.unary, undefined, p.transition, p.start, p.end, ws);
  }
  return s;
}
function fb(xs: Instance[]) {
  let s = 0;
  for (const x of xs) {
    const p = arch.potentials(x, W);
    out = forwardBackward(p, 1, { out });
    s += out.logZ;
  }
  return s;
}
function full(xs: Instance[]) {
  let s = 0;
  for (const x of xs) {
    const p = arch.potentials(x, W);
    s += chainEnergy(p, x.labels);
    out = forwardBackward(p, 1, { out });
    s -= out.freeEnergy;
    arch.accumulate(x, x.labels, 1, G);
    arch.accumulateMarginals(x, out.unary, out.pairwiseSum, -1, G);
  }
  return s;
}
for (let rep = 0; rep < 4; rep++) {
  const t0 = performance.now();
  pots(set.instances);
  const t1 = performance.now();
  vit(set.instances);
  const t1b = performance.now();
  fb(set.instances);
  const t2 = performance.now();
  full(set.instances);
  const t3 = performance.now();
  console.log(
    `potentials ${(t1 - t0).toFixed(0)} ms, +viterbi ${(t1b - t1).toFixed(0)}, +fb ${(t2 - t1b).toFixed(0)} ms, full objective ${(t3 - t2).toFixed(0)} ms`,
  );
}
