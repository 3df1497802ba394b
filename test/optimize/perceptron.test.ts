import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildTrainingSet,
  FeatureExtractor,
  type Instance,
} from "../../src/architecture/features.ts";
import { LinearChain } from "../../src/architecture/linear-chain.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { viterbiInto } from "../../src/inference/viterbi.ts";
import { TRAIN_OPTIONS, type TrainOptions, trainOptions } from "../../src/optimize/options.ts";
import { type Decoder, trainPerceptron } from "../../src/optimize/perceptron.ts";
import { evaluateTagger } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences, GRAPHS, nadirError, spec } from "../fixtures/helpers.ts";

const decoderFor =
  (arch: LinearChain): Decoder =>
  (x, W, out) => {
    const p = arch.potentials(x, W);
    return chainEnergy(p, x.labels) - viterbiInto(p, out, undefined);
  };

/**
 * A separable synthetic task: most words have a fixed label; "z" (never twice
 * in a row) copies the label of the previous word (learnable through w[-1]).
 */
function syntheticSentences(seed: number, n: number): { tokens: string[][] }[] {
  const rng = new Rng(seed);
  const lex: Record<string, string> = { a: "A", b: "B", c: "C", d: "A", e: "B" };
  const words = Object.keys(lex);
  const out: { tokens: string[][] }[] = [];
  for (let i = 0; i < n; i++) {
    const T = 2 + rng.int(6);
    const tokens: string[][] = [];
    for (let t = 0; t < T; t++) {
      if (t > 0 && tokens[t - 1]![0] !== "z" && rng.next() < 0.3)
        tokens.push(["z", tokens[t - 1]![1]!]);
      else {
        const w = words[rng.int(words.length)]!;
        tokens.push([w, lex[w]!]);
      }
    }
    out.push({ tokens });
  }
  return out;
}

const synSpec = spec({ templates: ["w[0]", "w[-1]", "w[-1]|w[0]"], outside: "pad" });

function synData(seed = 1, n = 40) {
  const fx = new FeatureExtractor(synSpec);
  const set = buildTrainingSet(fx, syntheticSentences(seed, n));
  const arch = new LinearChain(fx.numAttributes, set.labels.size);
  return { fx, set, arch };
}

const opts = (o: Partial<TrainOptions> = {}): TrainOptions => trainOptions(o);

function accuracy(arch: LinearChain, W: Float64Array, data: readonly Instance[]): number {
  let ok = 0;
  let n = 0;
  const out = new Int32Array(64);
  for (const x of data) {
    viterbiInto(arch.potentials(x, W), out);
    for (let t = 0; t < x.T; t++, n++) if (out[t] === x.labels[t]) ok++;
  }
  return ok / n;
}

describe("trainPerceptron on a separable task", () => {
  it("reaches 100% training accuracy, with and without averaging", () => {
    const { set, arch } = synData();
    for (const average of [true, false]) {
      const r = trainPerceptron(
        arch,
        set.instances,
        opts({ epochs: 8, average }),
        decoderFor(arch),
      );
      expect(r.reports).toHaveLength(8);
      expect(r.reports[0]!.mistakes).toBeGreaterThan(0);
      expect(r.reports.at(-1)!.mistakes).toBe(0);
      expect(r.reports.at(-1)!.loss).toBe(0);
      expect(accuracy(arch, r.W, set.instances)).toBe(1);
      expect(r.bestEpoch).toBe(8);
      for (const rep of r.reports) {
        expect(rep.loss).toBeGreaterThanOrEqual(0);
        expect(rep.dev).toBeUndefined();
      }
    }
  });

  it("averaging on vs off give different weights", () => {
    const { set, arch } = synData();
    const a = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs: 3, average: true }),
      decoderFor(arch),
    );
    const b = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs: 3, average: false }),
      decoderFor(arch),
    );
    expect(a.W.length).toBe(arch.K);
    expect(Array.from(a.W)).not.toEqual(Array.from(b.W));
  });

  it("averaged weights = mean of the weight vectors after every example (W₀ = 0 included)", () => {
    const { set, arch } = synData(3, 25);
    const epochs = 3;
    const r = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs, shuffle: false, average: true }),
      decoderFor(arch),
    );
    // plain (non-lazy) reference: W ← W − ∂E(y)/∂W + ∂E(ŷ)/∂W on a mistake; S += W after every example
    const W = new Float64Array(arch.K);
    const S = new Float64Array(arch.K);
    const yHat = new Int32Array(64);
    let steps = 0;
    for (let e = 0; e < epochs; e++) {
      for (const x of set.instances) {
        viterbiInto(arch.potentials(x, W), yHat);
        let differs = false;
        for (let t = 0; t < x.T; t++) if (yHat[t] !== x.labels[t]) differs = true;
        if (differs) {
          arch.accumulate(x, x.labels, -1, W);
          arch.accumulate(x, yHat.subarray(0, x.T), 1, W);
        }
        for (let k = 0; k < arch.K; k++) S[k] = S[k]! + W[k]!;
        steps++;
      }
    }
    for (let k = 0; k < arch.K; k++) expect(r.W[k]).toBeCloseTo(S[k]! / (steps + 1), 9);
    // and without averaging the final weights are the plain perceptron's
    const raw = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs, shuffle: false, average: false }),
      decoderFor(arch),
    );
    for (let k = 0; k < arch.K; k++) expect(raw.W[k]).toBeCloseTo(W[k]!, 12);
  });

  it("same seed → identical weights; another seed → different weights", async () => {
    const pos = loadSpec(join(GRAPHS, "pos.json"));
    const sents = await ewtSentences(120);
    const fx = new FeatureExtractor(pos);
    const set = buildTrainingSet(fx, sents);
    const arch = new LinearChain(fx.numAttributes, set.labels.size);
    const run = (seed: number) =>
      trainPerceptron(arch, set.instances, opts({ epochs: 2, seed }), decoderFor(arch)).W;
    const a = run(1);
    const b = run(1);
    const c = run(2);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
    // without shuffling the seed does not matter
    const d = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs: 1, seed: 1, shuffle: false }),
      decoderFor(arch),
    );
    const e = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs: 1, seed: 9, shuffle: false }),
      decoderFor(arch),
    );
    expect(Array.from(d.W)).toEqual(Array.from(e.W));
  });
});

describe("trainPerceptron keeps the best epoch", () => {
  const { set, arch } = synData(5, 30);

  /** Train with a scripted dev score per epoch; record the weights each evaluation saw. */
  function scripted(scores: number[], o: Partial<TrainOptions>) {
    const seen: Float64Array[] = [];
    const epochs: number[] = [];
    const r = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs: scores.length, ...o }),
      decoderFor(arch),
      {
        evaluate: (W) => {
          seen.push(W.slice());
          return scores[seen.length - 1]!;
        },
        onEpoch: (rep) => epochs.push(rep.epoch),
      },
    );
    return { r, seen, epochs };
  }

  it("returns the averaged weights of the best-scoring epoch", () => {
    const { r, seen, epochs } = scripted([10, 30, 20, 30, 5], {});
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(r.bestEpoch).toBe(2); // first of the ties
    expect(r.reports.map((x) => x.dev)).toEqual([10, 30, 20, 30, 5]);
    expect(Array.from(r.W)).toEqual(Array.from(seen[1]!));
    // what the hook saw after epoch 2 is exactly the 2-epoch averaged perceptron
    const two = trainPerceptron(arch, set.instances, opts({ epochs: 2 }), decoderFor(arch));
    expect(Array.from(seen[1]!)).toEqual(Array.from(two.W));
  });

  it("keepBest false returns the last epoch; average false scores the raw weights", () => {
    const last = scripted([10, 30, 20], { keepBest: false });
    expect(last.r.bestEpoch).toBe(3);
    expect(Array.from(last.r.W)).toEqual(Array.from(last.seen[2]!));
    const raw = scripted([1, 3, 2], { average: false });
    expect(raw.r.bestEpoch).toBe(2);
    const twoRaw = trainPerceptron(
      arch,
      set.instances,
      opts({ epochs: 2, average: false }),
      decoderFor(arch),
    );
    expect(Array.from(raw.r.W)).toEqual(Array.from(twoRaw.W));
  });

  it("progress is reported", () => {
    const calls: [number, number][] = [];
    trainPerceptron(arch, set.instances, opts({ epochs: 1 }), decoderFor(arch), {
      onProgress: (d, t) => calls.push([d, t]),
    });
    expect(calls.length).toBeGreaterThan(0);
    for (const [d, t] of calls) {
      expect(t).toBe(set.instances.length);
      expect(d).toBeLessThanOrEqual(t);
    }
  });
});

describe("trainTagger", () => {
  it("tags the separable training set perfectly", () => {
    const train = syntheticSentences(11, 40);
    const r = trainTagger({ spec: synSpec, train, options: { epochs: 8 } });
    expect(r.options.epochs).toBe(8);
    expect([...r.model.labels].sort()).toEqual(["A", "B", "C"]);
    for (const s of train) expect(r.model.tag(s.tokens)).toEqual(s.tokens.map((t) => t[1]));
    // unseen sentence made of known words
    expect(r.model.tag([["a"], ["z"], ["b"], ["z"], ["c"]])).toEqual(["A", "A", "B", "B", "C"]);
  });

  it("with a dev set keeps the best epoch: the model scores bestEpoch's dev score", async () => {
    const pos = loadSpec(join(GRAPHS, "pos.json"));
    const train = await ewtSentences(250);
    const dev = await ewtSentences(120, 250);
    const r = trainTagger({ spec: pos, train, dev, options: { epochs: 6 } });
    const scores = r.reports.map((x) => x.dev!);
    expect(scores).toHaveLength(6);
    const best = Math.max(...scores);
    expect(r.bestEpoch).toBe(scores.indexOf(best) + 1);
    expect(evaluateTagger(r.model, dev).accuracy).toBe(best);
    // the kept weights are exactly those of training for bestEpoch epochs (same seed)
    const short = trainTagger({ spec: pos, train, options: { epochs: r.bestEpoch } });
    expect(Buffer.from(r.model.W.buffer).equals(Buffer.from(short.model.W.buffer))).toBe(true);
    // keep-best off: the last epoch's weights and dev score
    const lastOnly = trainTagger({
      spec: pos,
      train,
      dev,
      options: { epochs: 6, keepBest: false },
    });
    expect(lastOnly.bestEpoch).toBe(6);
    expect(evaluateTagger(lastOnly.model, dev).accuracy).toBe(scores[5]);
  });

  it("keeps an early epoch when the dev score peaks early", async () => {
    // Dev gold = what the 1-epoch model predicts: epoch 1 scores 100%, later epochs drift.
    const pos = loadSpec(join(GRAPHS, "pos.json"));
    const train = await ewtSentences(200);
    const one = trainTagger({ spec: pos, train, options: { epochs: 1 } }).model;
    const dev = (await ewtSentences(80, 200)).map((s) => {
      const tags = one.tag(s.tokens);
      return {
        ...s,
        tokens: s.tokens.map((tok, t) => tok.map((v, c) => (c === 3 ? tags[t]! : v))),
      };
    });
    const r = trainTagger({ spec: pos, train, dev, options: { epochs: 4 } });
    expect(r.reports[0]!.dev).toBe(100);
    expect(r.reports[3]!.dev).toBeLessThan(100);
    expect(r.bestEpoch).toBe(1);
    expect(Buffer.from(r.model.W.buffer).equals(Buffer.from(one.W.buffer))).toBe(true);
  });

  it("rejects empty training data", () => {
    const e = nadirError(() => trainTagger({ spec: synSpec, train: [{ tokens: [] }] }));
    expect(e.code).toBe("E_ARG");
  });

  it("a dev token without the label column is E_PARSE at file:line", () => {
    const s = spec({ columns: ["w", "pos"], templates: ["w[0]"], encoding: "iob2" });
    const e = nadirError(() =>
      trainTagger({
        spec: s,
        train: [{ tokens: [["a", "D", "B-NP"]] }],
        dev: [{ tokens: [["a", "D"]], file: "dev.txt", firstLine: 7 }],
        options: { epochs: 1 },
      }),
    );
    expect(e.code).toBe("E_PARSE");
    expect(e.message).toContain("dev.txt:7");
  });
});

describe("training options", () => {
  it("declared defaults", () => {
    expect(trainOptions()).toMatchObject({
      epochs: 10,
      seed: 1,
      shuffle: true,
      average: true,
      keepBest: true,
    });
    for (const d of TRAIN_OPTIONS) expect(d.help.length).toBeGreaterThan(0);
  });

  it("precedence: defaults < spec.train < explicit", () => {
    expect(trainOptions({ epochs: 3 }).epochs).toBe(3);
    expect(trainOptions({ epochs: 3, seed: 4 }, { epochs: 5 })).toMatchObject({
      epochs: 5,
      seed: 4,
      shuffle: true,
    });
    // undefined explicit values do not override
    expect(trainOptions({ epochs: 3 }, { epochs: undefined }).epochs).toBe(3);
    // kebab and camel names both work; strings are coerced
    expect(trainOptions({ "keep-best": false }).keepBest).toBe(false);
    expect(trainOptions({}, { keepBest: "false", epochs: "7" })).toMatchObject({
      keepBest: false,
      epochs: 7,
    });
  });

  it("trainTagger applies the precedence (spec.train, then options)", () => {
    const train = syntheticSentences(2, 5);
    const s2 = spec({ templates: ["w[0]"], train: { epochs: 2, average: false } });
    expect(trainTagger({ spec: s2, train }).reports).toHaveLength(2);
    const r = trainTagger({ spec: s2, train, options: { epochs: 1 } });
    expect(r.reports).toHaveLength(1);
    expect(r.options.average).toBe(false);
  });

  it("bad values and unknown names are E_ARG", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ epochs: 0 }, "epochs"],
      [{ epochs: 2.5 }, "epochs"],
      [{ epochs: "many" }, "epochs"],
      [{ epochs: Number.NaN }, "epochs"],
      [{ epochs: "" }, "epochs"],
      [{ seed: -1 }, "seed"],
      [{ average: "maybe" }, "average"],
      [{ shuffle: 2 }, "shuffle"],
      [{ learningRate: 0.1 }, "learningRate"],
    ];
    for (const [o, what] of cases) {
      const e = nadirError(() => trainOptions({}, o));
      expect(e.code, JSON.stringify(o)).toBe("E_ARG");
      expect(e.message).toContain(what);
    }
    const fromSpec = nadirError(() => trainOptions({ bogus: 1 }));
    expect(fromSpec.message).toContain("in the spec");
    const s = spec({ templates: ["w[0]"], train: { epochs: -2 } });
    const e = nadirError(() => trainTagger({ spec: s, train: syntheticSentences(1, 2) }));
    expect(e.code).toBe("E_ARG");
    expect(e.message).toContain("epochs");
  });
});
