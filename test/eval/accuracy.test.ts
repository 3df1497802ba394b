import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LabelScorer, scoreLabels, tokenAccuracy } from "../../src/eval/accuracy.ts";

const sp = (s: string) => s.split(" ");

describe("tokenAccuracy", () => {
  it("percent of equal positions, strings or ids", () => {
    expect(tokenAccuracy([sp("a b c"), sp("d")], [sp("a x c"), sp("d")])).toBe(75);
    expect(tokenAccuracy([Int32Array.of(1, 2)], [Int32Array.of(1, 3)])).toBe(50);
    expect(tokenAccuracy([], [])).toBe(0);
    expect(() => tokenAccuracy([sp("a b")], [sp("a")])).toThrow(/expected 2 predicted labels/);
  });
});

describe("scoreLabels", () => {
  it("per-label precision / recall / F1, micro and macro", () => {
    const r = scoreLabels([sp("O PER PER O LOC")], [sp("O PER O LOC LOC")], { ignore: ["O"] });
    expect(r).toMatchObject({ tokens: 5, correct: 3, accuracy: 60 });
    expect(r.byLabel.PER).toEqual({
      precision: 100,
      recall: 50,
      f1: 200 / 3,
      gold: 2,
      pred: 1,
      correct: 1,
    });
    expect(r.byLabel.LOC).toEqual({
      precision: 50,
      recall: 100,
      f1: 200 / 3,
      gold: 1,
      pred: 2,
      correct: 1,
    });
    expect(r.byLabel.O).toMatchObject({ gold: 2, pred: 2, correct: 1 });
    // micro over PER, LOC: correct 2, gold 3, pred 3.
    expect(r.micro.precision).toBeCloseTo(200 / 3, 12);
    expect(r.micro.recall).toBeCloseTo(200 / 3, 12);
    expect(r.macro.precision).toBe(75);
    expect(r.macro.recall).toBe(75);
    expect(r.macro.f1).toBeCloseTo(200 / 3, 12);
    expect(Object.keys(r.byLabel)).toEqual(["LOC", "O", "PER"]);
  });

  it("micro P = R = accuracy when nothing is ignored (property, seed 42)", () => {
    const seq = fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom("a", "b", "c")), {
      maxLength: 20,
    });
    fc.assert(
      fc.property(fc.array(seq, { maxLength: 4 }), (rows) => {
        const gold = rows.map((r) => r.map((x) => x[0]));
        const pred = rows.map((r) => r.map((x) => x[1]));
        const rep = scoreLabels(gold, pred);
        const acc = tokenAccuracy(gold, pred);
        expect(rep.accuracy).toBe(acc);
        if (rep.tokens > 0) {
          expect(rep.micro.precision).toBeCloseTo(acc, 9);
          expect(rep.micro.recall).toBeCloseTo(acc, 9);
        }
        let g = 0;
        let p = 0;
        for (const v of Object.values(rep.byLabel)) {
          g += v.gold;
          p += v.pred;
        }
        expect([g, p]).toEqual([rep.tokens, rep.tokens]);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it("addIds agrees with add on names", () => {
    const labels = ["O", "B-NP", "I-NP"];
    const a = new LabelScorer({ labels });
    a.addIds(Int32Array.of(0, 1, 2, 2), Int32Array.of(0, 1, 1, 2));
    const b = new LabelScorer();
    b.add(sp("O B-NP I-NP I-NP"), sp("O B-NP B-NP I-NP"));
    expect(a.report()).toEqual(b.report());
    expect(() => a.addIds([5], [0])).toThrow(/expected label ids in \[0, 3\)/);
    expect(() => new LabelScorer({ labels: ["x", "x"] })).toThrow(/duplicate/);
  });
});
