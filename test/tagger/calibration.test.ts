/**
 * Temperature scaling and products of experts on small taggers: the fitted β
 * is a minimum of the (convex) sequence NLL; the ECE is a weighted mean of
 * |accuracy − confidence|; an EnergySum of one model is that model, and label
 * order does not matter.
 */
import { describe, expect, it } from "vitest";
import { RowMaker } from "../../src/api/sentences.ts";
import { Tagger } from "../../src/api/tagger.ts";
import {
  calibrationError,
  EnergySum,
  fitTemperature,
  sequenceNll,
} from "../../src/tagger/calibration.ts";

const WORDS = {
  DET: ["the", "a", "this", "that", "some"],
  NOUN: ["dog", "cat", "bird", "horse", "fish", "run"],
  VERB: ["runs", "sleeps", "eats", "sings", "fish"],
};
function corpus(n: number, seed: number) {
  let s = seed;
  const pick = (xs: string[]) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return xs[(s >>> 16) % xs.length]!;
  };
  return Array.from({ length: n }, () => ({
    tokens: [pick(WORDS.DET), pick(WORDS.NOUN), pick(WORDS.VERB)],
    labels: ["DET", "NOUN", "VERB"],
  }));
}

const train = corpus(40, 1);
const a = Tagger.train(train, { epochs: 2 });
const b = Tagger.train(train, { epochs: 4, loss: "log", optimizer: "sgd" });
const rows = new RowMaker(a.spec);
const dev = rows.labeledAll(corpus(30, 7), "dev");

describe("temperature scaling", () => {
  it("the fitted β minimizes the sequence NLL (lower than at 1 and at β·1.3, β/1.3)", () => {
    const fit = fitTemperature(a.model, dev);
    expect(fit.sentences).toBe(30);
    expect(fit.nll).toBeLessThanOrEqual(fit.nllAtOne + 1e-9);
    expect(fit.nll).toBeLessThanOrEqual(sequenceNll(a.model, dev, fit.beta * 1.3).nll + 1e-9);
    expect(fit.nll).toBeLessThanOrEqual(sequenceNll(a.model, dev, fit.beta / 1.3).nll + 1e-9);
  });

  it("ECE is a weighted mean of |accuracy − confidence|, within [0, 1]", () => {
    const r = calibrationError(a.model, dev, 1);
    expect(r.tokens).toBe(90);
    expect(r.ece).toBeGreaterThanOrEqual(Math.abs(r.accuracy - r.confidence) - 1e-12);
    expect(r.ece).toBeLessThanOrEqual(1);
    // at a tiny β every marginal is near uniform over 3 labels: confidence ≈ 1/3
    expect(calibrationError(a.model, dev, 1e-6).confidence).toBeCloseTo(1 / 3, 3);
  });
});

describe("EnergySum (a product of experts)", () => {
  it("one expert is that model; two copies of it with weights summing to 1 too", () => {
    const one = new EnergySum([a.model], [1]);
    const twice = new EnergySum([a.model, a.model], [0.3, 0.7]);
    for (const s of dev) {
      const y = a.model.tag(s.tokens);
      expect(one.tag(s)).toEqual(y);
      expect(twice.tag(s)).toEqual(y);
    }
  });

  it("experts with different label orders are aligned by name, and a fitted sum is a minimum of its NLL", () => {
    expect(a.labels).not.toEqual(["VERB", "NOUN", "DET"]);
    const sum = new EnergySum([a.model, b.model], [1, 1]);
    const fitted = sum.fit(dev, { rounds: 2 });
    expect(fitted.betas.every((x) => x > 0)).toBe(true);
    for (const s of dev) expect(fitted.tag(s)).toHaveLength(3);
    expect(() => new EnergySum([a.model], [1, 2])).toThrow(/one β per model/);
  });
});
