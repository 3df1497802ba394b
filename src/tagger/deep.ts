import { jackknifed, setFold } from "../architecture/derived-tables.ts";
import type {
  FeatureExtractor,
  Instance,
  SentenceLike,
  TrainingSet,
} from "../architecture/features.ts";
import type { StateRows } from "../architecture/linear-chain.ts";
import {
  combineNetworks,
  NetworkChain,
  type NetworkSettings,
  type Pretrained,
  parsePretrained,
} from "../architecture/network.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import { readFileBytes } from "../core/host.ts";
import { specFile } from "../core/shipped.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { Backend } from "../inference/types.ts";
import { type DeepTrainOptions, trainDeep } from "../optimize/adam.ts";
import type { TrainOptions } from "../optimize/options.ts";
import type { EpochReport } from "../optimize/selection.ts";
import { structuresFor } from "../structure/index.ts";

/**
 * Where a spec's embedding file is: under the directory granted by
 * `--files` (the library's `files`), else in the package (the shipped specs
 * name `embeddings/…`); a spec decides no path of its own (`specFile`).
 */
function embeddingPath(path: string, files: string): string {
  return specFile(path, "embeddings (a spec's network.fields[].embeddings)", files ? [files] : []);
}

/** Options of the deep trainer: the spec's network.train, then what the caller set explicitly. */
function deepOptions(
  net: NetworkSettings,
  explicit: Record<string, unknown>,
  options: TrainOptions,
): Partial<DeepTrainOptions> {
  const o: Record<string, unknown> = { ...net.train };
  for (const k of ["loss", "epochs", "seed", "margin", "beta", "offending"] as const)
    if (explicit[k] !== undefined) o[k] = options[k];
  return o as Partial<DeepTrainOptions>;
}

export interface NetworkTraining {
  network: NetworkChain;
  W: Float64Array;
  reports: EpochReport[];
  bestEpoch: number;
}

/**
 * Train a network under the chain end to end (mini-batches, lazy Adam, the
 * loss and backend of the table through the shared EnergyObjective): build the
 * field vocabularies from the training sentences (non-empty ones, in the order
 * the training set holds them), start from pretrained embeddings where the
 * spec names them, select the best epoch on dev with `score`. With
 * `network.train.ensemble: n`, n members (seeds seed … seed + n − 1) are
 * trained one after the other and combined into one network chain whose
 * energy is their mean (`combineNetworks`); the reports list the members'
 * epochs one after the other.
 */
export function trainNetwork(a: {
  spec: GraphSpec;
  net: NetworkSettings;
  set: TrainingSet;
  sentences: readonly SentenceLike[];
  fx: FeatureExtractor;
  rows: StateRows | null;
  options: TrainOptions;
  explicit: Record<string, unknown>;
  backend: Backend;
  constraintsFor: (T: number) => Constraints | undefined;
  /** dev sentences (encoded without gold) and a scorer of predicted label names */
  dev?: {
    xs: Instance[];
    tokens: readonly (readonly string[])[][];
    score: (pred: string[][]) => number;
  };
  onEpoch?: ((r: EpochReport) => void) | undefined;
}): NetworkTraining {
  const { spec, net, set, sentences, fx, rows, options } = a;
  if (options.init)
    throw new NadirError(
      "E_UNSUPPORTED",
      "--init: warm starts of network models are not supported",
    );
  const L = set.labels.size;
  const pretrained: (Pretrained | null)[] = net.fields.map((f) => {
    if (!f.embeddings) return null;
    const path = embeddingPath(f.embeddings, options.files);
    return parsePretrained(readFileBytes(path), path);
  });
  if (sentences.length !== set.instances.length)
    throw new NadirError("E_ARG", "internal: training sentences and instances differ in number");
  const names = set.labels.names;
  const dopts = deepOptions(net, a.explicit, options);
  const n = ensembleSize(net);
  const dev = a.dev;
  const reports: EpochReport[] = [];
  const members: { arch: NetworkChain; W: Float64Array }[] = [];
  let bestEpoch = 0;
  for (let i = 0; i < n; i++) {
    // member i: seed + i (member 0 is the single network's run)
    const network = NetworkChain.build(
      spec,
      net,
      L,
      jackknifed(spec, sentences), // ambiguity columns: each sentence under its jackknife fold
      fx.numAttributes,
      rows,
      pretrained,
    );
    try {
      for (let j = 0; j < sentences.length; j++) {
        setFold(spec, j);
        network.bind(set.instances[j]!, sentences[j]!.tokens);
      }
    } finally {
      setFold(spec, -1);
    }
    const W0 = network.init(options.seed + i, pretrained);
    const structures = structuresFor(network, a.backend);
    let out = new Int32Array(256);
    if (dev) for (let j = 0; j < dev.xs.length; j++) network.bind(dev.xs[j]!, dev.tokens[j]!);
    const score = dev
      ? (W: Float64Array): number => {
          network.invalidate();
          network.frozen = true;
          try {
            const pred = dev.xs.map((x) => {
              if (out.length < x.T) out = new Int32Array(2 * x.T);
              const st = structures.of(x);
              st.bind(x, W, 1);
              st.argmin(a.constraintsFor(x.T), out);
              return Array.from(out.subarray(0, x.T), (l) => names[l]!);
            });
            return dev.score(pred);
          } finally {
            network.frozen = false;
            network.invalidate();
          }
        }
      : undefined;
    const first = reports.length;
    const r = trainDeep(
      network,
      W0,
      set.instances,
      { ...dopts, seed: (dopts.seed ?? options.seed) + i },
      { backend: a.backend, constraintsFor: a.constraintsFor },
      score ? { score } : undefined,
      (e) => {
        // the members' epochs are numbered on, one after the other
        const rep = {
          epoch: first + e.epoch,
          mistakes: 0,
          loss: e.loss,
          dev: e.dev,
          seconds: e.seconds,
        };
        reports.push(rep);
        a.onEpoch?.(rep);
      },
    );
    bestEpoch = first + r.bestEpoch;
    network.invalidate();
    members.push({ arch: network, W: r.W });
  }
  if (n === 1) return { network: members[0]!.arch, W: members[0]!.W, reports, bestEpoch };
  const e = combineNetworks(spec, members);
  return { network: e.arch, W: e.W, reports, bestEpoch };
}

/** `network.train.ensemble`: how many members (seeds) the model averages the energies of (1: one network). */
function ensembleSize(net: NetworkSettings): number {
  const v = net.train.ensemble ?? 1;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 16)
    throw new NadirError(
      "E_SPEC",
      `network.train.ensemble: expected an integer from 1 to 16, got ${JSON.stringify(v)}`,
    );
  return v;
}
