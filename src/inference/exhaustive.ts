import { Heap } from "heap-js";
import { NadirError } from "../core/errors.ts";
import { chainEnergy } from "../graph/chain.ts";
import { checkConstraints, checkK, infeasible } from "./constraints.ts";
import type { Constraints, InferenceResult, KBestBackend, Potentials } from "./types.ts";

/**
 * The oracle: enumerate every labeling allowed by the constraints, in
 * lexicographic order, and keep the lowest energies. Works on chains and
 * factor graphs alike; energies come from `chainEnergy` / `FactorGraph.energy`.
 * Ties go to the lexicographically smallest labeling. Simple on purpose: it is
 * what every other backend is checked against.
 *
 * Refuses (NadirError "E_TOO_LARGE") when the number of labelings to
 * enumerate — the product over variables of the number of allowed labels —
 * exceeds `maxConfigurations` (default 1e6).
 */
export interface ExhaustiveOptions {
  /** Largest number of labelings to enumerate (default 1e6). */
  maxConfigurations?: number;
}

export const DEFAULT_MAX_CONFIGURATIONS = 1e6;

/** The allowed labels of each variable, ascending, and their number of combinations. */
interface Space {
  n: number;
  choices: Int32Array[];
  count: number;
}

function space(p: Potentials, c: Constraints | undefined): Space {
  const n = p.kind === "chain" ? p.T : p.nVars;
  const stride = p.kind === "chain" ? p.L : p.maxDomain;
  const allowed = c?.allowed;
  const choices: Int32Array[] = [];
  let count = 1;
  for (let v = 0; v < n; v++) {
    const d = p.kind === "chain" ? p.L : p.domains[v]!;
    const ls: number[] = [];
    for (let l = 0; l < d; l++)
      if (allowed === undefined || allowed[v * stride + l] !== 0) ls.push(l);
    choices.push(Int32Array.from(ls));
    count *= ls.length;
  }
  return { n, choices, count };
}

/** "4^12", "2·3^4": the sizes of the choice lists, grouped. */
function describeCount(s: Space): string {
  const mult = new Map<number, number>();
  for (const ch of s.choices) mult.set(ch.length, (mult.get(ch.length) ?? 0) + 1);
  const parts = [...mult.entries()]
    .filter(([size]) => size !== 1 || mult.size === 1)
    .sort((a, b) => a[0] - b[0])
    .map(([size, times]) => (times === 1 ? `${size}` : `${size}^${times}`));
  return parts.length === 0 ? "1" : parts.join("·");
}

function tooLarge(s: Space, limit: number): string | null {
  if (s.count <= limit) return null;
  return (
    `exhaustive: ${describeCount(s)} = ${s.count} configurations exceed the limit ${limit} ` +
    "(raise maxConfigurations, add constraints, or use an exact backend such as viterbi)"
  );
}

function limitOf(options: ExhaustiveOptions | undefined): number {
  const limit = options?.maxConfigurations ?? DEFAULT_MAX_CONFIGURATIONS;
  if (!(limit >= 1)) {
    throw new NadirError(
      "E_ARG",
      `exhaustive: maxConfigurations expected a number ≥ 1, got ${options?.maxConfigurations}`,
    );
  }
  return limit;
}

function checkLimit(s: Space, limit: number): void {
  const why = tooLarge(s, limit);
  if (why !== null) throw new NadirError("E_TOO_LARGE", why);
}

/**
 * Visit every allowed labeling in lexicographic order; `visit` gets the shared
 * labeling buffer (copy it to keep it) and its energy.
 */
function enumerate(
  p: Potentials,
  c: Constraints | undefined,
  s: Space,
  visit: (y: Int32Array, energy: number) => void,
): void {
  if (s.count === 0) return;
  const n = s.n;
  const idx = new Int32Array(n);
  const y = new Int32Array(n);
  for (let v = 0; v < n; v++) y[v] = s.choices[v]![0]!;
  const ft = p.kind === "chain" ? c?.forbiddenTransitions : undefined;
  const fs = p.kind === "chain" ? c?.forbiddenStart : undefined;
  const L = p.kind === "chain" ? p.L : 0;
  for (;;) {
    let ok = true;
    if (fs !== undefined && n > 0 && fs[y[0]!] !== 0) ok = false;
    if (ok && ft !== undefined) {
      for (let t = 1; t < n; t++) {
        if (ft[y[t - 1]! * L + y[t]!] !== 0) {
          ok = false;
          break;
        }
      }
    }
    if (ok) visit(y, p.kind === "chain" ? chainEnergy(p, y) : p.energy(y));
    // Odometer, last variable fastest.
    let v = n - 1;
    while (v >= 0) {
      const ch = s.choices[v]!;
      if (++idx[v]! < ch.length) {
        y[v] = ch[idx[v]!]!;
        break;
      }
      idx[v] = 0;
      y[v] = ch[0]!;
      v--;
    }
    if (v < 0) return;
  }
}

/** The minimum-energy labeling by enumeration (exact; lexicographically smallest on ties). */
export function exhaustiveMinimize(
  p: Potentials,
  constraints?: Constraints,
  options?: ExhaustiveOptions,
): InferenceResult {
  checkConstraints("exhaustive", p, constraints);
  const s = space(p, constraints);
  checkLimit(s, limitOf(options));
  const best = { labels: null as Int32Array | null, energy: Number.POSITIVE_INFINITY };
  enumerate(p, constraints, s, (y, e) => {
    if (best.labels === null || e < best.energy) {
      best.energy = e;
      best.labels = y.slice();
    }
  });
  if (best.labels === null) throw infeasible("exhaustive");
  return { labels: best.labels, energy: best.energy, exact: true };
}

interface Entry {
  labels: Int32Array;
  energy: number;
  /** Enumeration rank: lexicographic order. */
  rank: number;
}

/**
 * The min(k, #allowed) lowest-energy labelings by enumeration, in
 * non-decreasing energy order, ties lexicographically smallest first. Keeps a
 * max-heap of the k best seen (replace the worst when a better one comes).
 */
export function exhaustiveKBest(
  p: Potentials,
  k: number,
  constraints?: Constraints,
  options?: ExhaustiveOptions,
): InferenceResult[] {
  checkK("exhaustive", k);
  checkConstraints("exhaustive", p, constraints);
  const s = space(p, constraints);
  checkLimit(s, limitOf(options));
  if (k === 0) return [];
  // Max-heap: worst (highest energy, then latest in lexicographic order) on top.
  const worstFirst = (a: Entry, b: Entry) =>
    a.energy > b.energy ? -1 : a.energy < b.energy ? 1 : b.rank - a.rank;
  const heap = new Heap<Entry>(worstFirst);
  let rank = 0;
  enumerate(p, constraints, s, (y, e) => {
    if (heap.size() < k) {
      heap.push({ labels: y.slice(), energy: e, rank });
    } else if (e < heap.peek()!.energy) {
      // A later labeling with an equal energy is lexicographically larger: not better.
      heap.replace({ labels: y.slice(), energy: e, rank });
    }
    rank++;
  });
  return heap
    .toArray()
    .sort((a, b) => worstFirst(b, a))
    .map((x) => ({ labels: x.labels, energy: x.energy, exact: true }));
}

/** An exhaustive backend with its own configuration limit. */
export function exhaustive(options: ExhaustiveOptions = {}): KBestBackend {
  const limit = limitOf(options);
  const opts: ExhaustiveOptions = { maxConfigurations: limit };
  return Object.freeze({
    name: "exhaustive",
    exactness: "always",
    supports(p: Potentials): string | null {
      return tooLarge(space(p, undefined), limit);
    },
    minimize(p: Potentials, constraints?: Constraints): InferenceResult {
      return exhaustiveMinimize(p, constraints, opts);
    },
    kbest(p: Potentials, k: number, constraints?: Constraints): InferenceResult[] {
      return exhaustiveKBest(p, k, constraints, opts);
    },
  });
}

/** The exhaustive backend with the default limit (1e6 labelings). */
export const exhaustiveBackend: KBestBackend = exhaustive();
