/**
 * dump and explain: the description matches the weights (strongest
 * attributes by brute force), explanations add up to the energy exactly and
 * their runner-up margins equal exhaustive min-marginals, on the CRFsuite
 * fixture model and on a nadir model; the CLI commands and Tagger methods.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Tagger } from "../../src/api/tagger.ts";
import { parseCrfsuiteData } from "../../src/data/crfsuite.ts";
import { describeModel, explainSentence } from "../../src/tagger/inspect.ts";
import { Model } from "../../src/tagger/model.ts";
import { run, TRAIN } from "../cli/harness.ts";

const MODEL = new URL("../fixtures/crfsuite/tiny.crfsuite", import.meta.url).pathname;
const TEST = new URL("../fixtures/crfsuite/tiny.test.txt", import.meta.url).pathname;
const sentences = parseCrfsuiteData(readFileSync(TEST, "utf8"), TEST);

/** Every labeling of T tokens over L labels. */
function* labelings(T: number, L: number): Generator<number[]> {
  const y = new Array<number>(T).fill(0);
  for (;;) {
    yield y.slice();
    let t = T - 1;
    while (t >= 0 && y[t] === L - 1) y[t--] = 0;
    if (t < 0) return;
    y[t]!++;
  }
}

describe("describeModel (nadir dump)", () => {
  it("counts, transitions and the strongest attributes per label, checked by brute force", () => {
    const m = Model.load(MODEL);
    const d = describeModel(m, 3);
    const { arch, W } = m;
    expect(d.counts).toMatchObject({
      labels: arch.L,
      attributes: arch.A,
      stateWeights: arch.S,
      parameters: arch.K,
    });
    for (let i = 0; i < arch.L; i++)
      for (let j = 0; j < arch.L; j++)
        expect(d.transitions[i]![j]).toBe(W[arch.transOffset + i * arch.L + j]);
    m.labels.forEach((label, l) => {
      const all: { attribute: string; energy: number }[] = [];
      for (let a = 0; a < arch.A; a++) {
        const k = arch.stateIndex(a, l);
        if (k >= 0 && W[k] !== 0) all.push({ attribute: m.fx.attributeName(a), energy: W[k]! });
      }
      const entry = d.attributes[l]!;
      expect(entry.label).toBe(label);
      expect(entry.lowest.map((q) => q.energy)).toEqual(
        all
          .filter((q) => q.energy < 0)
          .map((q) => q.energy)
          .sort((x, y) => x - y)
          .slice(0, 3),
      );
      expect(entry.highest.map((q) => q.energy)).toEqual(
        all
          .filter((q) => q.energy > 0)
          .map((q) => q.energy)
          .sort((x, y) => y - x)
          .slice(0, 3),
      );
      for (const q of entry.lowest) expect(all).toContainEqual(q);
    });
    expect(Tagger.load(MODEL).dump({ top: 3 })).toEqual(d);
    expect(m.describe(3)).toEqual(d);
  });
});

describe("explainSentence (nadir explain)", () => {
  it("adds up to the energy and finds the runner-up by min-marginals (exhaustive check)", () => {
    const m = Model.load(MODEL);
    const L = m.labels.length;
    for (const s of sentences) {
      const e = explainSentence(m, s.tokens, 1000);
      expect(e.labels).toEqual(m.tag(s.tokens));
      expect(e.energy).toBeCloseTo(m.energy(s.tokens, e.labels), 10);
      const T = s.tokens.length;
      // brute force: the lowest energy with y_t = l, for every t and l
      const best = new Float64Array(T * L).fill(Number.POSITIVE_INFINITY);
      for (const y of labelings(T, L)) {
        const E = m.energy(
          s.tokens,
          y.map((l) => m.labels[l]!),
        );
        for (let t = 0; t < T; t++) best[t * L + y[t]!] = Math.min(best[t * L + y[t]!]!, E);
      }
      e.tokens.forEach((tok, t) => {
        const c = m.labels.indexOf(tok.label);
        let r = -1;
        for (let l = 0; l < L; l++)
          if (l !== c && (r < 0 || best[t * L + l]! < best[t * L + r]!)) r = l;
        expect(tok.margin!).toBeCloseTo(best[t * L + r]! - e.energy, 9);
        expect(best[t * L + m.labels.indexOf(tok.runnerUp!)]!).toBeCloseTo(best[t * L + r]!, 9);
        // contributions: for + against (+ the ties) add up to the state energies
        const listed = [...tok.for, ...tok.against];
        const sum = listed.reduce((a, q) => a + q.chosen, 0);
        const ties = tok.stateEnergy - sum;
        const sumRunner = listed.reduce((a, q) => a + q.runnerUp, 0);
        expect(tok.runnerUpStateEnergy! - sumRunner).toBeCloseTo(ties, 9); // only delta-0 attributes are unlisted
        for (const q of tok.for) expect(q.delta).toBeLessThan(0);
        for (const q of tok.against) expect(q.delta).toBeGreaterThan(0);
      });
    }
  });

  it("Tagger.explain on a nadir chunker; top limits the lists", () => {
    const train = TRAIN.trim()
      .split("\n\n")
      .map((b) => ({ tokens: b.split("\n").map((l) => l.split(" ")) }));
    const tagger = Tagger.train(train, { spec: "chunk", epochs: 3 });
    const e = tagger.explain(
      [
        ["He", "PRP"],
        ["reckons", "VBZ"],
        ["the", "DT"],
        ["deficit", "NN"],
      ].map((t) => ({ w: t[0]!, pos: t[1]! })),
      { top: 2 },
    );
    expect(e.tokens).toHaveLength(4);
    for (const t of e.tokens) {
      expect(t.for.length).toBeLessThanOrEqual(2);
      expect(t.against.length).toBeLessThanOrEqual(2);
    }
    expect(e.energy).toBeCloseTo(
      e.stateEnergy + e.transitionEnergy + e.startEnergy + e.endEnergy,
      12,
    );
  });
});

describe("nadir dump / nadir explain", () => {
  it("dump prints labels, transitions and attributes (text and --json)", async () => {
    const r = await run(["dump", MODEL, "--top", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model crfsuite: format crfsuite, structure chain\ncounts: 5 labels/);
    expect(r.stdout).toContain("transition energies");
    const j = await run(["dump", MODEL, "--json"]);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout).labels).toEqual(Model.load(MODEL).labels);
    const bad = await run(["dump"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/expected one model file/);
  });

  it("explain prints per-token contributions (text and --json)", async () => {
    const r = await run(["explain", "--model", MODEL, TEST, "--top", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sentence 1 \(.*tiny\.test\.txt:1\): energy -?\d/);
    expect(r.stdout).toMatch(/runner-up \S+ \(state/);
    const j = await run(["explain", "--model", MODEL, TEST, "--json"]);
    expect(j.code, j.stderr).toBe(0);
    const lines = j.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(sentences.length);
    expect(lines[0].labels).toEqual(Model.load(MODEL).tag(sentences[0]!.tokens));
  });
});
