/**
 * nadir models written as CRFsuite model files: lookup3's hashlittle (known
 * values, and the buckets of a file CRFsuite wrote), round trips through the
 * reader, a nadir chunker whose start/end energies are folded into
 * __BOS__/__EOS__ tagging attribute rows as it tags CoNLL rows, and refusals.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Tagger } from "../../src/api/tagger.ts";
import { NadirError } from "../../src/core/errors.ts";
import { parseCrfsuiteData } from "../../src/data/crfsuite.ts";
import { hashlittle, writeCrfsuiteModel } from "../../src/interop/crfsuite-writer.ts";
import { Model } from "../../src/tagger/model.ts";
import { TEST, TRAIN } from "../cli/harness.ts";

const dir = new URL("../fixtures/crfsuite/", import.meta.url);
const MODEL = new URL("tiny.crfsuite", dir).pathname;
const enc = new TextEncoder();
const sentencesOf = (text: string) =>
  text
    .trim()
    .split("\n\n")
    .map((b) => ({ tokens: b.split("\n").map((l) => l.split(" ")) }));

/** A chunk model's attribute rows for a CoNLL sentence, as CRFsuite data rows. */
function attributeRows(m: Model, tokens: string[][]): string[][] {
  const { offsets, attrs } = m.fx.extract(tokens, false);
  return tokens.map((_, t) => [
    "",
    ...Array.from(attrs.subarray(offsets[t]!, offsets[t + 1]!), (a) =>
      m.fx.attributeName(a).replace(/[\\:]/g, (c) => `\\${c}`),
    ),
  ]);
}

describe("writing CRFsuite models", () => {
  it("hashlittle gives lookup3's published values and the hashes CRFsuite stored", () => {
    expect(hashlittle(new Uint8Array(0))).toBe(0xdeadbeef);
    const four = enc.encode("Four score and seven years ago");
    expect(hashlittle(four, 0)).toBe(0x17770551);
    expect(hashlittle(four, 1)).toBe(0xcd628161);
    const b = readFileSync(MODEL);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    let checked = 0;
    for (const off of [v.getUint32(32, true), v.getUint32(36, true)]) {
      for (let i = 0; i < 256; i++) {
        const at = v.getUint32(off + 24 + 8 * i, true);
        const n = v.getUint32(off + 28 + 8 * i, true);
        for (let k = 0; k < n; k++) {
          const rec = v.getUint32(off + at + 8 * k + 4, true);
          if (rec === 0) continue;
          const size = v.getUint32(off + rec + 4, true);
          const key = b.subarray(off + rec + 8, off + rec + 8 + size);
          expect(hashlittle(key)).toBe(v.getUint32(off + at + 8 * k, true));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("a CRFsuite model written back reads as the same energies", () => {
    const m = Model.load(MODEL);
    const back = Model.fromBytes(writeCrfsuiteModel(m), "rewritten");
    expect(back.labels).toEqual(m.labels);
    const test = parseCrfsuiteData(readFileSync(new URL("tiny.test.txt", dir), "utf8"));
    for (const s of test) {
      const y = m.tag(s.tokens);
      expect(back.tag(s.tokens)).toEqual(y);
      expect(back.energy(s.tokens, y)).toBeCloseTo(m.energy(s.tokens, y), 12);
    }
  });

  it("a nadir chunker: start/end energies folded into __BOS__/__EOS__, the same labels and energies", () => {
    const tagger = Tagger.train(sentencesOf(TRAIN), { spec: "chunk", epochs: 5 });
    const m = tagger.model;
    const crf = Model.fromBytes(tagger.toCrfsuite(), "chunk.crfsuite");
    expect(crf.spec.format).toBe("crfsuite");
    for (const s of [...sentencesOf(TEST), ...sentencesOf(TRAIN)]) {
      const rows = attributeRows(m, s.tokens);
      const y = m.tag(s.tokens);
      expect(crf.tag(rows)).toEqual(y);
      expect(crf.energy(rows, y)).toBeCloseTo(m.energy(s.tokens, y), 10);
      const a = m.density(s.tokens).marginals;
      const b = crf.density(rows).marginals;
      for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 10);
    }
  });

  it("refuses what CRFsuite cannot hold (start/end without __BOS__/__EOS__, second order) unless asked", () => {
    const data = parseCrfsuiteData(readFileSync(new URL("tiny.train.txt", dir), "utf8"));
    const m = Tagger.train(data, { spec: "crfsuite", epochs: 3 }).model;
    expect(() => writeCrfsuiteModel(m)).toThrow(NadirError);
    expect(() => writeCrfsuiteModel(m)).toThrow(/no start weights.*__BOS__.*dropBoundary/);
    const dropped = Model.fromBytes(writeCrfsuiteModel(m, { dropBoundary: true }));
    expect(dropped.labels).toEqual(m.labels);
    const second = Tagger.train(sentencesOf(TRAIN), { spec: "chunk2", epochs: 1 }).model;
    expect(() => writeCrfsuiteModel(second)).toThrow(/first-order/);
  });
});
