/**
 * MSR Sentence Completion benchmark for the log-bilinear completion energy.
 *
 *   tsx scripts/bench/completion.ts --train-minutes 6            # train hinge and nll, score both
 *   tsx scripts/bench/completion.ts --model M [--questions F --answers F]
 *
 * Each question is answered by the candidate with the lowest energy at the
 * blank. Scores the first 520 questions (the development set). The last line
 * is JSON {"accuracy", "questions", ...} for the best model.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Lbl } from "../../src/complete/lbl.ts";
import { accuracy, parseLmFormat } from "../../src/complete/msr.ts";
import { readDocuments } from "../../src/complete/text.ts";
import { type CompletionLoss, trainCompletion } from "../../src/complete/train.ts";

const MSR = "/work/shared/corpora/msr-sentence-completion";
const { values } = parseArgs({
  options: {
    questions: { type: "string", default: join(MSR, "Holmes.lm_format.questions.txt") },
    answers: { type: "string", default: join(MSR, "Holmes.lm_format.answers.txt") },
    model: { type: "string" },
    "train-minutes": { type: "string", default: "5" },
    losses: { type: "string", default: "hinge,nll" },
    corpus: { type: "string", default: "/work/shared/corpora/gutenberg" },
    out: { type: "string", default: "/tmp/nadir-completion" },
    vocab: { type: "string", default: "30000" },
    dim: { type: "string", default: "64" },
    window: { type: "string", default: "3" },
    lr: { type: "string", default: "0.05" },
    seed: { type: "string", default: "1" },
    limit: { type: "string", default: "520" },
  },
});

const qs = parseLmFormat(
  readFileSync(values.questions, "utf8"),
  readFileSync(values.answers, "utf8"),
  values.questions,
).slice(0, Number(values.limit));
const results: { name: string; accuracy: number; seconds: number; steps: number; oov: number }[] =
  [];

function report(name: string, model: Lbl, seconds: number, steps: number): void {
  const acc = accuracy(model, qs);
  let oov = 0;
  for (const q of qs) for (const c of q.candidates) if (!model.vocab.has(c)) oov++;
  results.push({ name, accuracy: acc, seconds, steps, oov });
  console.log(
    `${name}: accuracy ${(100 * acc).toFixed(1)}% on ${qs.length} questions; train ${seconds.toFixed(0)} s, ${steps} steps; OOV candidates ${oov}/${qs.length * 5}`,
  );
}

if (values.model) {
  const m = Lbl.load(values.model);
  report(values.model, m, Number(m.meta.seconds ?? 0), Number(m.meta.steps ?? 0));
} else {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(values.out, { recursive: true });
  const files = readdirSync(values.corpus)
    .filter((f) => /\.txt$/i.test(f))
    .sort()
    .map((f) => join(values.corpus, f));
  const t0 = performance.now();
  const docs = readDocuments(files);
  const ntok = docs.reduce((s, d) => s + d.length, 0);
  console.log(
    `read ${files.length} files, ${ntok} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const loss of values.losses.split(",") as CompletionLoss[]) {
    const w = Number(values.window);
    const r = trainCompletion(docs, {
      loss,
      minutes: Number(values["train-minutes"]),
      vocabSize: Number(values.vocab),
      dim: Number(values.dim),
      left: w,
      right: w,
      lr: Number(values.lr),
      seed: Number(values.seed),
      onProgress: (p) => {
        if (p.steps % 100_000 === 0)
          console.log(
            `  ${loss}: ${p.steps} steps, ${p.seconds.toFixed(0)} s, loss ${p.avgLoss.toFixed(4)}`,
          );
      },
    });
    const path = join(values.out, `${loss}.lbl`);
    r.model.save(path);
    report(`${loss} (${path})`, r.model, r.seconds, r.steps);
  }
}

const best = results.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
console.log(
  JSON.stringify({
    accuracy: best.accuracy,
    questions: qs.length,
    model: best.name,
    trainSeconds: best.seconds,
    all: results,
  }),
);
