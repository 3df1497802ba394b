import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { type ChunkEncoding, ChunkScorer, chunkSpans, scoreChunks } from "../../src/eval/chunks.ts";

const sp = (s: string) => (s === "" ? [] : s.split(" "));

describe("scoreChunks: hand-built cases", () => {
  it("iob2", () => {
    const r = scoreChunks([sp("B-NP I-NP O B-VP B-NP I-NP")], [sp("B-NP I-NP O B-VP B-NP O")]);
    expect(r).toMatchObject({
      tokens: 6,
      correctTags: 5,
      goldChunks: 3,
      predChunks: 3,
      correctChunks: 2,
    });
    expect(r.precision).toBeCloseTo(200 / 3, 12);
    expect(r.recall).toBeCloseTo(200 / 3, 12);
    expect(r.f1).toBeCloseTo(200 / 3, 12);
    expect(r.accuracy).toBeCloseTo(500 / 6, 12);
    expect(r.byType).toEqual({
      NP: { precision: 50, recall: 50, f1: 50, gold: 2, pred: 2, correct: 1 },
      VP: { precision: 100, recall: 100, f1: 100, gold: 1, pred: 1, correct: 1 },
    });
  });

  it("I-X after O or after another type starts a chunk (conlleval)", () => {
    const r = scoreChunks([sp("O I-PER I-PER O B-LOC I-PER")], [sp("O B-PER I-PER O B-LOC B-PER")]);
    expect(r).toMatchObject({ goldChunks: 3, predChunks: 3, correctChunks: 3, correctTags: 4 });
    expect(chunkSpans(sp("O I-PER I-PER O B-LOC I-PER"))).toEqual([
      { type: "PER", start: 1, end: 3 },
      { type: "LOC", start: 4, end: 5 },
      { type: "PER", start: 5, end: 6 },
    ]);
  });

  it("iob1: B- separates adjacent chunks of one type", () => {
    const gold = [sp("I-NP I-NP B-NP O I-VP")];
    const pred = [sp("I-NP I-NP I-NP O I-VP")];
    const r = scoreChunks(gold, pred, { encoding: "iob1" });
    expect(r).toMatchObject({ goldChunks: 3, predChunks: 2, correctChunks: 1 });
    expect(r.byType.NP).toEqual({ precision: 0, recall: 0, f1: 0, gold: 2, pred: 1, correct: 0 });
    // conlleval's rules do not depend on the scheme: iob2 scoring gives the same counts.
    expect(scoreChunks(gold, pred, { encoding: "iob2" })).toEqual(r);
  });

  it("bioes", () => {
    const r = scoreChunks(
      [sp("S-PER O B-LOC I-LOC E-LOC S-ORG S-ORG")],
      [sp("S-PER O B-LOC E-LOC S-LOC B-ORG E-ORG")],
      { encoding: "bioes" },
    );
    expect(r).toMatchObject({ goldChunks: 4, predChunks: 4, correctChunks: 1 });
    expect(r.byType.PER!.correct).toBe(1);
    expect(r.byType.LOC).toMatchObject({ gold: 1, pred: 2, correct: 0 });
    expect(r.byType.ORG).toMatchObject({ gold: 2, pred: 1, correct: 0 });
  });

  it("a chunk never spans a sentence boundary; hyphens allowed in types", () => {
    const r = scoreChunks([sp("B-A-B I-A-B"), sp("I-A-B")], [sp("B-A-B I-A-B"), sp("I-A-B")]);
    expect(r).toMatchObject({ goldChunks: 2, predChunks: 2, correctChunks: 2 });
    expect(Object.keys(r.byType)).toEqual(["A-B"]);
  });

  it("empty input gives zeros", () => {
    expect(scoreChunks([], [])).toMatchObject({ tokens: 0, accuracy: 0, precision: 0, f1: 0 });
    expect(scoreChunks([[]], [[]]).goldChunks).toBe(0);
  });

  it("strict tags: E-/S- need bioes, location in the error", () => {
    const s = new ChunkScorer();
    try {
      s.add(["B-X", "E-X"], ["B-X", "I-X"], { file: "p.txt", line: 10 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NadirError);
      const e = err as NadirError;
      expect(e.code).toBe("E_PARSE");
      expect(e.line).toBe(11);
      expect(e.message).toMatch(/^p\.txt:11: invalid tag "E-X" for encoding iob2/);
    }
    expect(() => scoreChunks([["B"]], [["O"]])).toThrow(/invalid tag "B"/);
    expect(() => scoreChunks([["O"]], [["O", "O"]])).toThrow(/expected 1 predicted tags/);
  });

  it("strict: false scores any tag like conlleval ([ ] . bare)", () => {
    const r = scoreChunks([sp("[-NP ]-NP . X")], [sp("[-NP I-NP . X")], { strict: false });
    // "[" and "]" are one-token chunks (so the guessed "[" chunk is correct); "." and
    // bare "X" (type "") start nothing. Figures checked with chunkeval.py.
    expect(r).toMatchObject({ goldChunks: 2, predChunks: 1, correctChunks: 1, correctTags: 3 });
  });

  it("addIds scores label ids through opts.labels", () => {
    const labels = ["O", "B-NP", "I-NP"];
    const s = new ChunkScorer({ labels });
    s.addIds(Int32Array.from([1, 2, 0, 1]), Int32Array.from([1, 2, 0, 2]));
    const r = s.report();
    expect(r).toEqual(scoreChunks([sp("B-NP I-NP O B-NP")], [sp("B-NP I-NP O I-NP")]));
    expect(() => s.addIds([3], [0])).toThrow(/expected label ids in \[0, 3\)/);
    expect(() => new ChunkScorer({ labels: ["E-X"] })).toThrow(/label 0/);
  });
});

// ---- property test against an independent reference ----------------------

/** A token of a random well-formed segmentation: outside, start a chunk of a type, or continue. */
type Step = { kind: "O" } | { kind: "new"; type: string } | { kind: "cont" };
interface Span {
  type: string;
  start: number;
  end: number;
}

const TYPES = ["NP", "VP", "A-B"];
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: "O" }),
  fc.constantFrom(...TYPES).map<Step>((type) => ({ kind: "new", type })),
  fc.constant<Step>({ kind: "cont" }),
  fc.constant<Step>({ kind: "cont" }),
);

/** Spans of a step sequence ("cont" extends the open chunk, else it is O). */
function spansOf(steps: Step[]): Span[] {
  const out: Span[] = [];
  let open: Span | null = null;
  for (let t = 0; t < steps.length; t++) {
    const s = steps[t]!;
    if (s.kind === "cont" && open) {
      open.end = t + 1;
      continue;
    }
    if (open) out.push(open);
    open = s.kind === "new" ? { type: s.type, start: t, end: t + 1 } : null;
  }
  if (open) out.push(open);
  return out;
}

/** Tags of spans over n tokens in an encoding. */
function encode(spans: Span[], n: number, enc: ChunkEncoding): string[] {
  const tags = new Array<string>(n).fill("O");
  let prevEnd = -1;
  let prevType = "";
  for (const { type, start, end } of spans) {
    for (let t = start; t < end; t++) {
      if (enc === "iob2") tags[t] = `${t === start ? "B" : "I"}-${type}`;
      else if (enc === "iob1") {
        const b = t === start && prevEnd === start && prevType === type;
        tags[t] = `${b ? "B" : "I"}-${type}`;
      } else if (end - start === 1) tags[t] = `S-${type}`;
      else tags[t] = `${t === start ? "B" : t === end - 1 ? "E" : "I"}-${type}`;
    }
    prevEnd = end;
    prevType = type;
  }
  return tags;
}

const key = (s: Span) => `${s.type}|${s.start}|${s.end}`;

/** Reference counts: chunk sets per sentence, intersected. */
function reference(goldSpans: Span[][], predSpans: Span[][]) {
  const byType: Record<string, { gold: number; pred: number; correct: number }> = {};
  const bump = (t: string, f: "gold" | "pred" | "correct") => {
    byType[t] ??= { gold: 0, pred: 0, correct: 0 };
    byType[t][f]++;
  };
  let gold = 0;
  let pred = 0;
  let correct = 0;
  for (let i = 0; i < goldSpans.length; i++) {
    const g = new Set(goldSpans[i]!.map(key));
    for (const s of goldSpans[i]!) bump(s.type, "gold");
    for (const s of predSpans[i]!) {
      bump(s.type, "pred");
      if (g.has(key(s))) {
        correct++;
        bump(s.type, "correct");
      }
    }
    gold += goldSpans[i]!.length;
    pred += predSpans[i]!.length;
  }
  return { gold, pred, correct, byType };
}

/** Sentences as (gold steps, pred steps): pred copies gold's step with probability ~2/3. */
const corpusArb = fc.array(
  fc.array(fc.tuple(stepArb, stepArb, fc.nat(2)), { maxLength: 14 }).map((rows) => ({
    gold: rows.map((r) => r[0]),
    pred: rows.map((r) => (r[2] < 2 ? r[0] : r[1])),
  })),
  { maxLength: 5 },
);

function checkAgainstReference(enc: ChunkEncoding) {
  fc.assert(
    fc.property(corpusArb, (corpus) => {
      const gs = corpus.map((s) => spansOf(s.gold));
      const ps = corpus.map((s) => spansOf(s.pred));
      const gTags = corpus.map((s, i) => encode(gs[i]!, s.gold.length, enc));
      const pTags = corpus.map((s, i) => encode(ps[i]!, s.pred.length, enc));
      const r = scoreChunks(gTags, pTags, { encoding: enc });
      const ref = reference(gs, ps);
      expect(r.goldChunks).toBe(ref.gold);
      expect(r.predChunks).toBe(ref.pred);
      expect(r.correctChunks).toBe(ref.correct);
      for (const [t, c] of Object.entries(ref.byType)) {
        expect(r.byType[t]).toMatchObject(c);
      }
      expect(Object.keys(r.byType).sort()).toEqual(Object.keys(ref.byType).sort());
      let tokens = 0;
      let same = 0;
      for (let i = 0; i < gTags.length; i++) {
        const g = gTags[i]!;
        for (let t = 0; t < g.length; t++) {
          tokens++;
          if (g[t] === pTags[i]![t]) same++;
        }
      }
      expect(r.tokens).toBe(tokens);
      expect(r.correctTags).toBe(same);
      for (let i = 0; i < gTags.length; i++) {
        expect(chunkSpans(gTags[i]!, { encoding: enc })).toEqual(gs[i]);
      }
    }),
    { seed: 42, numRuns: 300 },
  );
}

/** Independent IOB1-reading decoder for arbitrary (possibly ill-formed) B/I/O tags. */
function bioSpans(tags: string[]): Span[] {
  const out: Span[] = [];
  let open: Span | null = null;
  for (let t = 0; t < tags.length; t++) {
    const tag = tags[t]!;
    const type = tag === "O" ? "" : tag.slice(2);
    const continues = open !== null && tag.startsWith("I-") && open.type === type;
    if (continues) {
      open!.end = t + 1;
      continue;
    }
    if (open) out.push(open);
    open = tag === "O" ? null : { type, start: t, end: t + 1 };
  }
  if (open) out.push(open);
  return out;
}

describe("scoreChunks vs. a brute-force reference (fast-check, seed 42)", () => {
  for (const enc of ["iob2", "iob1", "bioes"] as const) {
    it(`well-formed ${enc}`, () => checkAgainstReference(enc));
  }

  it("arbitrary B/I/O sequences (ill-formed iob2 included)", () => {
    const tagArb = fc.constantFrom("O", "B-X", "I-X", "B-Y", "I-Y");
    const sent = fc
      .array(fc.tuple(tagArb, tagArb, fc.boolean()), { maxLength: 14 })
      .map((rows) => ({
        gold: rows.map((r) => r[0]),
        pred: rows.map((r) => (r[2] ? r[0] : r[1])),
      }));
    fc.assert(
      fc.property(fc.array(sent, { maxLength: 5 }), (corpus) => {
        const r = scoreChunks(
          corpus.map((s) => s.gold),
          corpus.map((s) => s.pred),
        );
        const ref = reference(
          corpus.map((s) => bioSpans(s.gold)),
          corpus.map((s) => bioSpans(s.pred)),
        );
        expect([r.goldChunks, r.predChunks, r.correctChunks]).toEqual([
          ref.gold,
          ref.pred,
          ref.correct,
        ]);
        for (const s of corpus) expect(chunkSpans(s.gold)).toEqual(bioSpans(s.gold));
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});
