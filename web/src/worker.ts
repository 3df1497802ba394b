/**
 * The playground's Web Worker: every inference and training call runs here,
 * so the page never freezes. Requests are { id, type, ...args }; answers are
 * { id, kind: "done" | "progress" | "error", ... }.
 */
import posSpec from "../../graphs/pos.json";
import {
  type Completer,
  choicesOf,
  collapse,
  decodeNetpbm,
  denoiseMask,
  fetchBytes,
  flipNoise,
  iou,
  LOSS_NAMES,
  loadCompleter,
  loadTagger,
  OPTIMIZERS,
  Rng,
  Tagger,
  TRAIN_OPTIONS,
  type TrainingSentence,
  trellis,
} from "../../src/browser.ts";

interface Sample {
  train: TrainingSentence[];
  dev: TrainingSentence[];
}

let base = "";
let tagger: Promise<Tagger> | undefined;
let completer: Promise<Completer> | undefined;
let sample: Promise<Sample> | undefined;
let horse: Promise<{ width: number; height: number; data: Uint8Array }> | undefined;

const getTagger = () => {
  tagger ??= loadTagger(new URL("models/ewt-upos-small.nadir", base));
  return tagger;
};
const getCompleter = () => {
  completer ??= loadCompleter(new URL("models/completion.lbl", base));
  return completer;
};
const getSample = () => {
  sample ??= fetch(new URL("data/ewt-sample.json", base)).then((r) => r.json() as Promise<Sample>);
  return sample;
};
const getHorse = () => {
  horse ??= fetchBytes(new URL("images/horse.pbm", base)).then((b) => {
    const d = decodeNetpbm(b);
    if (d.kind !== "pbm") throw new Error("horse.pbm: expected a PBM");
    return d.image;
  });
  return horse;
};

type Post = (msg: Record<string, unknown>, transfer?: Transferable[]) => void;

const handlers: Record<string, (a: Record<string, unknown>, progress: Post) => Promise<unknown>> = {
  async init(a) {
    base = a.base as string;
    const t0 = performance.now();
    const t = await getTagger();
    return { labels: t.labels, loadMs: performance.now() - t0 };
  },

  async tables() {
    const inference = TRAIN_OPTIONS.find((o) => o.name === "inference")!;
    return { losses: LOSS_NAMES, optimizers: OPTIMIZERS, inference: choicesOf(inference) };
  },

  async tag(a) {
    const t = await getTagger();
    const words = a.words as string[];
    const beta = a.beta as number;
    const k = a.k as number;
    const t0 = performance.now();
    const tags = t.predict(words);
    const tagMs = performance.now() - t0;
    const tr = trellis(t, words);
    const kbest = t.kbest(words, k);
    const t1 = performance.now();
    const marginals = t.marginals(words, { beta });
    const fbMs = performance.now() - t1;
    return { tags, trellis: tr, kbest, marginals, tagMs, fbMs };
  },

  async marginals(a) {
    const t = await getTagger();
    const t0 = performance.now();
    const marginals = t.marginals(a.words as string[], { beta: a.beta as number });
    return { marginals, fbMs: performance.now() - t0 };
  },

  async complete(a) {
    const c = await getCompleter();
    const t0 = performance.now();
    const choices = a.choices as string[] | undefined;
    const out = c.complete(a.text as string, {
      k: a.k as number,
      ...(choices && choices.length > 0 ? { choices } : {}),
    });
    return { completions: out, ms: performance.now() - t0, vocabulary: c.vocabularySize };
  },

  async netpbm(a) {
    // a dropped PBM (as is) or PGM (dark = foreground, below half the range)
    const d = decodeNetpbm(a.bytes as Uint8Array);
    if (d.kind === "pbm") return d.image;
    const data = new Uint8Array(d.image.data.length);
    for (let p = 0; p < data.length; p++) data[p] = d.image.data[p]! < d.image.maxval / 2 ? 1 : 0;
    return { width: d.image.width, height: d.image.height, data };
  },

  async horse() {
    return await getHorse();
  },

  async denoise(a) {
    const clean = a.image
      ? (a.image as { width: number; height: number; data: Uint8Array })
      : await getHorse();
    const noisy = flipNoise(clean, a.p as number, new Rng(a.seed as number));
    const t0 = performance.now();
    const r = denoiseMask(noisy, { lambda: a.lambda as number });
    const ms = performance.now() - t0;
    return {
      clean,
      noisy,
      restored: r.mask,
      energy: r.energy,
      ms,
      noisyIou: iou(noisy.data, clean.data),
      restoredIou: iou(r.mask.data, clean.data),
    };
  },

  async train(a, progress) {
    const s = await getSample();
    const n = Math.min(s.train.length, a.sentences as number);
    const t0 = performance.now();
    const t = Tagger.train(s.train.slice(0, n), {
      spec: posSpec,
      dev: s.dev,
      loss: a.loss as never,
      optimizer: a.optimizer as never,
      inference: a.inference as never,
      epochs: a.epochs as number,
      iterations: a.epochs as number, // (L-BFGS counts iterations)
      onEpoch: (r) =>
        progress({
          epoch: r.epoch,
          dev: r.dev,
          loss: r.loss,
          mistakes: r.mistakes,
          ms: performance.now() - t0,
        }),
    });
    const ev = t.evaluate(s.dev);
    return { accuracy: ev.accuracy, bestEpoch: t.training?.bestEpoch, ms: performance.now() - t0 };
  },

  async collapse(a, progress) {
    const loss = a.loss as collapse.LossName;
    const opts = { ...collapse.DEFAULT_COLLAPSE, epochs: a.epochs as number };
    const xs = collapse.sampleX(opts.nTrain, new Rng(opts.seed));
    const NX = 41;
    const NY = 61;
    const X = Float64Array.from({ length: NX }, (_, i) => -1 + (2 * i) / (NX - 1));
    const Y = Float64Array.from({ length: NY }, (_, j) => -1.5 + (3 * j) / (NY - 1));
    const E = new Float64Array(NY);
    const surface = (m: collapse.ImplicitRegressor): Float64Array => {
      // E(X, Y) − min_Y E(X, ·), rows X, columns Y
      const S = new Float64Array(NX * NY);
      for (let i = 0; i < NX; i++) {
        m.energies(X[i]!, Y, E);
        let lo = Number.POSITIVE_INFINITY;
        for (let j = 0; j < NY; j++) lo = Math.min(lo, E[j]!);
        for (let j = 0; j < NY; j++) S[i * NY + j] = E[j]! - lo;
      }
      return S;
    };
    const every = a.every as number;
    const model = collapse.train(loss, xs, opts, new Rng(opts.seed + 7), (epoch, m) => {
      if (epoch % every === 0 || epoch === opts.epochs) {
        const test = collapse.evaluate(
          m,
          collapse.sampleX(100, new Rng(99)),
          collapse.grid(opts),
          opts,
        );
        progress({ epoch, surface: surface(m), NX, NY, mse: test.mse, spread: test.spreadData });
      }
    });
    return {
      done: true,
      mse: collapse.evaluate(model, collapse.sampleX(100, new Rng(99)), collapse.grid(opts), opts)
        .mse,
    };
  },

  async bench() {
    const t = await getTagger();
    const c = await getCompleter();
    const s = await getSample();
    const sents = s.dev.map((x) => x.tokens as string[]);
    const tokens = sents.reduce((n, x) => n + x.length, 0);
    // tagging: the dev sample, repeated for at least a second
    let reps = 0;
    let t0 = performance.now();
    while (performance.now() - t0 < 1000 || reps < 2) {
      for (const x of sents) t.predict(x);
      reps++;
    }
    const tokensPerSecond = (reps * tokens) / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    for (const x of sents) t.marginals(x);
    const marginalsMs = (performance.now() - t0) / sents.length;
    const h = await getHorse();
    const noisy = flipNoise(h, 0.2, new Rng(20240));
    const cut: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t1 = performance.now();
      denoiseMask(noisy, { lambda: 0.6 });
      cut.push(performance.now() - t1);
    }
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t1 = performance.now();
      c.complete("She poured a cup of ___ and sat down .", { k: 10 });
      lat.push(performance.now() - t1);
    }
    const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
    return {
      userAgent: navigator.userAgent,
      taggingTokensPerSecond: Math.round(tokensPerSecond),
      sentences: sents.length,
      tokens,
      marginalsMsPerSentence: marginalsMs,
      graphCutMs: median(cut),
      horse: `${h.width}×${h.height}`,
      completionMs: median(lat),
      vocabulary: c.vocabularySize,
    };
  },
};

self.onmessage = async (
  ev: MessageEvent<{ id: number; type: string } & Record<string, unknown>>,
) => {
  const { id, type } = ev.data;
  const post: Post = (msg) => (self as unknown as Worker).postMessage({ id, ...msg });
  try {
    const h = handlers[type];
    if (!h) throw new Error(`unknown request ${type}`);
    const result = await h(ev.data, (p) => post({ kind: "progress", ...p }));
    post({ kind: "done", result });
  } catch (e) {
    post({ kind: "error", message: (e as Error).message, stack: (e as Error).stack });
  }
};
