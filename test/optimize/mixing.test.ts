import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { buildTrainingSet, FeatureExtractor } from "../../src/architecture/features.ts";
import { LinearChain } from "../../src/architecture/linear-chain.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import {
  makeShardTrainer,
  mixInto,
  mixingCoefficients,
  mixingPlan,
  type ShardConfig,
  shardBounds,
  shardSeed,
  trainMixing,
} from "../../src/optimize/mixing.ts";
import { trainOptions } from "../../src/optimize/options.ts";
import { combineModels, mixModels } from "../../src/tagger/mix-models.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { expectOneError, run } from "../cli/harness.ts";
import { ewtSentences, GRAPHS, nadirError, tempDir } from "../fixtures/helpers.ts";

const spec = loadSpec(join(GRAPHS, "pos.json"));
let train: CorpusSentence[] = [];
let dev: CorpusSentence[] = [];
const tmp = tempDir();
const file = (name: string) => join(tmp.dir, name);
afterAll(() => tmp.cleanup());
beforeAll(async () => {
  train = await ewtSentences(150);
  dev = await ewtSentences(40, 150);
});

const bytes = (o: Record<string, unknown>) =>
  Buffer.from(trainTagger({ spec, train, options: { epochs: 3, ...o } }).model.toBytes());

/** Every weight of `a`, looked up by name in `b`, and the other way round. */
function expectSameWeights(a: Model, b: Model, tol = 0): void {
  expect([...a.labels].sort()).toEqual([...b.labels].sort());
  const check = (x: Model, y: Model) => {
    const w = y.weightsFor(x.fx, x.arch, x.labels);
    let worst = 0;
    for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k]! - x.W[k]!));
    expect(worst).toBeLessThanOrEqual(tol);
  };
  check(a, b);
  check(b, a);
}

/** Sentences as CoNLL-U lines (the reader's columns, tab-separated). */
function writeConllu(path: string, sentences: readonly CorpusSentence[]): void {
  writeFileSync(
    path,
    sentences.map((s) => `${s.tokens.map((t) => t.join("\t")).join("\n")}\n\n`).join(""),
  );
}

describe("parameter mixing: the pieces", () => {
  it("contiguous shards, per-shard seeds, coefficients", () => {
    expect(shardBounds(10, 3)).toEqual([0, 3, 6, 10]);
    expect(shardBounds(2, 4)).toEqual([0, 0, 1, 1, 2]);
    expect(shardSeed(1, 1, 0, 4)).toBe(1);
    expect(shardSeed(1, 2, 3, 4)).toBe(8);
    expect(mixingCoefficients("uniform", [5, 0, 3])).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(mixingCoefficients("weighted", [6, 0, 2])).toEqual([0.75, 0, 0.25]);
    // nobody erred: nothing to weigh by
    expect(mixingCoefficients("weighted", [0, 0])).toEqual([0.5, 0.5]);
    const out = new Float64Array(2);
    mixInto(out, [Float64Array.of(1, 2), Float64Array.of(3, 6)], [0.75, 0.25]);
    expect(Array.from(out)).toEqual([1.5, 3]);
  });

  it("mixing is on only when asked (--shards, or --threads > 1 for online optimizers)", () => {
    expect(mixingPlan(trainOptions({}))).toBeNull();
    expect(mixingPlan(trainOptions({ threads: 1 }))).toBeNull();
    expect(mixingPlan(trainOptions({ threads: 2 }))).toEqual({ shards: 2, threads: 2 });
    expect(mixingPlan(trainOptions({ shards: 8, threads: 2 }))).toEqual({ shards: 8, threads: 2 });
    expect(mixingPlan(trainOptions({ shards: 1, threads: 4 }))).toEqual({ shards: 1, threads: 1 });
    // L-BFGS: --threads splits its batch objective, no mixing
    expect(mixingPlan(trainOptions({ threads: 2, optimizer: "lbfgs", loss: "log" }))).toBeNull();
    expect(
      nadirError(() => mixingPlan(trainOptions({ shards: 2, optimizer: "lbfgs", loss: "log" })))
        .message,
    ).toContain("online optimizers");
    expect(
      nadirError(() => mixingPlan(trainOptions(undefined, { shards: 2, checkpoint: "x" }))).code,
    ).toBe("E_UNSUPPORTED");
  });
});

describe("parameter mixing trainer", () => {
  it("is deterministic: two runs give byte-identical models; 1 and 2 threads too", () => {
    const a = bytes({ shards: 3, threads: 2 });
    expect(bytes({ shards: 3, threads: 2 }).equals(a)).toBe(true);
    expect(bytes({ shards: 3, threads: 1 }).equals(a)).toBe(true);
    // the mixing actually happened: not the single-process model, and the shard count matters
    expect(bytes({}).equals(a)).toBe(false);
    expect(bytes({ shards: 2, threads: 2 }).equals(a)).toBe(false);
    expect(bytes({ shards: 3, threads: 2, mixing: "weighted" }).equals(a)).toBe(false);
  });

  it("a diverging run fails with the trainer's error, threads ended, nothing uncaught", () => {
    const huge = trainTagger({ spec, train, options: { epochs: 1 } }).model;
    for (let k = 0; k < huge.W.length; k++) huge.W[k] = k % 2 ? 1e308 : -1e308;
    for (const threads of [1, 2]) {
      const e = nadirError(() =>
        trainTagger({ spec, train, init: huge, options: { epochs: 2, shards: 2, threads } }),
      );
      expect(e.code).toBe("E_ARG");
      expect(e.message).toMatch(/diverged/);
    }
  });

  it("one shard without shuffling or averaging is the ordinary perceptron", () => {
    const o = { average: false, shuffle: false };
    expect(bytes({ ...o, shards: 1 }).equals(bytes(o))).toBe(true);
  });

  it("hinge/PA and SGD train through the workers, deterministically, and learn", () => {
    for (const o of [
      { loss: "hinge", optimizer: "pa" },
      { loss: "log", optimizer: "sgd", eta: 0.05 },
    ]) {
      const a = bytes({ ...o, shards: 2, threads: 2 });
      expect(bytes({ ...o, shards: 2, threads: 1 }).equals(a), o.optimizer).toBe(true);
      const r = trainTagger({
        spec,
        train,
        dev,
        options: { ...o, epochs: 3, shards: 2, threads: 2 },
      });
      expect(r.reports.at(-1)!.dev!).toBeGreaterThan(0.6);
    }
  });

  it("the model is the mean over epochs of the mixed shard averages; each epoch starts from the mixed raw weights", () => {
    const fx = new FeatureExtractor(spec);
    const set = buildTrainingSet(fx, train);
    const arch = new LinearChain(fx.numAttributes, set.labels.size);
    const config: ShardConfig = {
      arch: arch.describe(),
      fast: true,
      backend: "viterbi",
      encoding: "none",
      constrained: false,
      labels: set.labels.names,
      submodular: false,
      options: trainOptions({ mixing: "weighted", epochs: 2 }),
    };
    const S = 3;
    const got = trainMixing(config, set.instances, { shards: S, threads: 2 });
    // by hand
    const shard = makeShardTrainer(config);
    const b = shardBounds(set.instances.length, S);
    let start: Float64Array = new Float64Array(arch.K);
    const sum = new Float64Array(arch.K);
    for (let e = 1; e <= 2; e++) {
      const rs = [0, 1, 2].map((s) =>
        shard(start, set.instances.slice(b[s], b[s + 1]), shardSeed(1, e, s, S)),
      );
      const mu = mixingCoefficients(
        "weighted",
        rs.map((r) => r.mistakes),
      );
      expect(mu[0]).not.toBeCloseTo(1 / 3, 6);
      const raw = new Float64Array(arch.K);
      mixInto(
        raw,
        rs.map((r) => r.raw),
        mu,
      );
      const avg = new Float64Array(arch.K);
      mixInto(
        avg,
        rs.map((r) => r.avg),
        mu,
      );
      for (let k = 0; k < arch.K; k++) sum[k] = sum[k]! + avg[k]!;
      start = raw;
    }
    expect(Array.from(got.last!)).toEqual(Array.from(start));
    expect(Array.from(got.W)).toEqual(Array.from(sum, (x) => x / 2));
    expect(got.reports.map((r) => r.epoch)).toEqual([1, 2]);
  });
});

describe("parameter mixing across processes: train --init MIXED --epochs 1 per shard, then nadir mix", () => {
  const S = 3;
  const pos = join(GRAPHS, "pos.json");
  const ok = async (argv: string[]) => {
    const r = await run(argv);
    expect(r.code, r.stderr).toBe(0);
    return r;
  };
  /** Shard files and a starting model M0 (one epoch on everything: the corpus's label order). */
  beforeAll(async () => {
    writeConllu(file("train.conllu"), train);
    const b = shardBounds(train.length, S);
    for (let s = 0; s < S; s++) writeConllu(file(`shard${s}.conllu`), train.slice(b[s], b[s + 1]));
    await ok([
      "train",
      "--graph",
      pos,
      "--train",
      file("train.conllu"),
      "--epochs",
      "1",
      "--model",
      file("m0.nadir"),
    ]);
  });

  /** The driver's loop: per epoch, each shard from the mixed model, then mix (weights: the shards' mistakes). */
  async function drive(epochs: number, extra: string[], weighted: boolean): Promise<string> {
    let mixed = file("m0.nadir");
    for (let e = 1; e <= epochs; e++) {
      const shards: string[] = [];
      const mistakes: number[] = [];
      for (let s = 0; s < S; s++) {
        const out = file(`e${e}s${s}${weighted ? "w" : ""}.nadir`);
        const r = await ok([
          "train",
          "--graph",
          pos,
          "--train",
          file(`shard${s}.conllu`),
          "--init",
          mixed,
          "--epochs",
          "1",
          "--seed",
          String(shardSeed(1, e, s, S)),
          "--model",
          out,
          ...extra,
        ]);
        mistakes.push(Number(/epoch 1: (\d+) mistakes/.exec(r.stderr)![1]));
        shards.push(out);
      }
      mixed = file(`mixed${e}${weighted ? "w" : ""}.nadir`);
      await ok([
        "mix",
        ...shards,
        "--out",
        mixed,
        ...(weighted ? ["--weights", mistakes.join(",")] : []),
      ]);
    }
    return mixed;
  }

  it("compose to the in-process mixing trainer's model (raw weights; uniform and weighted)", async () => {
    for (const weighted of [false, true]) {
      const mixing = weighted ? ["--mixing", "weighted"] : [];
      await ok([
        "train",
        "--graph",
        pos,
        "--train",
        file("train.conllu"),
        "--init",
        file("m0.nadir"),
        "--epochs",
        "2",
        "--no-average",
        "--shards",
        String(S),
        "--threads",
        "2",
        ...mixing,
        "--model",
        file("inproc.nadir"),
      ]);
      const driven = await drive(2, ["--no-average"], weighted);
      expectSameWeights(Model.load(file("inproc.nadir")), Model.load(driven));
    }
  });

  it("with averaging: each shard run twice (raw and averaged), both mixed, the epochs' averages mixed at the end", async () => {
    await ok([
      "train",
      "--graph",
      pos,
      "--train",
      file("train.conllu"),
      "--init",
      file("m0.nadir"),
      "--epochs",
      "2",
      "--shards",
      String(S),
      "--threads",
      "2",
      "--model",
      file("inproc-avg.nadir"),
    ]);
    let mixed = file("m0.nadir");
    const averages: string[] = [];
    for (let e = 1; e <= 2; e++) {
      const raw: string[] = [];
      const avg: string[] = [];
      for (let s = 0; s < S; s++) {
        const common = [
          "train",
          "--graph",
          pos,
          "--train",
          file(`shard${s}.conllu`),
          "--init",
          mixed,
          "--epochs",
          "1",
          "--seed",
          String(shardSeed(1, e, s, S)),
        ];
        raw.push(file(`a-e${e}s${s}-raw.nadir`));
        avg.push(file(`a-e${e}s${s}-avg.nadir`));
        await ok([...common, "--no-average", "--model", raw.at(-1)!]);
        await ok([...common, "--model", avg.at(-1)!]);
      }
      mixed = file(`a-mixed${e}.nadir`);
      await ok(["mix", ...raw, "--out", mixed]);
      averages.push(file(`a-average${e}.nadir`));
      await ok(["mix", ...avg, "--out", averages.at(-1)!]);
    }
    await ok(["mix", ...averages, "--out", file("a-final.nadir")]);
    // (two epochs: ½·A₁ + ½·A₂ and (A₁ + A₂)/2 are the same floating-point numbers)
    expectSameWeights(Model.load(file("inproc-avg.nadir")), Model.load(file("a-final.nadir")));
  });

  it("a shard model keeps the init's attributes and labels that its shard lacks", async () => {
    const init = Model.load(file("m0.nadir"));
    const shard = Model.load(file("e1s0.nadir"));
    expect(shard.labels.slice(0, init.labels.length)).toEqual(init.labels);
    const names = new Set<string>();
    for (let a = 0; a < shard.fx.numAttributes; a++) names.add(shard.fx.attributeName(a));
    for (let a = 0; a < init.fx.numAttributes; a++)
      expect(names.has(init.fx.attributeName(a))).toBe(true);
  });
});

describe("nadir mix", () => {
  it("averages over the union of attributes: an attribute one model lacks counts as 0", async () => {
    const a = trainTagger({ spec, train: train.slice(0, 60), options: { epochs: 2 } }).model;
    const b = trainTagger({ spec, train: train.slice(60, 120), options: { epochs: 2 } }).model;
    const m = mixModels([a, b], [3, 1]);
    const half = combineModels([a, b], [0.75, 0.25], "sum");
    expectSameWeights(m, half);
    const names = (x: Model) => {
      const n = new Set<string>();
      for (let i = 0; i < x.fx.numAttributes; i++) n.add(x.fx.attributeName(i));
      return n;
    };
    const na = names(a);
    const nb = names(b);
    const nm = names(m);
    expect(nm.size).toBeGreaterThan(Math.max(na.size, nb.size));
    for (const n of [...na, ...nb]) expect(nm.has(n)).toBe(true);
    // one attribute only a has: its weights are ¾ of a's
    const only = [...na].find((n) => !nb.has(n))!;
    const ia = [...na].indexOf(only);
    const im = [...nm].indexOf(only);
    const la = a.labels.indexOf(a.labels[a.arch.labelOf(a.arch.rowStart(ia), ia)]!);
    const lm = m.labels.indexOf(a.labels[la]!);
    expect(m.W[m.arch.stateIndex(im, lm)]).toBeCloseTo(0.75 * a.W[a.arch.rowStart(ia)]!, 12);
  });

  it("writes the model; refuses other specs, bad weights and --out over an input", async () => {
    const a = file("a.nadir");
    const b = file("b.nadir");
    trainTagger({ spec, train: train.slice(0, 50), options: { epochs: 1 } }).model.save(a);
    trainTagger({ spec, train: train.slice(50, 100), options: { epochs: 1 } }).model.save(b);
    const r = await run(["mix", a, b, "--out", file("ab.nadir"), "--weights", "1,1"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("mixed 2 models");
    expectSameWeights(Model.load(file("ab.nadir")), mixModels([Model.load(a), Model.load(b)]));
    expectOneError(
      await run(["mix", a, b, "--out", file("x.nadir"), "--weights", "1"]),
      "expected 2 weights",
    );
    expectOneError(await run(["mix", a, b, "--out", file("x.nadir"), "--weights", "1,-1"]), "≥ 0");
    expectOneError(await run(["mix", a, b, "--out", a]), "also an input model");
    expectOneError(await run(["mix", a]), "--out is required");
    const other = trainTagger({
      spec,
      train: train.slice(0, 50),
      options: { epochs: 1, "min-count": 2 },
    }).model;
    other.save(file("other.nadir"));
    expectOneError(
      await run(["mix", a, file("other.nadir"), "--out", file("x.nadir")]),
      "another spec",
    );
  });
});
