/**
 * The playground's shipped tagging model (models/ewt-upos-small.nadir) and
 * float32 weights: a model file whose W section is float32 loads (widened to
 * float64) and decodes as the float64 file does.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Tagger } from "../../src/api/tagger.ts";
import { decodeContainer, encodeContainer } from "../../src/core/container.ts";
import { MODEL_VERSION, Model } from "../../src/tagger/model.ts";

const FMT = { magic: "NADIRMDL", version: MODEL_VERSION };
const fail = (m: string): never => {
  throw new Error(m);
};

describe("float32 model weights", () => {
  it("the shipped playground model holds float32 weights and tags", () => {
    const bytes = readFileSync(new URL("../../models/ewt-upos-small.nadir", import.meta.url));
    const d = decodeContainer(bytes, FMT, fail);
    expect(d.legacy).toBe(false);
    if (!d.legacy) expect(d.sections.W).toBeInstanceOf(Float32Array);
    const t = Tagger.fromBytes(bytes);
    expect(t.predict(["We", "saw", "the", "dog", "."])).toEqual([
      "PRON",
      "VERB",
      "DET",
      "NOUN",
      "PUNCT",
    ]);
    expect(t.model.W).toBeInstanceOf(Float64Array);
  });

  it("a model narrowed to float32 decodes as the float64 one", () => {
    const data = [
      { tokens: ["the", "dog", "barks"], labels: ["DET", "NOUN", "VERB"] },
      { tokens: ["a", "cat", "sleeps"], labels: ["DET", "NOUN", "VERB"] },
      { tokens: ["dogs", "bark", "loudly"], labels: ["NOUN", "VERB", "ADV"] },
    ];
    const t = Tagger.train(data, { epochs: 5 });
    const d = decodeContainer(t.toBytes(), FMT, fail);
    if (d.legacy) throw new Error("legacy");
    const narrowed = encodeContainer(
      FMT,
      d.header,
      { ...d.sections, W: Float32Array.from(d.sections.W as Float64Array) },
      6,
    );
    const m = Model.fromBytes(narrowed);
    for (let k = 0; k < m.W.length; k++) expect(m.W[k]).toBeCloseTo(t.model.W[k]!, 5);
    const t2 = Tagger.fromModel(m);
    for (const s of [
      ["a", "dog", "sleeps"],
      ["the", "cat", "barks", "loudly"],
    ])
      expect(t2.predict(s)).toEqual(t.predict(s));
    // a float32 W of the wrong length is still refused
    const short = encodeContainer(FMT, d.header, { ...d.sections, W: new Float32Array(3) });
    expect(() => Model.fromBytes(short)).toThrow(/W table/);
  });
});
