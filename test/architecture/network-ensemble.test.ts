/**
 * combineNetworks: n network chains of one spec as one network chain whose
 * energy is the mean of theirs (linear parts averaged, networks side by side
 * with a block-diagonal first layer) — checked on the potentials, also after
 * the describe / fromDescription round trip a model file makes.
 */
import { describe, expect, it } from "vitest";
import { FeatureExtractor, TrainingSetBuilder } from "../../src/architecture/features.ts";
import {
  combineNetworks,
  NetworkChain,
  parseNetworkSection,
} from "../../src/architecture/network.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";

const spec = parseSpec(
  {
    name: "tiny-ensemble",
    format: "conll",
    columns: ["w"],
    label: -1,
    derived: { lw: "lower(w)", s2: "suffix(lw,2)", caps: "caps(w)" },
    templates: ["w[0]", "s2[0]", "lw[-1]|lw[0]"],
    network: {
      window: 1,
      hidden: 4,
      activation: "hardtanh",
      hybrid: true,
      fields: [
        { column: "lw", dim: 3 },
        { column: "caps", dim: 2 },
      ],
    },
  },
  "tiny-ensemble.json",
);

const rng = new Rng(11);
const TAGS = ["D", "N", "V", "X"];
const sentences = ["The dog barks at 3 cats .", "A cat sleeps .", "the Cat saw 12 dogs"].map(
  (s) => ({ tokens: s.split(" ").map((w) => [w, TAGS[rng.int(TAGS.length)]!]) }),
);

describe("an ensemble of network chains as one network chain", () => {
  it("its potentials are the mean of the members' (also after a model-file round trip)", () => {
    const fx = new FeatureExtractor(spec);
    const b = new TrainingSetBuilder(fx);
    for (const s of sentences) b.add(s);
    const set = b.finish();
    const settings = parseNetworkSection((spec.source as { network: unknown }).network);
    const L = set.labels.size;
    const members = [5, 9, 13].map((seed, i) => {
      const arch = NetworkChain.build(spec, settings, L, sentences, fx.numAttributes, null);
      const W = arch.init(seed);
      const r = new Rng(seed);
      for (let k = 0; k < arch.linear.K; k++) W[k] = r.normal() * 0.5;
      for (let k = arch.b1Off; k < arch.b1Off + arch.H; k++) W[k] = r.normal() * 0.5;
      for (let k = arch.b2Off; k < arch.K; k++) W[k] = r.normal() * (i + 1) * 0.3;
      return { arch, W };
    });
    const n = members.length;
    const expected = set.instances.map((x, i) => {
      let unary: Float64Array | null = null;
      let trans: Float64Array | null = null;
      for (const m of members) {
        m.arch.bind(x, sentences[i]!.tokens);
        const p = m.arch.potentials(x, m.W, new Float64Array(x.T * L));
        unary ??= new Float64Array(p.unary.length);
        trans ??= new Float64Array(p.transition.length);
        for (let j = 0; j < unary.length; j++) unary[j]! += p.unary[j]! / n;
        for (let j = 0; j < trans.length; j++) trans[j]! += p.transition[j]! / n;
      }
      return { unary: unary!, trans: trans! };
    });
    const e = combineNetworks(spec, members);
    expect(e.arch.H).toBe(12);
    expect(e.arch.F).toBe(6);
    const again = NetworkChain.fromDescription(spec, e.arch.describe());
    for (const arch of [e.arch, again]) {
      set.instances.forEach((x, i) => {
        arch.bind(x, sentences[i]!.tokens);
        const p = arch.potentials(x, e.W, new Float64Array(x.T * L));
        const want = expected[i]!;
        for (let j = 0; j < want.unary.length; j++)
          expect(p.unary[j]!).toBeCloseTo(want.unary[j]!, 10);
        for (let j = 0; j < want.trans.length; j++)
          expect(p.transition[j]!).toBeCloseTo(want.trans[j]!, 10);
      });
      // the tagging cache (first-layer projections) gives the same energies
      arch.frozen = true;
      arch.invalidate();
      const x = set.instances[0]!;
      const p = arch.potentials(x, e.W, new Float64Array(x.T * L));
      for (let j = 0; j < p.unary.length; j++)
        expect(p.unary[j]!).toBeCloseTo(expected[0]!.unary[j]!, 5);
      arch.frozen = false;
    }
  });
});
