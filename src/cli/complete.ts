import { Completer, DEFAULT_COMPLETION_MODEL } from "../api/completer.ts";
import { NadirError } from "../core/errors.ts";
import type { OptionDecl } from "../core/options.ts";
import { LOSS_NAMES, type LossName } from "../loss/index.ts";
import { type Command, flag } from "./args.ts";

/** The options of `nadir complete train`, declared once: flags, help and defaults. */
const TRAIN_OPTIONS: readonly OptionDecl[] = [
  flag(
    "corpus",
    "directory of *.txt or *.txt.gz files (Gutenberg headers are stripped), or one file",
  ),
  {
    name: "minutes",
    type: "number",
    default: 10,
    min: 0,
    help: "training time budget in minutes",
  },
  {
    name: "max-steps",
    type: "int",
    default: 0,
    min: 0,
    help: "stop after this many steps (0: no limit; with --threads 1 the model is reproducible)",
  },
  {
    name: "model",
    type: "string",
    default: "completion.lbl",
    help: "model file to write (atomically)",
    file: true,
  },
  {
    name: "vocab",
    type: "int",
    default: 40000,
    min: 1,
    help: "at most this many words in the vocabulary",
  },
  {
    name: "min-count",
    type: "int",
    default: 2,
    min: 1,
    help: "words seen fewer times are <unk>",
  },
  { name: "dim", type: "int", default: 64, min: 1, help: "embedding dimension D" },
  {
    name: "window",
    type: "int",
    default: 10,
    min: 1,
    help: "context words on each side of the blank",
  },
  {
    name: "threads",
    type: "int",
    default: 2,
    min: 1,
    help: "training threads (Hogwild! when > 1)",
  },
  { name: "lr", type: "number", default: 0.1, min: 1e-12, help: "AdaGrad step size" },
  { name: "noise", type: "int", default: 10, min: 1, help: "noise words per example (NCE)" },
  {
    name: "nce-loss",
    type: "string",
    default: "log",
    choices: LOSS_NAMES,
    help: "loss-table row on each word's data-vs-noise pair (log: NCE; hinge, mce, lvq2, perceptron: negative sampling with that loss)",
  },
  { name: "margin", type: "number", default: 1, min: 0, help: "margin m of --nce-loss hinge" },
  {
    name: "subsample",
    type: "number",
    default: 0,
    min: 0,
    help: "keep a word as the target with probability min(1, √(t/f)) (t = this; 0: off; biases corrected after)",
  },
  {
    name: "adagrad",
    type: "string",
    default: "entry",
    choices: ["entry", "row"],
    help: "AdaGrad sums per entry, or per row of each table (faster)",
  },
  {
    name: "init",
    type: "string",
    default: "",
    file: true,
    help: "warm start from this completion model (its D and window; rows of shared words copied)",
  },
  {
    name: "acc-init",
    type: "number",
    default: 0,
    min: 0,
    help: "AdaGrad's initial squared-gradient sums (e.g. 1 with --init: smaller first steps)",
  },
  { name: "seed", type: "int", default: 1, min: 0, help: "random seed" },
  {
    name: "dtype",
    type: "string",
    default: "i8",
    choices: ["i8", "f32"],
    help: "i8: embedding rows as int8 with a float32 scale (4× smaller); f32: float32",
  },
  {
    name: "topic",
    type: "string",
    default: "",
    file: true,
    help: "multiply in a topic expert: topical word vectors (scripts/embeddings.ts --window 10 --skip 150 --contexts 5000 --dim 64)",
  },
  {
    name: "topic-lambda",
    type: "number",
    default: 16,
    min: 0,
    help: "weight λ of the topic expert: E = E_lbl − λ·(total cosine similarity with the sentence)",
  },
  {
    name: "topic-skip",
    type: "int",
    default: 150,
    min: 0,
    help: "the topic expert leaves the N most frequent words (function words) out of the sentence",
  },
  flag("quiet", "no progress lines on stderr", "boolean"),
];

/** A `complete train` option's value, or its declared default. */
function option<T extends number | string | boolean>(v: Record<string, unknown>, name: string): T {
  const decl = TRAIN_OPTIONS.find((o) => o.name === name);
  if (!decl) throw new Error(`complete train: undeclared option ${name}`);
  return (v[name] ?? decl.default) as T;
}

/** `nadir complete train`: train a completion model on a directory of (gzipped) texts. */
export const completeTrainCommand: Command = {
  name: "complete train",
  summary:
    "train a log-bilinear completion model on a directory of *.txt / *.txt.gz texts (read file by file)",
  usage:
    "nadir complete train --corpus DIR --minutes M [--model OUT] [--vocab N] [--dim D] [--window W] [--threads T] ...",
  options: TRAIN_OPTIONS,
  async run(v) {
    const corpus = option<string>(v, "corpus");
    if (corpus === "") throw new NadirError("E_ARG", "complete train: --corpus DIR is required");
    const minutes = option<number>(v, "minutes");
    const maxSteps = option<number>(v, "max-steps");
    if (minutes <= 0 && maxSteps <= 0)
      throw new NadirError("E_ARG", "complete train: --minutes or --max-steps must be > 0");
    const out = option<string>(v, "model") || "completion.lbl";
    const window = option<number>(v, "window");
    const quiet = v.quiet === true;
    const say = (line: string): void => {
      if (!quiet) process.stderr.write(`${line}\n`);
    };
    const [{ corpusFiles, encodeCorpus }, { checkNceLoss, trainEncoded }, { Lbl }] =
      await Promise.all([
        import("../complete/corpus.ts"),
        import("../complete/train.ts"),
        import("../complete/lbl.ts"),
      ]);
    const nceLoss = option<string>(v, "nce-loss") as LossName;
    checkNceLoss(nceLoss, { margin: option<number>(v, "margin") });
    const t0 = performance.now();
    const files = corpusFiles(corpus);
    const data = encodeCorpus(files, {
      vocabSize: option<number>(v, "vocab"),
      minCount: option<number>(v, "min-count"),
      pad: window,
      sentences: true,
    });
    if (data.vocab.size <= 2)
      throw new NadirError(
        "E_ARG",
        "complete train: the corpus has no word seen --min-count times",
        {
          file: corpus,
        },
      );
    say(
      `read ${data.files} files: ${data.tokens} tokens, ${data.types} types, vocabulary ${data.vocab.size - 2} words (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const initPath = option<string>(v, "init");
    const init = initPath !== "" ? Lbl.load(initPath) : undefined;
    const r = await trainEncoded(
      data,
      {
        loss: "nll",
        minutes: maxSteps > 0 && v.minutes === undefined ? 0 : minutes,
        maxSteps,
        dim: option<number>(v, "dim"),
        left: window,
        right: window,
        lr: option<number>(v, "lr"),
        noise: option<number>(v, "noise"),
        nceLoss,
        margin: option<number>(v, "margin"),
        threads: option<number>(v, "threads"),
        seed: option<number>(v, "seed"),
        subsample: option<number>(v, "subsample"),
        adagrad: option<string>(v, "adagrad") as "entry" | "row",
        accInit: option<number>(v, "acc-init"),
        progressSeconds: 30,
        onProgress: (p) =>
          say(`${(p.seconds / 60).toFixed(1)} min: ${p.steps} steps, loss ${p.avgLoss.toFixed(4)}`),
      },
      init,
    );
    r.model.meta = { ...r.model.meta, corpus: { files: data.files, tokens: data.tokens } };
    const topicPath = option<string>(v, "topic");
    if (topicPath !== "") {
      const { readPretrained } = await import("../architecture/network.ts");
      const lambda = option<number>(v, "topic-lambda");
      const skip = option<number>(v, "topic-skip");
      r.model.withTopic(await readPretrained(topicPath), lambda, skip);
      say(`topic expert: ${r.model.topic!.dim}-d vectors, λ = ${lambda}, skip ${skip}`);
    }
    r.model.save(out, option<string>(v, "dtype") as "i8" | "f32");
    say(
      `wrote ${out}: ${r.steps} steps in ${r.seconds.toFixed(0)} s, loss ${r.avgLoss.toFixed(4)}`,
    );
  },
};

export const completeCommand: Command = {
  name: "complete",
  summary: "fill the blank ___ of a sentence with the lowest-energy words (log-bilinear model)",
  usage:
    'nadir complete "The cat ate the ___" [--model M] [-k K] [--beta B] [--choices a,b,c] [--json]\n       nadir complete train --corpus DIR --minutes M [--model OUT] (see nadir complete train --help)',
  subcommands: [completeTrainCommand],
  options: [
    flag(
      "model",
      "completion model (default: the one shipped in models/; `nadir complete train` trains others)",
    ),
    { name: "k", type: "int", default: 10, min: 1, help: "how many words to print" },
    {
      name: "beta",
      type: "number",
      default: 1,
      min: 1e-12,
      help: "inverse temperature β of the Gibbs distribution",
    },
    flag("choices", "comma-separated candidate words (probabilities are over these)"),
    flag("json", "one JSON object instead of tab-separated lines", "boolean"),
  ],
  run(v, positionals) {
    if (positionals.length !== 1)
      throw new NadirError(
        "E_ARG",
        'complete: expected one sentence with a blank, e.g. "The cat ate the ___"',
      );
    const completer = Completer.load((v.model as string | undefined) || DEFAULT_COMPLETION_MODEL);
    const beta = (v.beta as number | undefined) ?? 1;
    const best = completer.complete(positionals[0]!, {
      k: (v.k as number | undefined) ?? 10,
      beta,
      choices: ((v.choices as string | undefined) ?? "").split(","),
    });
    if (v.json === true) {
      process.stdout.write(
        `${JSON.stringify({ beta, freeEnergy: completer.freeEnergy(positionals[0]!, { beta, choices: ((v.choices as string | undefined) ?? "").split(",") }), completions: best })}\n`,
      );
      return;
    }
    process.stdout.write("word\tenergy\tprobability\n");
    for (const b of best)
      process.stdout.write(
        `${b.word}\t${b.energy.toFixed(4)}\t${b.probability.toExponential(4)}\n`,
      );
  },
};
