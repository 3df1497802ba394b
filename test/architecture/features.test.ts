import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { caps, parseDerived, shape, shortShape } from "../../src/architecture/columns.ts";
import {
  buildTrainingSet,
  Dictionary,
  encodeSentence,
  FeatureExtractor,
  type Instance,
  remapInstance,
} from "../../src/architecture/features.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { conllTokens, GRAPHS, spec } from "../fixtures/helpers.ts";

/** Attribute names at each position, as the extractor reports them. */
function namesAt(fx: FeatureExtractor, x: { offsets: Int32Array; attrs: Int32Array }): string[][] {
  const out: string[][] = [];
  for (let t = 0; t + 1 < x.offsets.length; t++) {
    const row: string[] = [];
    for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++) row.push(fx.attributeName(x.attrs[j]!));
    out.push(row);
  }
  return out;
}

const sorted = (a: string[]) => [...a].sort();

describe("derived column functions", () => {
  const fn = (expr: string) => parseDerived("d", expr, "here").fn;

  it("shape maps letters, digits, keeps the rest", () => {
    expect(shape("McDonald's")).toBe("XxXxxxxx'x");
    expect(shape("A1-b")).toBe("Xd-x");
    expect(shape("Élan")).toBe("Xxxx");
    expect(shape("")).toBe("");
    expect(fn("shape(w)")("Ab3")).toBe("Xxd");
  });

  it("shortshape collapses runs", () => {
    expect(shortShape("McDonald's")).toBe("XxXx'x");
    expect(shortShape("2024")).toBe("d");
    expect(shortShape("U.S.")).toBe("X.X.");
    expect(shortShape("e-mail")).toBe("x-x");
    expect(fn("shortshape(w)")("IBM360")).toBe("Xd");
  });

  it("caps classes", () => {
    const cases: [string, string][] = [
      ["hello", "lower"],
      ["Hello", "init"],
      ["HELLO", "upper"],
      ["McDonald", "mixed"],
      ["iPhone", "mixed"],
      ["123", "digit"],
      [",", "other"],
      ["abc1", "lower+d"],
      ["ABC1", "upper+d"],
      ["Émile", "init"],
    ];
    for (const [w, c] of cases) expect(caps(w), w).toBe(c);
    expect(fn("caps(w)")("Hello")).toBe("init");
  });

  it("prefix / suffix pad short values with ~; lower, upper, length", () => {
    expect(fn("prefix(w,3)")("abcd")).toBe("abc");
    expect(fn("prefix(w,3)")("abc")).toBe("abc");
    expect(fn("prefix(w,3)")("ab")).toBe("ab~");
    expect(fn("suffix(w,3)")("abcd")).toBe("bcd");
    expect(fn("suffix(w,3)")("ab")).toBe("~ab");
    expect(fn("suffix( w , 1 )")("ab")).toBe("b");
    expect(fn("lower(w)")("HeLLo")).toBe("hello");
    expect(fn("upper(w)")("HeLLo")).toBe("HELLO");
    expect(fn("length(w)")("abc")).toBe("3");
    expect(fn("length(w)")("abcdefghi")).toBe("9");
    expect(fn("length(w)")("abcdefghij")).toBe("10+");
    expect(parseDerived("d", "suffix(lw,2)", "here").source).toBe("lw");
  });
});

describe("CRFsuite chunking attributes (graphs/chunk.json)", () => {
  const chunk = loadSpec(join(GRAPHS, "chunk.json"));
  const sentence = conllTokens(`
    He PRP B-NP
    reckons VBZ B-VP
    the DT B-NP
    deficit NN I-NP
  `);

  // What ../shared/tools/conll2crfsuite.py emits for this sentence (by hand):
  // templates in order, skipping any whose window leaves the sentence, then
  // __BOS__ on the first and __EOS__ on the last token.
  const expected: string[][] = [
    [
      "w[0]=He",
      "w[1]=reckons",
      "w[2]=the",
      "w[0]|w[1]=He|reckons",
      "pos[0]=PRP",
      "pos[1]=VBZ",
      "pos[2]=DT",
      "pos[0]|pos[1]=PRP|VBZ",
      "pos[1]|pos[2]=VBZ|DT",
      "pos[0]|pos[1]|pos[2]=PRP|VBZ|DT",
      "__BOS__",
    ],
    [
      "w[-1]=He",
      "w[0]=reckons",
      "w[1]=the",
      "w[2]=deficit",
      "w[-1]|w[0]=He|reckons",
      "w[0]|w[1]=reckons|the",
      "pos[-1]=PRP",
      "pos[0]=VBZ",
      "pos[1]=DT",
      "pos[2]=NN",
      "pos[-1]|pos[0]=PRP|VBZ",
      "pos[0]|pos[1]=VBZ|DT",
      "pos[1]|pos[2]=DT|NN",
      "pos[-1]|pos[0]|pos[1]=PRP|VBZ|DT",
      "pos[0]|pos[1]|pos[2]=VBZ|DT|NN",
    ],
    [
      "w[-2]=He",
      "w[-1]=reckons",
      "w[0]=the",
      "w[1]=deficit",
      "w[-1]|w[0]=reckons|the",
      "w[0]|w[1]=the|deficit",
      "pos[-2]=PRP",
      "pos[-1]=VBZ",
      "pos[0]=DT",
      "pos[1]=NN",
      "pos[-2]|pos[-1]=PRP|VBZ",
      "pos[-1]|pos[0]=VBZ|DT",
      "pos[0]|pos[1]=DT|NN",
      "pos[-2]|pos[-1]|pos[0]=PRP|VBZ|DT",
      "pos[-1]|pos[0]|pos[1]=VBZ|DT|NN",
    ],
    [
      "w[-2]=reckons",
      "w[-1]=the",
      "w[0]=deficit",
      "w[-1]|w[0]=the|deficit",
      "pos[-2]=VBZ",
      "pos[-1]=DT",
      "pos[0]=NN",
      "pos[-2]|pos[-1]=VBZ|DT",
      "pos[-1]|pos[0]=DT|NN",
      "pos[-2]|pos[-1]|pos[0]=VBZ|DT|NN",
      "__EOS__",
    ],
  ];

  it("the attribute names at each position equal conll2crfsuite.py's", () => {
    const fx = new FeatureExtractor(chunk);
    const x = fx.extract(sentence, true);
    expect(x.offsets.length).toBe(5);
    const got = namesAt(fx, x);
    for (let t = 0; t < 4; t++)
      expect(sorted(got[t]!), `position ${t}`).toEqual(sorted(expected[t]!));
    // every attribute is distinct here, so the table holds exactly their union
    expect(fx.numAttributes).toBe(new Set(expected.flat()).size);
  });

  it("a one-token sentence gets only offset-0 attributes plus __BOS__ and __EOS__", () => {
    const fx = new FeatureExtractor(chunk);
    const got = namesAt(fx, fx.extract([["Yes", "UH", "O"]], true));
    expect(sorted(got[0]!)).toEqual(sorted(["w[0]=Yes", "pos[0]=UH", "__BOS__", "__EOS__"]));
  });

  it("extraction is deterministic and frozen extraction reuses the same ids", () => {
    const fx = new FeatureExtractor(chunk);
    const a = fx.extract(sentence, true);
    const n = fx.numAttributes;
    const b = fx.extract(sentence, false);
    expect(Array.from(b.attrs)).toEqual(Array.from(a.attrs));
    expect(Array.from(b.offsets)).toEqual(Array.from(a.offsets));
    expect(fx.numAttributes).toBe(n);
  });

  it("the empty sentence has no attributes", () => {
    const fx = new FeatureExtractor(chunk);
    const x = fx.extract([], true);
    expect(Array.from(x.offsets)).toEqual([0]);
    expect(x.attrs.length).toBe(0);
  });
});

describe("outside: pad", () => {
  it("windows past the ends give __BOS-d__ / __EOS+d__ values", () => {
    const s = spec({
      columns: ["w"],
      templates: ["w[-2]", "w[-1]", "w[0]", "w[1]", "w[2]", "w[-1]|w[1]"],
      outside: "pad",
      boundary: false,
    });
    const fx = new FeatureExtractor(s);
    const got = namesAt(fx, fx.extract(conllTokens("a X\nb Y"), true));
    expect(got[0]).toEqual([
      "w[-2]=__BOS-2__",
      "w[-1]=__BOS-1__",
      "w[0]=a",
      "w[1]=b",
      "w[2]=__EOS+1__",
      "w[-1]|w[1]=__BOS-1__|b",
    ]);
    expect(got[1]).toEqual([
      "w[-2]=__BOS-1__",
      "w[-1]=a",
      "w[0]=b",
      "w[1]=__EOS+1__",
      "w[2]=__EOS+2__",
      "w[-1]|w[1]=a|__EOS+1__",
    ]);
  });

  it("padding values are shared across sentences and with boundary marks", () => {
    const s = spec({ templates: ["w[-1]", "bias"], outside: "pad", boundary: true });
    const fx = new FeatureExtractor(s);
    const a = fx.extract(conllTokens("a X\nb Y"), true);
    const b = fx.extract(conllTokens("c X"), true);
    const first = (x: { attrs: Int32Array }) => x.attrs[0];
    expect(first(a)).toBe(first(b)); // w[-1]=__BOS-1__ in both
    expect(namesAt(fx, b)[0]).toEqual(["w[-1]=__BOS-1__", "bias", "__BOS__", "__EOS__"]);
  });
});

describe("frozen extraction", () => {
  const s = spec({
    columns: ["w"],
    derived: { lw: "lower(w)", s3: "suffix(lw,3)", shape: "shortshape(w)" },
    templates: ["w[0]", "lw[0]", "s3[0]", "shape[0]", "w[-1]|s3[0]"],
    outside: "skip",
    boundary: false,
  });

  it("drops unknown attributes and still finds derived values of unknown words", () => {
    const fx = new FeatureExtractor(s);
    fx.extract(conllTokens("The X\nrunning Y"), true);
    const n = fx.numAttributes;
    const x = fx.extract(conllTokens("The X\njumping Y"), false);
    expect(fx.numAttributes).toBe(n);
    const got = namesAt(fx, x);
    expect(got[0]).toEqual(["w[0]=The", "lw[0]=the", "s3[0]=the", "shape[0]=Xx"]);
    // "jumping" is unknown: w, lw are dropped; its suffix "ing", its shape and the
    // conjunction with the known previous word are found.
    expect(got[1]).toEqual(["s3[0]=ing", "shape[0]=x", "w[-1]|s3[0]=The|ing"]);
  });

  it("values learned after a frozen miss are found afterwards", () => {
    const fx = new FeatureExtractor(s);
    fx.extract([["Walk", "X"]], true);
    expect(namesAt(fx, fx.extract([["Talking", "X"]], false))[0]).toEqual(["shape[0]=Xx"]);
    fx.extract([["Talking", "X"]], true);
    expect(sorted(namesAt(fx, fx.extract([["Talking", "X"]], false))[0]!)).toEqual(
      sorted(["w[0]=Talking", "lw[0]=talking", "s3[0]=ing", "shape[0]=Xx"]),
    );
  });

  it("encodeSentence: frozen, gold labels mapped (−1 when unknown)", () => {
    const fx = new FeatureExtractor(s);
    const set = buildTrainingSet(fx, [{ tokens: conllTokens("a X\nb Y") }]);
    const n = fx.numAttributes;
    const x = encodeSentence(fx, { tokens: conllTokens("a Y\nz Q") }, set.labels, true);
    expect(Array.from(x.labels)).toEqual([1, -1]);
    expect(fx.numAttributes).toBe(n);
    const noGold = encodeSentence(fx, { tokens: conllTokens("a Y") }, set.labels, false);
    expect(Array.from(noGold.labels)).toEqual([-1]);
  });
});

describe("buildTrainingSet", () => {
  const sentences = [
    { tokens: conllTokens("a X\nb Y\na X") },
    { tokens: [] as string[][] },
    { tokens: conllTokens("c Y\na X\nc Z") },
  ];
  // counts: w[0]=a 3, w[0]=c 2, w[0]=b 1

  it("renumbers attributes by decreasing frequency (ties: first appearance)", () => {
    const fx = new FeatureExtractor(spec({ templates: ["w[0]"], boundary: false }));
    const set = buildTrainingSet(fx, sentences);
    expect(fx.numAttributes).toBe(3);
    expect([0, 1, 2].map((i) => fx.attributeName(i))).toEqual(["w[0]=a", "w[0]=c", "w[0]=b"]);
    expect(set.instances).toHaveLength(2); // the empty sentence is skipped
    expect(Array.from(set.instances[0]!.attrs)).toEqual([0, 2, 0]);
    expect(Array.from(set.instances[1]!.attrs)).toEqual([1, 0, 1]);
  });

  it("ties keep first-appearance order", () => {
    const fx = new FeatureExtractor(spec({ templates: ["w[0]"], boundary: false }));
    buildTrainingSet(fx, [{ tokens: conllTokens("q X\np X\nr X") }]);
    expect([0, 1, 2].map((i) => fx.attributeName(i))).toEqual(["w[0]=q", "w[0]=p", "w[0]=r"]);
  });

  it("minCount drops rare attributes everywhere", () => {
    const fx = new FeatureExtractor(
      spec({ templates: ["w[0]", "bias"], boundary: true, minCount: 2 }),
    );
    const set = buildTrainingSet(fx, sentences);
    // kept: bias (6), w[0]=a (3), w[0]=c (2), __BOS__ (2), __EOS__ (2); dropped: w[0]=b (1)
    const names = Array.from({ length: fx.numAttributes }, (_, i) => fx.attributeName(i));
    expect(names[0]).toBe("bias");
    expect(names[1]).toBe("w[0]=a");
    expect(sorted(names)).toEqual(sorted(["bias", "w[0]=a", "w[0]=c", "__BOS__", "__EOS__"]));
    const x0 = namesAt(fx, set.instances[0]!);
    expect(x0[1]).toEqual(["bias"]); // "b" lost its attribute
    // frozen extraction no longer knows the dropped attribute
    const again = namesAt(fx, fx.extract(conllTokens("b Y"), false));
    expect(sorted(again[0]!)).toEqual(sorted(["bias", "__BOS__", "__EOS__"]));
  });

  it("labels dictionary in order of appearance; instance CSR shapes", () => {
    const fx = new FeatureExtractor(spec({ templates: ["w[0]", "w[-1]"], outside: "skip" }));
    const set = buildTrainingSet(fx, sentences);
    expect(set.labels.names).toEqual(["X", "Y", "Z"]);
    expect(set.labels.get("Z")).toBe(2);
    expect(set.labels.get("W")).toBe(-1);
    const [x0, x1] = set.instances as [Instance, Instance];
    expect(Array.from(x0.labels)).toEqual([0, 1, 0]);
    expect(Array.from(x1.labels)).toEqual([1, 0, 2]);
    for (const x of set.instances) {
      expect(x.offsets.length).toBe(x.T + 1);
      expect(x.offsets[0]).toBe(0);
      expect(x.offsets[x.T]).toBe(x.attrs.length);
      for (let t = 0; t < x.T; t++) expect(x.offsets[t + 1]!).toBeGreaterThanOrEqual(x.offsets[t]!);
      for (const a of x.attrs) {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThan(fx.numAttributes);
      }
    }
    // per position: w[0] (+ w[-1] after the first) + __BOS__/__EOS__
    expect(Array.from(x0.offsets)).toEqual([0, 2, 4, 7]);
    expect(namesAt(fx, x1)).toEqual([
      ["w[0]=c", "__BOS__"],
      ["w[0]=a", "w[-1]=c"],
      ["w[0]=c", "w[-1]=a", "__EOS__"],
    ]);
  });

  it("remapInstance drops −1 and keeps CSR consistent", () => {
    const x: Instance = {
      T: 2,
      offsets: Int32Array.of(0, 2, 3),
      attrs: Int32Array.of(0, 1, 2),
      labels: Int32Array.of(0, 1),
    };
    const y = remapInstance(x, Int32Array.of(5, -1, 7));
    expect(Array.from(y.offsets)).toEqual([0, 1, 2]);
    expect(Array.from(y.attrs)).toEqual([5, 7]);
    expect(y.labels).toBe(x.labels);
  });

  it("Dictionary is dense and stable", () => {
    const d = Dictionary.from(["b", "a", "b"]);
    expect(d.names).toEqual(["b", "a"]);
    expect(d.size).toBe(2);
    expect(d.add("c")).toBe(2);
    expect(d.add("a")).toBe(1);
  });
});
