/**
 * Chinese word segmentation on UD Chinese GSD v1.4 (CC BY-NC-SA: read from
 * ../shared, converted into a temporary directory, never committed).
 *
 * 1. Convert train/dev/test (gold words = FORM) into character rows, once
 *    per scheme: B/M/E/S for graphs/cws.json, B/I for graphs/cws-binary.json
 *    (scripts/data/cws-chars.ts).
 * 2. Train both with trainTagger (averaged perceptron; the best epoch on dev
 *    by character accuracy). cws-binary.json has `"submodular": true`: its
 *    2×2 transition table is projected back to submodular after every step.
 * 3. Decode test: the B/M/E/S model by Viterbi; the binary model both by
 *    Viterbi (model.tag) and by one minimum cut (each sentence's chain
 *    potentials → chainToFactorGraph → mincutBackend), and count the
 *    sentences where the two labelings differ (must be 0; for any that do,
 *    the energies of both are compared to tell ties from errors).
 * 4. Word-level precision / recall / F1 (a word is correct when both its
 *    boundaries match).
 *
 * Last line: {"binary_mincut_f1":…,"binary_viterbi_f1":…,"bmes_f1":…,"disagreements":…}
 *
 *   npx tsx scripts/bench/cws.ts [--dir ../shared/corpora/ud-chinese-gsd-v1.4] [--epochs N] [--keep 1]
 *       [--bmes-graph graphs/cws.json] [--binary-graph graphs/cws-binary.json]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readCorpus } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { mincutBackend } from "../../src/inference/mincut/construct.ts";
import { type CwsScheme, WordScorer } from "../../src/segment/cws.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { convertFile } from "../data/cws-chars.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({
  dir: "../shared/corpora/ud-chinese-gsd-v1.4",
  epochs: "",
  keep: "",
  "bmes-graph": "graphs/cws.json",
  "binary-graph": "graphs/cws-binary.json",
});

const log = (s: string) => process.stderr.write(`${s}\n`);
const r2 = (x: number) => Number(x.toFixed(2));
const tmp = mkdtempSync(join(tmpdir(), "nadir-cws-"));

try {
  const files: Record<string, string> = {};
  for (const split of ["train", "dev", "test"]) {
    for (const scheme of ["bmes", "binary"] as const) {
      const out = join(tmp, `${split}.${scheme}.txt`);
      const n = await convertFile(join(args.dir, `zh-ud-${split}.conllu`), out, scheme);
      files[`${split}.${scheme}`] = out;
      if (scheme === "bmes")
        log(`${split}: ${n.sentences} sentences, ${n.words} words, ${n.chars} characters`);
    }
  }
  const result: Record<string, number> = {};
  const details: Record<string, unknown> = {};
  for (const [scheme, graph] of [
    ["bmes", args["bmes-graph"]],
    ["binary", args["binary-graph"]],
  ] as const) {
    const spec = loadSpec(graph);
    const train = await readCorpus(files[`train.${scheme}`]!, "conll");
    const dev = await readCorpus(files[`dev.${scheme}`]!, "conll");
    const test = await readCorpus(files[`test.${scheme}`]!, "conll");
    const t0 = performance.now();
    const r = trainTagger({
      spec,
      train,
      dev,
      options: args.epochs ? { epochs: Number(args.epochs) } : {},
      onEpoch: (e) =>
        log(
          `${scheme} epoch ${e.epoch}: dev accuracy ${e.dev?.toFixed(2)} (${e.seconds.toFixed(1)} s)`,
        ),
    });
    const trainS = (performance.now() - t0) / 1000;
    const model = r.model;
    const viterbiScore = new WordScorer();
    const cutScore = new WordScorer();
    let disagreements = 0;
    let ties = 0;
    let maxEnergyGap = 0;
    let cutS = 0;
    // A binary spec without "submodular": true may learn a transition graph cuts refuse.
    const refusal =
      scheme === "binary"
        ? mincutBackend.supports(
            model.arch.potentials(
              model.encode([
                ["。", "P"],
                ["。", "P"],
              ]),
              model.W,
            ),
          )
        : null;
    if (refusal) log(`binary: min-cut decoding refused: ${refusal}`);
    for (const s of test) {
      const gold = s.tokens.map((tok) => tok[tok.length - 1]!);
      const input = s.tokens.map((tok) => tok.slice(0, 2));
      const vit = model.tag(input);
      viterbiScore.add(gold, vit, scheme as CwsScheme);
      if (scheme !== "binary" || refusal) continue;
      const x = model.encode(input);
      const p = model.arch.potentials(x, model.W);
      const t1 = performance.now();
      const g = chainToFactorGraph(p);
      const cut = mincutBackend.minimize(g);
      cutS += (performance.now() - t1) / 1000;
      const labels = Array.from(cut.labels, (l) => model.labels[l]!);
      cutScore.add(gold, labels, "binary");
      if (labels.some((l, t) => l !== vit[t])) {
        disagreements++;
        const eVit = g.energy(model.labelIds(vit));
        const gap = Math.abs(eVit - cut.energy);
        maxEnergyGap = Math.max(maxEnergyGap, gap);
        if (gap <= 1e-9 * Math.max(1, Math.abs(eVit))) ties++;
      }
    }
    const t = model.W.subarray(model.arch.transOffset, model.arch.transOffset + 4);
    const entry: Record<string, unknown> = {
      labels: model.labels,
      best_epoch: r.bestEpoch,
      train_s: r2(trainS),
      viterbi: {
        precision: r2(viterbiScore.precision),
        recall: r2(viterbiScore.recall),
        f1: r2(viterbiScore.f1),
      },
    };
    if (scheme === "binary") {
      entry.transition = Array.from(t);
      entry.submodular_slack = t[1]! + t[2]! - t[0]! - t[3]!;
      entry.mincut = refusal
        ? { refused: refusal }
        : {
            precision: r2(cutScore.precision),
            recall: r2(cutScore.recall),
            f1: r2(cutScore.f1),
            seconds: r2(cutS),
          };
      entry.disagreements = disagreements;
      entry.ties = ties;
      entry.max_energy_gap = maxEnergyGap;
      result.binary_mincut_f1 = refusal ? Number.NaN : r2(cutScore.f1);
      result.binary_viterbi_f1 = r2(viterbiScore.f1);
      result.disagreements = disagreements;
    } else result.bmes_f1 = r2(viterbiScore.f1);
    details[scheme] = entry;
    log(`${scheme}: ${JSON.stringify(entry)}`);
  }
  console.log(
    JSON.stringify({
      binary_mincut_f1: result.binary_mincut_f1,
      binary_viterbi_f1: result.binary_viterbi_f1,
      bmes_f1: result.bmes_f1,
      disagreements: result.disagreements,
    }),
  );
} catch (e) {
  process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  if (args.keep) log(`converted files kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
