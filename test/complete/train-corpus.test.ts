/**
 * Completion training from a directory of (gzipped) texts, its loss taken from
 * the loss table, and `nadir complete train` end to end on a generated text.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { corpusFiles, encodeCorpus, readCorpusText } from "../../src/complete/corpus.ts";
import { Lbl } from "../../src/complete/lbl.ts";
import {
  countTokens,
  encode,
  splitSentences,
  stripGutenberg,
  tokenize,
  Vocab,
} from "../../src/complete/text.ts";
import { topK } from "../../src/complete/topk.ts";
import {
  COMPLETION_DEFAULTS,
  checkNceLoss,
  keepProbabilities,
  nceTerm,
  noiseWeights,
  trainEncoded,
  trainOn,
  unsubsample,
  warmStart,
} from "../../src/complete/train.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { makeLoss } from "../../src/loss/index.ts";
import { expectOneError, run } from "../cli/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "nadir-complete-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEADER = [
  "The Project Gutenberg Etext of A Tiny Tale",
  "**The Legal Small Print**",
  "disclaimer text about royalties zebra zebra zebra",
  "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.07.02.92*END*",
  "",
].join("\r\n");

/** A generated text: subject verb object sentences with a clear pattern. */
function story(seed: number, n: number): string {
  const rng = new Rng(seed);
  const animals = ["cat", "dog", "bird", "horse"];
  const food: Record<string, string[]> = {
    cat: ["fish", "milk", "mouse"],
    dog: ["bone", "meat"],
    bird: ["seed", "worm"],
    horse: ["hay", "oats"],
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = animals[rng.int(animals.length)]!;
    const f = food[a]!;
    out.push(`The ${a} ate the ${f[rng.int(f.length)]!} .`);
  }
  return out.join(" ");
}

function writeCorpus(name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, "A.TXT"), HEADER + story(1, 300));
  writeFileSync(join(d, "b.txt.gz"), gzipSync(Buffer.from(HEADER + story(2, 300), "latin1")));
  writeFileSync(join(d, "notes.md"), "not a text of the corpus");
  return d;
}

describe("a corpus read file by file (plain and gzipped)", () => {
  it("lists *.txt and *.txt.gz, reads .gz, and encodes as the in-memory path does", () => {
    const d = writeCorpus("enc");
    const files = corpusFiles(d);
    expect(files.map((f) => f.slice(d.length + 1))).toEqual(["A.TXT", "b.txt.gz"]);
    expect(readCorpusText(files[1]!)).toBe(HEADER + story(2, 300));
    const c = encodeCorpus(files, { vocabSize: 10, minCount: 1, pad: 3, sentences: true });
    const docs = files.map((f) => tokenize(stripGutenberg(readCorpusText(f))));
    expect(c.tokens).toBe(docs[0]!.length + docs[1]!.length);
    // the licence text was stripped: its words are not counted
    expect(c.vocab.has("zebra")).toBe(false);
    const vocab = Vocab.build(countTokens(docs), 10, 1);
    expect(c.vocab.words).toEqual(vocab.words);
    expect(Array.from(c.ids)).toEqual(
      Array.from(
        encode(
          docs.flatMap((d) => splitSentences(d)),
          vocab,
          3,
        ),
      ),
    );
    for (let w = 2; w < vocab.size; w++)
      expect(c.freq[w]).toBe(countTokens(docs).get(vocab.words[w]!));
  });

  it("fails with E_IO on a missing directory, one without texts, or a corrupt .gz", () => {
    const err = (f: () => unknown): NadirError => {
      try {
        f();
      } catch (e) {
        return e as NadirError;
      }
      throw new Error("no error");
    };
    expect(err(() => corpusFiles(join(dir, "none"))).code).toBe("E_IO");
    const empty = join(dir, "empty");
    mkdirSync(empty);
    expect(err(() => corpusFiles(empty)).code).toBe("E_IO");
    const bad = join(dir, "bad.txt.gz");
    writeFileSync(bad, "not gzip");
    expect(err(() => readCorpusText(bad)).code).toBe("E_IO");
  });
});

describe("the completion loss comes from the loss table", () => {
  it("each table row on data vs noise has derivatives matching finite differences", () => {
    const out = new Float64Array(1);
    const tmp = new Float64Array(1);
    for (const name of ["log", "hinge", "mce"] as const) {
      const loss = makeLoss(name);
      fc.assert(
        fc.property(
          fc.double({ min: -6, max: 6, noNaN: true }),
          fc.double({ min: -8, max: 3, noNaN: true }),
          fc.boolean(),
          (E, logKq, data) => {
            // stay off the hinge's kink
            fc.pre(Math.abs(1 + (data ? E + logKq : -logKq - E)) > 1e-3);
            const value = nceTerm(loss, E, logKq, data, out);
            // the table's own value at the data-vs-noise energies
            const EC = data ? E : -logKq;
            const EI = data ? -logKq : E;
            expect(value).toBe(loss.evaluate(EC, EI).value);
            const h = 1e-6;
            const num =
              (nceTerm(loss, E + h, logKq, data, tmp) - nceTerm(loss, E - h, logKq, data, tmp)) /
              (2 * h);
            expect(Math.abs(num - out[0]!) / Math.max(1, Math.abs(num)), name).toBeLessThan(1e-5);
          },
        ),
        { seed: 11, numRuns: 300 },
      );
    }
  });

  it("swapping the table's loss changes training; a loss without E_I is refused", () => {
    const docs = [tokenize(story(3, 200))];
    const vocab = Vocab.build(countTokens(docs), 100);
    const ids = encode(splitSentences(docs[0]!), vocab, 4);
    const freq = new Float64Array(vocab.size).fill(1);
    const trained = (nceLoss: "log" | "hinge" | "mce"): Lbl => {
      const m = new Lbl(vocab, 8, 4, 4).init(new Rng(2));
      const o = { ...COMPLETION_DEFAULTS, nceLoss, minutes: 0, maxSteps: 20_000, lr: 0.1 };
      const r = trainOn(m, ids, o, new Rng(3), noiseWeights(freq, 0.75));
      expect(r.model.meta.nceLoss).toBe(nceLoss);
      return m;
    };
    const log = trained("log");
    const log2 = trained("log");
    const hinge = trained("hinge");
    expect(Array.from(log2.p.Q)).toEqual(Array.from(log.p.Q)); // reproducible
    expect(Array.from(hinge.p.Q)).not.toEqual(Array.from(log.p.Q));
    expect(Array.from(trained("mce").p.Q)).not.toEqual(Array.from(log.p.Q));
    // both still learn the pattern: "the dog ate the ___ ." → bone or meat
    for (const m of [log, hinge]) {
      const E = m.energies(m.context(["the", "dog", "ate", "the"], ["."]), new Float64Array(m.V));
      expect(["bone", "meat"]).toContain(m.vocab.words[topK(E, 1)[0]!.id]);
    }
    expect(() => checkNceLoss("energy")).toThrow(/not a loss of E_C and E_I/);
    expect(() => checkNceLoss("nll")).toThrow(NadirError);
  });

  it("subsampling keeps rare targets, thins frequent ones, and its bias correction is −log keep", async () => {
    const freq = Float64Array.from([0, 0, 900, 90, 9, 1]);
    const keep = keepProbabilities(freq, 0.01)!;
    expect(keep[5]).toBe(1);
    expect(keep[4]).toBe(1);
    expect(keep[2]).toBeCloseTo(Math.sqrt((0.01 * 1000) / 900), 12);
    expect(keepProbabilities(freq, 0)).toBeNull();
    const c = encodeCorpus(corpusFiles(writeCorpus("sub")), {
      vocabSize: 100,
      minCount: 1,
      pad: 4,
      sentences: true,
    });
    const opts = { dim: 8, left: 4, right: 4, minutes: 0, maxSteps: 5_000, threads: 1, seed: 3 };
    const plain = await trainEncoded(c, opts);
    const sub = await trainEncoded(c, { ...opts, subsample: 0.001, adagrad: "row" });
    expect(sub.model.meta.subsample).toBe(0.001);
    expect(Array.from(sub.model.p.Q)).not.toEqual(Array.from(plain.model.p.Q));
    // the bias of "the" (the most frequent word) was raised back by −log keep > 0
    const k = keepProbabilities(c.freq, 0.001)!;
    expect(k[c.vocab.id("the")]).toBeLessThan(1);
    const before = Float64Array.from(sub.model.p.b);
    const kk = Float64Array.from(k);
    kk[2] = 1; // a word kept always keeps its bias
    unsubsample(sub.model, kk);
    for (let w = 2; w < kk.length; w++)
      expect(sub.model.p.b[w]! - before[w]!).toBeCloseTo(-Math.log(kk[w]!), 5);
    expect(sub.model.p.b[2]).toBe(before[2]);
  });

  it("warm-starts from a model with another vocabulary: shared words' rows are copied", async () => {
    const c = encodeCorpus(corpusFiles(writeCorpus("warm")), {
      vocabSize: 100,
      minCount: 1,
      pad: 2,
      sentences: true,
    });
    const small = Vocab.build(
      new Map([
        ["cat", 5],
        ["hay", 3],
        ["unseen", 2],
      ]),
      10,
    );
    const old = new Lbl(small, 8, 2, 2).init(new Rng(9));
    const m = warmStart(new Lbl(c.vocab, 8, 2, 2).init(new Rng(1)), old);
    const row = (x: Lbl, w: string) =>
      Array.from(x.p.Q.subarray(x.vocab.id(w) * 8, x.vocab.id(w) * 8 + 8));
    expect(row(m, "cat")).toEqual(row(old, "cat"));
    expect(row(m, "hay")).toEqual(row(old, "hay"));
    expect(row(m, "dog")).not.toEqual(row(old, "cat"));
    expect(Array.from(m.p.W)).toEqual(Array.from(old.p.W));
    expect(() => warmStart(new Lbl(c.vocab, 4, 2, 2), old)).toThrow(/warm start/);
    const r = await trainEncoded(c, { minutes: 0, maxSteps: 1000, accInit: 1 }, old);
    expect(r.model.D).toBe(8);
    expect(r.model.vocab.size).toBe(c.vocab.size);
  });

  it("trains from an encoded corpus on two threads", async () => {
    const c = encodeCorpus(corpusFiles(writeCorpus("threads")), {
      vocabSize: 100,
      minCount: 1,
      pad: 2,
      sentences: true,
    });
    const r = await trainEncoded(c, {
      dim: 8,
      left: 2,
      right: 2,
      minutes: 0,
      maxSteps: 20_000,
      threads: 2,
    });
    expect(r.steps).toBe(20_000);
    expect(r.model.meta.threads).toBe(2);
  });
});

describe("nadir complete train", () => {
  it("trains a tiny model on a generated text that loads and answers", async () => {
    const d = writeCorpus("cli");
    const model = join(dir, "cli.lbl");
    const r = await run([
      "complete",
      "train",
      "--corpus",
      d,
      "--max-steps",
      "30000",
      "--threads",
      "1",
      "--dim",
      "8",
      "--window",
      "3",
      "--min-count",
      "1",
      "--model",
      model,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/read 2 files/);
    expect(r.stderr).toMatch(/wrote .*cli\.lbl: 30000 steps/);
    const m = Lbl.load(model);
    expect(m.left).toBe(3);
    expect(m.meta.nceLoss).toBe("log");
    const a = await run([
      "complete",
      "The horse ate the ___ .",
      "--model",
      model,
      "--choices",
      "hay,bone,fish",
      "--json",
    ]);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).completions[0].word).toBe("hay");
    // a warm start from that model, written as float32, with a topic expert multiplied in
    const vectors = join(dir, "topic.txt");
    writeFileSync(vectors, "3 2 1\nhay 3 1\nhorse 2 1\nbone 0 4\n");
    const warm = join(dir, "warm.lbl");
    const w = await run([
      "complete",
      "train",
      "--corpus",
      d,
      "--init",
      model,
      "--acc-init",
      "1",
      "--max-steps",
      "2000",
      "--threads",
      "1",
      "--min-count",
      "1",
      "--dtype",
      "f32",
      "--model",
      warm,
      "--topic",
      vectors,
      "--topic-lambda",
      "2",
      "--topic-skip",
      "0",
      "--quiet",
    ]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toBe("");
    const wm = Lbl.load(warm);
    expect(wm.D).toBe(8);
    expect(wm.meta.init).toBeDefined();
    expect(wm.topic).toMatchObject({ dim: 2, lambda: 2, skip: 0 });
    const hay = wm.vocab.id("hay");
    expect(wm.topic!.T[hay * 2]! / wm.topic!.T[hay * 2 + 1]!).toBeCloseTo(3, 1);
  });

  it("prints its own options and fails with one ERROR line", async () => {
    const h = await run(["complete", "train", "--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/--corpus/);
    expect(h.stdout).toMatch(/--nce-loss/);
    expectOneError(await run(["complete", "train", "--minutes", "1"]), "--corpus");
    expectOneError(
      await run(["complete", "train", "--corpus", join(dir, "missing"), "--minutes", "1"]),
      "cannot read corpus",
    );
    expectOneError(
      await run(["complete", "train", "--corpus", dir, "--nce-loss", "nope"]),
      "nce-loss",
    );
    expectOneError(
      await run([
        "complete",
        "train",
        "--corpus",
        writeCorpus("e"),
        "--nce-loss",
        "energy",
        "--max-steps",
        "10",
      ]),
      "not a loss of E_C and E_I",
    );
  });
});
