/** Skip-chain models: skip edges, their energy, training through BP, and the questions they refuse. */
import { describe, expect, it } from "vitest";
import { skipEdges } from "../../src/architecture/features.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { trainTagger } from "../../src/tagger/train.ts";
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

describe("skip-chain training with the other inference of energy-based learning", () => {
  it("NLL through mean field: the gradient is that of E_C − F_MF (central differences), and F_MF ≥ F_BP", async () => {
    const { LinearChain } = await import("../../src/architecture/linear-chain.ts");
    const { EnergyObjective } = await import("../../src/optimize/objective.ts");
    const { makeLoss } = await import("../../src/loss/index.ts");
    const { meanFieldDecoder } = await import("../../src/inference/mean-field.ts");
    const { sumProduct } = await import("../../src/inference/sum-product.ts");
    const { Rng } = await import("../../src/core/rng.ts");
    const rng = new Rng(12);
    const A = 5;
    const L = 3;
    const arch = new LinearChain(A, L, null, 1, true);
    const x = {
      T: 5,
      offsets: Int32Array.of(0, 1, 2, 3, 4, 5),
      attrs: Int32Array.of(0, 1, 2, 3, 4),
      labels: Int32Array.of(0, 1, 2, 1, 0),
      skips: Int32Array.of(0, 4, 1, 3),
    };
    const W = Float64Array.from({ length: arch.K }, () => 0.4 * rng.normal());
    const mf = meanFieldDecoder({ tolerance: 1e-13, maxIterations: 5000 });
    const obj = new EnergyObjective(arch, {
      loss: makeLoss("nll", { beta: 1 }),
      offending: "exact",
      backend: mf,
      constraintsFor: () => undefined,
    });
    const g = new Float64Array(arch.K);
    obj.evaluate(x, W, 1, g);
    const h = 1e-6;
    let worst = 0;
    for (let k = 0; k < arch.K; k++) {
      const w0 = W[k]!;
      W[k] = w0 + h;
      const fp = obj.evaluate(x, W, 1, null);
      W[k] = w0 - h;
      const fm = obj.evaluate(x, W, 1, null);
      W[k] = w0;
      worst = Math.max(worst, Math.abs((fp - fm) / (2 * h) - g[k]!));
    }
    expect(worst).toBeLessThan(1e-5);
    const graph = arch.graphPotentials(x, W);
    expect(mf.marginals(graph, 1).freeEnergy).toBeGreaterThanOrEqual(
      sumProduct(graph, 1).freeEnergy - 1e-9,
    );
  });

  it("trains with NLL through mean field and with contrastive divergence, and tags the training data", () => {
    for (const options of [
      { loss: "nll", optimizer: "sgd", inference: "meanfield", epochs: 15 },
      { loss: "cd", optimizer: "sgd", epochs: 15 },
    ]) {
      const m = trainTagger({ spec: spec(NER), train: sentences, options }).model;
      let ok = 0;
      let n = 0;
      for (const s of sentences) {
        const y = m.tag(s.tokens);
        s.tokens.forEach((t, i) => {
          n++;
          if (t[1] === y[i]) ok++;
        });
      }
      expect(ok / n).toBeGreaterThan(0.9);
    }
  });
});
