/**
 * A network under the chain through the tagger's ordinary path: a spec with a
 * `network` section trains with trainTagger (as `nadir train --graph` does),
 * the model file keeps the network, and the four questions answer unchanged.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { writeCrfsuiteModel } from "../../src/interop/crfsuite-writer.ts";
import { Model } from "../../src/tagger/model.ts";
import { type TrainResult, trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences } from "../fixtures/helpers.ts";

const spec = parseSpec(
  {
    name: "pos-deep-test",
    format: "conllu",
    columns: { w: "FORM" },
    label: "UPOS",
    derived: { lw: "lower(w)", s3: "suffix(lw,3)", shape: "shortshape(w)" },
    templates: ["bias", "lw[0]", "s3[0]", "shape[0]"],
    network: {
      window: 1,
      hidden: 16,
      activation: "hardtanh",
      hybrid: true,
      fields: [
        { column: "lw", dim: 8 },
        { column: "s3", dim: 4 },
      ],
      train: { loss: "perceptron", linearOptimizer: "sgd", linearLr: 1, lr: 0.003, batch: 4 },
    },
  },
  "<deep test spec>",
);

let train: CorpusSentence[];
let dev: CorpusSentence[];
let r: TrainResult;

beforeAll(async () => {
  train = await ewtSentences(120);
  dev = await ewtSentences(30, 120);
  r = trainTagger({ spec, train, dev, options: { epochs: 3, seed: 3 } });
});

describe("a network under the chain, trained and used as a tagger", () => {
  it("trains end to end with dev selection and tags better than chance", () => {
    expect(r.model.network).not.toBeNull();
    expect(r.reports.length).toBe(3);
    const ev = dev.flatMap((s) => {
      const pred = r.model.tag(s.tokens);
      return s.tokens.map((tok, t) => (tok[3] === pred[t] ? 1 : 0));
    });
    const acc = ev.reduce<number>((a, b) => a + b, 0) / ev.length;
    expect(acc).toBeGreaterThan(0.6);
  });

  it("the model file keeps the network: the same energies and answers after a round trip", () => {
    const again = Model.fromBytes(r.model.toBytes());
    expect(again.network).not.toBeNull();
    expect(again.W.length).toBe(r.model.W.length);
    for (const s of dev.slice(0, 5)) {
      const y = r.model.tag(s.tokens);
      expect(again.tag(s.tokens)).toEqual(y);
      expect(again.energy(s.tokens, y)).toBeCloseTo(r.model.energy(s.tokens, y), 9);
    }
  });

  it("answers the four questions: decide (k-best), rank, detect, density", () => {
    const s = dev[0]!.tokens;
    const [best, second] = r.model.decide(s, 2);
    expect(best!.energy).toBeLessThanOrEqual(second!.energy);
    expect(r.model.energy(s, best!.labels)).toBeCloseTo(best!.energy, 9);
    expect(r.model.rank(s, best!.labels, second!.labels).better).toBe(1);
    const d = r.model.density(s, 1, best!.labels);
    expect(d.probability!).toBeGreaterThan(0);
    expect(d.probability!).toBeLessThanOrEqual(1);
    expect(typeof r.model.detect(s, best!.labels).compatible).toBe("boolean");
  });

  it("refuses what a network model cannot be: a CRFsuite file", () => {
    expect(() => writeCrfsuiteModel(r.model)).toThrow(NadirError);
  });
});
