/**
 * The MSR Sentence Completion Challenge in "lm_format": blocks of 5 candidate
 * sentences `<s> ... </s>` that differ in one token (the candidate); the
 * answers file holds the correct sentence of each block. A candidate written
 * inside [brackets] is taken as the candidate token directly.
 */
import { NadirError } from "../core/errors.ts";
import type { Lbl } from "./lbl.ts";
import { FIRST_WORD, tokenize } from "./text.ts";

export interface CompletionQuestion {
  /** tokens left and right of the blank (tokenized like the training text) */
  left: string[];
  right: string[];
  candidates: string[];
  /** index of the correct candidate, -1 when no answer is known */
  answer: number;
}

const strip = (line: string): string[] =>
  line
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "<s>" && t !== "</s>" && t !== "");

export function parseLmFormat(
  questions: string,
  answers?: string,
  file = "questions",
): CompletionQuestion[] {
  const lines = questions.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length % 5 !== 0)
    throw new NadirError("E_PARSE", `expected blocks of 5 lines, got ${lines.length} lines`, {
      file,
    });
  const ans = answers?.split(/\r?\n/).filter((l) => l.trim() !== "");
  const out: CompletionQuestion[] = [];
  for (let q = 0; q < lines.length / 5; q++) {
    const sents = lines.slice(q * 5, q * 5 + 5).map(strip);
    const first = sents[0]!;
    let at = first.findIndex((t) => /^\[.*\]$/.test(t));
    if (at < 0) {
      at = first.findIndex((_, i) => sents.some((s) => s[i] !== first[i]));
      if (sents.some((s) => s.length !== first.length) || at < 0)
        throw new NadirError("E_PARSE", "the 5 sentences must differ in exactly one token", {
          file,
          line: q * 5 + 1,
        });
    }
    const candidates = sents.map((s) => s[at]!.replace(/^\[(.*)\]$/, "$1").toLowerCase());
    let answer = -1;
    const a = ans?.[q];
    if (a !== undefined) {
      const as = strip(a);
      const word = as[at]?.replace(/^\[(.*)\]$/, "$1").toLowerCase();
      answer = candidates.indexOf(word ?? "");
      if (answer < 0)
        throw new NadirError("E_PARSE", `answer ${q + 1} is none of the candidates`, { file });
    }
    out.push({
      left: tokenize(first.slice(0, at).join(" ")),
      right: tokenize(first.slice(at + 1).join(" ")),
      candidates,
      answer,
    });
  }
  return out;
}

/**
 * How a candidate sentence is scored:
 * - "blank": E(context, candidate), the energy of the candidate at the blank;
 * - "sentence": Σ_j E(context_j, y_j) over the blank and every position j whose
 *   window holds it (the other positions' energies do not depend on the
 *   candidate). With self-normalized energies (NCE) this is the candidate's
 *   negative log pseudo-likelihood up to a constant.
 */
export type Scoring = "blank" | "sentence";

/**
 * The energy of filling the blank of `q` with the word id `w` (see Scoring),
 * plus the topic expert's E_topic(w) when the model has one.
 */
export function candidateEnergy(
  model: Lbl,
  q: CompletionQuestion,
  w: number,
  scoring: Scoring,
): number {
  const topic = model.topic ? model.topicEnergy(w, model.topicSum([...q.left, ...q.right])) : 0;
  if (scoring === "blank") {
    model.predict(model.context(q.left, q.right));
    return model.energyOf(w) + topic;
  }
  const at = q.left.length;
  const words = [
    ...q.left.map((t) => model.vocab.id(t)),
    w,
    ...q.right.map((t) => model.vocab.id(t)),
  ];
  const ids = Int32Array.from(words);
  const ctx = new Int32Array(model.C);
  let e = 0;
  const lo = Math.max(0, at - model.right);
  const hi = Math.min(ids.length - 1, at + model.left);
  for (let j = lo; j <= hi; j++) {
    const y = ids[j]!;
    if (y < FIRST_WORD) continue;
    model.contextAt(ids, j, ctx);
    model.predict(ctx);
    e += model.energyOf(y);
  }
  return e + topic;
}

/**
 * The candidate of lowest energy (see Scoring). Out-of-vocabulary candidates
 * get +Infinity (ties keep the first).
 */
export function chooseCandidate(
  model: Lbl,
  q: CompletionQuestion,
  scoring: Scoring = "blank",
): number {
  let best = 0;
  let bestE = Number.POSITIVE_INFINITY;
  for (let i = 0; i < q.candidates.length; i++) {
    const id = model.vocab.id(q.candidates[i]!);
    const e = id >= FIRST_WORD ? candidateEnergy(model, q, id, scoring) : Number.POSITIVE_INFINITY;
    if (e < bestE) {
      bestE = e;
      best = i;
    }
  }
  return best;
}

export function accuracy(
  model: Lbl,
  qs: readonly CompletionQuestion[],
  scoring: Scoring = "blank",
): number {
  let ok = 0;
  for (const q of qs) if (chooseCandidate(model, q, scoring) === q.answer) ok++;
  return qs.length === 0 ? 0 : ok / qs.length;
}
