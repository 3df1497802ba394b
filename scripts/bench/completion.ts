/**
 * MSR Sentence Completion benchmark for the log-bilinear completion energy.
 *
 *   tsx scripts/bench/completion.ts --train-minutes 12     # train nll (NCE) and hinge, score both
 *   tsx scripts/bench/completion.ts --model M [--questions F --answers F]
 *
 * Each question is answered by the candidate of lowest energy (--scoring
 * blank: at the blank; sentence: summed over the positions whose window holds
 * the blank). Scores the first 520 questions (the development set; the
 * other 520 are kept aside). While training, the accuracy is measured every
 * --curve-seconds on the shared parameters: the accuracy-against-time curve.
 * --warm-minutes M also trains hinge for M minutes starting from the nll
 * model (a warm start); --ship PATH also writes the nll model restricted to
 * the --ship-vocab most frequent words, with int8 rows (the small model
 * nadir complete loads by default). The last line is JSON {"accuracy", "questions", ...} for the best model.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Lbl } from "../../src/complete/lbl.ts";
import { accuracy, parseLmFormat, type Scoring } from "../../src/complete/msr.ts";
import { readDocuments } from "../../src/complete/text.ts";
import { type CompletionLoss, trainCompletion } from "../../src/complete/train.ts";

// the shared corpora beside the checkout (../shared), wherever it is
const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
const MSR = join(SHARED, "corpora/msr-sentence-completion");
const { values } = parseArgs({
  options: {
    questions: { type: "string", default: join(MSR, "Holmes.lm_format.questions.txt") },
    answers: { type: "string", default: join(MSR, "Holmes.lm_format.answers.txt") },
    model: { type: "string" },
    "train-minutes": { type: "string", default: "12" },
    losses: { type: "string", default: "nll,hinge" },
    corpus: { type: "string", default: join(SHARED, "corpora/gutenberg") },
    out: { type: "string", default: "/tmp/nadir-completion" },
    vocab: { type: "string", default: "40000" },
    "min-count": { type: "string", default: "2" },
    dim: { type: "string", default: "64" },
    window: { type: "string", default: "10" },
    lr: { type: "string", default: "0.1" },
    noise: { type: "string", default: "10" },
    threads: { type: "string", default: "2" },
    scoring: { type: "string", default: "blank" },
    "curve-seconds": { type: "string", default: "60" },
    seed: { type: "string", default: "1" },
    "warm-minutes": { type: "string", default: "0" },
    "hinge-lr": { type: "string", default: "0.05" },
    ship: { type: "string" },
    "ship-vocab": { type: "string", default: "25000" },
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

interface Result {
  name: string;
  accuracy: number;
  blank: number;
  sentence: number;
  seconds: number;
  steps: number;
  oov: number;
  curve?: { seconds: number; steps: number; loss: number; blank: number; sentence: number }[];
}
const results: Result[] = [];

function report(name: string, model: Lbl, seconds: number, steps: number, curve?: Result["curve"]) {
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
    curve,
  });
  console.log(
    `${name}: accuracy ${pct(acc)}% (${scoring}; blank ${pct(blank)}%, sentence ${pct(sentence)}%) on ${qs.length} questions; train ${seconds.toFixed(0)} s, ${steps} steps; OOV candidates ${oov}/${qs.length * 5}`,
  );
}

if (values.model) {
  const m = Lbl.load(values.model);
  report(values.model, m, Number(m.meta.seconds ?? 0), Number(m.meta.steps ?? 0));
} else {
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
  const trained = new Map<string, Lbl>();
  const trainOne = async (loss: CompletionLoss, minutes: number, label: string, init?: Lbl) => {
    const w = Number(values.window);
    const curve: NonNullable<Result["curve"]> = [];
    let live: Lbl | null = null;
    const r = await trainCompletion(
      docs,
      {
        loss,
        minutes,
        vocabSize: Number(values.vocab),
        minCount: Number(values["min-count"]),
        dim: Number(values.dim),
        left: w,
        right: w,
        lr: Number(loss === "hinge" ? values["hinge-lr"] : values.lr),
        noise: Number(values.noise),
        threads: Number(values.threads),
        seed: Number(values.seed),
        progressSeconds: Number(values["curve-seconds"]),
        onModel: (m) => {
          live = m;
        },
        onProgress: (p) => {
          // the parameters are shared with the training threads: a snapshot in time
          const m = live!;
          const point = {
            seconds: Math.round(p.seconds),
            steps: p.steps,
            loss: Math.round(1e4 * p.avgLoss) / 1e4,
            blank: pct(accuracy(m, qs, "blank")),
            sentence: pct(accuracy(m, qs, "sentence")),
          };
          curve.push(point);
          console.log(
            `  ${label}: ${point.seconds} s, ${p.steps} steps, loss ${point.loss}, dev accuracy blank ${point.blank}% sentence ${point.sentence}%`,
          );
        },
      },
      init,
    );
    const path = join(values.out, `${label}.lbl`);
    r.model.save(path);
    trained.set(label, r.model);
    report(`${label} (${path})`, r.model, r.seconds, r.steps, curve);
  };
  const minutes = Number(values["train-minutes"]);
  for (const loss of values.losses.split(",") as CompletionLoss[])
    await trainOne(loss, minutes, loss);
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
