import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  Completer,
  flipNoise,
  iou,
  maskToGray,
  NadirError,
  Rng,
  Segmenter,
  Tagger,
} from "../../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "nadir-api-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny POS corpus: determiners, nouns, verbs in a fixed pattern. */
const WORDS = {
  DET: ["the", "a", "this", "that"],
  NOUN: ["dog", "cat", "bird", "horse", "fish"],
  VERB: ["runs", "sleeps", "eats", "sings"],
  ADV: ["quickly", "slowly", "loudly"],
};
function corpus(n: number, seed: number) {
  let s = seed;
  const pick = (xs: string[]) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return xs[(s >>> 16) % xs.length]!;
  };
  return Array.from({ length: n }, () => {
    const tokens = [pick(WORDS.DET), pick(WORDS.NOUN), pick(WORDS.VERB), pick(WORDS.ADV)];
    return { tokens, labels: ["DET", "NOUN", "VERB", "ADV"] };
  });
}

const train = corpus(60, 1);
const tagger = Tagger.train(train, { epochs: 3, dev: corpus(10, 2) });

describe("Tagger", () => {
  it("trains on words with the default spec and predicts one sentence or many", () => {
    expect(tagger.predict(["the", "cat", "sleeps", "slowly"])).toEqual([
      "DET",
      "NOUN",
      "VERB",
      "ADV",
    ]);
    expect(
      tagger.predict([
        ["a", "dog", "runs", "quickly"],
        ["this", "fish", "sings", "loudly"],
      ]),
    ).toEqual([
      ["DET", "NOUN", "VERB", "ADV"],
      ["DET", "NOUN", "VERB", "ADV"],
    ]);
    expect(tagger.predict([])).toEqual([]);
    expect([...tagger.labels].sort()).toEqual(["ADV", "DET", "NOUN", "VERB"]);
    expect(tagger.training?.reports.length).toBeGreaterThan(0);
  });

  it("k-best labelings come in order of energy, the first being predict's", () => {
    const s = ["the", "bird", "eats", "slowly"];
    const kb = tagger.kbest(s, 3);
    expect(kb).toHaveLength(3);
    expect(kb[0]!.labels).toEqual(tagger.predict(s));
    expect(kb[0]!.energy).toBeLessThanOrEqual(kb[1]!.energy);
    expect(kb[1]!.energy).toBeLessThanOrEqual(kb[2]!.energy);
  });

  it("marginals are per-token distributions that sharpen into the argmin as β grows", () => {
    const s = ["a", "horse", "runs", "loudly"];
    const m = tagger.marginals(s);
    expect(m).toHaveLength(4);
    for (const rec of m) {
      const total = Object.values(rec).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 10);
    }
    const cold = tagger.marginals(s, { beta: 100 });
    const argmax = cold.map((r) => Object.entries(r).sort((a, b) => b[1] - a[1])[0]![0]);
    expect(argmax).toEqual(tagger.predict(s));
    expect(Math.max(...Object.values(cold[1]!))).toBeGreaterThan(
      Math.max(...Object.values(m[1]!)) - 1e-12,
    );
  });

  it("score gives energy, free energy and a probability consistent with them", () => {
    const s = ["that", "cat", "eats", "quickly"];
    const y = ["DET", "NOUN", "VERB", "ADV"];
    const r = tagger.score(s, y);
    expect(r.energy).toBeGreaterThanOrEqual(r.freeEnergy - 1e-9);
    expect(r.probability).toBeCloseTo(Math.exp(-(r.energy - r.freeEnergy)), 10);
    expect(r.detection).toBeDefined(); // calibrated on the dev set at training
    expect(Number.isFinite(r.detection!.score)).toBe(true);
    const wrong = tagger.score(s, ["VERB", "DET", "ADV", "NOUN"]);
    expect(wrong.energy).toBeGreaterThan(r.energy);
  });

  it("survives save/load and toBytes/fromBytes with identical predictions and energies", () => {
    const s = ["the", "fish", "sleeps", "loudly"];
    const path = join(dir, "t.nadir");
    tagger.save(path);
    const a = Tagger.load(path);
    const b = Tagger.fromBytes(tagger.toBytes());
    for (const t of [a, b]) {
      expect(t.predict(s)).toEqual(tagger.predict(s));
      expect(t.kbest(s, 2)).toEqual(tagger.kbest(s, 2));
    }
  });

  it("trains multi-column tokens under a shipped spec by name (arrays or records)", () => {
    const rows = [
      {
        tokens: [
          ["He", "PRP"],
          ["reckons", "VBZ"],
          ["the", "DT"],
          ["deficit", "NN"],
        ],
        labels: ["B-NP", "B-VP", "B-NP", "I-NP"],
      },
      {
        tokens: [
          ["The", "DT"],
          ["pound", "NN"],
          ["is", "VBZ"],
          ["expected", "VBN"],
        ],
        labels: ["B-NP", "I-NP", "B-VP", "I-VP"],
      },
    ];
    const chunker = Tagger.train(rows, { spec: "chunk", epochs: 5 });
    expect(chunker.columns).toEqual(["w", "pos"]);
    expect(chunker.predict([rows[0]!.tokens])[0]).toEqual(rows[0]!.labels);
    expect(
      chunker.predict([
        { w: "He", pos: "PRP" },
        { w: "reckons", pos: "VBZ" },
      ]),
    ).toEqual(["B-NP", "B-VP"]);
    const ev = chunker.evaluate(rows);
    expect(ev.accuracy).toBe(100);
    expect(ev.chunks?.f1).toBe(100);
  });

  it("bad input is a NadirError that says what was expected and where", () => {
    const err = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(NadirError);
        return (e as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(err(() => Tagger.train([{ tokens: "the dog runs" as never, labels: ["a"] }]))).toMatch(
      /training sentence 0: expected an array of tokens, got a string \(split it/,
    );
    expect(err(() => Tagger.train([["the", "dog"]] as never))).toMatch(
      /training sentence 0: expected \{ tokens, labels \}/,
    );
    expect(
      err(() =>
        Tagger.train([
          { tokens: ["the", "dog"], labels: ["DET", "NOUN"] },
          { tokens: ["a", 3 as never], labels: ["DET", "NOUN"] },
        ]),
      ),
    ).toMatch(/training sentence 1, token 1: expected a string \(the w column\), got number 3/);
    expect(err(() => Tagger.train([{ tokens: ["the", "dog"], labels: ["DET"] }]))).toMatch(
      /expected one label per token \(2\), got 1/,
    );
    expect(err(() => Tagger.train(train, { spec: "nosuchspec" }))).toMatch(
      /unknown spec 'nosuchspec'.*chunk/,
    );
    expect(err(() => Tagger.train(train, { epochz: 3 } as never))).toMatch(
      /unknown training option 'epochz'/,
    );
    expect(err(() => tagger.predict("the dog" as never))).toMatch(
      /expected an array of tokens, got a string/,
    );
    expect(err(() => tagger.kbest(["the"], 0))).toMatch(/k to be an integer ≥ 1/);
    expect(err(() => tagger.marginals(["the"], { beta: -1 }))).toMatch(/beta/);
    expect(err(() => tagger.score(["the", "dog"], ["DET"]))).toMatch(/one label per token/);
    expect(err(() => Tagger.fromBytes(new Uint8Array([1, 2, 3])))).toMatch(
      /not a valid nadir model/,
    );
  });
});

describe("Completer", () => {
  const completer = Completer.load();
  it("completes from the shipped model, and ranks choices with probabilities over them", () => {
    const top = completer.complete("Mr. Sherlock ___ was seated at the table .", { k: 3 });
    expect(top[0]!.word).toBe("holmes");
    expect(top).toHaveLength(3);
    const ranked = completer.complete("I beg your ___ .", {
      choices: ["pardon", "money", "house"],
    });
    expect(ranked[0]!.word).toBe("pardon");
    expect(ranked.reduce((a, c) => a + c.probability, 0)).toBeCloseTo(1, 10);
    expect(
      completer.freeEnergy("I beg your ___ .", { choices: ["pardon", "money", "house"] }),
    ).toBeLessThan(ranked[0]!.energy);
  });
  it("refuses a sentence without exactly one blank", () => {
    expect(() => completer.complete("no blank here")).toThrow(/exactly one blank/);
    expect(() => completer.complete("I beg your ___", { choices: ["zzqx"] })).toThrow(
      /vocabulary: zzqx/,
    );
  });
});

describe("Segmenter", () => {
  /** A 32×32 mask with the square [x0, x1) × [y0, y1) set. */
  const square = (x0: number, y0: number, x1: number, y1: number) => {
    const data = new Uint8Array(32 * 32);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * 32 + x] = 1;
    return { width: 32, height: 32, data };
  };
  const spec = { name: "t", connectivity: 8, features: ["bias", "x", "mean(1)", "mean(2)"] };

  it("learns to restore noisy masks by graph cuts, and saves/loads", () => {
    const truths = [square(8, 8, 24, 24), square(2, 10, 20, 28), square(12, 3, 30, 17)];
    const examples = truths.map((m, i) => ({
      image: maskToGray(flipNoise(m, 0.2, new Rng(10 + i)), 1),
      mask: m,
    }));
    const seg = Segmenter.train(examples, { spec, epochs: 12 });
    const truth = square(5, 6, 27, 22);
    const noisy = flipNoise(truth, 0.2, new Rng(999));
    const { mask, energy } = seg.segment(maskToGray(noisy, 1));
    expect(Number.isFinite(energy)).toBe(true);
    expect(iou(mask.data, truth.data)).toBeGreaterThan(0.9);
    expect(iou(noisy.data, truth.data)).toBeLessThan(0.75);
    const path = join(dir, "g.json");
    seg.save(path);
    expect(Segmenter.load(path).segment(maskToGray(noisy, 1)).mask.data).toEqual(mask.data);
    expect(() => Segmenter.train([])).toThrow(/non-empty array/);
    expect(() =>
      Segmenter.train([{ image: maskToGray(truth, 1), mask: square(0, 0, 1, 1) as never }], {
        spec,
      }),
    ).not.toThrow();
  });
});
