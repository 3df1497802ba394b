import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOSS_NAMES } from "../../src/loss/index.ts";
import { Model } from "../../src/tagger/model.ts";
import { conllTokens, GRAPHS, tempDir } from "../fixtures/helpers.ts";
import { expectOneError, run, TEST, TRAIN } from "./harness.ts";

/** `nadir tag --kbest/--marginals`, `nadir score`, and `nadir train` with the loss table. */

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const CHUNK = join(GRAPHS, "chunk.json");

function file(name: string, text: string): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
}

const sentencesOf = (t: string) =>
  t
    .trim()
    .split(/\n\s*\n/)
    .map(conllTokens);

let trainFile: string;
let testFile: string;
let modelFile: string;
let model: Model;

beforeAll(async () => {
  trainFile = file("train.txt", TRAIN);
  testFile = file("test.txt", TEST);
  modelFile = join(tmp.dir, "chunk.model");
  const r = await run([
    "train",
    "--graph",
    CHUNK,
    "--train",
    trainFile,
    "--model",
    modelFile,
    "--epochs",
    "5",
  ]);
  if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
  model = Model.load(modelFile);
});

describe("nadir tag --kbest --marginals", () => {
  for (const beta of [1, 0.5]) {
    it(`--kbest 2 --marginals${beta !== 1 ? ` --beta ${beta}` : ""}: label/prob columns, best first`, async () => {
      const args = ["tag", "--model", modelFile, testFile, "--kbest", "2", "--marginals"];
      if (beta !== 1) args.push("--beta", String(beta));
      const r = await run(args);
      expect(r.code, r.stderr).toBe(0);
      const blocks = r.stdout.trimEnd().split("\n\n");
      const sents = sentencesOf(TEST);
      expect(blocks).toHaveLength(sents.length);
      const L = model.labels.length;
      blocks.forEach((block, i) => {
        const tokens = sents[i]!;
        const lines = block.split("\n");
        expect(lines).toHaveLength(tokens.length);
        const best = model.decide(tokens, 2);
        const mu = model.density(tokens, beta).marginals;
        lines.forEach((line, t) => {
          const fields = line.split(" ");
          expect(fields.slice(0, 3)).toEqual(tokens[t]); // the input line, unchanged
          expect(fields).toHaveLength(5);
          for (let k = 0; k < 2; k++) {
            const m = /^(\S+)\/(\d\.\d{4})$/.exec(fields[3 + k]!);
            expect(m, fields[3 + k]).not.toBeNull();
            const [, label, prob] = m!;
            expect(label).toBe(best[k]!.labels[t]);
            const p = Number(prob);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThanOrEqual(1);
            expect(prob).toBe(mu[t * L + model.labels.indexOf(label!)]!.toFixed(4));
          }
        });
      });
    });
  }

  it("the first k-best column is the plain `tag` prediction; --marginals alone adds one column", async () => {
    const plain = (await run(["tag", "--model", modelFile, testFile])).stdout;
    const marg = (await run(["tag", "--model", modelFile, testFile, "--marginals"])).stdout;
    const kb = (await run(["tag", "--model", modelFile, testFile, "--kbest", "3"])).stdout;
    const p = plain.split("\n");
    const m = marg.split("\n");
    const k = kb.split("\n");
    expect(m).toHaveLength(p.length);
    p.forEach((line, i) => {
      if (line === "") {
        expect(m[i]).toBe("");
        return;
      }
      const pred = line.split(" ").at(-1)!;
      expect(m[i]!.split(" ")).toHaveLength(4);
      expect(m[i]!.split(" ").at(-1)!.split("/")[0]).toBe(pred);
      expect(k[i]!.split(" ")).toHaveLength(6);
      expect(k[i]!.split(" ")[3]).toBe(pred);
    });
  });
});

describe("nadir score", () => {
  /** The test file with a tagged column appended: 2 input columns + gold + prediction. */
  async function scored(): Promise<string> {
    const tagged = (await run(["tag", "--model", modelFile, testFile])).stdout;
    return file("tagged.txt", tagged);
  }

  for (const beta of [1, 0.5]) {
    it(`prints energies and probabilities consistent with Model.energy / density (β = ${beta})`, async () => {
      const input = await scored();
      const args = ["score", "--model", modelFile, input];
      if (beta !== 1) args.push("--beta", String(beta));
      const r = await run(args);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split("\n");
      expect(lines[0]).toBe("sentence\tcolumn\tenergy\tprobability\tdetection_score\tcompatible");
      const sents = sentencesOf(TEST);
      // one row per sentence and labeling column (gold = 3, prediction = 4)
      expect(lines).toHaveLength(1 + 2 * sents.length);
      for (const row of lines.slice(1)) {
        const [n, col, energy, prob, score, compatible] = row.split("\t");
        const tokens = sents[Number(n) - 1]!;
        const c = Number(col);
        expect([3, 4]).toContain(c);
        const y = c === 3 ? tokens.map((t) => t[2]!) : model.tag(tokens); // the tagged column is the model's prediction
        const E = model.energy(tokens, y);
        const d = model.density(tokens, beta);
        expect(energy).toBe(E.toFixed(4));
        const P = Math.exp(-beta * (E - d.freeEnergy));
        expect(prob).toBe(P.toExponential(4));
        expect(Number(prob)).toBeLessThanOrEqual(1);
        expect(score).toBe(((E - d.freeEnergy) / tokens.length).toFixed(4));
        expect(compatible).toBe("-"); // no calibrated threshold
        if (c === 4) expect(P).toBeCloseTo(model.density(tokens, beta, y).probability!, 12);
      }
    });
  }

  it("--json: one object per sentence with free energy, entropy and the labelings", async () => {
    const input = await scored();
    const r = await run(["score", "--model", modelFile, input, "--json", "--columns", "1"]);
    expect(r.code, r.stderr).toBe(0);
    const objs = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const sents = sentencesOf(TEST);
    expect(objs).toHaveLength(sents.length);
    objs.forEach((o, i) => {
      const tokens = sents[i]!;
      const d = model.density(tokens, 1);
      expect(o.sentence).toBe(i + 1);
      expect(o.freeEnergy).toBeCloseTo(d.freeEnergy, 10);
      expect(o.entropy).toBeCloseTo(d.entropy, 10);
      expect(o.entropy).toBeGreaterThanOrEqual(0);
      expect(o.labelings).toHaveLength(1); // --columns 1: the last column only
      const lab = o.labelings[0];
      expect(lab.column).toBe(4);
      const y = model.tag(tokens);
      const E = model.energy(tokens, y);
      expect(lab.energy).toBeCloseTo(E, 10);
      expect(lab.probability).toBeCloseTo(Math.exp(-(E - d.freeEnergy)), 12);
      expect(lab.score).toBeCloseTo((E - d.freeEnergy) / tokens.length, 12);
      expect(lab.compatible).toBeNull();
    });
  });

  it("a model trained with --dev carries a threshold: compatible = score ≤ threshold", async () => {
    const calibrated = join(tmp.dir, "dev.model");
    const t = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--dev",
      testFile,
      "--model",
      calibrated,
      "--epochs",
      "3",
    ]);
    expect(t.code, t.stderr).toBe(0);
    const m = Model.load(calibrated);
    const th = m.extra.detectThreshold as number;
    expect(typeof th).toBe("number");
    const input = await scored();
    const r = await run(["score", "--model", calibrated, input, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    for (const line of r.stdout.trimEnd().split("\n")) {
      for (const lab of JSON.parse(line).labelings) {
        expect(lab.compatible).toBe(lab.score <= th);
      }
    }
  });
});

describe("nadir score verdicts", () => {
  it("--beta changes the detection verdict (it should be Model.detect's, at the calibrated β)", async () => {
    // src/cli/score.ts:75-82 compares (E − F_β)/T at the --beta of the command
    // with a threshold calibrated at model.extra.detectBeta (1): with --beta
    // 0.01, F is far lower, every score huge, every labeling "incompatible".
    const calibrated = join(tmp.dir, "dev2.model");
    const t = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--dev",
      testFile,
      "--model",
      calibrated,
      "--epochs",
      "3",
    ]);
    expect(t.code, t.stderr).toBe(0);
    const m = Model.load(calibrated);
    const input = file("tagged2.txt", (await run(["tag", "--model", calibrated, testFile])).stdout);
    const r = await run(["score", "--model", calibrated, input, "--json", "--beta", "0.01"]);
    expect(r.code, r.stderr).toBe(0);
    const sents = sentencesOf(TEST);
    r.stdout
      .trimEnd()
      .split("\n")
      .forEach((line, i) => {
        const tokens = sents[i]!;
        for (const lab of JSON.parse(line).labelings) {
          const y = lab.column === 3 ? tokens.map((tk) => tk[2]!) : m.tag(tokens);
          expect(lab.compatible).toBe(m.detect(tokens, y).compatible);
        }
      });
  });
});

describe("nadir train with the loss table", () => {
  it("--loss hinge --optimizer pa trains end to end and tags its training data", async () => {
    const out = join(tmp.dir, "hinge.model");
    const r = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--model",
      out,
      "--loss",
      "hinge",
      "--optimizer",
      "pa",
      "--epochs",
      "8",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^epoch 8: /m);
    expect(r.stderr).toContain("model written to");
    expect(existsSync(out)).toBe(true);
    const m = Model.load(out);
    let ok = 0;
    let n = 0;
    for (const tokens of sentencesOf(TRAIN)) {
      const pred = m.tag(tokens);
      tokens.forEach((tok, t) => {
        n++;
        if (pred[t] === tok[2]) ok++;
      });
    }
    expect(ok / n).toBeGreaterThanOrEqual(0.95);
  });

  it("--optimizer lbfgs --loss hinge: one ERROR line, exit 1, no model", async () => {
    const out = join(tmp.dir, "never.model");
    const r = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--model",
      out,
      "--optimizer",
      "lbfgs",
      "--loss",
      "hinge",
    ]);
    expectOneError(r, "lbfgs", "hinge", "smooth");
    expect(existsSync(out)).toBe(false);
  });

  it("--loss nope: ERROR listing the losses", async () => {
    const r = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--model",
      join(tmp.dir, "nope.model"),
      "--loss",
      "nope",
    ]);
    expectOneError(r, "--loss", "nope", ...LOSS_NAMES);
  });

  it("--help lists every loss", async () => {
    const r = await run(["train", "--help"]);
    expect(r.code).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.trimStart().startsWith("--loss"))!;
    for (const name of LOSS_NAMES) expect(line).toContain(name);
  });
});
