/**
 * Training the log-bilinear completion energy on running text.
 *
 * Each step samples a position t of the token stream (seeded), takes its
 * window as the context and the word at t as the correct answer, computes the
 * energies of the whole vocabulary, and asks the loss (src/loss) for its
 * derivatives:
 * - hinge: E_I is the most offending incorrect word, argmin_{w ≠ correct} E(w),
 *   searched over the whole vocabulary; the step touches the two target rows.
 * - nll: F_β = −(1/β) log Σ_w exp(−β E(w)) with full normalization over the
 *   vocabulary (exact loss and F); ∂L/∂E(w) = dEC·[w = correct] + dF·P_β(w).
 *   With `nllSamples` = S > 0 (default 32) the expectation term Σ_w P_β(w)·∂E(w)/∂W
 *   is estimated from S draws of the exact P_β (unbiased, S + 1 target rows
 *   move); with S = 0 every word with |∂L/∂E(w)| ≥ `nllCutoff` is updated.
 * Energies are computed for `batch` contexts at a time (one pass over the
 * target embeddings); the updates are applied example by example.
 * Optimizer: sparse AdaGrad.
 */
import { Rng } from "../core/rng.ts";
import { type LossValue, makeLoss } from "../loss/index.ts";
import { Lbl, zeroParams } from "./lbl.ts";
import { countTokens, encode, FIRST_WORD, Vocab } from "./text.ts";
import { logPartition } from "./topk.ts";

export type CompletionLoss = "hinge" | "nll";

export interface CompletionTrainOptions {
  loss: CompletionLoss;
  vocabSize: number;
  dim: number;
  left: number;
  right: number;
  lr: number;
  margin: number;
  beta: number;
  /** wall-clock budget in minutes (0: no limit; then maxSteps must be set) */
  minutes: number;
  /** stop after this many steps (0: no limit) */
  maxSteps: number;
  seed: number;
  nllCutoff: number;
  /** nll: draws from P_β for the gradient's expectation term (0: exact, every word) */
  nllSamples: number;
  /** contexts whose energies are computed together (updates stay per example) */
  batch: number;
  onProgress?: (info: { steps: number; seconds: number; avgLoss: number }) => void;
}

export const COMPLETION_DEFAULTS: CompletionTrainOptions = {
  loss: "hinge",
  vocabSize: 30000,
  dim: 64,
  left: 3,
  right: 3,
  lr: 0.05,
  margin: 1,
  beta: 1,
  minutes: 5,
  maxSteps: 0,
  seed: 1,
  nllCutoff: 1e-6,
  nllSamples: 32,
  batch: 16,
};

export interface TrainResult {
  model: Lbl;
  steps: number;
  seconds: number;
  avgLoss: number;
}

/** Build the vocabulary from tokenized documents and train. */
export function trainCompletion(
  docs: readonly (readonly string[])[],
  options: Partial<CompletionTrainOptions> = {},
): TrainResult {
  const o = { ...COMPLETION_DEFAULTS, ...options };
  const counts = countTokens(docs);
  const vocab = Vocab.build(counts, o.vocabSize);
  const freq = new Float64Array(vocab.size);
  for (let w = FIRST_WORD; w < vocab.size; w++) freq[w] = counts.get(vocab.words[w]!) ?? 0;
  const rng = new Rng(o.seed);
  const model = new Lbl(vocab, o.dim, o.left, o.right).init(rng, freq);
  const ids = encode(docs, vocab, Math.max(o.left, o.right));
  return trainOn(model, ids, o, rng);
}

/** Train `model` in place on the id stream (positions holding real words are examples). */
export function trainOn(
  model: Lbl,
  ids: Int32Array,
  o: CompletionTrainOptions,
  rng: Rng,
): TrainResult {
  const loss = makeLoss(o.loss, { margin: o.margin, beta: o.beta });
  let nPos = 0;
  for (let t = 0; t < ids.length; t++) if (ids[t]! >= FIRST_WORD) nPos++;
  const pos = new Int32Array(nPos);
  for (let t = 0, k = 0; t < ids.length; t++) if (ids[t]! >= FIRST_WORD) pos[k++] = t;
  const V = model.V;
  const B = Math.max(1, o.batch);
  const C = model.C;
  const EB = new Float64Array(B * V);
  const rs = new Float64Array(B * model.D);
  const ctxs = new Int32Array(B * C);
  const targets = new Int32Array(B);
  const ws = new Int32Array(Math.max(V, o.nllSamples + 1));
  const gs = new Float64Array(ws.length);
  const cdf = new Float64Array(V);
  const acc = zeroParams(V, model.D, C);
  const lv: LossValue = { value: 0, dEC: 0, dEI: 0, dF: 0 };
  const start = performance.now();
  const budget = o.minutes > 0 ? o.minutes * 60_000 : Number.POSITIVE_INFINITY;
  const maxSteps = o.maxSteps > 0 ? o.maxSteps : Number.POSITIVE_INFINITY;
  let steps = 0;
  let lossSum = 0;
  let window = 0;
  let avgLoss = 0;
  if (nPos === 0) return { model, steps: 0, seconds: 0, avgLoss: 0 };
  while (steps < maxSteps && performance.now() - start <= budget) {
    const nb = Math.min(B, maxSteps - steps);
    for (let k = 0; k < nb; k++) {
      const t = pos[rng.int(nPos)]!;
      targets[k] = ids[t]!;
      model.contextAt(ids, t, ctxs.subarray(k * C, k * C + C));
    }
    // energies of the whole batch with the weights at the start of the batch;
    // the updates below are then applied example by example
    model.energiesBatch(ctxs, nb, EB, rs);
    for (let k = 0; k < nb; k++) {
      const E = EB.subarray(k * V, k * V + V);
      const c = targets[k]!;
      const EC = E[c]!;
      let n = 0;
      if (o.loss === "hinge") {
        let off = -1;
        let EI = Number.POSITIVE_INFINITY;
        for (let w = FIRST_WORD; w < V; w++) {
          const e = E[w]!;
          if (e < EI && w !== c) {
            EI = e;
            off = w;
          }
        }
        loss.evaluate(EC, EI, lv);
        if (off >= 0 && (lv.dEC !== 0 || lv.dEI !== 0)) {
          ws[0] = c;
          gs[0] = lv.dEC;
          ws[1] = off;
          gs[1] = lv.dEI;
          n = 2;
        }
      } else {
        const logZ = logPartition(E, o.beta);
        const F = -logZ / o.beta;
        loss.evaluate(EC, F, lv);
        if (o.nllSamples > 0) {
          // unbiased estimate of Σ_w P_β(w) ∂E(w)/∂W from S draws of the exact P_β
          let cum = 0;
          for (let w = 0; w < V; w++) {
            cum += w >= FIRST_WORD ? Math.exp(-o.beta * E[w]! - logZ) : 0;
            cdf[w] = cum;
          }
          ws[0] = c;
          gs[0] = lv.dEC;
          n = 1;
          const S = o.nllSamples;
          for (let s = 0; s < S; s++) {
            const u = rng.next() * cum;
            let lo = FIRST_WORD;
            let hi = V - 1;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if (cdf[mid]! > u) hi = mid;
              else lo = mid + 1;
            }
            ws[n] = lo;
            gs[n] = lv.dF / S;
            n++;
          }
        } else {
          for (let w = FIRST_WORD; w < V; w++) {
            let g = lv.dF * Math.exp(-o.beta * E[w]! - logZ);
            if (w === c) g += lv.dEC;
            if (g >= o.nllCutoff || g <= -o.nllCutoff) {
              ws[n] = w;
              gs[n] = g;
              n++;
            }
          }
        }
      }
      if (n > 0) {
        model.r.set(rs.subarray(k * model.D, (k + 1) * model.D));
        model.adagradStep(ctxs.subarray(k * C, k * C + C), ws, gs, n, acc, o.lr);
      }
      steps++;
      lossSum += lv.value;
      window++;
      if (window === 10_000) {
        avgLoss = lossSum / window;
        o.onProgress?.({ steps, seconds: (performance.now() - start) / 1000, avgLoss });
        lossSum = 0;
        window = 0;
      }
    }
  }
  if (window > 0) avgLoss = lossSum / window;
  const seconds = (performance.now() - start) / 1000;
  model.meta = {
    ...model.meta,
    loss: o.loss,
    steps,
    seconds,
    lr: o.lr,
    margin: o.margin,
    beta: o.beta,
    seed: o.seed,
    avgLoss,
  };
  return { model, steps, seconds, avgLoss };
}
