/**
 * Linear-chain CRF side by side with CRFsuite (its C code through the npm
 * binding `crfsuite`, installed in scripts/bench/peers): the same CoNLL-2000
 * data and the same attributes (graphs/chunk.json: CRFsuite's chunking set),
 * the same feature set (observed attribute–label pairs), L-BFGS for the same
 * number of iterations on the same objective — CRFsuite minimizes
 * NLL + c2·‖w‖², nadir NLL + (c2/2)·‖w‖², so nadir runs with twice CRFsuite's c2.
 * CRFsuite's time counts appending the precomputed attributes and training;
 * nadir's counts extracting them from the raw columns and training.
 * Last line: {"nadir":{…},"crfsuite":{…},"time_ratio":nadir/crfsuite}
 *
 *   (cd scripts/bench/peers && npm install)   # once: builds CRFsuite
 *   npx tsx scripts/bench/crf.ts [--train FILE --test FILE --iterations 100 --c2 1 --peer yes|no]
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCorpus } from "../../src/architecture/corpus.ts";
import { FeatureExtractor, labelOf } from "../../src/architecture/features.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { scoreChunks } from "../../src/eval/chunks.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({
  train: "../shared/corpora/conll2000/train.txt",
  test: "../shared/corpora/conll2000/test.txt",
  graph: "graphs/chunk.json",
  iterations: "100",
  c2: "1",
  peer: "yes",
  nadir: "yes",
  threads: "0",
});

const spec = loadSpec(args.graph);
const observed = { ...spec, features: "observed" as const };
const iterations = Number(args.iterations);
const c2 = Number(args.c2);
const round = (x: number, d = 2) => Number(x.toFixed(d));

// nadir
const t0 = performance.now();
const train = await readCorpus(args.train, spec.format);
const test = await readCorpus(args.test, spec.format);
let nadir: Record<string, number> | null = null;
if (args.nadir === "yes") {
  const r = trainTagger({
    spec: observed,
    train,
    options: {
      loss: "nll",
      optimizer: "lbfgs",
      iterations,
      c2: 2 * c2,
      threads: Number(args.threads),
    },
    onEpoch: (e) =>
      process.stderr.write(
        `nadir iteration ${e.epoch}: loss ${e.loss.toFixed(4)} (${e.seconds.toFixed(2)} s)\n`,
      ),
  });
  const nadirS = (performance.now() - t0) / 1000;
  const ev = evaluateTagger(r.model, test);
  nadir = {
    f1: round(ev.chunks!.f1),
    train_s: round(nadirS),
    iterations: r.reports.length,
    features: r.model.arch.K,
    tag_tokens_per_s: Math.round(ev.tokensPerSecond),
  };
  process.stderr.write(`nadir: ${JSON.stringify(nadir)}\n`);
}

// CRFsuite on the same attribute strings
let crfsuite: Record<string, number> | null = null;
if (args.peer === "yes") {
  const require = createRequire(new URL("./peers/package.json", import.meta.url));
  let crf: {
    Trainer: new (
      o?: object,
    ) => {
      append(x: string[][], y: string[]): void;
      set_params(p: Record<string, string>): void;
      train(path: string): number;
    };
    // the binding's tag() returns the labels (its .d.ts says { probability, result })
    Tagger: new () => {
      open(p: string): boolean;
      tag(x: string[][]): string[] | { result: string[] };
    };
  };
  try {
    crf = require("crfsuite");
  } catch (e) {
    process.stderr.write(
      `ERROR: CRFsuite binding not installed (cd scripts/bench/peers && npm install): ${(e as Error).message}\n`,
    );
    process.exit(1);
  }
  const fx = new FeatureExtractor(spec);
  const names = (tokens: string[][]): string[][] => {
    const { offsets, attrs } = fx.extract(tokens, true);
    const out: string[][] = [];
    for (let t = 0; t < tokens.length; t++) {
      const item: string[] = [];
      for (let j = offsets[t]!; j < offsets[t + 1]!; j++) item.push(fx.attributeName(attrs[j]!));
      out.push(item);
    }
    return out;
  };
  const xs = train.map((s) => names(s.tokens));
  const ys = train.map((s) => s.tokens.map((t) => labelOf(t, spec.label)!));
  const testXs = test.map((s) => names(s.tokens));
  const dir = mkdtempSync(join(tmpdir(), "nadir-crf-"));
  const path = join(dir, "model.crfsuite");
  const c0 = performance.now();
  const trainer = new crf.Trainer({ debug: false });
  for (let i = 0; i < xs.length; i++) trainer.append(xs[i]!, ys[i]!);
  trainer.set_params({ max_iterations: String(iterations), c2: String(c2) });
  trainer.train(path);
  const crfS = (performance.now() - c0) / 1000;
  const tagger = new crf.Tagger();
  tagger.open(path);
  const g0 = performance.now();
  const pred = testXs.map((x) => {
    const r = tagger.tag(x);
    return Array.isArray(r) ? r : r.result;
  });
  const tagS = (performance.now() - g0) / 1000;
  const gold = test.map((s) => s.tokens.map((t) => labelOf(t, spec.label)!));
  const tokens = gold.reduce((n, g) => n + g.length, 0);
  crfsuite = {
    f1: round(scoreChunks(gold, pred).f1),
    train_s: round(crfS),
    tag_tokens_per_s: Math.round(tokens / tagS),
  };
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`crfsuite: ${JSON.stringify(crfsuite)}\n`);
}
console.log(
  JSON.stringify({
    nadir,
    crfsuite,
    time_ratio: crfsuite && nadir ? round(nadir.train_s! / crfsuite.train_s!, 3) : null,
  }),
);
