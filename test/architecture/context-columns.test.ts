/**
 * Context columns — derived columns whose value at t reads the whole
 * sentence: `ngram(c, n)` (character n-grams, e.g. bigram network fields for
 * word segmentation) and the jackknifed word dictionary `words(c, k, m)`
 * (longest training word beginning / ending at t / holding t inside), with
 * `field(x, n)` to take one part. Checked: the values by hand, the
 * jackknife, that per-token readers (the network's fields) see exactly the
 * values the feature extractor computed, the table in the model header, and
 * a network tagger using both trained, saved and loaded (same answers and
 * energies, no train/tag skew).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { WordsTable } from "../../src/architecture/columns.ts";
import { dictionaryMatches, ngrams } from "../../src/architecture/columns.ts";
import {
  columnReader,
  fitTrainingTables,
  labelWords,
  restoreTables,
  setFold,
  tablesState,
} from "../../src/architecture/derived-tables.ts";
import { FeatureExtractor, TrainingSetBuilder } from "../../src/architecture/features.ts";
import { networkOf } from "../../src/architecture/network.ts";
import { loadSpec, parseSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { wordLabels } from "../../src/segment/cws.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { GRAPHS } from "../fixtures/helpers.ts";

/** Character rows `char label` (B/M/E/S) of a sentence given as words. */
function rows(words: string[]): string[][] {
  const { chars, labels } = wordLabels(words, "bmes");
  return chars.map((c, i) => [c, labels[i]!]);
}

function specWith(derived: Record<string, string>, templates: string[], extra = {}) {
  return parseSpec(
    { name: "ctx-test", format: "conll", columns: ["c"], label: -1, derived, templates, ...extra },
    "<context test>",
  );
}

describe("ngram and words values", () => {
  it("ngrams join the values at t … t+n−1 with a space, </s> past the end", () => {
    expect(ngrams(["中", "國", "人"], 2)).toEqual(["中 國", "國 人", "人 </s>"]);
    expect(ngrams(["a", "b"], 3)).toEqual(["a b </s>", "b </s> </s>"]);
  });

  it("dictionary matches: longest word beginning, ending and strictly inside", () => {
    const dict = new Set(["中國", "中國人", "國人", "人民"]);
    // 中 國 人 民: 中國人 (0-2), 中國 (0-1), 國人 (1-2), 人民 (2-3)
    expect(dictionaryMatches(["中", "國", "人", "民"], 6, (w) => dict.has(w))).toEqual([
      "3|0|0",
      "2|2|3",
      "2|3|0",
      "0|2|0",
    ]);
    // maxLen 2: 中國人 is too long to be looked up
    expect(dictionaryMatches(["中", "國", "人"], 2, (w) => dict.has(w))).toEqual([
      "2|0|0",
      "2|2|0",
      "0|2|0",
    ]);
  });

  it("labelWords cuts at B and S and after E and S (and at B alone for B/I)", () => {
    const read = (tok: readonly string[]) => tok[0]!;
    expect(labelWords(rows(["中國", "人", "很好", "大學生"]), read, -1)).toEqual([
      "中國",
      "人",
      "很好",
      "大學生",
    ]);
    const bi = [
      ["a", "B"],
      ["b", "I"],
      ["c", "B"],
      ["d", "B"],
      ["e", "I"],
    ];
    expect(labelWords(bi, read, -1)).toEqual(["ab", "c", "de"]);
  });

  it.each([
    ["ngram(c)", /ngram needs its N/],
    ["ngram(c, 1)", /N expected an integer ≥ 2, got '1'/],
    ["ngram(c, 2, 3)", /ngram takes a column and N/],
    ["words(c, 1)", /jackknife folds expected an integer ≥ 2, got '1'/],
    ["words(c, 10, x)", /longest word expected an integer ≥ 2, got 'x'/],
    ["words(c, 10, 6, 2)", /expected ngram\(COLUMN, N\) or words/],
    ["field(c)", /field needs a part number ≥ 1/],
  ])("%s is refused", (expr, msg) => {
    expect(() => specWith({ x: expr }, ["c[0]"])).toThrow(msg);
  });

  it("a context column read alone (no sentence) says why", () => {
    const s = specWith({ b: "ngram(c, 2)" }, ["b[0]"]);
    expect(() => s.derived[0]!.fn("a")).toThrow(/reads the whole sentence/);
    const read = columnReader(s, "b");
    expect(() => read(["a", "S"])).toThrow(NadirError);
    expect(() => read(["a", "S"])).toThrow(/depends on the sentence/);
  });
});

describe("the words dictionary, jackknifed", () => {
  const sents = [
    { tokens: rows(["中國", "人", "很", "好"]) },
    { tokens: rows(["中國人", "好"]) },
    { tokens: rows(["中國", "好"]) },
  ];

  it("training sentence i sees the words of the other folds only; dev the whole set", () => {
    const spec = specWith({ d: "words(c, 2, 4)", d1: "field(d, 1)" }, ["d[0]", "d1[0]"]);
    fitTrainingTables(spec, sents);
    const t = spec.derived[0]!.table as WordsTable;
    expect([...t.full!]).toEqual([
      ["中國", 2],
      ["中國人", 1],
    ]);
    const fx = new FeatureExtractor(spec);
    const b = new TrainingSetBuilder(fx);
    for (const s of sents) b.add(s);
    b.finish();
    const rd = columnReader(spec, "d");
    const rd1 = columnReader(spec, "d1");
    const vals = (i: number) => sents[i]!.tokens.map((tok) => rd(tok));
    // sentence 0 (fold 0): only 中國人 (sentence 1) is outside its fold
    expect(vals(0)).toEqual(["3|0|0", "0|0|3", "0|3|0", "0|0|0", "0|0|0"]);
    // sentence 1 (fold 1): 中國 (sentences 0 and 2)
    expect(vals(1)).toEqual(["2|0|0", "0|2|0", "0|0|0", "0|0|0"]);
    // sentence 2 (fold 0): its own 中國 is not in the dictionary it reads
    expect(vals(2)).toEqual(["0|0|0", "0|0|0", "0|0|0"]);
    expect(sents[1]!.tokens.map((tok) => rd1(tok))).toEqual(["2", "0", "0", "0"]);
    // the same sentence encoded for tagging (fold −1): the whole dictionary
    setFold(spec, -1);
    const dev = { tokens: rows(["中國", "好"]) };
    fx.extract(dev.tokens, false);
    expect(dev.tokens.map((tok) => rd(tok))).toEqual(["2|0|0", "0|2|0", "0|0|0"]);
    // the attributes follow the values the readers see
    const x = fx.extract(dev.tokens, false);
    const names = Array.from(x.attrs.subarray(x.offsets[0]!, x.offsets[1]!), (a) =>
      fx.attributeName(a),
    );
    expect(names).toContain("d[0]=2|0|0");
    expect(names).toContain("d1[0]=2");
  });

  it("the model header keeps the whole dictionary; a damaged one is refused", () => {
    const spec = specWith({ d: "words(c, 2, 4)" }, ["d[0]"]);
    fitTrainingTables(spec, sents);
    const st = tablesState(spec)!;
    expect(st.words).toEqual({ d: "中國\t2\n中國人\t1" });
    const again = specWith({ d: "words(c, 2, 4)" }, ["d[0]"]);
    const bad = (m: string): never => {
      throw new NadirError("E_MODEL", m);
    };
    restoreTables(again, JSON.parse(JSON.stringify(st)), bad);
    const t = again.derived[0]!.table as WordsTable;
    expect(t.full).toEqual(
      new Map([
        ["中國", 2],
        ["中國人", 1],
      ]),
    );
    expect(t.perFold).toBeNull();
    expect(() => restoreTables(again, { lookups: {}, ambiguity: {} }, bad)).toThrow(
      /no dictionary for column d/,
    );
    expect(() =>
      restoreTables(again, { lookups: {}, ambiguity: {}, words: { d: "中國\tx" } }, bad),
    ).toThrow(/word '中國' has count 'x'/);
  });
});

describe("a network tagger over bigram and dictionary fields", () => {
  const vocab = ["中國", "人民", "大學生", "很", "好", "的", "在", "學習", "北京", "今天", "我們"];
  const rng = new Rng(3);
  const sentence = () => {
    const n = 3 + Math.floor(rng.next() * 6);
    return Array.from({ length: n }, () => vocab[Math.floor(rng.next() * vocab.length)]!);
  };
  const train = Array.from({ length: 60 }, () => ({ tokens: rows(sentence()) }));
  const dev = Array.from({ length: 10 }, () => ({ tokens: rows(sentence()) }));
  const spec = specWith(
    { b: "ngram(c, 2)", d: "words(c, 5, 6)" },
    ["bias", "c[0]", "c[-1]|c[0]", "d[0]", "d[-1]|d[0]"],
    {
      network: {
        window: 1,
        hidden: 8,
        activation: "hardtanh",
        hybrid: true,
        fields: [
          { column: "c", dim: 4 },
          { column: "b", dim: 4 },
          { column: "d", dim: 3 },
        ],
        train: { loss: "perceptron", linearOptimizer: "sgd", linearLr: 1, lr: 0.003, batch: 1 },
      },
    },
  );

  it("the bigram and dictionary fields are network inputs, and the model file tags alike", () => {
    const r = trainTagger({ spec, train, dev, options: { epochs: 2, seed: 2 } });
    const net = r.model.network!;
    // vocabularies: <unk> <s> </s> + the values seen
    expect(net.vocabs[1]!.get("中 國")).toBeGreaterThanOrEqual(3);
    expect(net.vocabs[2]!.get("2|0|0")).toBeGreaterThanOrEqual(3);
    const again = Model.fromBytes(r.model.toBytes());
    const t = again.spec.derived.find((d) => d.name === "d")!.table as WordsTable;
    expect(t.full!.get("大學生")).toBeGreaterThan(0);
    // an unseen character and an unseen bigram
    const odd = rows(["中國", "龘", "學習"]);
    for (const s of [odd, ...dev.slice(0, 5).map((d) => d.tokens)]) {
      const y = r.model.tag(s);
      expect(again.tag(s)).toEqual(y);
      expect(again.energy(s, y)).toBeCloseTo(r.model.energy(s, y), 6);
    }
    // it learned the segmentation of the made-up language
    const y = r.model.tag(dev[0]!.tokens);
    expect(y).toEqual(dev[0]!.tokens.map((tok) => tok[1]));
  });
});

describe("the shipped segmentation specs", () => {
  it("cws-words adds the jackknifed dictionary to the cws attributes", () => {
    const s = loadSpec(join(GRAPHS, "cws-words.json"));
    const d = s.derived.find((q) => q.name === "d")!;
    expect(d.table).toMatchObject({ kind: "words", folds: 10, maxLen: 6 });
    expect(d.context).toBeDefined();
    const names = s.templates.map((t) => t.name);
    expect(names).toContain("d[-1]|d[0]|d[1]");
    expect(names).toContain("c[-1]|c[0]");
    expect(networkOf(s)).toBeNull();
  });

  it("cws-deep feeds the character, bigram, type and dictionary columns to the network", () => {
    const s = loadSpec(join(GRAPHS, "cws-deep.json"));
    const net = networkOf(s)!;
    expect(net.fields.map((f) => f.column)).toEqual(["c", "b", "t", "d"]);
    expect(s.derived.find((q) => q.name === "b")!.expr).toBe("ngram(c, 2)");
    expect(s.derived.find((q) => q.name === "d")!.table?.kind).toBe("words");
    // the same sparse attributes as the linear cws-words spec
    const words = loadSpec(join(GRAPHS, "cws-words.json"));
    expect(s.templates.map((t) => t.name)).toEqual(words.templates.map((t) => t.name));
  });
});
