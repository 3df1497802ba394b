/**
 * Looking inside a linear-chain model (nadir's own or one read from a
 * CRFsuite file): `describeModel` — labels, transition energies, the
 * strongest attributes per label, counts, the spec — and `explainSentence`,
 * which splits a decision into energy contributions. Weights are energies,
 * E(y, x) = Σₜ Σ_{a ∈ xₜ} v_a·W[a, yₜ] + Σₜ W_trans[yₜ₋₁, yₜ] + W_start[y₀] + W_end[y_T−1],
 * so the contributions add up to the energy exactly.
 */
import type { FeatureExtractor, Instance } from "../architecture/features.ts";
import type { LinearChain } from "../architecture/linear-chain.ts";
import type { GraphSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";
import type { Constraints } from "../graph/constraints.ts";
import type { InferenceResult } from "../inference/types.ts";

/**
 * What inspection reads from a model; `Model` (model.ts) has all of it. A
 * structural type, so that model.ts (whose `describe` calls `describeModel`)
 * and this file do not import each other (no module cycle).
 */
export interface InspectedModel {
  readonly spec: GraphSpec;
  readonly labels: readonly string[];
  readonly fx: FeatureExtractor;
  readonly arch: LinearChain;
  readonly W: Float64Array;
  readonly extra: Record<string, unknown>;
  encode(tokens: string[][]): Instance;
  decideInstance(x: Instance): InferenceResult;
  constraintsFor(T: number): Constraints | undefined;
}

/** An attribute's weight for one label: an energy (lower favours the label). */
export interface AttributeEnergy {
  attribute: string;
  energy: number;
}

/** What `describeModel` (`nadir dump`, `Tagger.dump`) reports. */
export interface ModelDescription {
  name: string;
  format: string;
  structure: string;
  labels: string[];
  counts: {
    labels: number;
    attributes: number;
    /** (attribute, label) pairs carrying a weight (all pairs for dense specs) */
    stateWeights: number;
    nonZeroStateWeights: number;
    /** every parameter: state, transitions, start, end (and second-order / skip tables) */
    parameters: number;
  };
  /** W_trans[from][to], energies (rows: previous label, columns: next label). */
  transitions: number[][];
  start: number[];
  end: number[];
  /** Per label, its K lowest-energy attributes (favour it) and K highest (disfavour it). */
  attributes: { label: string; lowest: AttributeEnergy[]; highest: AttributeEnergy[] }[];
  /** The spec as written (its `train` section holds the training defaults). */
  spec: unknown;
  /** Settings saved with the model (e.g. a calibrated detection threshold). */
  extra: Record<string, unknown>;
}

/** Describe a model; `top` attributes per label each way (default 10). */
export function describeModel(model: InspectedModel, top = 10): ModelDescription {
  checkTop(top);
  const arch = model.arch;
  const { A, L, S } = arch;
  const W = model.W;
  let nonZero = 0;
  for (let k = 0; k < S; k++) if (W[k] !== 0) nonZero++;
  // per label, the K lowest and K highest state weights: one pass with small sorted buffers
  const low = Array.from({ length: L }, () => [] as { a: number; e: number }[]);
  const high = Array.from({ length: L }, () => [] as { a: number; e: number }[]);
  const keep = (buf: { a: number; e: number }[], a: number, e: number, lower: boolean): void => {
    if (buf.length === top && (lower ? e >= buf[top - 1]!.e : e <= buf[top - 1]!.e)) return;
    let i = buf.length;
    buf.push({ a, e });
    while (i > 0 && (lower ? buf[i - 1]!.e > e : buf[i - 1]!.e < e)) {
      buf[i] = buf[i - 1]!;
      i--;
    }
    buf[i] = { a, e };
    if (buf.length > top) buf.pop();
  };
  if (top > 0) {
    for (let a = 0; a < A; a++) {
      const end = arch.rowEnd(a);
      for (let k = arch.rowStart(a); k < end; k++) {
        const e = W[k]!;
        if (e === 0) continue;
        const l = arch.labelOf(k, a);
        if (e < 0) keep(low[l]!, a, e, true);
        else keep(high[l]!, a, e, false);
      }
    }
  }
  const named = (buf: { a: number; e: number }[]): AttributeEnergy[] =>
    buf.map(({ a, e }) => ({ attribute: model.fx.attributeName(a), energy: e }));
  const transitions: number[][] = [];
  for (let i = 0; i < L; i++)
    transitions.push(
      Array.from(W.subarray(arch.transOffset + i * L, arch.transOffset + i * L + L)),
    );
  return {
    name: model.spec.name,
    format: model.spec.format,
    structure: model.spec.structure,
    labels: [...model.labels],
    counts: {
      labels: L,
      attributes: A,
      stateWeights: S,
      nonZeroStateWeights: nonZero,
      parameters: arch.K,
    },
    transitions,
    start: Array.from(W.subarray(arch.startOffset, arch.startOffset + L)),
    end: Array.from(W.subarray(arch.endOffset, arch.endOffset + L)),
    attributes: model.labels.map((label, l) => ({
      label,
      lowest: named(low[l]!),
      highest: named(high[l]!),
    })),
    spec: model.spec.source,
    extra: { ...model.extra },
  };
}

/** One attribute's part in a token's decision. */
export interface AttributeContribution {
  attribute: string;
  /** its value (1 unless the data gave name:value) */
  value: number;
  /** value × W[attribute, chosen label] */
  chosen: number;
  /** value × W[attribute, runner-up label] */
  runnerUp: number;
  /** chosen − runnerUp: negative for the chosen label, positive against it */
  delta: number;
}

/** Why one token got its label. */
export interface TokenExplanation {
  /** 0-based position */
  position: number;
  label: string;
  /** the state energy of the chosen label: Σ of its attributes' energies */
  stateEnergy: number;
  /** the label whose best complete labeling comes next (null with a single label) */
  runnerUp: string | null;
  runnerUpStateEnergy: number | null;
  /**
   * E(best labeling with this token = runner-up) − E(ŷ) ≥ 0: how far the
   * runner-up is, over the whole sentence (transitions included).
   */
  margin: number | null;
  /** transition energies into this token: from the previous chosen label to the chosen label and to the runner-up */
  transition: { chosen: number; runnerUp: number | null } | null;
  /** the attributes most in favour of the chosen label over the runner-up (most negative delta first) */
  for: AttributeContribution[];
  /** the attributes most against it (most positive delta first) */
  against: AttributeContribution[];
}

/** A sentence's decision, split into energies. */
export interface SentenceExplanation {
  labels: string[];
  /** E(ŷ) = Σ state energies + transitions + start + end (exact) */
  energy: number;
  stateEnergy: number;
  transitionEnergy: number;
  startEnergy: number;
  endEnergy: number;
  tokens: TokenExplanation[];
}

/**
 * Explain the decision on one sentence (rows as the model reads them):
 * per token, the chosen label, the runner-up (the label whose best
 * labeling through this token has the next lowest energy: min-marginals),
 * and the `top` attributes for and against the choice as energy
 * contributions. First-order chains only.
 */
export function explainSentence(
  model: InspectedModel,
  tokens: string[][],
  top = 5,
): SentenceExplanation {
  checkTop(top);
  const arch = model.arch;
  if (arch.order !== 1)
    throw new NadirError(
      "E_UNSUPPORTED",
      `explain needs a first-order chain; ${model.spec.name} is second-order`,
    );
  const T = tokens.length;
  const L = arch.L;
  const x = model.encode(tokens);
  if (arch.skip && x.skips && x.skips.length > 0)
    throw new NadirError(
      "E_UNSUPPORTED",
      `explain needs a first-order chain; this sentence has skip edges in ${model.spec.name}`,
    );
  if (T === 0)
    return {
      labels: [],
      energy: 0,
      stateEnergy: 0,
      transitionEnergy: 0,
      startEnergy: 0,
      endEnergy: 0,
      tokens: [],
    };
  const W = model.W;
  const p = arch.potentials(x, W, new Float64Array(T * L));
  const y = model.decideInstance(x).labels;
  const { alpha, beta } = minMarginals(
    p.unary,
    p.transition,
    p.start,
    p.end,
    T,
    L,
    model.constraintsFor(T),
  );
  let stateEnergy = 0;
  let transitionEnergy = 0;
  for (let t = 0; t < T; t++) {
    stateEnergy += p.unary[t * L + y[t]!]!;
    if (t > 0) transitionEnergy += p.transition[y[t - 1]! * L + y[t]!]!;
  }
  const startEnergy = p.start[y[0]!]!;
  const endEnergy = p.end[y[T - 1]!]!;
  const energy = stateEnergy + transitionEnergy + startEnergy + endEnergy;
  const out: TokenExplanation[] = [];
  for (let t = 0; t < T; t++) {
    const c = y[t]!;
    let r = -1;
    let best = Number.POSITIVE_INFINITY;
    for (let l = 0; l < L; l++) {
      if (l === c) continue;
      const m = alpha[t * L + l]! + beta[t * L + l]!;
      if (m < best) {
        best = m;
        r = l;
      }
    }
    const contributions: AttributeContribution[] = [];
    const vals = x.values;
    for (let j = x.offsets[t]!; j < x.offsets[t + 1]!; j++) {
      const a = x.attrs[j]!;
      const v = vals === undefined ? 1 : vals[j]!;
      const kc = arch.stateIndex(a, c);
      const kr = r >= 0 ? arch.stateIndex(a, r) : -1;
      const chosen = kc >= 0 ? v * W[kc]! : 0;
      const runnerUp = kr >= 0 ? v * W[kr]! : 0;
      if (chosen === 0 && runnerUp === 0) continue;
      contributions.push({
        attribute: model.fx.attributeName(a),
        value: v,
        chosen,
        runnerUp,
        delta: chosen - runnerUp,
      });
    }
    contributions.sort((u, w) => u.delta - w.delta);
    const forChoice = contributions.filter((q) => q.delta < 0).slice(0, top);
    const against = contributions
      .filter((q) => q.delta > 0)
      .reverse()
      .slice(0, top);
    out.push({
      position: t,
      label: model.labels[c]!,
      stateEnergy: p.unary[t * L + c]!,
      runnerUp: r >= 0 ? model.labels[r]! : null,
      runnerUpStateEnergy: r >= 0 ? p.unary[t * L + r]! : null,
      margin: r >= 0 ? best - energy : null,
      transition:
        t === 0
          ? null
          : {
              chosen: p.transition[y[t - 1]! * L + c]!,
              runnerUp: r >= 0 ? p.transition[y[t - 1]! * L + r]! : null,
            },
      for: forChoice,
      against,
    });
  }
  return {
    labels: Array.from(y, (l) => model.labels[l]!),
    energy,
    stateEnergy,
    transitionEnergy,
    startEnergy,
    endEnergy,
    tokens: out,
  };
}

/**
 * Min-sum forward/backward: α_t(l) + β_t(l) is the lowest energy of a
 * labeling with y_t = l (under the decoding constraints).
 */
function minMarginals(
  unary: Float64Array,
  trans: Float64Array,
  start: Float64Array,
  end: Float64Array,
  T: number,
  L: number,
  c: Constraints | undefined,
): { alpha: Float64Array; beta: Float64Array } {
  const INF = Number.POSITIVE_INFINITY;
  const alpha = new Float64Array(T * L);
  const beta = new Float64Array(T * L);
  const ok = (t: number, l: number) => c?.allowed === undefined || c.allowed[t * L + l] !== 0;
  const edge = (i: number, j: number) =>
    c?.forbiddenTransitions !== undefined && c.forbiddenTransitions[i * L + j] !== 0
      ? INF
      : trans[i * L + j]!;
  for (let l = 0; l < L; l++) {
    const forbidden = !ok(0, l) || (c?.forbiddenStart !== undefined && c.forbiddenStart[l] !== 0);
    alpha[l] = forbidden ? INF : start[l]! + unary[l]!;
  }
  for (let t = 1; t < T; t++) {
    for (let l = 0; l < L; l++) {
      let m = INF;
      if (ok(t, l))
        for (let k = 0; k < L; k++) m = Math.min(m, alpha[(t - 1) * L + k]! + edge(k, l));
      alpha[t * L + l] = m + unary[t * L + l]!;
    }
  }
  for (let l = 0; l < L; l++) beta[(T - 1) * L + l] = end[l]!;
  for (let t = T - 2; t >= 0; t--) {
    for (let k = 0; k < L; k++) {
      let m = INF;
      for (let l = 0; l < L; l++) {
        if (!ok(t + 1, l)) continue;
        m = Math.min(m, edge(k, l) + unary[(t + 1) * L + l]! + beta[(t + 1) * L + l]!);
      }
      beta[t * L + k] = m;
    }
  }
  return { alpha, beta };
}

function checkTop(top: number): void {
  if (!Number.isInteger(top) || top < 0)
    throw new NadirError("E_ARG", `expected top to be an integer ≥ 0, got ${top}`);
}

const fmt = (e: number): string => (e >= 0 ? `+${e.toFixed(3)}` : e.toFixed(3));

/** `nadir dump`'s text form of a description. */
export function formatDescription(d: ModelDescription): string {
  const out: string[] = [];
  const c = d.counts;
  out.push(
    `model ${d.name}: format ${d.format}, structure ${d.structure}`,
    `counts: ${c.labels} labels, ${c.attributes} attributes, ${c.stateWeights} state weights (${c.nonZeroStateWeights} non-zero), ${c.parameters} parameters`,
    `labels: ${d.labels.join(" ")}`,
    "",
    "transition energies W_trans[from → to] (lower favours the pair; rows: from, columns: to):",
  );
  const w = Math.max(8, ...d.labels.map((l) => l.length + 1));
  out.push(`${"".padEnd(w)}${d.labels.map((l) => l.padStart(w)).join("")}`);
  d.transitions.forEach((row, i) => {
    out.push(`${d.labels[i]!.padEnd(w)}${row.map((e) => e.toFixed(3).padStart(w)).join("")}`);
  });
  if (d.start.some((e) => e !== 0) || d.end.some((e) => e !== 0)) {
    out.push(`${"start".padEnd(w)}${d.start.map((e) => e.toFixed(3).padStart(w)).join("")}`);
    out.push(`${"end".padEnd(w)}${d.end.map((e) => e.toFixed(3).padStart(w)).join("")}`);
  }
  out.push("", "strongest attributes per label (state energies; negative favours the label):");
  for (const a of d.attributes) {
    out.push(`${a.label}`);
    out.push(
      `  lowest:  ${a.lowest.map((q) => `${q.attribute} ${fmt(q.energy)}`).join(", ") || "-"}`,
    );
    out.push(
      `  highest: ${a.highest.map((q) => `${q.attribute} ${fmt(q.energy)}`).join(", ") || "-"}`,
    );
  }
  out.push("", `spec: ${JSON.stringify(d.spec)}`);
  if (Object.keys(d.extra).length > 0) out.push(`saved settings: ${JSON.stringify(d.extra)}`);
  return `${out.join("\n")}\n`;
}

/** `nadir explain`'s text form; `words[t]` names token t. */
export function formatExplanation(
  e: SentenceExplanation,
  words: readonly string[],
  header: string,
): string {
  const out: string[] = [
    `${header}: energy ${e.energy.toFixed(3)} = state ${e.stateEnergy.toFixed(3)} + transitions ${e.transitionEnergy.toFixed(3)} + start ${e.startEnergy.toFixed(3)} + end ${e.endEnergy.toFixed(3)}`,
  ];
  for (const t of e.tokens) {
    const tr = t.transition ? `, transition ${fmt(t.transition.chosen)}` : "";
    const ru =
      t.runnerUp === null
        ? ""
        : `; runner-up ${t.runnerUp} (state ${t.runnerUpStateEnergy!.toFixed(3)}${t.transition?.runnerUp != null ? `, transition ${fmt(t.transition.runnerUp)}` : ""}), margin ${t.margin!.toFixed(3)}`;
    out.push(
      `  ${t.position + 1} ${words[t.position] ?? ""}\t${t.label} (state ${t.stateEnergy.toFixed(3)}${tr})${ru}`,
    );
    const list = (xs: AttributeContribution[]) =>
      xs
        .map(
          (q) =>
            `${q.attribute}${q.value !== 1 ? `:${q.value}` : ""} ${fmt(q.chosen)}/${fmt(q.runnerUp)}`,
        )
        .join(", ");
    if (t.for.length > 0) out.push(`      for ${t.label}: ${list(t.for)}`);
    if (t.against.length > 0) out.push(`      for ${t.runnerUp}: ${list(t.against)}`);
  }
  return `${out.join("\n")}\n`;
}
