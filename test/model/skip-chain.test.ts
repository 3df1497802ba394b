/** Skip-chain models: skip edges, their energy, training through BP, and the questions they refuse. */
import { describe, expect, it } from "vitest";
import { skipEdges } from "../../src/architecture/features.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { trainTagger } from "../../src/optimize/train.ts";
import { conllTokens, nadirError, spec } from "../fixtures/helpers.ts";

const NER = {
  columns: ["w"],
  templates: ["w[0]", "w[-1]", "w[1]"],
  encoding: "iob2",
  structure: "skip-chain",
  skip: { column: "w" },
};

const sentences = [
  "Ana B-PER\nvio O\na O\nLuis B-PER\ny O\nAna B-PER\nrió O",
  "Luis B-PER\nvive O\nen O\nLima B-LOC",
  "Lima B-LOC\nes O\ngrande O\ny O\nLima B-LOC\ncrece O",
  "el O\nperro O\ncome O",
].map((t) => ({ tokens: conllTokens(t) }));

describe("skip-chain", () => {
  it("joins consecutive occurrences of the same capitalized word", () => {
    expect(Array.from(skipEdges(sentences[0]!.tokens, 0, true, 1000))).toEqual([0, 5]);
    expect(Array.from(skipEdges(conllTokens("a\nb\na\nA\nA"), 0, true, 1000))).toEqual([3, 4]);
    expect(Array.from(skipEdges(conllTokens("a\nb\na"), 0, false, 1000))).toEqual([0, 2]);
    expect(Array.from(skipEdges(conllTokens("X\nb\nc\nX"), 0, true, 2))).toEqual([]);
  });

  it("trains with a dev set, decodes skip sentences by BP, and its graph energy is the chain energy plus skip terms", () => {
    const r = trainTagger({
      spec: spec(NER),
      train: sentences,
      dev: sentences,
      options: { epochs: 8 },
    });
    const m = r.model;
    expect(r.inference).toContain("bp");
    for (const s of sentences) expect(m.tag(s.tokens)).toEqual(s.tokens.map((t) => t[1]));
    const x = m.encode(sentences[0]!.tokens);
    expect(Array.from(x.skips!)).toEqual([0, 5]);
    const y = m.labelIds(sentences[0]!.tokens.map((t) => t[1]!));
    const L = m.arch.L;
    const skip = m.W[m.arch.skipOffset + y[0]! * L + y[5]!]!;
    const chain = chainEnergy(m.arch.potentials(x, m.W), y);
    expect(m.arch.graphPotentials(x, m.W).energy(y)).toBeCloseTo(chain + skip, 10);
    expect(
      m.energy(
        sentences[0]!.tokens,
        sentences[0]!.tokens.map((t) => t[1]!),
      ),
    ).toBeCloseTo(chain + skip, 10);
  });

  it("takes the skip column from the input columns only", () => {
    const e = nadirError(() =>
      spec({ ...NER, derived: { lw: "lower(w)" }, skip: { column: "lw" } }),
    );
    expect(e.code).toBe("E_SPEC");
    expect(e.message).toContain("skip.column");
  });

  it("refuses the chain-only questions on sentences with skip edges, answers them on the others", () => {
    const m = trainTagger({ spec: spec(NER), train: sentences, options: { epochs: 3 } }).model;
    const e = nadirError(() => m.density(sentences[0]!.tokens));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toContain("skip edges");
    expect(nadirError(() => m.decide(sentences[2]!.tokens, 2)).code).toBe("E_UNSUPPORTED");
    const d = m.density(sentences[3]!.tokens);
    for (let t = 0; t < 3; t++) {
      let sum = 0;
      for (let l = 0; l < m.labels.length; l++) sum += d.marginals[t * m.labels.length + l]!;
      expect(sum).toBeCloseTo(1, 12);
    }
  });
});
