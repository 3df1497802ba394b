/**
 * MSR Sentence Completion benchmark for the log-bilinear completion energy.
 *
 *   tsx scripts/bench/completion.ts --train-minutes 20           # the full text, NLL by NCE
 *   tsx scripts/bench/completion.ts --model M [--questions F --answers F]
 *   tsx scripts/bench/completion.ts --model M --topic V.txt.gz [--topic-lambda 4,8,16]
 *       [--topic-skip 150] [--ship PATH]     (a product of energies, see below)
 *
 * Trains on --corpus (default ../shared/corpora/gutenberg-full: the 522
 * gzipped etexts of the official MSR training text, read file by file;
 * ../shared/corpora/gutenberg is the 36-text subset), then scores the first
 * 520 questions (the development set; the other 520 are kept aside). Each
 * question is answered by the candidate of lowest energy (--scoring blank: at
 * the blank; sentence: summed over the positions whose window holds the
 * blank). While training, the accuracy is measured every --curve-seconds on
 * the live shared parameters: the accuracy-against-minutes curve, one JSON
 * line {"curve": ..., "minutes", "steps", "blank", "sentence"} per point.
 * --warm-minutes M also trains hinge for M minutes from the nll model;
 * --ship PATH writes the nll model restricted to the --ship-vocab most
 * frequent words with int8 rows (the model nadir complete loads by default).
 * --topic V multiplies a topic expert into each --model (Lbl.withTopic: the
 * topical vectors V of `scripts/embeddings.ts --window`, weight λ, the
 * --topic-skip most frequent words left out of the sentence sum), scored for
 * every λ of --topic-lambda; with --ship, the λ best on these questions is
 * written with int8 rows (the model nadir complete loads by default).
 * The last line is JSON {"accuracy", "questions", ...} for the best model.
 * Default paths are relative to the working directory (run from the checkout).
 */
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { readPretrained } from "../../src/architecture/network.ts";
import { corpusFiles, encodeCorpus } from "../../src/complete/corpus.ts";
import { Lbl } from "../../src/complete/lbl.ts";
import { accuracy, parseLmFormat, type Scoring } from "../../src/complete/msr.ts";
import { type CompletionLoss, trainEncoded } from "../../src/complete/train.ts";
import type { LossName } from "../../src/loss/index.ts";

const MSR = "../shared/corpora/msr-sentence-completion";
const { values } = parseArgs({
  options: {
    questions: { type: "string", default: join(MSR, "Holmes.lm_format.questions.txt") },
    answers: { type: "string", default: join(MSR, "Holmes.lm_format.answers.txt") },
    model: { type: "string", multiple: true },
    "train-minutes": { type: "string", default: "20" },
    losses: { type: "string", default: "nll" },
    corpus: { type: "string", default: "../shared/corpora/gutenberg-full" },
    out: { type: "string", default: "/tmp/nadir-completion" },
    vocab: { type: "string", default: "40000" },
    "min-count": { type: "string", default: "2" },
    dim: { type: "string", default: "64" },
    window: { type: "string", default: "10" },
    lr: { type: "string", default: "0.1" },
    noise: { type: "string", default: "10" },
    "nce-loss": { type: "string", default: "log" },
    threads: { type: "string", default: "2" },
    scoring: { type: "string", default: "blank" },
    "curve-seconds": { type: "string", default: "120" },
    seed: { type: "string", default: "1" },
    decay: { type: "boolean", default: false },
    adagrad: { type: "string", default: "entry" },
    subsample: { type: "string", default: "0" },
    topic: { type: "string" },
    "topic-lambda": { type: "string", default: "8" },
    "topic-skip": { type: "string", default: "150" },
    init: { type: "string" },
    "acc-init": { type: "string", default: "0" },
    "warm-minutes": { type: "string", default: "0" },
    "hinge-lr": { type: "string", default: "0.05" },
    ship: { type: "string" },
    "ship-vocab": { type: "string", default: "40000" },
    limit: { type: "string", default: "520" },
  },
});

const qs = parseLmFormat(
  readFileSync(values.questions, "utf8"),
  readFileSync(values.answers, "utf8"),
  values.questions,
).slice(0, Number(values.limit));
const scoring = values.scoring as Scoring;
const pct = (x: number): number => Math.round(1000 * x) / 10;

interface Point {
  minutes: number;
  steps: number;
  loss: number;
  blank: number;
  sentence: number;
}
interface Result {
  name: string;
  accuracy: number;
  blank: number;
  sentence: number;
  seconds: number;
  steps: number;
  oov: number;
  bytes?: number;
  curve?: Point[];
  /** the topic expert's weight and skip (--topic) */
  lambda?: number;
  skip?: number;
}
const results: Result[] = [];

function report(
  name: string,
  model: Lbl,
  seconds: number,
  steps: number,
  extra: Partial<Result> = {},
) {
  const blank = accuracy(model, qs, "blank");
  const sentence = accuracy(model, qs, "sentence");
  let oov = 0;
  for (const q of qs) for (const c of q.candidates) if (!model.vocab.has(c)) oov++;
  const acc = scoring === "blank" ? blank : sentence;
  results.push({
    name,
    accuracy: pct(acc),
    blank: pct(blank),
    sentence: pct(sentence),
    seconds,
    steps,
    oov,
    ...extra,
  });
  console.log(
    `${name}: accuracy ${pct(acc)}% (${scoring}; blank ${pct(blank)}%, sentence ${pct(sentence)}%) on ${qs.length} questions; V = ${model.V}, D = ${model.D}, ±${model.left}/${model.right}; train ${seconds.toFixed(0)} s, ${steps} steps; OOV candidates ${oov}/${qs.length * 5}`,
  );
}

if (values.model) {
  const topic = values.topic ? await readPretrained(values.topic) : null;
  const skip = Number(values["topic-skip"]);
  for (const path of values.model) {
    const m = Lbl.load(path);
    const seconds = Number(m.meta.seconds ?? 0);
    const steps = Number(m.meta.steps ?? 0);
    report(path, m, seconds, steps, { bytes: statSync(path).size });
    if (topic === null) continue;
    // the product of energies, for each λ; the best on these questions is shipped
    let best = { lambda: 0, acc: -1 };
    for (const lambda of values["topic-lambda"].split(",").map(Number)) {
      m.withTopic(topic, lambda, skip);
      report(`${path} × topic (λ = ${lambda}, skip ${skip})`, m, seconds, steps, { lambda, skip });
      const acc = results.at(-1)!.accuracy; // report's score under --scoring
      if (acc > best.acc) best = { lambda, acc };
    }
    if (values.ship) {
      // the vectors' file name only (no path of this machine in a shipped file)
      m.meta = {
        ...m.meta,
        topic: { vectors: basename(values.topic!), lambda: best.lambda, skip },
      };
      m.withTopic(topic, best.lambda, skip).save(values.ship, "i8");
      report(
        `shipped: ${path} × topic λ = ${best.lambda} (${values.ship})`,
        Lbl.load(values.ship),
        seconds,
        steps,
        {
          bytes: statSync(values.ship).size,
        },
      );
    }
  }
} else {
  mkdirSync(values.out, { recursive: true });
  const w = Number(values.window);
  const files = corpusFiles(values.corpus);
  const t0 = performance.now();
  const corpus = encodeCorpus(files, {
    vocabSize: Number(values.vocab),
    minCount: Number(values["min-count"]),
    pad: w,
    sentences: true,
  });
  console.log(
    `read ${files.length} files, ${corpus.tokens} tokens (${corpus.types} types; vocabulary ${corpus.vocab.size}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const trained = new Map<string, Lbl>();
  const trainOne = async (loss: CompletionLoss, minutes: number, label: string, init?: Lbl) => {
    const curve: Point[] = [];
    let live: Lbl | null = null;
    const r = await trainEncoded(
      corpus,
      {
        loss,
        minutes,
        dim: Number(values.dim),
        left: w,
        right: w,
        lr: Number(loss === "hinge" ? values["hinge-lr"] : values.lr),
        noise: Number(values.noise),
        nceLoss: values["nce-loss"] as LossName,
        threads: Number(values.threads),
        seed: Number(values.seed),
        decay: values.decay,
        adagrad: values.adagrad as "entry" | "row",
        subsample: Number(values.subsample),
        accInit: Number(values["acc-init"]),
        progressSeconds: Number(values["curve-seconds"]),
        onModel: (m) => {
          live = m;
        },
        onProgress: (p) => {
          // the parameters are shared with the training threads: a snapshot in time
          const m = live!;
          const point: Point = {
            minutes: Math.round(p.seconds / 6) / 10,
            steps: p.steps,
            loss: Math.round(1e4 * p.avgLoss) / 1e4,
            blank: pct(accuracy(m, qs, "blank")),
            sentence: pct(accuracy(m, qs, "sentence")),
          };
          curve.push(point);
          console.log(JSON.stringify({ curve: label, corpus: values.corpus, ...point }));
        },
      },
      init,
    );
    const path = join(values.out, `${label}.lbl`);
    r.model.save(path);
    trained.set(label, r.model);
    report(`${label} (${path})`, r.model, r.seconds, r.steps, { curve });
  };
  const minutes = Number(values["train-minutes"]);
  const init = values.init ? Lbl.load(values.init) : undefined;
  if (init)
    report(
      `warm start (${values.init})`,
      init,
      Number(init.meta.seconds ?? 0),
      Number(init.meta.steps ?? 0),
    );
  for (const loss of values.losses.split(",") as CompletionLoss[])
    await trainOne(loss, minutes, loss, init);
  const warm = Number(values["warm-minutes"]);
  const nll = trained.get("nll");
  if (warm > 0 && nll) await trainOne("hinge", warm, "hinge-from-nll", nll);
  if (values.ship && nll) {
    nll.prune(Number(values["ship-vocab"])).save(values.ship, "i8");
    report(
      `nll, int8 (${values.ship})`,
      Lbl.load(values.ship),
      Number(nll.meta.seconds),
      Number(nll.meta.steps),
      {
        bytes: statSync(values.ship).size,
      },
    );
  }
}

const best = results.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
console.log(
  JSON.stringify({
    accuracy: best.accuracy,
    questions: qs.length,
    scoring,
    model: best.name,
    trainSeconds: best.seconds,
    all: results,
  }),
);
