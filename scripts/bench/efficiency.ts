/**
 * The efficiency of a loss: how many energies it pulls up for a given amount
 * of computation, and what that buys. CoNLL-2000 chunking (graphs/chunk.json),
 * trained on the first 90% of train.txt and scored on the last 10% (dev) after
 * every epoch, for losses that pull up different sets of answers:
 *
 * - perceptron: the machine's answer, only when it is wrong (Viterbi);
 * - hinge (PA): the most offending incorrect answer, while the margin is violated;
 * - log (SGD): the most offending incorrect answer, always, with a decaying force;
 * - cd (SGD): one answer sampled from P_β (forward–backward, then sampling);
 * - nll (SGD): every answer, in proportion to its probability (forward–backward).
 *
 * Computation is counted in multiply-adds per epoch, from the sizes of each
 * sentence (T positions, L labels, aₜ attributes at t): potentials Σₜ aₜ·L for
 * all; Viterbi T·L²; the exact most offending answer 2·T·L² (a backward min-sum
 * pass and the walk); forward–backward 3·T·L²; a sample 3·T·L² + T·L; gradients
 * 2·Σₜ aₜ for one answer against the gold one (only when the loss is active),
 * Σₜ aₜ·L + (T−1)·L² for marginals. Wall time is measured. Energies pulled up
 * per sentence: 1 for the answer-based losses (perceptron: the fraction of
 * sentences it got wrong), 1 sample for cd, all L^T labelings for nll.
 *
 * Writes docs/data/efficiency.json and docs/efficiency.svg (dev F1 against
 * wall time and against multiply-adds); last line: the JSON table.
 *
 *   npx tsx scripts/bench/efficiency.ts [--train FILE --epochs 6] [--replot docs/data/efficiency.json]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readCorpus } from "../../src/architecture/corpus.ts";
import { FeatureExtractor } from "../../src/architecture/features.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({
  train: "../shared/corpora/conll2000/train.txt",
  epochs: "6",
  out: "docs",
  replot: "",
});
const epochs = Number(args.epochs);
interface Row {
  loss: string;
  optimizer: string;
  pulled_up_per_sentence: string;
  madds_per_epoch: number;
  curve: { epoch: number; dev_f1: number; seconds: number; madds: number }[];
}

/** Train every configuration, recording dev F1, seconds and multiply-adds per epoch. */
async function run(): Promise<Row[]> {
  const spec = loadSpec("chunk");
  const all = await readCorpus(args.train, spec.format);
  const cut = Math.floor(all.length * 0.9);
  const train = all.slice(0, cut);
  const dev = all.slice(cut);

  // sentence sizes for the operation counts (attributes of each sentence, as training extracts them)
  const fx = new FeatureExtractor(spec);
  const L = new Set(train.flatMap((s) => s.tokens.map((t) => t[t.length - 1]))).size;
  let sumT = 0;
  let sumA = 0;
  let sumTL2 = 0;
  let log10Answers = 0;
  for (const s of train) {
    const x = fx.extract(s.tokens, true);
    const T = s.tokens.length;
    sumT += T;
    sumA += x.attrs.length;
    sumTL2 += T * L * L;
    log10Answers += T * Math.log10(L);
  }
  const N = train.length;
  const potentials = sumA * L;
  const grad1 = 2 * sumA;
  const gradMarg = sumA * L + (sumTL2 - N * L * L);

  const CONFIGS: {
    loss: string;
    optimizer: string;
    options: Record<string, unknown>;
    madds: (mistakes: number) => number;
    pulled: (mistakes: number) => string;
  }[] = [
    {
      loss: "perceptron",
      optimizer: "perceptron",
      options: {},
      madds: (m) => potentials + sumTL2 + (m / N) * grad1,
      pulled: (m) => `${(m / N).toFixed(2)} (the wrong answers)`,
    },
    {
      loss: "hinge",
      optimizer: "pa",
      options: { "pa-c": 0.1 },
      madds: () => potentials + 2 * sumTL2 + grad1,
      pulled: () => "≤ 1 (the most offending, while the margin is violated)",
    },
    {
      loss: "log",
      optimizer: "sgd",
      options: { eta: 0.1 },
      madds: () => potentials + 2 * sumTL2 + grad1,
      pulled: () => "1 (the most offending)",
    },
    {
      loss: "cd",
      optimizer: "sgd",
      options: { eta: 0.1 },
      madds: () => potentials + 3 * sumTL2 + sumT * L + grad1,
      pulled: () => "1 (a sample of P_β)",
    },
    {
      loss: "nll",
      optimizer: "sgd",
      options: { eta: 0.1 },
      madds: () => potentials + 3 * sumTL2 + gradMarg,
      pulled: () => `all L^T: 10^${(log10Answers / N).toFixed(1)} on average (weighted)`,
    },
  ];

  const rows: Row[] = [];
  for (const c of CONFIGS) {
    const curve: Row["curve"] = [];
    let seconds = 0;
    let madds = 0;
    let lastMistakes = 0;
    trainTagger({
      spec,
      train,
      dev,
      options: { loss: c.loss, optimizer: c.optimizer, epochs, "keep-best": false, ...c.options },
      onEpoch: (e) => {
        seconds += e.seconds;
        madds += c.madds(e.mistakes);
        lastMistakes = e.mistakes;
        curve.push({
          epoch: e.epoch,
          dev_f1: +(e.dev ?? 0).toFixed(2),
          seconds: +seconds.toFixed(2),
          madds,
        });
        process.stderr.write(
          `${c.loss}/${c.optimizer} epoch ${e.epoch}: dev F1 ${e.dev?.toFixed(2)} (${seconds.toFixed(1)} s)\n`,
        );
      },
    });
    rows.push({
      loss: c.loss,
      optimizer: c.optimizer,
      pulled_up_per_sentence: c.pulled(lastMistakes),
      madds_per_epoch: Math.round(c.madds(lastMistakes)),
      curve,
    });
  }

  return rows;
}

/** Two panels of dev F1: against seconds and against multiply-adds (log scale). */
function svg(data: Row[]): string {
  const W = 1100;
  const H = 420;
  const colors = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"];
  const allF = data.flatMap((r) => r.curve.map((p) => p.dev_f1));
  const f0 = Math.floor(Math.min(...allF) - 0.5);
  const f1 = Math.ceil(Math.max(...allF) + 0.2);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12"><title>Dev F1 of five losses against training time and against multiply-adds, CoNLL-2000</title><rect width="${W}" height="${H}" fill="white"/>`,
  ];
  const panel = (
    x0: number,
    title: string,
    xlabel: string,
    xv: (p: Row["curve"][number]) => number,
    logx: boolean,
  ) => {
    const pw = 480;
    const ph = 300;
    const top = 50;
    const xsAll = data.flatMap((r) => r.curve.map(xv));
    const tx = (v: number) => (logx ? Math.log10(v) : v);
    const a = logx ? Math.floor(tx(Math.min(...xsAll))) : 0;
    const b = logx ? tx(Math.max(...xsAll)) + 0.1 : Math.max(...xsAll) * 1.05;
    const X = (v: number) => x0 + ((tx(v) - a) / (b - a)) * pw;
    const Y = (f: number) => top + ph - ((f - f0) / (f1 - f0)) * ph;
    parts.push(
      `<text x="${x0 + pw / 2}" y="30" text-anchor="middle" font-weight="bold" font-size="14">${title}</text>`,
    );
    parts.push(
      `<rect x="${x0}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    );
    for (let k = 0; k <= 5; k++) {
      const f = f0 + ((f1 - f0) * k) / 5;
      parts.push(
        `<line x1="${x0}" x2="${x0 + pw}" y1="${Y(f)}" y2="${Y(f)}" stroke="#ddd"/><text x="${x0 - 6}" y="${Y(f) + 4}" text-anchor="end">${f.toFixed(1)}</text>`,
      );
    }
    const ticks = logx
      ? Array.from({ length: Math.floor(b) - a + 1 }, (_, i) => 10 ** (a + i)).concat(
          Array.from({ length: Math.floor(b) - a + 1 }, (_, i) => 3 * 10 ** (a + i)).filter(
            (t) => Math.log10(t) <= b,
          ),
        )
      : Array.from({ length: 6 }, (_, i) => (b * i) / 5);
    for (const t of ticks) {
      const e = Math.floor(Math.log10(t) + 1e-9);
      const label = logx ? `${Math.round(t / 10 ** e) === 1 ? "" : "3·"}10^${e}` : t.toFixed(0);
      parts.push(
        `<line x1="${X(t)}" x2="${X(t)}" y1="${top}" y2="${top + ph}" stroke="#eee"/><text x="${X(t)}" y="${top + ph + 16}" text-anchor="middle">${label}</text>`,
      );
    }
    parts.push(
      `<text x="${x0 + pw / 2}" y="${top + ph + 36}" text-anchor="middle">${xlabel}</text>`,
    );
    parts.push(
      `<text transform="translate(${x0 - 40},${top + ph / 2}) rotate(-90)" text-anchor="middle">dev chunk F1</text>`,
    );
    data.forEach((r, i) => {
      const pts = r.curve.map((p) => `${X(xv(p)).toFixed(1)},${Y(p.dev_f1).toFixed(1)}`).join(" ");
      parts.push(`<polyline points="${pts}" fill="none" stroke="${colors[i]}" stroke-width="2"/>`);
      for (const p of r.curve)
        parts.push(`<circle cx="${X(xv(p))}" cy="${Y(p.dev_f1)}" r="3" fill="${colors[i]}"/>`);
    });
  };
  panel(
    70,
    "dev F1 against training time",
    "seconds (cumulative, this machine)",
    (p) => p.seconds,
    false,
  );
  panel(
    610,
    "dev F1 against computation",
    "multiply-adds (cumulative, counted)",
    (p) => p.madds,
    true,
  );
  data.forEach((r, i) => {
    parts.push(
      `<rect x="${90 + i * 200}" y="${H - 22}" width="14" height="4" fill="${colors[i]}"/><text x="${110 + i * 200}" y="${H - 16}">${r.loss} (${r.optimizer})</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

const rows: Row[] = args.replot
  ? (JSON.parse(readFileSync(args.replot, "utf8")) as Row[])
  : await run();
mkdirSync(`${args.out}/data`, { recursive: true });
writeFileSync(`${args.out}/data/efficiency.json`, `${JSON.stringify(rows, null, 1)}\n`);
writeFileSync(`${args.out}/efficiency.svg`, svg(rows));
for (const r of rows) {
  const last = r.curve[r.curve.length - 1]!;
  const best = Math.max(...r.curve.map((p) => p.dev_f1));
  console.log(
    `${`${r.loss} (${r.optimizer})`.padEnd(24)} best dev F1 ${best.toFixed(2)}  ${last.seconds.toFixed(1)} s  ${(r.madds_per_epoch / 1e9).toFixed(2)} G madds/epoch  pulled up per sentence: ${r.pulled_up_per_sentence}`,
  );
}
console.log(
  JSON.stringify(
    rows.map(({ curve, ...r }) => ({
      ...r,
      best_dev_f1: Math.max(...curve.map((p) => p.dev_f1)),
      seconds: curve[curve.length - 1]!.seconds,
    })),
  ),
);
