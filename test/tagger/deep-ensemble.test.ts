/**
 * `network.train.ensemble: n` through the tagger's ordinary path: n members
 * (seeds seed … seed + n − 1) trained one after the other and saved as one
 * network chain whose energy is the mean of the members' — checked against
 * the single-network models of the same seeds, and after a model-file round trip.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Model } from "../../src/tagger/model.ts";
import { type TrainResult, trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences } from "../fixtures/helpers.ts";

const specOf = (ensemble: number) =>
  parseSpec(
    {
      name: "pos-deep-ensemble-test",
      format: "conllu",
      columns: { w: "FORM" },
      label: "UPOS",
      derived: { lw: "lower(w)", s3: "suffix(lw,3)", ac: "ambiguity(lw, 3)" },
      templates: ["bias", "lw[0]", "s3[0]", "ac[0]"],
      network: {
        window: 1,
        hidden: 8,
        hybrid: true,
        fields: [
          { column: "lw", dim: 5 },
          { column: "ac", dim: 3 },
        ],
        train: {
          loss: "perceptron",
          linearOptimizer: "sgd",
          linearLr: 1,
          lr: 0.003,
          batch: 4,
          ensemble,
        },
      },
    },
    "<deep ensemble test spec>",
  );

let train: CorpusSentence[];
let dev: CorpusSentence[];
let one: TrainResult;
let two: TrainResult;
let ens: TrainResult;

beforeAll(async () => {
  train = await ewtSentences(60);
  dev = await ewtSentences(15, 60);
  const run = (ensemble: number, seed: number) =>
    trainTagger({ spec: specOf(ensemble), train, dev, options: { epochs: 2, seed } });
  one = run(1, 1);
  two = run(1, 2);
  ens = run(2, 1);
});

describe("an ensemble of networks in one model", () => {
  it("holds both members side by side and reports both members' epochs", () => {
    expect(ens.model.network!.H).toBe(16);
    expect(ens.model.network!.F).toBe(4);
    expect(ens.reports.map((r) => r.epoch)).toEqual([1, 2, 3, 4]);
  });

  it("its energy is the mean of the two seeds' models, also after a round trip", () => {
    const again = Model.fromBytes(ens.model.toBytes());
    for (const s of dev.slice(0, 6).map((d) => d.tokens)) {
      const y = one.model.tag(s);
      const mean = (one.model.energy(s, y) + two.model.energy(s, y)) / 2;
      expect(ens.model.energy(s, y)).toBeCloseTo(mean, 6);
      expect(again.energy(s, y)).toBeCloseTo(mean, 6);
    }
  });

  it("a bad ensemble size is refused", () => {
    const s = specOf(0);
    expect(() => trainTagger({ spec: s, train, options: { epochs: 1 } })).toThrow(
      /network.train.ensemble: expected an integer from 1 to 16, got 0/,
    );
  });
});
