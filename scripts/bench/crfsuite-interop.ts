/**
 * CRFsuite model interop on CoNLL-2000: python-crfsuite trains a model on the
 * attributes of ../shared/tools/conll2crfsuite.py (train), tags the test file
 * and dumps its labels and marginals (scripts/bench/crfsuite-interop.py);
 * nadir loads the same model file, tags the same file and compares: labels
 * token for token, the largest absolute marginal difference, and tagging
 * throughput of both in the same run (input already parsed on both sides;
 * the best of 5 runs each).
 *
 *   npx tsx scripts/bench/crfsuite-interop.ts [--corpus ../shared/corpora/conll2000]
 *     [--out /tmp/nadir-crfsuite-interop] [--algorithm ap] [--iterations 10]
 *     [--model M.crfsuite]   (skip training: compare on an existing model)
 *
 * The other direction (--direction export): nadir trains graphs/chunk.json on the CoNLL
 * columns (or takes --nadir-model M.nadir), writes it as a CRFsuite model
 * (start/end energies folded into __BOS__/__EOS__), python-crfsuite tags the
 * attribute file with it, and its labels and marginals are compared with
 * nadir's own on the CoNLL test file.
 *
 *   npx tsx scripts/bench/crfsuite-interop.ts --direction export [--nadir-model M.nadir]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { readCrfsuiteData } from "../../src/data/crfsuite.ts";
import { writeCrfsuiteModel } from "../../src/interop/crfsuite-writer.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const a = benchArgs({
  corpus: join(here, "../../../shared/corpora/conll2000"),
  tools: join(here, "../../../shared/tools"),
  out: "/tmp/nadir-crfsuite-interop",
  algorithm: "ap",
  iterations: "10",
  model: "",
  direction: "import",
  "nadir-model": "",
});
mkdirSync(a.out, { recursive: true });

// 1. CRFsuite attribute files, as CRFsuite's example script writes them
for (const part of ["train", "test"]) {
  const dst = join(a.out, `${part}.crfsuite.txt`);
  if (!existsSync(dst)) {
    const src = readFileSync(join(a.corpus, `${part}.txt`));
    writeFileSync(
      dst,
      execFileSync("python3", [join(a.tools, "conll2crfsuite.py")], {
        input: src,
        maxBuffer: 1 << 30,
      }),
    );
  }
}
const testFile = join(a.out, "test.crfsuite.txt");
if (a.direction === "export") {
  await exportToCrfsuite();
  process.exit(0);
}

// 2. python-crfsuite: train (or take --model), tag, dump labels and marginals
const py = [join(here, "crfsuite-interop.py"), "--test", testFile, "--out", a.out];
if (a.model) py.push("--model", a.model);
else
  py.push(
    "--train",
    join(a.out, "train.crfsuite.txt"),
    "--algorithm",
    a.algorithm,
    "--iterations",
    a.iterations,
  );
process.stderr.write(`python3 ${py.join(" ")}\n`);
execFileSync("python3", py, { stdio: ["ignore", "inherit", "inherit"] });
const meta = JSON.parse(readFileSync(join(a.out, "meta.json"), "utf8"));
const ref = readFileSync(join(a.out, "predictions.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map((l) => JSON.parse(l) as { labels: string[]; marginals: number[][] });

// 3. nadir: the same model file, the same test file
const model = Model.load(meta.model);
const sentences = [];
for await (const s of readCrfsuiteData(testFile)) sentences.push(s.tokens);
if (sentences.length !== ref.length)
  throw new Error(`expected ${ref.length} sentences, read ${sentences.length}`);
for (const s of sentences.slice(0, 200)) model.tag(s); // warm up
// the best of 5 runs, as on the python side (the machine may be shared)
let predicted: string[][] = [];
let tagSeconds = Number.POSITIVE_INFINITY;
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  predicted = sentences.map((s) => model.tag(s));
  tagSeconds = Math.min(tagSeconds, (performance.now() - t0) / 1000);
}

let tokens = 0;
let differ = 0;
let maxDiff = 0;
const where = { sentence: -1, token: -1 };
const col = new Map(model.labels.map((l, i) => [l, i]));
const L = model.labels.length;
for (let i = 0; i < sentences.length; i++) {
  const r = ref[i]!;
  const p = predicted[i]!;
  const mu = model.density(sentences[i]!, 1).marginals;
  for (let t = 0; t < p.length; t++) {
    tokens++;
    if (p[t] !== r.labels[t]) differ++;
    meta.labels.forEach((lab: string, j: number) => {
      const d = Math.abs(mu[t * L + col.get(lab)!]! - r.marginals[t]![j]!);
      if (d > maxDiff) {
        maxDiff = d;
        where.sentence = i + 1;
        where.token = t + 1;
      }
    });
  }
}
const report = {
  model: meta.model,
  algorithm: meta.algorithm ?? "(given model)",
  labels: L,
  attributes: model.arch.A,
  stateWeights: model.arch.S,
  sentences: sentences.length,
  tokens,
  differingLabels: differ,
  maxAbsMarginalDiff: maxDiff,
  maxAt: where,
  nadirTagSeconds: Number(tagSeconds.toFixed(3)),
  crfsuiteTagSeconds: Number(meta.tag_seconds.toFixed(3)),
  nadirTokensPerSecond: Math.round(tokens / tagSeconds),
  crfsuiteTokensPerSecond: Math.round(tokens / meta.tag_seconds),
};
console.log(JSON.stringify(report, null, 1));
console.log(
  `${differ} differing labels out of ${tokens} tokens; max |Δ marginal| = ${maxDiff.toExponential(2)}; ` +
    `tagging: nadir ${report.nadirTokensPerSecond} tokens/s, python-crfsuite ${report.crfsuiteTokensPerSecond} tokens/s`,
);

/** nadir → CRFsuite: a nadir chunker written as a CRFsuite model, tagged by python-crfsuite. */
async function exportToCrfsuite(): Promise<void> {
  const conllTest = join(a.corpus, "test.txt");
  let nadirModel = a["nadir-model"];
  if (!nadirModel) {
    nadirModel = join(a.out, "chunk.nadir");
    const train = await readCorpus(join(a.corpus, "train.txt"), "conll");
    const t0 = performance.now();
    const r = trainTagger({ spec: loadSpec("chunk"), train, options: {} });
    r.model.save(nadirModel);
    process.stderr.write(
      `trained graphs/chunk.json in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  const model = Model.load(nadirModel);
  const lcrf = join(a.out, "from-nadir.crfsuite");
  writeFileSync(lcrf, writeCrfsuiteModel(model));
  const outDir = join(a.out, "from-nadir");
  execFileSync(
    "python3",
    [join(here, "crfsuite-interop.py"), "--model", lcrf, "--test", testFile, "--out", outDir],
    {
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const meta = JSON.parse(readFileSync(join(outDir, "meta.json"), "utf8"));
  const ref = readFileSync(join(outDir, "predictions.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { labels: string[]; marginals: number[][] });
  const sentences = await readCorpus(conllTest, "conll");
  const L = model.labels.length;
  let tokens = 0;
  let differ = 0;
  let maxDiff = 0;
  sentences.forEach((s, i) => {
    const y = model.tag(s.tokens);
    const mu = model.density(s.tokens, 1).marginals;
    for (let t = 0; t < y.length; t++) {
      tokens++;
      if (y[t] !== ref[i]!.labels[t]) differ++;
      meta.labels.forEach((lab: string, j: number) => {
        const d = Math.abs(mu[t * L + model.labels.indexOf(lab)]! - ref[i]!.marginals[t]![j]!);
        maxDiff = Math.max(maxDiff, d);
      });
    }
  });
  console.log(
    `nadir → CRFsuite (${nadirModel} → ${lcrf}): ${differ} differing labels out of ${tokens} tokens ` +
      `(python-crfsuite on the attribute file vs nadir on the CoNLL columns); max |Δ marginal| = ${maxDiff.toExponential(2)}`,
  );
}
