/**
 * A network with a second layer over its hidden states (`network.layer2`)
 * under the chain, through the tagger's ordinary path: it trains with
 * trainTagger, and the model file keeps the layer (its sizes and weights):
 * the same energies and answers after a round trip; the layer's weights move
 * the energies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Model } from "../../src/tagger/model.ts";
import { type TrainResult, trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences } from "../fixtures/helpers.ts";

const spec = parseSpec(
  {
    name: "pos-deep-layer2-test",
    format: "conllu",
    columns: { w: "FORM" },
    label: "UPOS",
    derived: { lw: "lower(w)", s3: "suffix(lw,3)" },
    templates: ["bias", "lw[0]", "s3[0]"],
    network: {
      window: 1,
      hidden: 12,
      layer2: { window: 2, hidden: 7 },
      activation: "hardtanh",
      hybrid: true,
      fields: [{ column: "lw", dim: 6 }],
      train: { loss: "perceptron", linearOptimizer: "sgd", linearLr: 1, lr: 0.003, batch: 4 },
    },
  },
  "<deep layer2 test spec>",
);

let train: CorpusSentence[];
let dev: CorpusSentence[];
let r: TrainResult;

beforeAll(async () => {
  train = await ewtSentences(80);
  dev = await ewtSentences(20, 80);
  r = trainTagger({ spec, train, dev, options: { epochs: 2, seed: 5 } });
});

describe("a network with a second layer, trained and saved as a tagger", () => {
  it("the model carries the second layer", () => {
    const net = r.model.network!;
    expect(net.c2).toBe(2);
    expect(net.H2).toBe(7);
    expect(net.K).toBe(net.w2Off + net.L * 7 + net.L);
  });

  it("the model file keeps the second layer: the same energies and answers after a round trip", () => {
    const again = Model.fromBytes(r.model.toBytes());
    expect(again.network!.H2).toBe(7);
    expect(again.network!.c2).toBe(2);
    for (const s of dev.slice(0, 6).map((d) => d.tokens)) {
      const y = r.model.tag(s);
      expect(again.tag(s)).toEqual(y);
      expect(again.energy(s, y)).toBeCloseTo(r.model.energy(s, y), 6);
    }
  });

  it("the second layer's weights move the energies", () => {
    const net = r.model.network!;
    const W = r.model.W.slice();
    const s = dev[1]!.tokens;
    const y = r.model.tag(s);
    const e0 = r.model.energy(s, y);
    for (let k = net.bvOff; k < net.bvOff + net.H2; k++) r.model.W[k]! += 0.5;
    net.invalidate();
    const e1 = r.model.energy(s, y);
    r.model.W.set(W);
    net.invalidate();
    expect(Math.abs(e1 - e0)).toBeGreaterThan(1e-6);
  });
});
