import { describe, expect, it } from "vitest";
import type { Instance } from "../../src/architecture/features.ts";
import type { LinearChain } from "../../src/architecture/linear-chain.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { lossAugmented, mostOffendingChain } from "../../src/inference/offending.ts";
import { viterbi, viterbiBackend } from "../../src/inference/viterbi.ts";
import { LOSS_NAMES, type Loss, type LossParams, makeLoss } from "../../src/loss/index.ts";
import { EnergyObjective } from "../../src/optimize/objective.ts";
import { chainFor, randomInstances, randomNormal, relError } from "./random-chain.ts";

/**
 * Gradient checks of EnergyObjective for every loss of the table: the analytic
 * gradient (evaluate(x, W, 1, grad)) against central finite differences of the
 * summed loss, on small random chains (A = 6, L = 3–4, T ≤ 5, 3–4 instances),
 * dense and observed state rows, both offending modes.
 *
 * Piecewise losses (perceptron, hinge, lvq2, square-square): at a random real
 * W no tie or kink is hit with probability 1, but a finite-difference step may
 * still cross one. Every draw therefore records, per instance, the labeling
 * the search returns (machine's answer / most offending / loss-augmented) and
 * which derivatives of the loss are non-zero (the piece it sits on), at W and
 * at every W ± h·e_k; a draw where any of them changes is skipped (and
 * counted: at most a few are allowed).
 */

const H = 1e-6;
const DRAWS = 20;
const PARAMS: Partial<LossParams> = { margin: 0.7, beta: 1.3, gamma: 0.8, lvqMax: 3 };

function objectiveFor(arch: LinearChain, loss: Loss, offending: "exact" | "hamming") {
  return new EnergyObjective(arch, {
    loss,
    offending,
    backend: viterbiBackend,
    constraintsFor: () => undefined,
  });
}

function total(
  obj: EnergyObjective,
  data: readonly Instance[],
  W: Float64Array,
  grad: Float64Array | null,
  s = 1,
): number {
  let f = 0;
  for (const x of data) f += obj.evaluate(x, W, s, grad);
  return f;
}

/** Which labeling the loss compares gold with, and which of its derivatives are non-zero. */
function piece(
  arch: LinearChain,
  loss: Loss,
  offending: "exact" | "hamming",
  data: readonly Instance[],
  W: Float64Array,
): string {
  const parts: string[] = [];
  for (const x of data) {
    const p = arch.potentials(x, W, new Float64Array(x.T * arch.L));
    const EC = chainEnergy(p, x.labels);
    let y: Int32Array | null = null;
    let EI = 0;
    if (loss.needs === "answer") {
      const r = viterbi(p);
      y = r.labels;
      EI = r.energy;
    } else if (loss.needs === "offending" && offending === "exact") {
      const r = mostOffendingChain(p, x.labels);
      y = r!.labels;
      EI = r!.energy;
    } else if (loss.needs === "offending") {
      const r = lossAugmented(viterbiBackend, p, x.labels, loss.params.margin);
      y = r.labels;
      EI = r.augmentedEnergy;
    }
    const l =
      offending === "hamming" && loss.needs === "offending"
        ? makeLoss(loss.name, { ...loss.params, margin: 0 })
        : loss;
    const v = l.evaluate(EC, EI);
    parts.push(`${y ? y.join(",") : "-"}:${v.dEC !== 0}${v.dEI !== 0}`);
  }
  return parts.join(" ");
}

interface CheckStats {
  accepted: number;
  skipped: number;
  worst: number;
  /** draws whose gradient was not identically zero */
  active: number;
}

function gradientCheck(
  name: string,
  rows: "dense" | "observed",
  offending: "exact" | "hamming",
  seed: number,
): CheckStats {
  const rng = new Rng(seed);
  const loss = makeLoss(name, PARAMS);
  const stats: CheckStats = { accepted: 0, skipped: 0, worst: 0, active: 0 };
  for (let attempt = 0; attempt < 3 * DRAWS && stats.accepted < DRAWS; attempt++) {
    const A = 6;
    const L = 3 + rng.int(2);
    const data = randomInstances(rng, A, L, 3 + rng.int(2), 5);
    const arch = chainFor(data, A, L, rows);
    const obj = objectiveFor(arch, loss, offending);
    const W = randomNormal(rng, arch.K);
    const g = new Float64Array(arch.K);
    const f0 = total(obj, data, W, g);
    expect(Number.isFinite(f0)).toBe(true);
    // the value does not depend on whether a gradient is asked for
    expect(total(obj, data, W, null)).toBe(f0);
    const base = piece(arch, loss, offending, data, W);
    const fd = new Float64Array(arch.K);
    let kinked = false;
    for (let k = 0; k < arch.K && !kinked; k++) {
      const w0 = W[k]!;
      W[k] = w0 + H;
      const fp = total(obj, data, W, null);
      kinked ||= piece(arch, loss, offending, data, W) !== base;
      W[k] = w0 - H;
      const fm = total(obj, data, W, null);
      kinked ||= piece(arch, loss, offending, data, W) !== base;
      W[k] = w0;
      fd[k] = (fp - fm) / (2 * H);
    }
    if (kinked) {
      stats.skipped++;
      continue;
    }
    stats.accepted++;
    stats.worst = Math.max(stats.worst, relError(g, fd));
    if (g.some((v) => v !== 0)) stats.active++;
  }
  return stats;
}

const PIECEWISE = new Set(["perceptron", "hinge", "lvq2", "square-square"]);
/** Losses with a deterministic value (sampling losses have their own tests below). */
const DETERMINISTIC = LOSS_NAMES.filter((n) => makeLoss(n).needs !== "sample");

describe("EnergyObjective: analytic gradient = central finite differences (every loss)", () => {
  let seed = 100;
  for (const name of DETERMINISTIC) {
    for (const rows of ["dense", "observed"] as const) {
      for (const offending of ["exact", "hamming"] as const) {
        const s = seed++;
        it(`${name}, ${rows} rows, offending ${offending}`, () => {
          const st = gradientCheck(name, rows, offending, s);
          expect(st.accepted).toBe(DRAWS);
          expect(st.worst).toBeLessThan(1e-5);
          // the draws really exercised the gradient (not only flat pieces)
          expect(st.active).toBeGreaterThanOrEqual(DRAWS / 4);
          // kinks are rare at random real W; smooth losses never skip
          if (PIECEWISE.has(name)) expect(st.skipped).toBeLessThanOrEqual(DRAWS / 2);
          else expect(st.skipped).toBe(0);
        });
      }
    }
  }

  it("the check can fail: a wrong gradient (dropping the transition part) is caught", () => {
    const rng = new Rng(7);
    const data = randomInstances(rng, 6, 3, 4, 5, 3);
    const arch = chainFor(data, 6, 3, "dense");
    const obj = objectiveFor(arch, makeLoss("nll"), "exact");
    const W = randomNormal(rng, arch.K);
    const g = new Float64Array(arch.K);
    total(obj, data, W, g);
    g.fill(0, arch.transOffset, arch.startOffset);
    const fd = new Float64Array(arch.K);
    for (let k = 0; k < arch.K; k++) {
      const w0 = W[k]!;
      W[k] = w0 + H;
      const fp = total(obj, data, W, null);
      W[k] = w0 - H;
      const fm = total(obj, data, W, null);
      W[k] = w0;
      fd[k] = (fp - fm) / (2 * H);
    }
    expect(relError(g, fd)).toBeGreaterThan(1e-3);
  });
});

describe("EnergyObjective at a weight scale s ≠ 1 (W = s·V)", () => {
  let seed = 500;
  for (const name of DETERMINISTIC) {
    for (const rows of ["dense", "observed"] as const) {
      const sd = seed++;
      it(`${name}, ${rows}: evaluate(x, V, s) = evaluate(x, s·V, 1), value and gradient`, () => {
        const rng = new Rng(sd);
        const loss = makeLoss(name, PARAMS);
        for (const offending of ["exact", "hamming"] as const) {
          for (const s of [0.37, 2.5, 1e-3]) {
            const L = 3 + rng.int(2);
            const data = randomInstances(rng, 6, L, 4, 5);
            const arch = chainFor(data, 6, L, rows);
            const obj = objectiveFor(arch, loss, offending);
            const V = randomNormal(rng, arch.K);
            const sV = V.map((v) => s * v);
            for (const x of data) {
              const g1 = new Float64Array(arch.K);
              const g2 = new Float64Array(arch.K);
              const v1 = obj.evaluate(x, V, s, g1);
              const v2 = obj.evaluate(x, sV, 1, g2);
              expect(Math.abs(v1 - v2)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v2)));
              expect(relError(g1, g2)).toBeLessThan(1e-9);
              // gscale multiplies the gradient only
              const g3 = new Float64Array(arch.K);
              const v3 = obj.evaluate(x, V, s, g3, -2.5);
              expect(v3).toBe(v1);
              expect(
                relError(
                  g3,
                  g1.map((v) => -2.5 * v),
                ),
              ).toBeLessThan(1e-12);
            }
          }
        }
      });
    }
  }
});

describe("NLL tends to the perceptron loss as β → ∞", () => {
  it("0 ≤ nll_β − perceptron ≤ Σ T·log L / β, non-increasing over β = 1, 10, 100, 1000", () => {
    const rng = new Rng(31);
    for (let draw = 0; draw < 20; draw++) {
      const L = 3 + rng.int(2);
      const data = randomInstances(rng, 6, L, 4, 5);
      const rows = draw % 2 === 0 ? "dense" : "observed";
      const arch = chainFor(data, 6, L, rows);
      const W = randomNormal(rng, arch.K);
      const perc = total(objectiveFor(arch, makeLoss("perceptron"), "exact"), data, W, null);
      expect(perc).toBeGreaterThanOrEqual(0);
      let bound = 0;
      for (const x of data) bound += x.T * Math.log(L);
      let prev = Number.POSITIVE_INFINITY;
      for (const beta of [1, 10, 100, 1000]) {
        const nll = total(objectiveFor(arch, makeLoss("nll", { beta }), "exact"), data, W, null);
        const gap = nll - perc;
        expect(gap).toBeGreaterThanOrEqual(-1e-9);
        expect(gap).toBeLessThanOrEqual(bound / beta + 1e-9);
        expect(gap).toBeLessThanOrEqual(prev + 1e-9);
        prev = gap;
      }
      expect(prev).toBeLessThan(bound / 1000 + 1e-9);
    }
  });

  it("at large β the NLL gradient tends to the perceptron's", () => {
    const rng = new Rng(32);
    const data = randomInstances(rng, 6, 3, 4, 5, 2);
    const arch = chainFor(data, 6, 3, "dense");
    const W = randomNormal(rng, arch.K);
    const gp = new Float64Array(arch.K);
    total(objectiveFor(arch, makeLoss("perceptron"), "exact"), data, W, gp);
    const gn = new Float64Array(arch.K);
    total(objectiveFor(arch, makeLoss("nll", { beta: 1e4 }), "exact"), data, W, gn);
    expect(relError(gn, gp)).toBeLessThan(1e-3);
  });
});

describe("contrastive divergence (the cd row: a sampled answer)", () => {
  it("its gradient is an unbiased estimate of NLL's: the mean over 20,000 samples is within 2% of it", () => {
    const rng = new Rng(41);
    const data = randomInstances(rng, 6, 3, 2, 4, 3);
    const arch = chainFor(data, 6, 3, "dense");
    const W = randomNormal(rng, arch.K, 0.5);
    const params = { beta: 1.3 };
    const nll = objectiveFor(arch, makeLoss("nll", params), "exact");
    const gNll = new Float64Array(arch.K);
    total(nll, data, W, gNll);
    const cd = new EnergyObjective(arch, {
      loss: makeLoss("cd", params),
      offending: "exact",
      backend: viterbiBackend,
      constraintsFor: () => undefined,
      rng: new Rng(5),
    });
    const n = 20_000;
    const gCd = new Float64Array(arch.K);
    for (let i = 0; i < n; i++) total(cd, data, W, gCd);
    for (let k = 0; k < gCd.length; k++) gCd[k] = gCd[k]! / n;
    expect(relError(gCd, gNll)).toBeLessThan(0.02);
    // the check can fail: the gradient of the perceptron (the argmin instead of a sample) is far off
    const perc = objectiveFor(arch, makeLoss("perceptron"), "exact");
    const gP = new Float64Array(arch.K);
    total(perc, data, W, gP);
    expect(relError(gP, gNll)).toBeGreaterThan(0.1);
  });

  it("the value is E_C − E(Ỹ) of the sampled labeling, and a seed reproduces it", () => {
    const rng = new Rng(3);
    const data = randomInstances(rng, 6, 3, 3, 5, 2);
    const arch = chainFor(data, 6, 3, "observed");
    const W = randomNormal(rng, arch.K);
    const make = () =>
      new EnergyObjective(arch, {
        loss: makeLoss("cd"),
        offending: "exact",
        backend: viterbiBackend,
        constraintsFor: () => undefined,
        rng: new Rng(9),
      });
    const a = make();
    const b = make();
    for (const x of data) {
      const va = a.evaluate(x, W, 1, null);
      expect(b.evaluate(x, W, 1, null)).toBe(va);
      const EC = chainEnergy(arch.potentials(x, W), x.labels);
      expect(EC - va).toBeGreaterThanOrEqual(viterbi(arch.potentials(x, W)).energy - 1e-9);
    }
  });
});

describe("evaluateRange (a batch trainer's shard)", () => {
  it("equals the sum of evaluate: NLL's gold term summed once, other losses example by example", () => {
    const rng = new Rng(2024);
    for (let draw = 0; draw < 12; draw++) {
      const L = 3 + (draw % 2);
      const data = randomInstances(rng, 6, L, 5);
      // an example without positions and one with an unknown gold label are skipped
      data.push({
        T: 0,
        offsets: new Int32Array(1),
        attrs: new Int32Array(0),
        labels: new Int32Array(0),
      });
      const odd = randomInstances(rng, 6, L, 1)[0]!;
      odd.labels[0] = -1;
      data.push(odd);
      for (const rows of ["dense", "observed"] as const) {
        const arch = chainFor(data, 6, L, rows);
        for (const name of ["nll", "log"] as const) {
          const obj = objectiveFor(arch, makeLoss(name, PARAMS), "exact");
          for (let rep = 0; rep < 3; rep++) {
            // a new W every call: the cached gold term must not depend on it
            const W = randomNormal(rng, arch.K);
            const g1 = new Float64Array(arch.K);
            let f1 = 0;
            for (const x of data) {
              const v = obj.evaluate(x, W, 1, g1);
              if (!Number.isNaN(v)) f1 += v;
            }
            const g2 = new Float64Array(arch.K);
            const f2 = obj.evaluateRange(data, 1, data.length, W, g2);
            const g0 = new Float64Array(arch.K);
            const f0 = obj.evaluate(data[0]!, W, 1, g0);
            expect(relError([f2 + f0], [f1])).toBeLessThan(1e-12);
            for (let k = 0; k < arch.K; k++)
              expect(Math.abs(g2[k]! + g0[k]! - g1[k]!)).toBeLessThan(
                1e-9 * (1 + Math.abs(g1[k]!)),
              );
          }
        }
      }
    }
  });
});
