import { describe, expect, it } from "vitest";
import { buildTrainingSet, FeatureExtractor } from "../../src/architecture/features.ts";
import {
  type Encoding,
  encodingConstraints,
  endAllowed,
  transitionAllowed,
  withEnd,
} from "../../src/architecture/labels.ts";
import { Rng } from "../../src/core/rng.ts";
import { type ChainPotentials, chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { exhaustiveMinimize } from "../../src/inference/exhaustive.ts";
import { viterbi } from "../../src/inference/viterbi.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { conllTokens, spec } from "../fixtures/helpers.ts";

const IOB = ["O", "B-NP", "I-NP", "B-VP", "I-VP"];
const BIOES = ["O", "B-NP", "I-NP", "E-NP", "S-NP", "B-VP", "E-VP"];

/**
 * Well-formedness written independently of labels.ts: a labeling is a valid
 * encoding of a chunking.
 */
function wellFormed(enc: Encoding, ys: readonly string[]): boolean {
  const tag = (s: string) => (s === "O" ? "O" : s[0]!);
  const type = (s: string) => (s === "O" ? "" : s.slice(2));
  for (let t = 0; t < ys.length; t++) {
    const cur = ys[t]!;
    const prev = t > 0 ? ys[t - 1]! : "O";
    const insideSame = (tag(prev) === "B" || tag(prev) === "I") && type(prev) === type(cur);
    if (enc === "iob2" && tag(cur) === "I" && !insideSame) return false;
    if (enc === "iob1" && tag(cur) === "B" && !insideSame) return false;
    if (enc === "bioes") {
      const open = tag(prev) === "B" || tag(prev) === "I";
      const continues = tag(cur) === "I" || tag(cur) === "E";
      if (open && !(continues && type(prev) === type(cur))) return false;
      if (!open && continues) return false;
    }
  }
  if (enc === "bioes" && ys.length > 0) {
    const last = tag(ys[ys.length - 1]!);
    if (last === "B" || last === "I") return false;
  }
  return true;
}

/** Lowest-energy well-formed labeling by enumerating all L^T labelings. */
function bruteForceWellFormed(
  p: ChainPotentials,
  enc: Encoding,
  names: readonly string[],
): { energy: number; labels: number[] } {
  const { T, L } = p;
  const y = new Array<number>(T).fill(0);
  let best = { energy: Number.POSITIVE_INFINITY, labels: [] as number[] };
  for (;;) {
    if (
      wellFormed(
        enc,
        y.map((l) => names[l]!),
      )
    ) {
      const e = chainEnergy(p, y);
      if (e < best.energy) best = { energy: e, labels: y.slice() };
    }
    let t = T - 1;
    while (t >= 0 && ++y[t]! === L) y[t--] = 0;
    if (t < 0) return best;
  }
}

function randomChain(rng: Rng, T: number, L: number): ChainPotentials {
  const r = (n: number) => Float64Array.from({ length: n }, () => 2 * rng.normal());
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

describe("transition tables", () => {
  const table = (enc: Encoding, labels: string[]) =>
    labels.map((a) => labels.map((b) => (transitionAllowed(enc, a, b) ? 1 : 0)).join(""));
  const starts = (enc: Encoding, labels: string[]) =>
    labels.map((b) => (transitionAllowed(enc, null, b) ? 1 : 0)).join("");

  it("iob2: I-X only after B-X or I-X", () => {
    // rows: from O, B-NP, I-NP, B-VP, I-VP; columns: to the same
    expect(table("iob2", IOB)).toEqual(["11010", "11110", "11110", "11011", "11011"]);
    expect(starts("iob2", IOB)).toBe("11010");
  });

  it("iob1: B-X only after B-X or I-X (adjacent chunks of one type)", () => {
    expect(table("iob1", IOB)).toEqual(["10101", "11101", "11101", "10111", "10111"]);
    expect(starts("iob1", IOB)).toBe("10101");
  });

  it("bioes: after B/I only I/E of the same type; elsewhere no I/E", () => {
    // O, B-NP, I-NP, E-NP, S-NP, B-VP, E-VP
    expect(table("bioes", BIOES)).toEqual([
      "1100110",
      "0011000",
      "0011000",
      "1100110",
      "1100110",
      "0000001",
      "1100110",
    ]);
    expect(starts("bioes", BIOES)).toBe("1100110");
    expect(BIOES.map((l) => (endAllowed("bioes", l) ? 1 : 0)).join("")).toBe("1001101");
    expect(endAllowed("iob2", "B-NP")).toBe(true);
  });

  it("none allows everything; labels outside the scheme are unconstrained", () => {
    expect(table("none", IOB).join("")).toBe("1".repeat(25));
    expect(transitionAllowed("iob2", "O", "NP")).toBe(true);
    expect(transitionAllowed("iob2", "NP", "I-NP")).toBe(true);
  });
});

describe("encodingConstraints / withEnd", () => {
  it("flat L×L forbidden transitions and starts match the tables", () => {
    for (const enc of ["iob2", "iob1", "bioes"] as const) {
      const labels = enc === "bioes" ? BIOES : IOB;
      const L = labels.length;
      const c = encodingConstraints(enc, labels)!;
      for (let i = 0; i < L; i++) {
        expect(c.forbiddenStart![i], `${enc} start ${labels[i]}`).toBe(
          transitionAllowed(enc, null, labels[i]!) ? 0 : 1,
        );
        for (let j = 0; j < L; j++) {
          expect(c.forbiddenTransitions![i * L + j]).toBe(
            transitionAllowed(enc, labels[i]!, labels[j]!) ? 0 : 1,
          );
        }
      }
    }
  });

  it("undefined when nothing is forbidden", () => {
    expect(encodingConstraints("none", IOB)).toBeUndefined();
    expect(encodingConstraints("iob2", ["O", "B-NP"])).toBeUndefined();
  });

  it("withEnd masks the last position under bioes only", () => {
    const base = encodingConstraints("bioes", BIOES);
    const c = withEnd(base, "bioes", BIOES, 3)!;
    const L = BIOES.length;
    expect(c.forbiddenTransitions).toBe(base!.forbiddenTransitions);
    expect(Array.from(c.allowed!.subarray(0, 2 * L)).every((v) => v === 1)).toBe(true);
    expect(Array.from(c.allowed!.subarray(2 * L)).join("")).toBe("1001101");
    const iob = encodingConstraints("iob2", IOB);
    expect(withEnd(iob, "iob2", IOB, 3)).toBe(iob);
    expect(withEnd(base, "bioes", BIOES, 0)).toBe(base);
  });
});

describe("constrained Viterbi = best well-formed labeling (exhaustive)", () => {
  for (const enc of ["iob2", "iob1", "bioes"] as const) {
    it(enc, () => {
      const labels = enc === "bioes" ? BIOES.slice(0, 5) : IOB;
      const L = labels.length;
      const rng = new Rng(enc.length * 101);
      const base = encodingConstraints(enc, labels);
      for (let trial = 0; trial < 40; trial++) {
        const T = 1 + rng.int(5);
        const p = randomChain(rng, T, L);
        const c = withEnd(base, enc, labels, T);
        const r = viterbi(p, c);
        const brute = bruteForceWellFormed(p, enc, labels);
        expect(r.energy).toBeCloseTo(brute.energy, 9);
        expect(
          wellFormed(
            enc,
            Array.from(r.labels, (l) => labels[l]!),
          ),
        ).toBe(true);
        // the oracle backend under the same constraints agrees
        expect(exhaustiveMinimize(p, c).energy).toBeCloseTo(brute.energy, 9);
      }
    });
  }

  it("the constraints bind: unconstrained optima are often ill-formed", () => {
    const rng = new Rng(5);
    let illFormed = 0;
    for (let trial = 0; trial < 40; trial++) {
      const p = randomChain(rng, 5, IOB.length);
      const y = viterbi(p).labels;
      if (
        !wellFormed(
          "iob2",
          Array.from(y, (l) => IOB[l]!),
        )
      )
        illFormed++;
    }
    expect(illFormed).toBeGreaterThan(5);
  });
});

describe("a model trained with constrained: true", () => {
  const TRAIN = `
He PRP B-NP
reckons VBZ B-VP
the DT B-NP
current JJ I-NP
account NN I-NP
deficit NN I-NP
will MD B-VP
narrow VB I-VP
. . O

Rockwell NNP B-NP
said VBD B-VP
the DT B-NP
agreement NN I-NP
calls VBZ B-VP
for IN B-PP
it PRP B-NP
to TO B-VP
supply VB I-VP
200 CD B-NP
additional JJ I-NP
shipsets NNS I-NP
. . O
`;
  const sentences = TRAIN.trim()
    .split("\n\n")
    .map((s) => ({ tokens: conllTokens(s) }));
  const chunkSpec = (constrained: boolean) =>
    spec({
      columns: ["w", "pos"],
      templates: ["w[0]", "pos[0]", "pos[-1]|pos[0]"],
      outside: "skip",
      encoding: "iob2",
      constrained,
    });

  it("never outputs O → I-X or a leading I-X, even under random weights", () => {
    const trained = trainTagger({
      spec: chunkSpec(true),
      train: sentences,
      options: { epochs: 10 },
    }).model;
    expect(trained.constraintsFor(4)?.forbiddenTransitions).toBeDefined();
    // training data is tagged back exactly
    for (const s of sentences) expect(trained.tag(s.tokens)).toEqual(s.tokens.map((t) => t[2]));

    // the same tables with random weights: unconstrained decoding goes wrong, constrained never
    const rng = new Rng(99);
    const W = Float64Array.from({ length: trained.W.length }, () => 3 * rng.normal());
    const constrained = new Model(
      trained.spec,
      trained.labels,
      trained.fx,
      W,
      3,
      trained.arch.rows,
    );
    const free = new Model(chunkSpec(false), trained.labels, trained.fx, W, 3, trained.arch.rows);
    expect(free.constraintsFor(4)).toBeUndefined();
    const words = sentences.flatMap((s) => s.tokens);
    let freeBad = 0;
    for (let trial = 0; trial < 60; trial++) {
      const T = 1 + rng.int(8);
      const tokens = Array.from({ length: T }, () => words[rng.int(words.length)]!);
      expect(wellFormed("iob2", constrained.tag(tokens)), tokens.join(" ")).toBe(true);
      if (!wellFormed("iob2", free.tag(tokens))) freeBad++;
    }
    expect(freeBad).toBeGreaterThan(0);
  });

  it("an unconstrained bioes model decodes without constraints", () => {
    const s = spec({ templates: ["w[0]"], encoding: "bioes", constrained: false });
    const fx = new FeatureExtractor(s);
    const set = buildTrainingSet(fx, [{ tokens: conllTokens("a B-NP\nb E-NP") }]);
    const m = new Model(s, set.labels.names, fx, null, 2);
    expect(m.constraintsFor(3)).toBeUndefined();
  });
});
