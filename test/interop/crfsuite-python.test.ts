/**
 * The CRFsuite comparison against python-crfsuite itself (optional): when
 * python3 can import pycrfsuite, train a model on the fixture's data with
 * scripts/bench/crfsuite-interop.py, and check that nadir, loading the model
 * file, gives CRFsuite's labels and marginals. Skipped, with the reason
 * printed, when Python or python-crfsuite is missing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Tagger } from "../../src/api/tagger.ts";
import { parseCrfsuiteData } from "../../src/data/crfsuite.ts";
import { Model } from "../../src/tagger/model.ts";
import { TEST, TRAIN } from "../cli/harness.ts";

const fixtures = new URL("../fixtures/crfsuite/", import.meta.url).pathname;
const script = new URL("../../scripts/bench/crfsuite-interop.py", import.meta.url).pathname;

function pythonReason(): string | null {
  const r = spawnSync("python3", ["-c", "import pycrfsuite"], { encoding: "utf8" });
  if (r.error) return `python3 not runnable (${r.error.message})`;
  if (r.status !== 0) return `python3 cannot import pycrfsuite (pip install python-crfsuite)`;
  return null;
}
const reason = pythonReason();
if (reason) console.log(`skipping the python-crfsuite comparison: ${reason}`);

describe.skipIf(reason !== null)("python-crfsuite comparison", () => {
  const out = mkdtempSync(join(tmpdir(), "nadir-crfsuite-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("a model trained by python-crfsuite tags the same in nadir (labels, marginals to 1e-9)", () => {
    const test = join(fixtures, "tiny.test.txt");
    for (const algorithm of ["lbfgs", "ap"]) {
      execFileSync("python3", [
        script,
        "--train",
        join(fixtures, "tiny.train.txt"),
        "--test",
        test,
        "--out",
        join(out, algorithm),
        "--algorithm",
        algorithm,
        "--iterations",
        "30",
      ]);
      const meta = JSON.parse(readFileSync(join(out, algorithm, "meta.json"), "utf8"));
      const ref = readFileSync(join(out, algorithm, "predictions.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { labels: string[]; marginals: number[][] });
      const m = Model.load(meta.model);
      const L = m.labels.length;
      const sentences = parseCrfsuiteData(readFileSync(test, "utf8"), test);
      expect(sentences).toHaveLength(ref.length);
      sentences.forEach((s, i) => {
        expect(m.tag(s.tokens)).toEqual(ref[i]!.labels);
        const mu = m.density(s.tokens).marginals;
        for (let t = 0; t < s.tokens.length; t++)
          meta.labels.forEach((lab: string, j: number) => {
            expect(
              Math.abs(mu[t * L + m.labels.indexOf(lab)]! - ref[i]!.marginals[t]![j]!),
            ).toBeLessThan(1e-9);
          });
      });
    }
  });

  it("a nadir chunker written as a CRFsuite model tags the same in python-crfsuite", () => {
    const sentences = (text: string) =>
      text
        .trim()
        .split("\n\n")
        .map((b) => ({ tokens: b.split("\n").map((l) => l.split(" ")) }));
    const tagger = Tagger.train(sentences(TRAIN), { spec: "chunk", epochs: 5 });
    const m = tagger.model;
    const lcrf = join(out, "nadir.crfsuite");
    writeFileSync(lcrf, tagger.toCrfsuite());
    // the attribute file CRFsuite needs: the model's own attribute names per token
    const test = [...sentences(TEST), ...sentences(TRAIN)];
    let text = "";
    for (const s of test) {
      const { offsets, attrs } = m.fx.extract(s.tokens, false);
      s.tokens.forEach((tok, t) => {
        const names = Array.from(attrs.subarray(offsets[t]!, offsets[t + 1]!), (a) =>
          m.fx.attributeName(a).replace(/[\\:]/g, (c) => `\\${c}`),
        );
        text += `${tok[tok.length - 1]}\t${names.join("\t")}\n`;
      });
      text += "\n";
    }
    const data = join(out, "nadir.test.txt");
    writeFileSync(data, text);
    execFileSync("python3", [
      script,
      "--model",
      lcrf,
      "--test",
      data,
      "--out",
      join(out, "export"),
    ]);
    const meta = JSON.parse(readFileSync(join(out, "export", "meta.json"), "utf8"));
    const ref = readFileSync(join(out, "export", "predictions.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { labels: string[]; marginals: number[][] });
    const L = m.labels.length;
    test.forEach((s, i) => {
      expect(ref[i]!.labels).toEqual(m.tag(s.tokens));
      const mu = m.density(s.tokens).marginals;
      for (let t = 0; t < s.tokens.length; t++)
        meta.labels.forEach((lab: string, j: number) => {
          expect(
            Math.abs(mu[t * L + m.labels.indexOf(lab)]! - ref[i]!.marginals[t]![j]!),
          ).toBeLessThan(1e-9);
        });
    });
  });
});
