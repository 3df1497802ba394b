/**
 * The topic expert of a completion model (a product of energies): its energy
 * is −λ·T[w]·Σ T[u] over the sentence's words minus the most frequent ones,
 * added to the log-bilinear energy in candidate scoring and in the
 * completer's top words; it survives the model file (both dtypes) and a
 * prune, and a damaged topic header is refused.
 */
import { describe, expect, it } from "vitest";
import { Completer } from "../../src/api/completer.ts";
import { Lbl, zeroParams } from "../../src/complete/lbl.ts";
import { type CompletionQuestion, candidateEnergy } from "../../src/complete/msr.ts";
import { Vocab } from "../../src/complete/text.ts";
import { decodeContainer, encodeContainer } from "../../src/core/container.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";

const WORDS = ["<unk>", "<s>", "the", "cat", "sat", "on", "mat", "water", "boat", "sea"];

function tiny(): Lbl {
  const vocab = new Vocab(WORDS);
  return new Lbl(vocab, 4, 2, 1, zeroParams(vocab.size, 4, 3)).init(new Rng(5), undefined, 0.5);
}

// topical vectors: the sea words point one way, the house words another; "the" is skipped (skip 1)
const vectors = {
  dim: 2,
  words: ["the", "cat", "sat", "mat", "water", "boat", "sea", "absent"],
  vectors: [1, 1, 0, 3, 0, 1, 0, 2, 2, 0, 3, 0.3, 1, 0, 5, 5],
};

const unit = (x: number, y: number) => {
  const n = Math.hypot(x, y);
  return [x / n, y / n];
};

describe("the topic expert", () => {
  it("E_topic(w) = −λ·T[w]·Σ T[u], the skipped and unknown words left out of the sum", () => {
    const m = tiny().withTopic(vectors, 2, 1);
    const s = m.topicSum(["the", "water", "boat", "zebra"])!; // "the": skipped, "zebra": unknown
    const [wx, wy] = unit(2, 0);
    const [bx, by] = unit(3, 0.3);
    expect(s[0]).toBeCloseTo(wx! + bx!, 6);
    expect(s[1]).toBeCloseTo(wy! + by!, 6);
    const sea = m.vocab.id("sea");
    const [sx, sy] = unit(1, 0);
    expect(m.topicEnergy(sea, s)).toBeCloseTo(-2 * (sx! * s[0]! + sy! * s[1]!), 6);
    // "on" has no vector: zero row, no topical energy
    expect(m.topicEnergy(m.vocab.id("on"), s)).toBe(-0);
    expect(() => tiny().withTopic(vectors, -1, 1)).toThrow(NadirError);
    expect(() => tiny().withTopic(vectors, 1, 0.5)).toThrow(NadirError);
    expect(() => tiny().withTopic({ ...vectors, dim: 3 }, 1, 0)).toThrow(/dim/);
    // a non-finite row gives no topic, not NaN energies
    const inf = tiny().withTopic({ dim: 2, words: ["sea"], vectors: [Infinity, 1] }, 1, 0);
    expect(inf.topicEnergy(inf.vocab.id("sea"), Float64Array.of(1, 1))).toBe(-0);
  });

  it("candidate energies add it under both scorings, and it moves the choice", () => {
    const plain = tiny();
    const withTopic = tiny().withTopic(vectors, 50, 1);
    const q: CompletionQuestion = {
      left: ["the", "boat", "sat", "on", "the"],
      right: ["water"],
      candidates: ["mat", "sea"],
      answer: 1,
    };
    const s = withTopic.topicSum([...q.left, ...q.right]);
    for (const scoring of ["blank", "sentence"] as const) {
      for (const c of q.candidates) {
        const w = plain.vocab.id(c);
        expect(candidateEnergy(withTopic, q, w, scoring)).toBeCloseTo(
          candidateEnergy(plain, q, w, scoring) + withTopic.topicEnergy(w, s),
          9,
        );
      }
      const e = q.candidates.map((c) => candidateEnergy(withTopic, q, plain.vocab.id(c), scoring));
      expect(e[1]!).toBeLessThan(e[0]!); // λ = 50: the sea word wins in a sea sentence
    }
  });

  it("the completer's words include it: top word and energies", () => {
    const m = tiny().withTopic(vectors, 50, 1);
    const c = new Completer(m);
    const top = c.complete("the boat on the water ___ .", { k: 3 });
    expect(top[0]!.word).toBe("sea");
    const plain = new Completer(tiny()).complete("the boat on the water ___ .", { k: 9 });
    const s = m.topicSum(["the", "boat", "on", "the", "water", "."])!;
    const e0 = plain.find((x) => x.word === "sea")!.energy;
    expect(top[0]!.energy).toBeCloseTo(e0 + m.topicEnergy(m.vocab.id("sea"), s), 6);
  });

  it("survives the model file (f32 and i8) and a prune; a damaged topic header is refused", () => {
    const m = tiny().withTopic(vectors, 3, 1);
    for (const dtype of ["f32", "i8"] as const) {
      const again = Lbl.fromBytes(m.toBytes(dtype));
      expect(again.topic!.lambda).toBe(3);
      expect(again.topic!.skip).toBe(1);
      expect(again.topic!.dim).toBe(2);
      for (let i = 0; i < m.topic!.T.length; i++)
        expect(again.topic!.T[i]!).toBeCloseTo(m.topic!.T[i]!, 2); // int8 rows
    }
    const small = m.prune(4); // the 4 most frequent words after the reserved ones
    expect(small.topic!.T.length).toBe(small.V * 2);
    expect(Array.from(small.topic!.T)).toEqual(Array.from(m.topic!.T.subarray(0, small.V * 2)));
    const fmt = { magic: "NADIRLBL", version: 3 };
    const fail = (msg: string): never => {
      throw new Error(msg);
    };
    const d = decodeContainer(m.toBytes("i8"), fmt, fail);
    if (d.legacy) throw new Error("legacy");
    for (const topic of [
      { dim: 2, lambda: Number.NaN, skip: 1 },
      { dim: 0, lambda: 1, skip: 1 },
      { dim: 2, lambda: 1 },
    ]) {
      const bytes = encodeContainer(fmt, { ...d.header, topic }, d.sections);
      expect(() => Lbl.fromBytes(bytes)).toThrow(/bad topic expert/);
    }
    const { Tq: _q, ...noRows } = d.sections;
    expect(() => Lbl.fromBytes(encodeContainer(fmt, d.header, noRows))).toThrow(/table Tq/);
  });
});
