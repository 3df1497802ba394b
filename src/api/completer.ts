/**
 * Sentence completion as a library: the k lowest-energy words for the blank
 * of a sentence under a log-bilinear energy E(context, w), with their Gibbs
 * probabilities, or a ranking of given choices.
 *
 * ```ts
 * const completer = Completer.load(); // the model shipped with nadir
 * completer.complete("I beg your ___ .", { choices: ["pardon", "money", "house"] });
 * ```
 */
import { Lbl } from "../complete/lbl.ts";
import { FIRST_WORD, tokenize } from "../complete/text.ts";
import { logPartition, topK } from "../complete/topk.ts";
import { NadirError } from "../core/errors.ts";
import { shippedFile } from "../core/shipped.ts";

/** A candidate word for the blank. */
export interface Completion {
  word: string;
  /** E(context, word) */
  energy: number;
  /** exp(−β E) / Z over the vocabulary, or over the choices when given */
  probability: number;
}

export interface CompleteOptions {
  /** how many words (default 10) */
  k?: number;
  /** inverse temperature of the Gibbs distribution (default 1) */
  beta?: number;
  /** rank only these words (probabilities are over them) */
  choices?: readonly string[];
}

/** The blank: two or more underscores. */
const BLANK = /_{2,}/;

/** The path of the completion model shipped with the package. */
export const DEFAULT_COMPLETION_MODEL = shippedFile("models/completion.lbl");

export class Completer {
  /** The log-bilinear energy underneath. */
  readonly model: Lbl;

  constructor(model: Lbl) {
    this.model = model;
  }

  /** Load a completion model file (default: the one shipped with nadir). */
  static load(path: string = DEFAULT_COMPLETION_MODEL): Completer {
    return new Completer(Lbl.load(path));
  }

  /** A completer from the bytes of a completion model file. */
  static fromBytes(bytes: Uint8Array): Completer {
    return new Completer(Lbl.fromBytes(bytes));
  }

  /** The model's vocabulary size. */
  get vocabularySize(): number {
    return this.model.V;
  }

  /**
   * The k lowest-energy words for the blank (`___`) of `text`, lowest first,
   * with energies and probabilities at β; with `choices`, those words ranked.
   */
  complete(text: string, options: CompleteOptions = {}): Completion[] {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1)
      throw new NadirError("E_ARG", `complete: expected k to be an integer ≥ 1, got ${k}`);
    const { E, ids, beta } = this.blank(text, options);
    const logZ = logPartition(E, beta, ids);
    const words = this.model.vocab.words;
    return topK(E, k, ids).map((s) => ({
      word: words[s.id]!,
      energy: s.energy,
      probability: Math.exp(-beta * s.energy - logZ),
    }));
  }

  /** The free energy F_β = −(1/β) log Σ_w exp(−β E(context, w)) of the blank (over the choices when given). */
  freeEnergy(text: string, options: Omit<CompleteOptions, "k"> = {}): number {
    const { E, ids, beta } = this.blank(text, options);
    return -logPartition(E, beta, ids) / beta;
  }

  /** Check the query; the energies of every word at the blank, and the choices' ids. */
  private blank(
    text: string,
    options: Omit<CompleteOptions, "k">,
  ): { E: Float64Array; ids: Int32Array | undefined; beta: number } {
    if (typeof text !== "string")
      throw new NadirError("E_ARG", `complete: expected a string, got ${typeof text}`);
    const beta = options.beta ?? 1;
    if (!(beta > 0) || !Number.isFinite(beta))
      throw new NadirError(
        "E_ARG",
        `complete: expected beta to be a finite number > 0, got ${beta}`,
      );
    const parts = text.split(BLANK);
    if (parts.length !== 2)
      throw new NadirError(
        "E_ARG",
        `complete: expected exactly one blank (___) in the sentence, found ${parts.length - 1}`,
      );
    const model = this.model;
    // the model was trained on whole sentences, which end with punctuation:
    // a sentence that stops at the blank is closed with "."
    const left = tokenize(parts[0]!);
    const right = tokenize(parts[1]!);
    const ctx = model.context(left, right.length > 0 ? right : ["."]);
    const E = model.energies(ctx, new Float64Array(model.V));
    // a product of energies: the topic expert's term for every word
    const s = model.topicSum([...left, ...right]);
    if (s !== null)
      for (let w = FIRST_WORD; w < model.V; w++) E[w] = E[w]! + model.topicEnergy(w, s);
    const choices = (options.choices ?? [])
      .map((c) => String(c).trim().toLowerCase())
      .filter((c) => c !== "");
    if (choices.length === 0) return { E, ids: undefined, beta };
    const unknown = choices.filter((c) => model.vocab.id(c) < FIRST_WORD);
    if (unknown.length > 0)
      throw new NadirError(
        "E_ARG",
        `complete: not in the model's vocabulary: ${unknown.join(", ")}`,
      );
    return { E, ids: Int32Array.from(new Set(choices.map((c) => model.vocab.id(c)))), beta };
  }
}
