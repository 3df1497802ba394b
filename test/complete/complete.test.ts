import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lbl, zeroParams } from "../../src/complete/lbl.ts";
import {
  accuracy,
  candidateEnergy,
  chooseCandidate,
  parseLmFormat,
} from "../../src/complete/msr.ts";
import { AliasTable } from "../../src/complete/noise.ts";
import {
  BOUNDARY_ID,
  countTokens,
  encode,
  FIRST_WORD,
  splitSentences,
  stripGutenberg,
  tokenize,
  UNK_ID,
  Vocab,
} from "../../src/complete/text.ts";
import { logPartition, topK } from "../../src/complete/topk.ts";
import {
  COMPLETION_DEFAULTS,
  nceTerm,
  noiseWeights,
  trainCompletion,
  trainOn,
} from "../../src/complete/train.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { makeLoss } from "../../src/loss/index.ts";
import { run } from "../cli/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "nadir-complete-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ETEXT = [
  "The Project Gutenberg Etext of A Tiny Tale",
  "",
  "**Welcome To The World of Free Plain Vanilla Electronic Texts**",
  "",
  "*****These Etexts Are Prepared By Thousands of Volunteers!*****",
  "",
  "**The Legal Small Print**",
  "disclaimer text about royalties",
  "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.07.02.92*END*",
  "",
  "The cat sat on the mat; the girl's dog -- barked!",
  '"Hush," said she.',
  "",
  "End of the Project Gutenberg Etext of A Tiny Tale",
  "more trailing boilerplate",
].join("\r\n");

const TEXT =
  "the cat ate the fish . the dog ate the bone . the cat drank the milk . the dog chased the cat . " +
  "the cat ate the mouse . the dog ate the meat . the bird ate the seed . the cat sat on the mat . ";

function tinyModel(seed = 3): Lbl {
  const docs = [tokenize(TEXT)];
  const vocab = Vocab.build(countTokens(docs), 50);
  // float64 parameters: exact comparisons and finite differences
  return new Lbl(vocab, 5, 2, 2, zeroParams(vocab.size, 5, 4, "f64")).init(
    new Rng(seed),
    undefined,
    0.5,
  );
}

describe("text", () => {
  it("strips the Gutenberg header, licence and trailing boilerplate (CRLF)", () => {
    const body = stripGutenberg(ETEXT);
    expect(body).not.toMatch(/Gutenberg|SMALL PRINT|royalties|boilerplate|\r/);
    expect(body).toContain("The cat sat on the mat");
    expect(body).toContain('"Hush," said she.');
    expect(stripGutenberg("no header\r\nhere")).toBe("no header\nhere");
  });

  it("tokenizes to lower-case words and single punctuation marks", () => {
    expect(tokenize(stripGutenberg(ETEXT))).toEqual(
      'the cat sat on the mat ; the girl\'s dog - - barked ! " hush , " said she .'.split(" "),
    );
    expect(tokenize("Mr. _Holmes_ 1895")).toEqual(["mr", ".", "holmes", "1895"]);
  });

  it("splits sentences at . ! ? (with a closing quote)", () => {
    expect(splitSentences(tokenize('He ran. "Stop!" she cried. Why? no end'))).toEqual([
      ["he", "ran", "."],
      ['"', "stop", "!", '"'],
      ["she", "cried", "."],
      ["why", "?"],
      ["no", "end"],
    ]);
  });

  it("builds a frequency-ranked vocabulary with <unk> and <s>, and encodes with padding", () => {
    const v = Vocab.build(countTokens([["b", "a", "b", "c", "b", "a"]]), 2);
    expect(v.words).toEqual(["<unk>", "<s>", "b", "a"]);
    expect(Vocab.build(countTokens([["b", "a", "b", "c", "b", "a"]]), 10, 2).words).toEqual([
      "<unk>",
      "<s>",
      "b",
      "a",
    ]);
    expect(v.id("c")).toBe(UNK_ID);
    expect(Array.from(encode([["a", "c"], ["b"]], v, 1))).toEqual([
      BOUNDARY_ID,
      3,
      UNK_ID,
      BOUNDARY_ID,
      2,
      BOUNDARY_ID,
    ]);
  });
});

describe("log-bilinear energy", () => {
  it("E = −(r·q_w + b_w) with r = Σ W_i ⊙ R[c_i]", () => {
    const m = tinyModel();
    const ctx = Int32Array.from([2, 3, 4, 5]);
    const D = m.D;
    const w = 6;
    let s = m.p.b[w]!;
    for (let d = 0; d < D; d++) {
      let r = 0;
      for (let i = 0; i < 4; i++) r += m.p.W[i * D + d]! * m.p.R[ctx[i]! * D + d]!;
      s += r * m.p.Q[w * D + d]!;
    }
    expect(m.energy(ctx, w)).toBeCloseTo(-s, 12);
    const E = m.energies(ctx, new Float64Array(m.V));
    expect(E[w]).toBeCloseTo(-s, 12);
    expect(E[UNK_ID]).toBe(Number.POSITIVE_INFINITY);
    const EB = new Float64Array(2 * m.V);
    m.energiesBatch(Int32Array.from([...ctx, 5, 4, 3, 2]), 2, EB, new Float64Array(2 * D));
    expect(EB[w]).toBeCloseTo(-s, 12);
    expect(EB[m.V + w]).toBeCloseTo(m.energy(Int32Array.from([5, 4, 3, 2]), w), 12);
  });

  it("its gradient matches central finite differences (rel. err < 1e-5)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
        const m = tinyModel(seed);
        const rng = new Rng(seed + 7);
        m.p.W.forEach((_, i) => {
          m.p.W[i] = 1 + 0.5 * rng.normal();
        });
        // a repeated context word and a weighted sum of energies of three words
        const ctx = Int32Array.from([2 + rng.int(m.V - 2), 4, 4, 2 + rng.int(m.V - 2)]);
        const ws = Int32Array.from([2 + rng.int(m.V - 2), 2 + rng.int(m.V - 2), 3]);
        const gs = Float64Array.from([1.3, -0.7, 0.4]);
        const G = zeroParams(m.V, m.D, m.C, "f64");
        m.gradient(ctx, ws, gs, 3, G);
        const L = (): number => {
          let s = 0;
          for (let k = 0; k < 3; k++) s += gs[k]! * m.energy(ctx, ws[k]!);
          return s;
        };
        const h = 1e-5;
        for (const key of ["R", "Q", "b", "W"] as const) {
          const a = m.p[key];
          for (let i = 0; i < a.length; i++) {
            const x = a[i]!;
            a[i] = x + h;
            const up = L();
            a[i] = x - h;
            const dn = L();
            a[i] = x;
            const num = (up - dn) / (2 * h);
            const ana = G[key][i]!;
            const err = Math.abs(num - ana) / Math.max(1, Math.abs(num), Math.abs(ana));
            if (err >= 1e-5) throw new Error(`${key}[${i}]: numeric ${num} vs analytic ${ana}`);
          }
        }
      }),
      { seed: 42, numRuns: 10 },
    );
  });

  it("a hinge update lowers the correct word's energy relative to the most offending one", () => {
    const m = tinyModel(11);
    const ctx = Int32Array.from([2, 3, 4, 5]);
    const E = m.energies(ctx, new Float64Array(m.V));
    const c = 7;
    let off = -1;
    for (let w = FIRST_WORD; w < m.V; w++) if (w !== c && (off < 0 || E[w]! < E[off]!)) off = w;
    const gap0 = E[c]! - E[off]!;
    const acc = zeroParams(m.V, m.D, m.C);
    m.adagradStep(ctx, Int32Array.from([c, off]), Float64Array.from([1, -1]), 2, acc, 0.05);
    expect(m.energy(ctx, c) - m.energy(ctx, off)).toBeLessThan(gap0);
  });

  it("the NCE term is the loss table's log loss on data vs noise: NCE's value, and its derivative matches finite differences (rel. err < 1e-5)", () => {
    const out = new Float64Array(1);
    const log = makeLoss("log");
    const softplus = (x: number): number =>
      x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
    fc.assert(
      fc.property(
        fc.double({ min: -8, max: 8, noNaN: true }),
        fc.double({ min: -12, max: 4, noNaN: true }),
        fc.boolean(),
        (E, logKq, data) => {
          const value = nceTerm(log, E, logKq, data, out);
          // Mnih & Teh's NCE with s = −E − log(k q(w)): softplus(−s) for data, softplus(s) for noise
          const s = -E - logKq;
          expect(value).toBeCloseTo(data ? softplus(-s) : softplus(s), 10);
          const h = 1e-6;
          const num =
            (nceTerm(log, E + h, logKq, data, new Float64Array(1)) -
              nceTerm(log, E - h, logKq, data, new Float64Array(1))) /
            (2 * h);
          expect(Math.abs(num - out[0]!) / Math.max(1, Math.abs(num))).toBeLessThan(1e-5);
          // data words are pushed down (∂L/∂E > 0), noise words up
          expect(data ? out[0]! > 0 : out[0]! < 0).toBe(true);
        },
      ),
      { seed: 5, numRuns: 500 },
    );
  });

  it("training with hinge, nll (exact) and nll (NCE) lowers the loss on a tiny text", () => {
    for (const [loss, noise] of [
      ["hinge", 0],
      ["nll", 0],
      ["nll", 5],
    ] as const) {
      const m = tinyModel(5);
      const ids = encode([tokenize(TEXT)], m.vocab, 2);
      const freq = new Float64Array(m.V).fill(1);
      const noiseW = noiseWeights(freq, 0.75);
      const o = { ...COMPLETION_DEFAULTS, loss, noise, minutes: 0, maxSteps: 10_000, lr: 0.1 };
      const first = trainOn(m, ids, o, new Rng(1), noiseW);
      const later = trainOn(m, ids, o, new Rng(2), noiseW);
      expect(later.avgLoss).toBeLessThan(first.avgLoss);
      expect(later.steps).toBe(10_000);
    }
  });

  it("NCE learns self-normalized energies that put the right word first", () => {
    const docs = [tokenize(TEXT.repeat(4))];
    const vocab = Vocab.build(countTokens(docs), 100);
    const m = new Lbl(vocab, 8, 2, 2).init(new Rng(2));
    const ids = encode(splitSentences(docs[0]!), vocab, 2);
    const freq = new Float64Array(vocab.size);
    for (const t of docs[0]!) freq[vocab.id(t)]! += 1;
    const o = { ...COMPLETION_DEFAULTS, noise: 10, minutes: 0, maxSteps: 40_000, lr: 0.1 };
    trainOn(m, ids, o, new Rng(3), noiseWeights(freq, 0.75));
    // "the dog ___ the bone": "ate" has the lowest energy, and Σ_w exp(−E) ≈ 1
    const E = m.energies(m.context(["the", "dog"], ["the", "bone"]), new Float64Array(m.V));
    expect(topK(E, 1)[0]!.id).toBe(vocab.id("ate"));
    expect(Math.abs(logPartition(E, 1))).toBeLessThan(0.5);
  });

  it("trains on two threads sharing the parameters (Hogwild!)", async () => {
    const r = await trainCompletion([tokenize(TEXT.repeat(4))], {
      vocabSize: 100,
      dim: 8,
      left: 2,
      right: 2,
      minutes: 0,
      maxSteps: 40_000,
      threads: 2,
      seed: 6,
    });
    expect(r.steps).toBe(40_000);
    expect(r.model.meta.threads).toBe(2);
    const E = r.model.energies(
      r.model.context(["the", "dog"], ["the", "bone"]),
      new Float64Array(r.model.V),
    );
    expect(r.model.vocab.words[topK(E, 1)[0]!.id]).toBe("ate");
  });
});

describe("noise sampling (alias method)", () => {
  it("draws each word with its probability", () => {
    const w = [0, 0, 5, 1, 0.5, 3, 0.25];
    const t = new AliasTable(w);
    const rng = new Rng(9);
    const n = 200_000;
    const hits = new Float64Array(w.length);
    for (let i = 0; i < n; i++) hits[t.sample(rng)]! += 1;
    const tot = w.reduce((a, b) => a + b, 0);
    w.forEach((x, i) => {
      expect(Math.abs(hits[i]! / n - x / tot)).toBeLessThan(0.005);
    });
    expect(hits[0]).toBe(0);
    expect(() => new AliasTable([0, 0])).toThrow(RangeError);
  });
});

describe("bounded top-k", () => {
  it("equals a full sort (energy, then id)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -20, max: 20 }), { minLength: 0, maxLength: 60 }),
        fc.integer({ min: 1, max: 70 }),
        (xs, k) => {
          const e = Float64Array.from(xs, (x) => x / 4);
          const got = topK(e, k).map((s) => s.id);
          const want = [...e.keys()].sort((a, b) => e[a]! - e[b]! || a - b).slice(0, k);
          expect(got).toEqual(want);
          const sub = Int32Array.from([...e.keys()].filter((i) => i % 3 === 0));
          const wantSub = [...sub].sort((a, b) => e[a]! - e[b]! || a - b).slice(0, k);
          expect(topK(e, k, sub).map((s) => s.id)).toEqual(wantSub);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });

  it("logPartition is log Σ exp(−βE), skipping +Infinity", () => {
    const e = Float64Array.from([Number.POSITIVE_INFINITY, 1, 2, 3]);
    expect(logPartition(e, 2)).toBeCloseTo(
      Math.log(Math.exp(-2) + Math.exp(-4) + Math.exp(-6)),
      12,
    );
  });
});

describe("model file", () => {
  it("round-trips (float32 exactly, int8 rows within their scale) and rejects corruption with E_MODEL", () => {
    const m = tinyModel(9);
    m.meta = { loss: "hinge" };
    const path = join(dir, "m.lbl");
    m.save(path);
    const back = Lbl.load(path);
    expect(back.vocab.words).toEqual(m.vocab.words);
    expect(back.meta).toEqual({ loss: "hinge" });
    for (const k of ["R", "Q", "b", "W"] as const)
      expect(Array.from(back.p[k])).toEqual(Array.from(Float32Array.from(m.p[k])));
    const small = join(dir, "m8.lbl");
    m.save(small, "i8");
    const q = Lbl.load(small);
    expect(readFileSync(small).length).toBeLessThan(readFileSync(path).length);
    for (const k of ["R", "Q"] as const)
      for (let w = 0; w < m.V; w++) {
        const row = m.p[k].subarray(w * m.D, (w + 1) * m.D);
        const max = Math.max(...Array.from(row, Math.abs));
        for (let d = 0; d < m.D; d++)
          expect(Math.abs(q.p[k][w * m.D + d]! - row[d]!)).toBeLessThanOrEqual(max / 254 + 1e-7);
      }
    const ctx = Int32Array.from([2, 3, 4, 5]);
    expect(Math.abs(q.energy(ctx, 6) - m.energy(ctx, 6))).toBeLessThan(0.05);
    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0xff;
    const cases: [string, Uint8Array][] = [
      ["flipped", flipped],
      ["truncated", bytes.subarray(0, bytes.length - 8)],
      ["header", Buffer.concat([bytes.subarray(0, 20), Buffer.from("garbage")])],
      ["empty", new Uint8Array(0)],
    ];
    for (const [name, data] of cases) {
      const p = join(dir, `${name}.lbl`);
      writeFileSync(p, data);
      expect(() => Lbl.load(p)).toThrow(NadirError);
      try {
        Lbl.load(p);
      } catch (e) {
        expect((e as NadirError).code).toBe("E_MODEL");
      }
    }
    expect(() => Lbl.load(join(dir, "missing.lbl"))).toThrow(/cannot read model/);
  });
});

describe("MSR lm_format", () => {
  it("finds the candidate that differs and scores by lowest energy", () => {
    const q = ["write", "migrate", "climb", "swear", "contribute"]
      .map((w) => `<s> I have seen it on him , and could ${w} to it </s> `)
      .join("\n");
    const qs = parseLmFormat(q, "<s> I have seen it on him , and could swear to it </s> \n");
    expect(qs).toHaveLength(1);
    expect(qs[0]!.candidates).toEqual(["write", "migrate", "climb", "swear", "contribute"]);
    expect(qs[0]!.answer).toBe(3);
    expect(qs[0]!.left.slice(-2)).toEqual(["and", "could"]);
    expect(qs[0]!.right).toEqual(["to", "it"]);
    const br = parseLmFormat(["a [b] c", "a [d] c", "a [e] c", "a [f] c", "a [g] c"].join("\n"));
    expect(br[0]!.candidates).toEqual(["b", "d", "e", "f", "g"]);
    expect(() => parseLmFormat("a b\nc d\n")).toThrow(/blocks of 5/);
    const m = tinyModel();
    expect(accuracy(m, qs)).toBeGreaterThanOrEqual(0);
  });

  it("scores a sentence by the energies of every position whose window holds the blank", () => {
    const m = tinyModel(13);
    const q = parseLmFormat(
      ["ate", "sat", "drank", "chased", "fish"]
        .map((w) => `<s> the big cat ${w} the fish today </s> `)
        .join("\n"),
    )[0]!;
    for (const c of q.candidates) {
      const w = m.vocab.id(c);
      // by hand: positions 1..5 (the blank is 3, windows reach 2 words each way)
      const sent = ["the", "big", "cat", c, "the", "fish", "today"].map((t) => m.vocab.id(t));
      let want = 0;
      for (let j = 1; j <= 5; j++) {
        if (sent[j]! < FIRST_WORD) continue;
        const ctx = Int32Array.from([j - 2, j - 1, j + 1, j + 2], (i) =>
          i >= 0 && i < sent.length ? sent[i]! : BOUNDARY_ID,
        );
        want += m.energy(ctx, sent[j]!);
      }
      expect(candidateEnergy(m, q, w, "sentence")).toBeCloseTo(want, 10);
      expect(candidateEnergy(m, q, w, "blank")).toBeCloseTo(
        m.energy(m.context(q.left, q.right), w),
        12,
      );
    }
    const es = q.candidates.map((c) => candidateEnergy(m, q, m.vocab.id(c), "sentence"));
    expect(chooseCandidate(m, q, "sentence")).toBe(es.indexOf(Math.min(...es)));
  });
});

describe("nadir complete", () => {
  const path = join(dir, "tiny.lbl");
  beforeAll(async () => {
    const trained = await trainCompletion([tokenize(TEXT.repeat(3))], {
      loss: "nll",
      vocabSize: 100,
      dim: 8,
      left: 2,
      right: 2,
      minutes: 0,
      maxSteps: 20_000,
      lr: 0.1,
      seed: 4,
    });
    trained.model.save(path);
  });

  it("prints the k lowest-energy words with energies and probabilities", async () => {
    const r = await run(["complete", "The dog ___ the bone .", "--model", path, "-k", "3"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("word\tenergy\tprobability");
    expect(lines).toHaveLength(4);
    expect(lines[1]!.split("\t")[0]).toBe("ate");
    const es = lines.slice(1).map((l) => Number(l.split("\t")[1]));
    expect(es).toEqual([...es].sort((a, b) => a - b));
  });

  it("restricts to --choices and normalizes over them at --beta (JSON)", async () => {
    const r = await run([
      "complete",
      "the cat ___ the milk",
      "--model",
      path,
      "--choices",
      "drank,chased,sat",
      "--beta",
      "0.5",
      "-k",
      "5",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { completions: { word: string; probability: number }[] };
    expect(out.completions.map((c) => c.word).sort()).toEqual(["chased", "drank", "sat"]);
    expect(out.completions.reduce((s, c) => s + c.probability, 0)).toBeCloseTo(1, 10);
  });

  it("loads the shipped model when --model is not given", async () => {
    // models/completion.lbl: trained on the Gutenberg text (scripts/bench/completion.ts --ship),
    // found through the module's own path, not the working directory
    const r = await run(["complete", "Mr. Sherlock ___ was seated at the table .", "-k", "3"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[1]!.split("\t")[0]).toBe("holmes");
    const pick = async (sentence: string, choices: string): Promise<string> => {
      const out = await run(["complete", sentence, "--choices", choices, "-k", "1", "--json"]);
      expect(out.code).toBe(0);
      return (JSON.parse(out.stdout) as { completions: { word: string }[] }).completions[0]!.word;
    };
    expect(await pick("I beg your ___ , sir .", "pardon,money,house")).toBe("pardon");
    // a sentence that stops at the blank is closed with "." (not predicted to end there)
    const open = await run(["complete", "The cat ate the ___", "-k", "3", "--json"]);
    const words = (JSON.parse(open.stdout) as { completions: { word: string }[] }).completions;
    expect(words.map((w) => w.word)).not.toContain(".");
  });

  it("reports a missing blank, an unknown choice and a corrupt model", async () => {
    expect((await run(["complete", "no blank here", "--model", path])).stderr).toMatch(/blank/);
    expect(
      (await run(["complete", "a ___", "--model", path, "--choices", "zebra"])).stderr,
    ).toMatch(/zebra/);
    const bad = join(dir, "bad.lbl");
    writeFileSync(bad, "NADIR-LBL 1\nxxxx");
    const r = await run(["complete", "a ___", "--model", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: .*not a valid completion model/);
  });
});
