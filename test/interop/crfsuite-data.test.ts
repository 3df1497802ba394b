/**
 * CRFsuite data files: the parser (escapes, values, declarations, errors at
 * file:line, a seeded fuzzer), real-valued attributes in the linear-chain
 * energy (value × weight, gradients by finite differences), and training,
 * tagging and evaluating such files from the command line.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Tagger } from "../../src/api/tagger.ts";
import {
  buildTrainingSet,
  FeatureExtractor,
  type Instance,
} from "../../src/architecture/features.ts";
import { LinearChain, observedRows } from "../../src/architecture/linear-chain.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { decodeContainer, encodeContainer } from "../../src/core/container.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import {
  CrfsuiteParser,
  formatAttributeField,
  parseAttributeField,
  parseCrfsuiteData,
} from "../../src/data/crfsuite.ts";
import { parseText } from "../../src/data/lines.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { forwardBackward, freeEnergy } from "../../src/inference/forward-backward.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import { makeLoss } from "../../src/loss/index.ts";
import { EnergyObjective } from "../../src/optimize/objective.ts";
import {
  type ObjectiveConfig,
  ParallelObjective,
  type ShardEvaluator,
} from "../../src/optimize/parallel.ts";
import { Model } from "../../src/tagger/model.ts";
import { run } from "../cli/harness.ts";

const fixtures = new URL("../fixtures/crfsuite/", import.meta.url).pathname;

describe("CRFsuite data parser", () => {
  it("reads labels, escaped names and values; skips declarations; blank lines end sequences", () => {
    const text = "B\tw=a\\:b\tx:0.5\ty\\\\z:2\n\tw=c\t\n@weight:2\n\n\nO\tlen:-1e-1\n";
    const s = parseCrfsuiteData(text, "f.txt");
    expect(s).toHaveLength(2);
    expect(s[0]!.tokens).toEqual([
      ["B", "w=a\\:b", "x:0.5", "y\\\\z:2"],
      ["", "w=c"],
    ]);
    expect(s[1]!.firstLine).toBe(6);
    expect(parseAttributeField("w=a\\:b")).toEqual({ name: "w=a:b", value: 1 });
    expect(parseAttributeField("y\\\\z:2")).toEqual({ name: "y\\z", value: 2 });
    expect(parseAttributeField("len:-1e-1")).toEqual({ name: "len", value: -0.1 });
    expect(parseAttributeField("a:b:1").value).toBeNaN(); // first unescaped ':' starts the value
  });

  it("reports a bad value or an empty field at file:line with what was expected", () => {
    const e1 = (() => {
      try {
        parseCrfsuiteData("B\ta\n\nO\tw:abc\n", "f.txt");
      } catch (e) {
        return e as NadirError;
      }
    })();
    expect(e1).toBeInstanceOf(NadirError);
    expect(e1!.code).toBe("E_PARSE");
    expect(e1!.message).toContain("f.txt:3");
    expect(e1!.message).toContain("finite number");
    expect(() => parseCrfsuiteData("B\ta\t\tb\n", "g.txt")).toThrow(/g\.txt:1: .*empty field/);
    expect(() => parseCrfsuiteData("B\t:1\n", "g.txt")).toThrow(/g\.txt:1: .*name before ':'/);
    expect(() => parseCrfsuiteData("B\tx:inf\n", "g.txt")).toThrow(/finite/);
  });

  it("fuzz: any text parses or fails with E_PARSE; fields round-trip through formatAttributeField", () => {
    const alphabet = fc.constantFrom(
      "a",
      "b",
      ":",
      "\\",
      "\t",
      "\n",
      "1",
      ".",
      "-",
      "e",
      "@",
      " ",
      "é",
      "\r",
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 80 }), (chars) => {
        let sentences: ReturnType<typeof parseCrfsuiteData>;
        try {
          sentences = parseCrfsuiteData(chars.join(""), "fuzz.txt");
        } catch (e) {
          expect(e).toBeInstanceOf(NadirError);
          expect((e as NadirError).code).toBe("E_PARSE");
          expect((e as NadirError).message).toMatch(/^fuzz\.txt:\d+: /);
          return;
        }
        for (const s of sentences)
          for (const row of s.tokens)
            for (const f of row.slice(1)) {
              const a = parseAttributeField(f);
              expect(Number.isFinite(a.value)).toBe(true);
              expect(parseAttributeField(formatAttributeField(a.name, a.value))).toEqual(a);
            }
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
});

describe("packed rows (the corpus reader's form)", () => {
  const spec = loadSpec("crfsuite");
  it("fuzz: packed and split rows give the same sentences, errors and attributes", () => {
    const alphabet = fc.constantFrom("a", "b", ":", "\\", "\t", "\n", "1", ".", "@", " ", "é", "=");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 120 }), (chars) => {
        const text = chars.join("");
        const run = (packed: boolean) => {
          try {
            return parseText(text, new CrfsuiteParser("f.txt", packed));
          } catch (e) {
            return (e as Error).message;
          }
        };
        const split = run(false);
        const packed = run(true);
        if (typeof split === "string") {
          expect(packed).toBe(split);
          return;
        }
        expect(typeof packed).not.toBe("string");
        const p = packed as typeof split;
        expect(p.length).toBe(split.length);
        const a = new FeatureExtractor(spec);
        const b = new FeatureExtractor(spec);
        for (let i = 0; i < split.length; i++) {
          expect(p[i]!.tokens.map((r) => r[0])).toEqual(split[i]!.tokens.map((r) => r[0]));
          expect(p[i]!.lines).toEqual(split[i]!.lines);
          expect(a.extract(p[i]!.tokens, true)).toEqual(b.extract(split[i]!.tokens, true));
        }
        expect(a.numAttributes).toBe(b.numAttributes);
        for (let k = 0; k < a.numAttributes; k++)
          expect(a.attributeName(k)).toBe(b.attributeName(k));
      }),
      { seed: 11, numRuns: 1000 },
    );
  });
});

describe("real-valued attributes in the linear chain", () => {
  const L = 3;
  const A = 4;
  const rng = new Rng(5);
  const x: Instance = {
    T: 3,
    offsets: Int32Array.of(0, 2, 3, 5),
    attrs: Int32Array.of(0, 1, 2, 1, 3),
    values: Float64Array.of(0.5, -2, 1.5, 3, 1),
    labels: Int32Array.of(0, 2, 1),
  };
  const y = Int32Array.of(0, 2, 1);
  const sparse = {
    rowPtr: Int32Array.of(0, 2, 5, 6, 8),
    rowLabel: Int32Array.of(0, 2, 0, 1, 2, 1, 0, 2),
  };
  for (const rows of [null, sparse]) {
    const arch = new LinearChain(A, L, rows);
    const W = Float64Array.from({ length: arch.K }, () => rng.normal());
    const E = (w: Float64Array) => chainEnergy(arch.potentials(x, w, new Float64Array(x.T * L)), y);
    const F = (w: Float64Array) => freeEnergy(arch.potentials(x, w, new Float64Array(x.T * L)), 1);
    const fd = (f: (w: Float64Array) => number, k: number) => {
      const h = 1e-6;
      const a = W.slice();
      const b = W.slice();
      a[k]! += h;
      b[k]! -= h;
      return (f(a) - f(b)) / (2 * h);
    };
    const name = rows ? "sparse rows" : "dense rows";

    it(`${name}: the unary energy is Σ value × weight`, () => {
      const p = arch.potentials(x, W, new Float64Array(x.T * L));
      for (let t = 0; t < x.T; t++)
        for (let l = 0; l < L; l++) {
          let want = 0;
          for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++) {
            const k = arch.stateIndex(x.attrs[j]!, l);
            if (k >= 0) want += x.values![j]! * W[k]!;
          }
          expect(p.unary[t * L + l]).toBeCloseTo(want, 12);
        }
    });

    it(`${name}: accumulate, accumulateDifference and accumulateMarginals match finite differences`, () => {
      const g = new Float64Array(arch.K);
      arch.accumulate(x, y, 1, g);
      for (let k = 0; k < arch.K; k++) expect(g[k]).toBeCloseTo(fd(E, k), 6);
      const yHat = Int32Array.of(1, 1, 0);
      const d = new Float64Array(arch.K);
      arch.accumulateDifference(x, y, yHat, 1, d);
      const g2 = new Float64Array(arch.K);
      arch.accumulate(x, y, 1, g2);
      arch.accumulate(x, yHat, -1, g2);
      for (let k = 0; k < arch.K; k++) expect(d[k]).toBeCloseTo(g2[k]!, 12);
      const p = arch.potentials(x, W, new Float64Array(x.T * L));
      const m = forwardBackward(p, 1);
      const gm = new Float64Array(arch.K);
      arch.accumulateMarginals(x, m.unary, m.pairwiseSum, 1, gm);
      for (let k = 0; k < arch.K; k++) expect(gm[k]).toBeCloseTo(fd(F, k), 6);
      if (rows) {
        // the resolved-weights cache of batch trainers carries the values too
        arch.cacheExpanded = true;
        const gc = new Float64Array(arch.K);
        arch.accumulateMarginals(x, m.unary, m.pairwiseSum, 1, gc);
        for (let k = 0; k < arch.K; k++) expect(gc[k]).toBeCloseTo(gm[k]!, 12);
        arch.cacheExpanded = false;
      }
    });
  }
});

describe("training on CRFsuite data", () => {
  const out = mkdtempSync(join(tmpdir(), "nadir-crfsuite-data-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("a value scales an attribute: a:2 has the energy of a twice", () => {
    const data = parseCrfsuiteData(readFileSync(join(fixtures, "tiny.train.txt"), "utf8"));
    const tagger = Tagger.train(data, { spec: "crfsuite", epochs: 3 });
    const m = tagger.model;
    const once = [["", "w[0]=dog", "len:1.5"]];
    const twice = [["", "w[0]=dog", "len:0.75", "len:0.75"]];
    for (const lab of m.labels)
      expect(m.energy(once, [lab])).toBeCloseTo(m.energy(twice, [lab]), 12);
    const scaled = [["", "w[0]=dog:2"]];
    const doubled = [["", "w[0]=dog", "w[0]=dog"]];
    for (const lab of m.labels)
      expect(m.energy(scaled, [lab])).toBeCloseTo(m.energy(doubled, [lab]), 12);
  });

  it("Tagger.train on { tokens: attribute lists or records, labels } (the python-crfsuite shapes)", () => {
    const data = [
      {
        tokens: [["w=the"], ["w=dog", "sfx=og"], { "w=barks": 1, len: 1.5 }],
        labels: ["D", "N", "V"],
      },
      { tokens: [["w=a"], ["w=cat"], ["w=sleeps"]], labels: ["D", "N", "V"] },
    ];
    const tagger = Tagger.train(data as never, { spec: "crfsuite", epochs: 5 });
    expect(tagger.predict([[["w=the"], ["w=cat"], ["w=barks"]]])).toEqual([["D", "N", "V"]]);
    expect(tagger.evaluate(data as never).accuracy).toBe(100);
    expect(() => tagger.predict([[["w=a"], [3]]] as never)).toThrow(
      /sentence 0, token 1: expected attribute names/,
    );
    expect(() => tagger.predict([{ "w=a": "x" }] as never)).toThrow(
      /token 0: expected a finite number for attribute 'w=a'/,
    );
  });

  it("a model stores the attribute names as a UTF-8 table; files with a name vocabulary still load", () => {
    const data = parseCrfsuiteData(readFileSync(join(fixtures, "tiny.train.txt"), "utf8"));
    // non-ASCII names and an escaped colon go through the table too (on every token: they get weights)
    for (const s of data) for (const tok of s.tokens) tok.push("w[0]=été", "中文\\:x");
    const m = Tagger.train(data, { spec: "crfsuite", epochs: 3 }).model;
    const fail = (msg: string): never => {
      throw new Error(msg);
    };
    const fmt = { magic: "NADIRMDL", version: 2 };
    const d = decodeContainer(m.toBytes(), fmt, fail);
    if (d.legacy) throw new Error("legacy");
    const text = d.sections.names as Uint8Array;
    const start = d.sections.nameStart as Int32Array;
    const A = d.header.attributes as number;
    expect(start.length).toBe(A + 1);
    expect(d.sections.keys!.length).toBe(0);
    expect(d.header.vocabs).toEqual([]);
    const names = Array.from({ length: A }, (_, i) =>
      new TextDecoder().decode(text.subarray(start[i], start[i + 1])),
    );
    expect(names).toContain("w[0]=été");
    expect(names).toContain("中文:x");
    const sentences = data.map((s) => s.tokens);
    const loaded = Model.fromBytes(m.toBytes());
    for (const x of sentences) expect(loaded.tag(x)).toEqual(m.tag(x));
    // the earlier form: one vocabulary of strings in the header, keys 0…A−1
    const { names: _n, nameStart: _s, ...rest } = d.sections;
    const older = encodeContainer(
      fmt,
      { ...d.header, vocabs: [names] },
      { ...rest, keys: Int32Array.from({ length: A }, (_, i) => i) },
      6,
    );
    const old = Model.fromBytes(older);
    for (const x of sentences) expect(old.tag(x)).toEqual(m.tag(x));
    // a table that names an attribute twice is refused, not loaded
    const dup = names.map((n, i) => (i === 1 ? names[0]! : n));
    const bytes = dup.map((n) => new TextEncoder().encode(n));
    const dupStart = new Int32Array(A + 1);
    bytes.forEach((b, i) => {
      dupStart[i + 1] = dupStart[i]! + b.length;
    });
    const dupText = new Uint8Array(dupStart[A]!);
    for (let i = 0; i < A; i++) dupText.set(bytes[i]!, dupStart[i]!);
    const twice = encodeContainer(
      fmt,
      d.header,
      { ...d.sections, names: dupText, nameStart: dupStart },
      6,
    );
    expect(() => Model.fromBytes(twice)).toThrow(/occurs twice/);
  });

  it("the parallel batch objective (L-BFGS's threads) keeps the values: 2 threads = 1 thread", () => {
    const data = parseCrfsuiteData(readFileSync(join(fixtures, "tiny.train.txt"), "utf8"));
    const fx = new FeatureExtractor(loadSpec("crfsuite"));
    const set = buildTrainingSet(fx, data);
    expect(set.instances.some((x) => x.values !== undefined)).toBe(true);
    const A = fx.numAttributes;
    const L = set.labels.size;
    const arch = new LinearChain(A, L, observedRows(set.instances, A, L));
    const loss = makeLoss("nll", {});
    const objective = new EnergyObjective(arch, {
      loss,
      offending: "exact",
      backend: viterbiBackend,
      constraintsFor: () => undefined,
    });
    const local: ShardEvaluator = (W, g, from, to) => {
      let f = 0;
      for (let i = from; i < to; i++) f += objective.evaluate(set.instances[i]!, W, 1, g, 1);
      return f;
    };
    const config: ObjectiveConfig = {
      arch: arch.describe(),
      loss: loss.name,
      params: { ...loss.params },
      offending: "exact",
      backend: "viterbi",
      encoding: "none",
      constrained: false,
      labels: set.labels.names,
    };
    const one = new ParallelObjective(arch, set.instances, config, local, 1);
    const two = new ParallelObjective(arch, set.instances, config, local, 2);
    try {
      expect(two.threads).toBe(2);
      const rng = new Rng(9);
      const W = Float64Array.from({ length: arch.K }, () => 0.3 * rng.normal());
      const g1 = new Float64Array(arch.K);
      const g2 = new Float64Array(arch.K);
      const f1 = one.fg(W, g1);
      const f2 = two.fg(W, g2);
      expect(Math.abs(f2 - f1)).toBeLessThanOrEqual(1e-9 * Math.abs(f1));
      for (let k = 0; k < arch.K; k++) expect(g2[k]).toBeCloseTo(g1[k]!, 9);
    } finally {
      one.close();
      two.close();
    }
  });

  it("nadir train --graph crfsuite, tag and eval work on CRFsuite data files", async () => {
    const model = join(out, "m.nadir");
    const tr = await run([
      "train",
      "--graph",
      "crfsuite",
      "--train",
      join(fixtures, "tiny.train.txt"),
      "--model",
      model,
    ]);
    expect(tr.code, tr.stderr).toBe(0);
    const tg = await run(["tag", "--model", model, join(fixtures, "tiny.test.txt")]);
    expect(tg.code, tg.stderr).toBe(0);
    const first = tg.stdout.split("\n")[0]!.split("\t");
    expect(first).toHaveLength(2); // reference, prediction
    const tagged = join(out, "tagged.txt");
    writeFileSync(tagged, tg.stdout);
    const ev = await run(["eval", tagged]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/accuracy/);
    const bad = join(out, "bad.txt");
    writeFileSync(bad, "N\tw[0]=dog\n\nN\tlen:x\n");
    const e = await run(["tag", "--model", model, bad]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${bad}:3`);
  });
});
