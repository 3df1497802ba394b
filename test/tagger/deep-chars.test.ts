/**
 * A network with a character module under the chain, through the tagger's
 * ordinary path: it trains with trainTagger, and the model file keeps the
 * module (its sizes, alphabet and weights): the same energies and answers
 * after a round trip, also for words never seen in training.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Model } from "../../src/tagger/model.ts";
import { type TrainResult, trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences } from "../fixtures/helpers.ts";

const spec = parseSpec(
  {
    name: "pos-deep-chars-test",
    format: "conllu",
    columns: { w: "FORM" },
    label: "UPOS",
    derived: { lw: "lower(w)", s3: "suffix(lw,3)" },
    templates: ["bias", "lw[0]", "s3[0]"],
    network: {
      window: 1,
      hidden: 12,
      activation: "hardtanh",
      hybrid: true,
      fields: [{ column: "lw", dim: 6 }],
      chars: { column: "w", dim: 5, filters: 8, width: 3 },
      train: { loss: "perceptron", linearOptimizer: "sgd", linearLr: 1, lr: 0.003, batch: 4 },
    },
  },
  "<deep chars test spec>",
);

let train: CorpusSentence[];
let dev: CorpusSentence[];
let r: TrainResult;

beforeAll(async () => {
  train = await ewtSentences(80);
  dev = await ewtSentences(20, 80);
  r = trainTagger({ spec, train, dev, options: { epochs: 2, seed: 5 } });
});

describe("a network with a character module, trained and saved as a tagger", () => {
  it("the model carries the character module", () => {
    const net = r.model.network!;
    expect(net.charLay).not.toBeNull();
    expect(net.nc).toBe(8);
    expect(net.charVocab!.size).toBeGreaterThan(20);
  });

  it("the model file keeps the character module: the same energies and answers after a round trip", () => {
    const again = Model.fromBytes(r.model.toBytes());
    expect(again.network!.nc).toBe(8);
    expect(again.network!.charVocab!.names).toEqual(r.model.network!.charVocab!.names);
    // a word never seen in training (FORM is column 1 of a CoNLL-U token)
    const odd = dev[0]!.tokens[0]!.slice();
    odd[1] = "Zqxwvbarkish";
    const unseen = [odd, ...dev[0]!.tokens];
    for (const s of [unseen, ...dev.slice(0, 5).map((d) => d.tokens)]) {
      const y = r.model.tag(s);
      expect(again.tag(s)).toEqual(y);
      expect(again.energy(s, y)).toBeCloseTo(r.model.energy(s, y), 6);
    }
  });

  it("the character module changes the energies of words by their spelling", () => {
    const net = r.model.network!;
    const lay = net.charLay!;
    const W = r.model.W.slice();
    const s = dev[1]!.tokens;
    const y = r.model.tag(s);
    const e0 = r.model.energy(s, y);
    for (let k = lay.biasOff; k < lay.biasOff + lay.filters; k++) r.model.W[k]! += 0.5;
    net.invalidate();
    const e1 = r.model.energy(s, y);
    r.model.W.set(W);
    net.invalidate();
    expect(Math.abs(e1 - e0)).toBeGreaterThan(1e-6);
  });
});
