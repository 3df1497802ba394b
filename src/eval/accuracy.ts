/**
 * Token-level scores of label sequences: accuracy, and per-label precision,
 * recall and F1 with micro and macro averages. All figures are percentages
 * (0–100), like conlleval's.
 */
import { NadirError } from "../core/errors.ts";
import {
  type Averages,
  type CountScore,
  checkCounts,
  checkLabelIds,
  presentByName,
  prf,
  scoreAll,
} from "./pairs.ts";

export type { Averages } from "./pairs.ts";

/** Scores of one label: a gold token of the label is "relevant", a predicted one "retrieved". */
export type LabelScore = CountScore;

export interface LabelReport {
  tokens: number;
  correct: number;
  /** Percentage of tokens whose predicted label equals the gold label. */
  accuracy: number;
  /** Per label that occurs in gold or predictions, sorted by label name. */
  byLabel: Record<string, LabelScore>;
  /** Pooled counts over the averaged labels (all but `ignore`). */
  micro: Averages;
  /** Unweighted mean of the per-label figures over the averaged labels. */
  macro: Averages;
}

export interface LabelScorerOptions {
  /** Label names for `addIds`: id l is `labels[l]`. */
  labels?: readonly string[];
  /** Labels left out of the micro and macro averages (e.g. ["O"]); still listed. */
  ignore?: readonly string[];
}

/** Percentage of positions where `pred` equals `gold` (=== per element), over all sequences. */
export function tokenAccuracy<T>(
  gold: readonly ArrayLike<T>[],
  pred: readonly ArrayLike<T>[],
): number {
  checkCounts(gold.length, pred.length, "sequences");
  let tokens = 0;
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!;
    const p = pred[i]!;
    const n = g.length;
    if (p.length !== n) {
      throw new NadirError(
        "E_ARG",
        `sequence ${i}: expected ${n} predicted labels, got ${p.length}`,
      );
    }
    for (let t = 0; t < n; t++) if (g[t] === p[t]) correct++;
    tokens += n;
  }
  return tokens > 0 ? (100 * correct) / tokens : 0;
}

/** Accumulates per-label counts sequence by sequence; `report()` gives the figures so far. */
export class LabelScorer {
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly ignore: ReadonlySet<string>;
  private readonly numIdLabels: number;
  private goldCount = new Float64Array(16);
  private predCount = new Float64Array(16);
  private correctCount = new Float64Array(16);
  private tokens = 0;
  private correct = 0;

  constructor(opts: LabelScorerOptions = {}) {
    const labels = opts.labels ?? [];
    for (const name of labels) {
      if (this.ids.has(name)) throw new NadirError("E_ARG", `labels: duplicate label "${name}"`);
      this.intern(name);
    }
    this.numIdLabels = labels.length;
    this.ignore = new Set(opts.ignore ?? []);
  }

  private intern(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    if (id >= this.goldCount.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.goldCount = grow(this.goldCount);
      this.predCount = grow(this.predCount);
      this.correctCount = grow(this.correctCount);
    }
    return id;
  }

  /** Add one sequence of gold and predicted label names. */
  add(gold: readonly string[], pred: readonly string[]): void {
    const n = gold.length;
    checkCounts(n, pred.length, "labels");
    for (let t = 0; t < n; t++) {
      const a = this.intern(gold[t]!);
      const b = this.intern(pred[t]!);
      this.goldCount[a]!++;
      this.predCount[b]!++;
      if (a === b) this.correctCount[a]!++;
    }
    this.count(gold, pred, n);
  }

  /** Add one sequence of gold and predicted label ids (names from `opts.labels`). */
  addIds(gold: ArrayLike<number>, pred: ArrayLike<number>): void {
    checkLabelIds(gold, pred, this.numIdLabels, "labels");
    const n = gold.length;
    const { goldCount: gc, predCount: pc, correctCount: cc } = this;
    for (let t = 0; t < n; t++) {
      const a = gold[t]!;
      const b = pred[t]!;
      gc[a]!++;
      pc[b]!++;
      if (a === b) cc[a]!++;
    }
    this.count(gold, pred, n);
  }

  private count<T>(gold: ArrayLike<T>, pred: ArrayLike<T>, n: number): void {
    let correct = 0;
    for (let t = 0; t < n; t++) if (gold[t] === pred[t]) correct++;
    this.correct += correct;
    this.tokens += n;
  }

  /** The figures of all sequences added so far. */
  report(): LabelReport {
    const names = this.names;
    const order = presentByName(names, this.goldCount, this.predCount, 0);
    const byLabel: Record<string, LabelScore> = {};
    let sumC = 0;
    let sumG = 0;
    let sumP = 0;
    let macroP = 0;
    let macroR = 0;
    let macroF = 0;
    let averaged = 0;
    for (const k of order) {
      const correct = this.correctCount[k]!;
      const gold = this.goldCount[k]!;
      const pred = this.predCount[k]!;
      const s = prf(correct, gold, pred);
      byLabel[names[k]!] = { ...s, gold, pred, correct };
      if (this.ignore.has(names[k]!)) continue;
      sumC += correct;
      sumG += gold;
      sumP += pred;
      macroP += s.precision;
      macroR += s.recall;
      macroF += s.f1;
      averaged++;
    }
    const d = averaged > 0 ? averaged : 1;
    return {
      tokens: this.tokens,
      correct: this.correct,
      accuracy: this.tokens > 0 ? (100 * this.correct) / this.tokens : 0,
      byLabel,
      micro: prf(sumC, sumG, sumP),
      macro: { precision: macroP / d, recall: macroR / d, f1: macroF / d },
    };
  }
}

/** Per-label scores of gold vs. predicted label sequences (one array per sentence). */
export function scoreLabels(
  gold: readonly (readonly string[])[],
  pred: readonly (readonly string[])[],
  opts?: LabelScorerOptions,
): LabelReport {
  return scoreAll(new LabelScorer(opts), gold, pred, "sequences");
}
