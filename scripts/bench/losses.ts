/**
 * Every loss of energy-based learning on CoNLL-2000 chunking (graphs/chunk.json).
 * Each configuration is tuned on a dev split — the last 10% of train.txt,
 * training on the first 90% — over a small grid and the number of epochs (or
 * L-BFGS iterations); the chosen setting is then trained on all of train.txt
 * and scored once on test.txt. train_s is that final run (reading excluded).
 * Last line: {"results":[{"loss":…,"optimizer":…,"f1":…,"train_s":…,"dev_f1":…,"options":{…}},…]}
 *
 *   npx tsx scripts/bench/losses.ts [--train FILE --test FILE --only nll,hinge --epochs 10 --iterations 100]
 */

import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({
  train: "../shared/corpora/conll2000/train.txt",
  test: "../shared/corpora/conll2000/test.txt",
  graph: "graphs/chunk.json",
  only: "",
  epochs: "10",
  iterations: "100",
});

interface Config {
  loss: string;
  optimizer: string;
  features?: "all" | "observed";
  /** warm start from the tuned model of an earlier configuration ("loss/optimizer") */
  init?: string;
  grid: Record<string, unknown>[];
}

const CONFIGS: Config[] = [
  { loss: "perceptron", optimizer: "perceptron", grid: [{}] },
  { loss: "hinge", optimizer: "pa", grid: [{ "pa-c": 0.1 }, { "pa-c": 1 }] },
  {
    loss: "hinge",
    optimizer: "sgd",
    grid: [
      { eta: 0.1, c2: 0 },
      { eta: 0.01, c2: 0 },
    ],
  },
  {
    loss: "log",
    optimizer: "sgd",
    grid: [
      { eta: 0.1, c2: 0 },
      { eta: 0.01, c2: 0 },
    ],
  },
  {
    loss: "lvq2",
    optimizer: "sgd",
    grid: [
      { eta: 0.1, c2: 0 },
      { eta: 0.01, c2: 0 },
    ],
  },
  {
    loss: "mce",
    optimizer: "sgd",
    grid: [
      { eta: 1, c2: 0 },
      { eta: 0.1, c2: 0 },
    ],
  },
  {
    loss: "square-square",
    optimizer: "sgd",
    grid: [
      { eta: 0.01, c2: 0 },
      { eta: 0.001, c2: 0 },
    ],
  },
  {
    loss: "square-exp",
    optimizer: "sgd",
    grid: [
      { eta: 0.01, c2: 0 },
      { eta: 0.001, c2: 0 },
    ],
  },
  {
    loss: "nll",
    optimizer: "lbfgs",
    features: "observed",
    grid: [{ c2: 1 }, { c2: 2 }, { c2: 4 }],
  },
  // MEE's gradient is β·P(Yⁱ): about 22^−24 for a sentence at W = 0, so it starts from the tuned log-loss model.
  {
    loss: "mee",
    optimizer: "sgd",
    init: "log/sgd",
    grid: [
      { eta: 0.1, c2: 0 },
      { eta: 1, c2: 0 },
    ],
  },
  { loss: "energy", optimizer: "sgd", grid: [{ eta: 0.01, c2: 1 }] },
];

const only = new Set(args.only.split(",").filter(Boolean));
const base = loadSpec(args.graph);
const all = await readCorpus(args.train, base.format);
const cut = Math.floor(all.length * 0.9);
const train = all.slice(0, cut);
const dev = all.slice(cut);
const test = await readCorpus(args.test, base.format);
process.stderr.write(
  `train ${train.length}, dev ${dev.length} (last 10% of train), test ${test.length} sentences\n`,
);

const results: Record<string, unknown>[] = [];
const tuned = new Map<string, ReturnType<typeof trainTagger>["model"]>();
const finals = new Map<string, ReturnType<typeof trainTagger>["model"]>();
for (const c of CONFIGS) {
  if (only.size && !only.has(c.loss) && !only.has(`${c.loss}/${c.optimizer}`)) continue;
  const spec = { ...base, features: c.features ?? base.features };
  let best: {
    dev: number;
    model: ReturnType<typeof trainTagger>["model"];
    opts: Record<string, unknown>;
    epoch: number;
  } | null = null;
  for (const g of c.grid) {
    const options = {
      loss: c.loss,
      optimizer: c.optimizer,
      epochs: Number(args.epochs),
      iterations: Number(args.iterations),
      ...g,
    };
    const t0 = performance.now();
    const init = c.init ? tuned.get(c.init) : undefined;
    const r = trainTagger({ spec, train, dev, options, init });
    const s = (performance.now() - t0) / 1000;
    const devScore = Math.max(...r.reports.map((e) => e.dev ?? Number.NEGATIVE_INFINITY));
    process.stderr.write(
      `${c.loss}/${c.optimizer} ${JSON.stringify(g)}: dev F1 ${devScore.toFixed(2)} (epoch ${r.bestEpoch}) in ${s.toFixed(1)} s\n`,
    );
    if (!best || devScore > best.dev)
      best = { dev: devScore, model: r.model, opts: g, epoch: r.bestEpoch };
  }
  if (!best) continue;
  // The tuned setting on all of train.txt, for the tuned number of epochs / iterations.
  const length = c.optimizer === "lbfgs" ? { iterations: best.epoch } : { epochs: best.epoch };
  const options = { loss: c.loss, optimizer: c.optimizer, ...best.opts, ...length };
  const t0 = performance.now();
  const final = trainTagger({
    spec,
    train: all,
    options,
    init: c.init ? finals.get(c.init) : undefined,
  });
  const s = (performance.now() - t0) / 1000;
  tuned.set(`${c.loss}/${c.optimizer}`, best.model);
  finals.set(`${c.loss}/${c.optimizer}`, final.model);
  const ev = evaluateTagger(final.model, test);
  const row = {
    loss: c.loss,
    optimizer: c.optimizer,
    f1: Number(ev.chunks!.f1.toFixed(2)),
    train_s: Number(s.toFixed(1)),
    dev_f1: Number(best.dev.toFixed(2)),
    options: { ...best.opts, ...length, ...(c.init ? { init: c.init } : {}) },
  };
  process.stderr.write(`  → test F1 ${row.f1}\n`);
  results.push(row);
}
console.log(JSON.stringify({ results }));
