/**
 * Deep energies under the chain (issue 15): a window network (+ the sparse
 * linear attributes: hybrid) trained end to end through the chain with a loss
 * of the table, against the linear model trained in the same run.
 * Model selection on dev only (CoNLL-2000: the last 10% of train.txt; EWT:
 * dev; CoNLL-2002: esp.testa), the test set scored once.
 * Last line: {"task","score","train_s","tag_tokens_per_s","linear_score", …}
 *
 *   npx tsx scripts/bench/deep.ts --task pos|chunk|ner|cws
 *     [--graph graphs/TASK-deep.json --epochs N --loss nll --hidden H --lr R --batch B]
 *     [--offending exact|hamming --margin M (hinge: cost-augmented answers, margin per wrong label)]
 *     [--window C --layer2 C2:H2 (a second layer over the hidden states, ±C2, H2 units)]
 *     [--hybrid 0|1 --embeddings none --linear 0|1 --linear-graph SPEC --test 0|1]
 *     [--attr-dropout P (sparse attribute dropout) --chars F --char-dim D --char-width W (character module)]
 *     [--net-fields col:dim,… (more network fields) --extra-templates "a[0],b[-1]|b[0]"]
 *     [--average-net all|epoch|none (the network's share of the averaging) --ensemble N (N seeds in one model)]
 *     [--refit 1 --epochs N --linear-epochs M (chunk: after a selection run on the split, train on all of
 *      train.txt for the epochs it chose, no dev, and score test)]
 *
 * Everything else comes from the spec, as `nadir train --graph` reads it:
 * its lookup columns (cluster ids of the learned word vectors, Turian et al.
 * 2010: `lookup(lw0, embeddings/en-clusters.txt.gz, 1)`) and ambiguity
 * classes (`ambiguity(lw0, 10)`: the training set's tag dictionary,
 * jackknifed on train) — see src/architecture/derived-tables.ts. The linear
 * model of the same run is the deep spec without its network section (the
 * same sparse attributes), or `--linear-graph` (e.g. graphs/pos.json).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { readCorpus } from "../../src/architecture/corpus.ts";
import {
  bindLookups,
  fitTrainingTables,
  jackknifed,
  setFold,
  withOwnTables,
} from "../../src/architecture/derived-tables.ts";
import {
  encodeSentence,
  FeatureExtractor,
  labelOf,
  type SentenceLike,
  TrainingSetBuilder,
} from "../../src/architecture/features.ts";
import { observedRows } from "../../src/architecture/linear-chain.ts";
import {
  combineNetworks,
  type NetInstance,
  NetworkChain,
  networkOf,
  type Pretrained,
  readPretrained,
} from "../../src/architecture/network.ts";
import { type GraphSpec, loadSpec, parseSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import { trainDeep } from "../../src/optimize/adam.ts";
import { WordScorer } from "../../src/segment/cws.ts";
import { structuresFor } from "../../src/structure/index.ts";
import { evaluateTagger, scoreSequences } from "../../src/tagger/evaluate.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { convertFile } from "../data/cws-chars.ts";
import { benchArgs, rssMb } from "./args.ts";

const args = benchArgs({
  task: "pos",
  graph: "",
  epochs: "",
  loss: "",
  offending: "",
  margin: "",
  hidden: "",
  lr: "",
  "linear-lr": "",
  batch: "",
  decay: "",
  window: "",
  layer2: "",
  hybrid: "",
  embeddings: "",
  linear: "1",
  "linear-graph": "",
  deep: "1",
  test: "1",
  seed: "1",
  "max-train": "",
  "skip-below": "",
  warm: "0",
  "warm-scale": "1",
  l2: "",
  dropout: "",
  average: "",
  "average-net": "",
  ensemble: "",
  "linear-opt": "",
  "attr-dropout": "",
  "extra-templates": "",
  "net-fields": "",
  chars: "",
  aux: "",
  "char-dim": "15",
  "char-width": "3",
  refit: "0",
  "linear-epochs": "",
});

const log = (s: string) => process.stderr.write(`${s}\n`);
const r2 = (v: number) => Math.round(v * 100) / 100;

interface Task {
  deep: string;
  train: string;
  dev: string | null;
  test: string;
  linearOptions: Record<string, unknown>;
}

const TASKS: Record<string, Task> = {
  pos: {
    deep: "graphs/pos-deep.json",
    train: "corpora/ud-english-ewt/en_ewt-ud-train.conllu.gz",
    dev: "corpora/ud-english-ewt/en_ewt-ud-dev.conllu.gz",
    test: "corpora/ud-english-ewt/en_ewt-ud-test.conllu.gz",
    linearOptions: { epochs: 10 },
  },
  chunk: {
    deep: "graphs/chunk-deep.json",
    train: "../shared/corpora/conll2000/train.txt",
    dev: null,
    test: "../shared/corpora/conll2000/test.txt",
    linearOptions: { epochs: 10 },
  },
  ner: {
    deep: "graphs/ner-deep.json",
    train: "../shared/corpora/conll2002/esp.train",
    dev: "../shared/corpora/conll2002/esp.testa",
    test: "../shared/corpora/conll2002/esp.testb",
    linearOptions: {
      loss: "perceptron",
      optimizer: "perceptron",
      epochs: 15,
      offending: "hamming",
    },
  },
  cws: {
    // characters with B/M/E/S labels, converted from these CoNLL-U files into a temporary directory
    deep: "graphs/cws-deep.json",
    train: "../shared/corpora/ud-chinese-gsd-v1.4/zh-ud-train.conllu",
    dev: "../shared/corpora/ud-chinese-gsd-v1.4/zh-ud-dev.conllu",
    test: "../shared/corpora/ud-chinese-gsd-v1.4/zh-ud-test.conllu",
    linearOptions: {},
  },
};

/** The spec without its network section: the linear model over the same sparse attributes. */
function withoutNetwork(spec: GraphSpec): GraphSpec {
  const src = { ...(spec.source as Record<string, unknown>) };
  delete src.network;
  src.name = `${spec.name}-linear`;
  return parseSpec(src, String(src.name));
}

/** The spec plus templates (comma-separated; over its own or added columns). */
function withTemplates(spec: GraphSpec, extra: string): GraphSpec {
  if (!extra) return spec;
  const src = JSON.parse(JSON.stringify(spec.source)) as Record<string, unknown>;
  src.templates = [...(src.templates as string[]), ...extra.split(",")];
  return parseSpec(src, String(src.name));
}

/** The task's score: word F1 for segmentation, else the spec's metric (accuracy or chunk F1). */
function taskScore(spec: GraphSpec, gold: readonly string[][], pred: readonly string[][]): number {
  if (args.task !== "cws") return scoreSequences(spec, gold, pred);
  const w = new WordScorer();
  for (let i = 0; i < gold.length; i++) w.add(gold[i]!, pred[i]!, "bmes");
  return w.f1;
}

async function readSplit(path: string): Promise<SentenceLike[]> {
  let file = path;
  if (args.task === "cws") {
    file = join(tmp, `${basename(path)}.bmes`);
    await convertFile(path, file, "bmes");
  }
  return (await readCorpus(file, args.task === "pos" ? "conllu" : "conll")).filter(
    (s) => s.tokens.length > 0,
  );
}
const tmp = mkdtempSync(join(tmpdir(), "nadir-deep-"));

function goldOf(spec: GraphSpec, sents: readonly SentenceLike[]): string[][] {
  return sents.map((s) => s.tokens.map((tok) => labelOf(tok, spec.label) ?? ""));
}

try {
  const task = TASKS[args.task];
  if (!task)
    throw new NadirError("E_ARG", `--task: expected pos, chunk, ner or cws, got ${args.task}`);
  let train = await readSplit(task.train);
  let dev: SentenceLike[];
  const refit = args.refit === "1";
  if (refit && (task.dev !== null || !args.epochs || args.test === "0"))
    throw new NadirError(
      "E_ARG",
      "--refit 1: for a task whose dev is carved from train (chunk), with --epochs (and --linear-epochs) chosen by a selection run, and --test 1",
    );
  if (refit) {
    dev = []; // all of train: the epoch counts come from the selection run on the split
  } else if (task.dev === null) {
    const cut = Math.floor(train.length * 0.9);
    dev = train.slice(cut);
    train = train.slice(0, cut);
  } else {
    dev = await readSplit(task.dev);
  }
  if (args["max-train"]) train = train.slice(0, Number(args["max-train"]));
  const test = await readSplit(task.test);
  const wantTest = args.test !== "0";
  const result: Record<string, unknown> = { task: args.task };

  let linearModel: ReturnType<typeof trainTagger>["model"] | null = null;
  // --- the linear model, same run ---------------------------------------------------------
  if (args.linear !== "0") {
    const lspec = withTemplates(
      args["linear-graph"]
        ? loadSpec(args["linear-graph"])
        : withoutNetwork(loadSpec(args.graph || task.deep)),
      args["extra-templates"],
    );
    const t0 = performance.now();
    const r = trainTagger({
      spec: lspec,
      train,
      dev: refit ? undefined : dev,
      options: args["linear-epochs"]
        ? { ...task.linearOptions, epochs: Number(args["linear-epochs"]) }
        : task.linearOptions,
      onEpoch: (e) =>
        log(`linear epoch ${e.epoch}: dev ${e.dev?.toFixed(2)} (${e.seconds.toFixed(1)} s)`),
    });
    const trainS = (performance.now() - t0) / 1000;
    // a warm start maps weights by attribute name and label: extra attributes on either side are skipped
    linearModel = r.model;
    const ev = evaluateTagger(r.model, wantTest ? test : dev);
    const score =
      args.task === "cws"
        ? taskScore(lspec, goldOf(lspec, wantTest ? test : dev), ev.predictions)
        : ev.chunks && lspec.metric === "chunk-f1"
          ? ev.chunks.f1
          : ev.accuracy;
    result.linear_score = r2(score);
    result.linear_dev = r2(r.reports[r.bestEpoch - 1]?.dev ?? Number.NaN);
    result.linear_train_s = r2(trainS);
    result.linear_tokens_per_s = Math.round(ev.tokensPerSecond);
    log(`linear: ${wantTest ? "test" : "dev"} ${score.toFixed(2)}, train ${trainS.toFixed(1)} s`);
  }

  // --- the deep model ---------------------------------------------------------------------
  if (args.deep !== "0") {
    let spec = loadSpec(args.graph || task.deep);
    const net = networkOf(spec);
    const dtrain = train;
    const ddev = dev;
    const dtest = test;
    // the spec's network section travels in its source: the templates only add sparse attributes
    spec = withOwnTables(withTemplates(spec, args["extra-templates"]));
    // the spec's table columns: lookup files read, ambiguity classes counted (jackknifed on train)
    bindLookups(spec);
    fitTrainingTables(spec, dtrain);
    if (!net) throw new NadirError("E_SPEC", `${spec.name}: no network section`);
    if (args.hidden) net.hidden = Number(args.hidden);
    if (args.window) net.window = Number(args.window);
    // --layer2 c2:H2 — a convolution over the hidden states (window ±c2, H2 units); 0: none
    if (args.layer2 === "0") net.layer2 = null;
    else if (args.layer2) {
      const [w2, h2] = args.layer2.split(":");
      net.layer2 = { window: Number(w2), hidden: Number(h2 || net.hidden) };
    }
    if (args.hybrid) net.hybrid = args.hybrid === "1";
    if (args.embeddings === "none") for (const f of net.fields) f.embeddings = null;
    // more network fields, "column:dim,…" (e.g. the ambiguity classes "ac:10")
    for (const f of args["net-fields"] ? args["net-fields"].split(",") : []) {
      const [column, dim] = f.split(":");
      net.fields.push({
        column: column!,
        dim: Number(dim),
        minCount: 1,
        digits: false,
        embeddings: null,
      });
    }
    if (args.chars === "0") net.chars = null;
    else if (args.chars)
      net.chars = {
        column: net.chars?.column ?? "w",
        dim: Number(args["char-dim"]),
        filters: Number(args.chars),
        width: Number(args["char-width"]),
        maxLen: 24,
      };
    const topt: Record<string, unknown> = { ...net.train };
    for (const k of ["epochs", "lr", "batch", "decay", "seed"] as const)
      if (args[k]) topt[k] = Number(args[k]);
    if (args["linear-lr"]) topt.linearLr = Number(args["linear-lr"]);
    if (args["skip-below"]) topt.skipBelow = Number(args["skip-below"]);
    if (args.l2) topt.l2 = Number(args.l2);
    if (args.dropout) topt.dropout = Number(args.dropout);
    if (args["attr-dropout"]) topt.attrDropout = Number(args["attr-dropout"]);
    if (args.aux) topt.aux = Number(args.aux);
    if (args.average) topt.average = args.average === "1";
    if (args["average-net"]) topt.averageNetwork = args["average-net"];
    if (args["linear-opt"]) topt.linearOptimizer = args["linear-opt"];
    if (args.loss) topt.loss = args.loss;
    if (args.offending) topt.offending = args.offending;
    if (args.margin) topt.margin = Number(args.margin);
    log(
      `deep: ${JSON.stringify({ ...net, fields: net.fields.map((f) => `${f.column}:${f.dim}${f.embeddings ? "*" : ""}`) })}${topt.attrDropout ? ` attrDropout ${topt.attrDropout}` : ""}${topt.aux ? ` aux ${topt.aux}` : ""}`,
    );
    const t0 = performance.now();
    const fx = new FeatureExtractor(spec);
    const b = new TrainingSetBuilder(fx);
    for (const s of dtrain) b.add(s);
    const set = b.finish();
    const L = set.labels.size;
    const rows =
      spec.features === "observed" ? observedRows(set.instances, fx.numAttributes, L) : null;
    const pretrained: (Pretrained | null)[] = [];
    for (const f of net.fields)
      pretrained.push(f.embeddings ? await readPretrained(f.embeddings) : null);
    const devGold = goldOf(spec, ddev);
    const names = set.labels.names;
    let out = new Int32Array(1024);
    const decodeWith = (
      arch: NetworkChain,
      xs: readonly NetInstance[],
      W: Float64Array,
    ): string[][] => {
      arch.frozen = true;
      // the spec's structure decides (chain: Viterbi; chain2: second-order Viterbi; skip-chain: BP on sentences with skip edges)
      const structures = structuresFor(arch, viterbiBackend);
      const pred = xs.map((x) => {
        if (out.length < x.T) out = new Int32Array(2 * x.T);
        const st = structures.of(x);
        st.bind(x, W, 1);
        st.argmin(undefined, out);
        return Array.from(out.subarray(0, x.T), (l) => names[l]!);
      });
      arch.frozen = false;
      return pred;
    };
    // --ensemble N (or network.train.ensemble): N members, seeds seed … seed + N − 1, one network chain
    const nMembers = Number(args.ensemble || net.train.ensemble || 1);
    const members: { arch: NetworkChain; W: Float64Array }[] = [];
    const memberDev: number[] = [];
    let r: ReturnType<typeof trainDeep> | null = null;
    let warmed = false;
    for (let m = 0; m < nMembers; m++) {
      const arch = NetworkChain.build(
        spec,
        net,
        L,
        jackknifed(spec, dtrain),
        fx.numAttributes,
        rows,
        pretrained,
      );
      for (let i = 0; i < dtrain.length; i++) {
        setFold(spec, i);
        arch.bind(set.instances[i]!, dtrain[i]!.tokens);
      }
      setFold(spec, -1);
      const W0 = arch.init(Number(args.seed) + m, pretrained);
      if (args.warm === "1" && linearModel !== null && net.hybrid) {
        // start the hybrid's linear part at the linear model of this run (by attribute name and label)
        const lw = linearModel.weightsFor(fx, arch.linear, set.labels.names);
        const ws = Number(args["warm-scale"]);
        for (let k = 0; k < arch.linear.K; k++) W0[k] = lw[k]! * ws;
        warmed = true;
      }
      log(
        `deep${nMembers > 1 ? ` member ${m + 1}/${nMembers}` : ""}: K = ${arch.K} (linear ${arch.linear.K}, network ${arch.K - arch.linear.K}), ` +
          `${fx.numAttributes} attributes, vocabularies ${arch.vocabs.map((v) => v.size).join("/")}`,
      );
      const devX = ddev.map((s) => arch.bind(encodeSentence(fx, s, set.labels, false), s.tokens));
      r = trainDeep(
        arch,
        W0,
        set.instances,
        { ...topt, seed: Number(topt.seed ?? args.seed) + m },
        { backend: viterbiBackend, constraintsFor: () => undefined },
        refit ? undefined : { score: (W) => taskScore(spec, devGold, decodeWith(arch, devX, W)) },
        (e) =>
          log(
            `deep epoch ${e.epoch}: loss ${e.loss.toFixed(1)}, dev ${e.dev?.toFixed(2)} (${e.seconds.toFixed(1)} s, rss ${rssMb()} MB)`,
          ),
      );
      memberDev.push(r.reports[r.bestEpoch - 1]?.dev ?? Number.NaN);
      members.push({ arch, W: r.W });
    }
    const final = nMembers === 1 ? members[0]! : combineNetworks(spec, members);
    const arch = final.arch;
    const finalW = final.W;
    const encode = (s: SentenceLike): NetInstance =>
      arch.bind(encodeSentence(fx, s, set.labels, false), s.tokens);
    const decode = (xs: readonly NetInstance[], W: Float64Array) => decodeWith(arch, xs, W);
    const ensembleDev =
      nMembers > 1 ? taskScore(spec, devGold, decode(ddev.map(encode), finalW)) : null;
    if (ensembleDev !== null)
      log(
        `deep ensemble of ${nMembers}: dev ${ensembleDev.toFixed(2)} (members ${memberDev.map((d) => d.toFixed(2)).join(", ")})`,
      );
    const trainS = (performance.now() - t0) / 1000;
    // tagging: encode + network (cached first-layer projections) + Viterbi
    const evalSet = wantTest ? dtest : ddev;
    arch.invalidate();
    decode([encode(evalSet[0]!)], finalW); // not timed: the first call sizes the caches
    const t1 = performance.now();
    const pred = decode(evalSet.map(encode), finalW);
    const tagS = (performance.now() - t1) / 1000;
    // a second pass: the first-layer projections of the words seen are cached (a tagger's steady state)
    const t2 = performance.now();
    decode(evalSet.map(encode), finalW);
    const tagWarmS = (performance.now() - t2) / 1000;
    let tokens = 0;
    for (const s of evalSet) tokens += s.tokens.length;
    const score = taskScore(spec, goldOf(spec, evalSet), pred);
    // an ensemble: each member alone on the same split too (member 1 is the single network of the seed)
    const memberScores =
      nMembers > 1
        ? members.map((m) => {
            const xs = evalSet.map((s) =>
              m.arch.bind(encodeSentence(fx, s, set.labels, false), s.tokens),
            );
            return r2(taskScore(spec, goldOf(spec, evalSet), decodeWith(m.arch, xs, m.W)));
          })
        : [];
    Object.assign(result, {
      score: r2(score),
      split: wantTest ? "test" : "dev",
      dev: r2(ensembleDev ?? memberDev[0]!),
      best_epoch: r!.bestEpoch,
      ...(nMembers > 1
        ? { ensemble: nMembers, member_dev: memberDev.map(r2), member_scores: memberScores }
        : {}),
      train_s: r2(trainS),
      tag_tokens_per_s: Math.round(tokens / tagS),
      tag_tokens_per_s_warm: Math.round(tokens / tagWarmS),
      K: arch.K,
      hybrid: net.hybrid,
      warm_start: warmed,
      embeddings: net.fields.some((f) => f.embeddings !== null),
      tables: spec.derived.filter((d) => d.table !== undefined).map((d) => `${d.name}=${d.expr}`),
      chars: net.chars,
      options: topt,
    });
  }
  rmSync(tmp, { recursive: true, force: true });
  console.log(JSON.stringify(result));
} catch (e) {
  process.stderr.write(`ERROR: ${e instanceof NadirError ? e.message : String(e)}\n`);
  if (!(e instanceof NadirError)) console.error(e);
  process.exit(1);
}
