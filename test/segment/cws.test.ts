/**
 * Chinese word segmentation helpers: the CoNLL-U → character-rows converter
 * on an inline snippet (both schemes), word spans and word-level P/R/F1, and
 * min-cut decoding of binary chains against Viterbi: on random submodular
 * chains, and on a binary model trained (with the submodular projection) on
 * the snippet.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";
import { parseConll } from "../../src/data/conll.ts";
import { parseConllu } from "../../src/data/conllu.ts";
import { chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { mincutBackend } from "../../src/inference/mincut/construct.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import {
  charsConll,
  charType,
  conlluWords,
  labelSpans,
  labelsToWords,
  WordScorer,
  wordLabels,
} from "../../src/segment/cws.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { nadirError } from "../fixtures/helpers.ts";

// Three sentences in the UD v1 Chinese layout (no comments, ASCII punctuation).
const CONLLU = `1	然而	_	ADV	RB	_	7	mark	_	_
2	,	_	PUNCT	,	_	7	punct	_	_
3	這樣	_	PRON	PRD	_	5	det	_	_
4	的	_	PART	DEC	_	3	case:dec	_	_
5	處理	_	NOUN	NN	_	7	nsubj	_	_
6	也	_	ADV	RB	_	7	mark	_	_
7	衍生	_	VERB	VV	_	0	root	_	_
8	了	_	PART	AS	_	7	case:aspect	_	_
9	一些	_	ADJ	JJ	_	10	amod	_	_
10	問題	_	NOUN	NN	_	7	dobj	_	_
11	.	_	PUNCT	.	_	7	punct	_	_

1	自從	_	ADP	IN	_	4	case	_	_
2	2004	_	NUM	CD	_	3	nummod	_	_
3	年	_	NOUN	NNB	_	4	nmod:tmod	_	_
4	提出	_	VERB	VV	_	0	root	_	_
5	了	_	PART	AS	_	4	case:aspect	_	_
6	人文大樓	_	PROPN	NNP	_	4	dobj	_	_

1	這樣	_	PRON	PRD	_	2	nsubj	_	_
2	處理	_	VERB	VV	_	0	root	_	_
3	問題	_	NOUN	NN	_	2	dobj	_	_
4	.	_	PUNCT	.	_	2	punct	_	_
`;

const sentences = () => conlluWords(parseConllu(CONLLU, "snippet.conllu"));

describe("the CWS converter", () => {
  it("turns FORMs into char / type / B-M-E-S rows", () => {
    const text = charsConll(sentences(), "bmes");
    const rows = text.split("\n\n")[1]!.split("\n");
    expect(rows).toEqual([
      "自\tH\tB",
      "從\tH\tE",
      "2\tD\tB",
      "0\tD\tM",
      "0\tD\tM",
      "4\tD\tE",
      "年\tH\tS",
      "提\tH\tB",
      "出\tH\tE",
      "了\tH\tS",
      "人\tH\tB",
      "文\tH\tM",
      "大\tH\tM",
      "樓\tH\tE",
    ]);
    // Read back as CoNLL columns: 3 sentences of 17, 14 and 7 characters.
    const back = parseConll(text, "chars.txt");
    expect(back.map((s) => s.tokens.length)).toEqual([17, 14, 7]);
    expect(back[0]!.tokens[2]).toEqual([",", "P", "S"]);
  });

  it("binary scheme: B where a word starts, I elsewhere", () => {
    const text = charsConll(sentences(), "binary");
    const labels = parseConll(text, "chars.txt")[2]!.tokens.map((t) => t[2]);
    expect(labels).toEqual(["B", "I", "B", "I", "B", "I", "B"]);
  });

  it("character types and whitespace refusal with file:line", () => {
    expect(["中", "7", "７", "a", "Ω", ",", "+", "\u3000"].map(charType)).toEqual([
      "H",
      "D",
      "D",
      "L",
      "L",
      "P",
      "P",
      "O",
    ]);
    const bad = parseConllu(
      CONLLU.replace("這樣\t_\tPRON\tPRD\t_\t2", "這 樣\t_\tPRON\tPRD\t_\t2"),
      "s.conllu",
    );
    const e = nadirError(() => charsConll(conlluWords(bad), "bmes"));
    expect(e.code).toBe("E_PARSE");
    expect(e.message).toContain("s.conllu:20: word 1 expected non-empty and without whitespace");
  });

  it("labels ↔ words, for well- and ill-formed label sequences", () => {
    const words = ["然而", ",", "這樣", "的", "處理", "人文大樓"];
    for (const scheme of ["bmes", "binary"] as const) {
      const { chars, labels } = wordLabels(words, scheme);
      expect(labelsToWords(chars, labels, scheme)).toEqual(words);
    }
    // Ill-formed BMES: M after S starts a word; E then M starts one too.
    expect(labelSpans(["M", "S", "M", "E", "M"], "bmes")).toEqual([0, 1, 1, 2, 2, 4, 4, 5]);
    expect(labelSpans(["I", "I", "B"], "binary")).toEqual([0, 2, 2, 3]);
  });

  it("word P/R/F1 counts a word when both boundaries match", () => {
    const s = new WordScorer();
    // gold: [ab][c][de]; predicted: [ab][cd][e] → 1 correct of 3 / 3
    s.add(["B", "E", "S", "B", "E"], ["B", "E", "B", "E", "S"], "bmes");
    expect([s.gold, s.predicted, s.correct]).toEqual([3, 3, 1]);
    s.add(["B", "I"], ["B", "B"], "binary"); // gold [xy]; predicted [x][y]
    expect([s.gold, s.predicted, s.correct]).toEqual([4, 5, 1]);
    expect(s.precision).toBeCloseTo(20, 12);
    expect(s.recall).toBeCloseTo(25, 12);
    expect(s.f1).toBeCloseTo((2 * 20 * 25) / 45, 12);
  });
});

describe("min-cut decoding of binary chains equals Viterbi", () => {
  it("on random submodular binary chains (same energy; same labeling)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer(), (T, seed) => {
        // Continuous uniform energies (seeded): ties have probability 0, so
        // the minimizer is unique and both decoders must return it.
        const rng = new Rng(seed);
        const u = (n: number) => Float64Array.from({ length: n }, () => rng.next() * 10 - 5);
        let [a, b, c, d] = Array.from(u(4)) as [number, number, number, number];
        // Make it submodular: b + c ≥ a + d (swap the diagonals if not).
        if (b + c < a + d) [a, b, c, d] = [b, a, d, c];
        const p = chainPotentials(T, 2, u(2 * T), Float64Array.from([a, b, c, d]), u(2), u(2));
        const v = viterbi(p);
        const g = chainToFactorGraph(p);
        const m = mincutBackend.minimize(g);
        const ev = chainEnergy(p, v.labels);
        expect(Math.abs(ev - g.energy(m.labels))).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(ev)),
        );
        expect(Array.from(m.labels)).toEqual(Array.from(v.labels));
      }),
      { seed: 5301, numRuns: 500 },
    );
  });

  it("on a binary model trained with the submodular projection", () => {
    const spec = parseSpec(
      {
        name: "cws-binary-test",
        format: "conll",
        columns: ["c", "t"],
        label: -1,
        templates: ["bias", "c[-1]", "c[0]", "c[1]", "c[-1]|c[0]", "c[0]|c[1]", "t[0]"],
        submodular: true,
        train: { epochs: 5 },
      },
      "<cws-binary test spec>",
    );
    const data = parseConll(charsConll(sentences(), "binary"), "chars.txt");
    const model = trainTagger({ spec, train: data }).model;
    const t = model.W.subarray(model.arch.transOffset, model.arch.transOffset + 4);
    expect(t[1]! + t[2]! - t[0]! - t[3]!).toBeGreaterThanOrEqual(-1e-12);
    for (const s of data) {
      const vit = model.tag(s.tokens);
      const p = model.arch.potentials(model.encode(s.tokens), model.W);
      const cut = mincutBackend.minimize(chainToFactorGraph(p));
      expect(Array.from(cut.labels, (l) => model.labels[l])).toEqual(vit);
    }
  });
});
