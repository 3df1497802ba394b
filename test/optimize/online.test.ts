import { describe, expect, it } from "vitest";
import type { Instance } from "../../src/architecture/features.ts";
import type { LinearChain } from "../../src/architecture/linear-chain.ts";
import { RowGradient } from "../../src/architecture/row-gradient.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { mostOffendingChain } from "../../src/inference/offending.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import { makeLoss } from "../../src/loss/index.ts";
import { EnergyObjective } from "../../src/optimize/objective.ts";
import {
  makeOnlineOptimizer,
  type OnlineOptimizer,
  type OnlineSettings,
  type OptimizerState,
} from "../../src/optimize/online.ts";
import { nadirError } from "../fixtures/helpers.ts";
import { chainFor, randomInstances, relError } from "./random-chain.ts";

const NAMES = ["sgd", "adagrad", "pa", "perceptron"] as const;

const settings = (o: Partial<OnlineSettings> = {}): OnlineSettings => ({
  eta: 0.3,
  c2: 0.5,
  n: 4,
  average: true,
  paC: 1,
  nonNegative: false,
  ...o,
});

/** A random row-sparse gradient over the rows of x (some entries exactly 0) and the tail. */
function fillRandom(grad: RowGradient, x: Instance, rng: Rng): void {
  const arch = grad.arch;
  grad.touch(x);
  const put = (k: number) => {
    grad.g[k] = rng.next() < 0.25 ? 0 : rng.normal();
  };
  for (let j = 0; j < x.attrs.length; j++) {
    const a = x.attrs[j]!;
    for (let k = arch.rowStart(a); k < arch.rowEnd(a); k++) put(k);
  }
  for (let k = arch.transOffset; k < arch.K; k++) put(k);
}

function same(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** A deep copy of an optimizer state (state() hands out the live arrays). */
function copyState(s: OptimizerState): OptimizerState {
  const arrays: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(s.arrays)) arrays[k] = v.slice();
  return { arrays, scalars: { ...s.scalars } };
}

/**
 * Run `steps` random steps; after each, add the current weights s·V to an
 * explicit sum. Returns the explicit average and the largest relative gap
 * seen between it and the optimizer's lazy average (checked after every step).
 */
function runAndAverage(
  opt: OnlineOptimizer,
  arch: LinearChain,
  data: readonly Instance[],
  rng: Rng,
  steps: number,
  onStep?: (opt: OnlineOptimizer) => void,
): { explicit: Float64Array; worst: number } {
  const grad = new RowGradient(arch);
  const sum = new Float64Array(arch.K);
  const cur = new Float64Array(arch.K);
  const lazy = new Float64Array(arch.K);
  const explicit = new Float64Array(arch.K);
  let worst = 0;
  for (let i = 1; i <= steps; i++) {
    const x = data[rng.int(data.length)]!;
    fillRandom(grad, x, rng);
    opt.step(grad, 0.5 + rng.next());
    grad.clear();
    onStep?.(opt);
    opt.weights(cur, false);
    for (let k = 0; k < arch.K; k++) sum[k] = sum[k]! + cur[k]!;
    for (let k = 0; k < arch.K; k++) explicit[k] = sum[k]! / i;
    opt.weights(lazy, true);
    worst = Math.max(worst, relError(lazy, explicit));
  }
  return { explicit, worst };
}

describe("online optimizers: the lazy average equals the explicit average of s·V", () => {
  for (const name of NAMES) {
    for (const rows of ["dense", "observed"] as const) {
      it(`${name}, ${rows} rows`, () => {
        const rng = new Rng(name.length * 17 + (rows === "dense" ? 1 : 2));
        const data = randomInstances(rng, 8, 3, 6, 5);
        const arch = chainFor(data, 8, 3, rows);
        const opt = makeOnlineOptimizer(name, arch.K, settings());
        let minScale = 1;
        const { worst } = runAndAverage(opt, arch, data, rng, 60, (o) => {
          minScale = Math.min(minScale, o.scale);
        });
        expect(worst).toBeLessThan(1e-9);
        // only SGD decays through the scale
        if (name === "sgd") expect(minScale).toBeLessThan(0.5);
        else expect(minScale).toBe(1);
        // the average differs from the last iterate (the check is not vacuous)
        const last = opt.weights(new Float64Array(arch.K), false);
        const avg = opt.weights(new Float64Array(arch.K), true);
        expect(relError(avg, last)).toBeGreaterThan(1e-3);
      });
    }
  }

  it("without averaging, weights(·, true) are the current weights", () => {
    const rng = new Rng(3);
    const data = randomInstances(rng, 8, 3, 6, 5);
    const arch = chainFor(data, 8, 3, "dense");
    const opt = makeOnlineOptimizer("sgd", arch.K, settings({ average: false }));
    runAndAverage(opt, arch, data, rng, 10);
    const a = opt.weights(new Float64Array(arch.K), true);
    const b = opt.weights(new Float64Array(arch.K), false);
    expect(same(a, b)).toBe(true);
  });

  it("sgd: a large η·c2 decays s fast (s·(1 + …) halves at first)", () => {
    const rng = new Rng(4);
    const data = randomInstances(rng, 8, 3, 6, 5);
    const arch = chainFor(data, 8, 3, "dense");
    const opt = makeOnlineOptimizer("sgd", arch.K, settings({ eta: 100, c2: 100, n: 1 }));
    const scales: number[] = [];
    const { worst } = runAndAverage(opt, arch, data, rng, 40, (o) => scales.push(o.scale));
    expect(worst).toBeLessThan(1e-9);
    expect(scales[0]).toBe(0.5);
    expect(scales[1]).toBe(0.25);
    for (let i = 1; i < scales.length; i++) expect(scales[i]!).toBeLessThan(scales[i - 1]!);
    // Note: with η_t = η₀/(1 + η₀λt) the product Π(1 − η_tλ) telescopes to ~1/t,
    // so steps alone never bring s below 1e-9; the rescale is forced below.
    expect(scales.at(-1)!).toBeGreaterThan(1e-3);
  });

  it("sgd: the rescale when s falls below 1e-9 keeps the weights and the lazy average", () => {
    const rng = new Rng(5);
    const data = randomInstances(rng, 8, 3, 6, 5);
    const arch = chainFor(data, 8, 3, "dense");
    const opt = makeOnlineOptimizer("sgd", arch.K, settings({ eta: 1, c2: 3, n: 1 }));
    // Start from a state whose scale is just above the rescale threshold: the
    // first step halves it (η·λ = 3 ≥ 0.5) and must rescale V.
    const V0 = new Float64Array(arch.K).map(() => rng.normal() * 1e9);
    opt.restore({
      arrays: { V: V0, U: new Float64Array(arch.K) },
      scalars: { scale: 1.5e-9, sigma: 0, count: 0, t: 0 },
    });
    const scales: number[] = [];
    const before = opt.weights(new Float64Array(arch.K), false);
    const grad = new RowGradient(arch);
    // one step with a zero gradient: W only decays by (1 − 0.5)
    grad.touch(data[0]!);
    opt.step(grad, 1);
    grad.clear();
    expect(opt.scale).toBe(1); // rescaled
    const after = opt.weights(new Float64Array(arch.K), false);
    expect(
      relError(
        after,
        before.map((w) => 0.5 * w),
      ),
    ).toBeLessThan(1e-12);
    expect(relError(opt.weights(new Float64Array(arch.K), true), after)).toBeLessThan(1e-12);
    // and the lazy average stays right through the following steps
    const sum = after.slice();
    const cur = new Float64Array(arch.K);
    const lazy = new Float64Array(arch.K);
    for (let i = 2; i <= 30; i++) {
      fillRandom(grad, data[rng.int(data.length)]!, rng);
      opt.step(grad, 1);
      grad.clear();
      scales.push(opt.scale);
      opt.weights(cur, false);
      for (let k = 0; k < arch.K; k++) sum[k] = sum[k]! + cur[k]!;
      opt.weights(lazy, true);
      expect(
        relError(
          lazy,
          sum.map((v) => v / i),
        ),
      ).toBeLessThan(1e-7);
    }
    expect(Math.min(...scales)).toBeLessThan(0.5);
  });
});

describe("online optimizers: nonNegative keeps V ≥ 0", () => {
  for (const name of NAMES) {
    it(name, () => {
      const rng = new Rng(40 + name.length);
      const data = randomInstances(rng, 8, 3, 6, 5);
      const arch = chainFor(data, 8, 3, "observed");
      const opt = makeOnlineOptimizer(name, arch.K, settings({ nonNegative: true }));
      let clampedSomewhere = false;
      const { worst } = runAndAverage(opt, arch, data, rng, 50, (o) => {
        for (let k = 0; k < o.V.length; k++) {
          expect(o.V[k]!).toBeGreaterThanOrEqual(0);
          if (o.V[k] === 0) clampedSomewhere = true;
        }
      });
      expect(clampedSomewhere).toBe(true);
      expect(worst).toBeLessThan(1e-9);
      const avg = opt.weights(new Float64Array(arch.K), true);
      for (const w of avg) expect(w).toBeGreaterThanOrEqual(-1e-12);
      // some weight moved up: the projection did not just zero everything
      expect(opt.V.some((v) => v > 0)).toBe(true);
    });
  }
});

describe("passive-aggressive on the hinge loss", () => {
  const hingeObjective = (arch: LinearChain) =>
    new EnergyObjective(arch, {
      loss: makeLoss("hinge", { margin: 1 }),
      offending: "exact",
      backend: viterbiBackend,
      constraintsFor: () => undefined,
    });

  /** One PA step on x from the optimizer's current weights; returns the loss before. */
  function paStep(opt: OnlineOptimizer, obj: EnergyObjective, arch: LinearChain, x: Instance) {
    const grad = new RowGradient(arch);
    grad.touch(x);
    const v = obj.evaluate(x, opt.V, opt.scale, grad.g);
    opt.step(grad, v);
    grad.clear();
    return v;
  }

  it("one step with a large C zeroes the loss on a separable toy example (T = 1, L = 2)", () => {
    const x: Instance = {
      T: 1,
      offsets: Int32Array.of(0, 2),
      attrs: Int32Array.of(0, 1),
      labels: Int32Array.of(0),
    };
    const arch = chainFor([x], 2, 2, "dense");
    const obj = hingeObjective(arch);
    const opt = makeOnlineOptimizer("pa", arch.K, settings({ paC: 100 }));
    expect(paStep(opt, obj, arch, x)).toBe(1); // m + 0 − 0
    expect(Math.abs(obj.evaluate(x, opt.V, opt.scale, null))).toBeLessThan(1e-12);
    // a small C caps the step: loss' = loss − C·‖g‖² (‖g‖² = 2·2 attrs + 2 start + 2 end)
    const capped = makeOnlineOptimizer("pa", arch.K, settings({ paC: 0.01 }));
    paStep(capped, obj, arch, x);
    expect(obj.evaluate(x, capped.V, capped.scale, null)).toBeCloseTo(1 - 0.01 * 8, 12);
  });

  it("on a random chain a large-C step zeroes the hinge against the old most offending answer", () => {
    const rng = new Rng(61);
    for (let draw = 0; draw < 20; draw++) {
      const data = randomInstances(rng, 6, 3, 1, 5, 2);
      const x = data[0]!;
      const arch = chainFor(data, 6, 3, draw % 2 ? "dense" : "observed");
      const obj = hingeObjective(arch);
      const opt = makeOnlineOptimizer("pa", arch.K, settings({ paC: 1e6 }));
      // a random start, so that the step is not the first-from-zero special case
      for (let k = 0; k < arch.K; k++) opt.V[k] = 0.3 * rng.normal();
      const p0 = arch.potentials(x, opt.V, new Float64Array(x.T * 3));
      const yBar = mostOffendingChain(p0, x.labels)!.labels;
      const before = paStep(opt, obj, arch, x);
      if (!(before > 0)) continue;
      const p1 = arch.potentials(x, opt.V, new Float64Array(x.T * 3));
      const pair = 1 + chainEnergy(p1, x.labels) - chainEnergy(p1, yBar);
      expect(Math.abs(pair)).toBeLessThan(1e-9);
      expect(obj.evaluate(x, opt.V, opt.scale, null)).toBeGreaterThanOrEqual(0);
    }
  });

  it("PA epochs on a separable set drive the total hinge loss to 0", () => {
    // each label has its own attribute: separable with margin
    const rng = new Rng(62);
    const data: Instance[] = [];
    for (let i = 0; i < 8; i++) {
      const T = 2 + rng.int(3);
      const labels = new Int32Array(T).map(() => rng.int(3));
      data.push({
        T,
        offsets: Int32Array.from({ length: T + 1 }, (_, t) => t),
        attrs: Int32Array.from(labels),
        labels,
      });
    }
    const arch = chainFor(data, 3, 3, "dense");
    const obj = hingeObjective(arch);
    const opt = makeOnlineOptimizer("pa", arch.K, settings({ paC: 10, average: false }));
    let totalLoss = Number.POSITIVE_INFINITY;
    for (let epoch = 0; epoch < 50 && totalLoss > 0; epoch++) {
      for (const x of data) paStep(opt, obj, arch, x);
      totalLoss = 0;
      for (const x of data) totalLoss += obj.evaluate(x, opt.V, opt.scale, null);
    }
    expect(totalLoss).toBeLessThan(1e-9);
  });
});

describe("online optimizers: state() / restore() round trip continues identically", () => {
  for (const name of NAMES) {
    it(name, () => {
      const rng = new Rng(80 + name.length);
      const data = randomInstances(rng, 8, 4, 6, 5);
      const arch = chainFor(data, 8, 4, "dense");
      const set = settings({ nonNegative: name === "adagrad" });
      const a = makeOnlineOptimizer(name, arch.K, set);
      runAndAverage(a, arch, data, rng, 15);
      const snap = copyState(a.state());
      const b = makeOnlineOptimizer(name, arch.K, set);
      b.restore(snap);
      // the same 20 further steps on both
      const seed = rng.int(1 << 30);
      runAndAverage(a, arch, data, new Rng(seed), 20);
      runAndAverage(b, arch, data, new Rng(seed), 20);
      expect(b.scale).toBe(a.scale);
      expect(same(b.V, a.V)).toBe(true);
      const wa = a.weights(new Float64Array(arch.K), true);
      const wb = b.weights(new Float64Array(arch.K), true);
      expect(same(wb, wa)).toBe(true);
      // a fresh optimizer without the restore ends elsewhere (the state matters)
      const c = makeOnlineOptimizer(name, arch.K, set);
      runAndAverage(c, arch, data, new Rng(seed), 20);
      expect(same(c.weights(new Float64Array(arch.K), true), wa)).toBe(false);
    });
  }

  it("restore rejects arrays of the wrong size or a missing AdaGrad sum (E_MODEL)", () => {
    const K = 30;
    const sgd = makeOnlineOptimizer("sgd", K, settings());
    const bad = { arrays: { V: new Float64Array(K - 1), U: new Float64Array(K) }, scalars: {} };
    expect(nadirError(() => sgd.restore(bad)).code).toBe("E_MODEL");
    const noU = { arrays: { V: new Float64Array(K) }, scalars: {} };
    expect(nadirError(() => sgd.restore(noU)).code).toBe("E_MODEL");
    const ada = makeOnlineOptimizer("adagrad", K, settings());
    const noG = { arrays: { V: new Float64Array(K), U: new Float64Array(K) }, scalars: {} };
    expect(nadirError(() => ada.restore(noG)).code).toBe("E_MODEL");
    expect(nadirError(() => makeOnlineOptimizer("adam", K, settings())).code).toBe("E_ARG");
  });
});

describe("RowGradient: what a step reads", () => {
  it("touchDifference marks every entry accumulateDifference writes, and clear after gather leaves g zero", () => {
    const rng = new Rng(77);
    for (let draw = 0; draw < 40; draw++) {
      const L = 3 + (draw % 3);
      const data = randomInstances(rng, 7, L, 4, 8);
      for (const rows of ["dense", "observed"] as const) {
        const arch = chainFor(data, 7, L, rows);
        const grad = new RowGradient(arch);
        const out = { idx: new Int32Array(8), val: new Float64Array(8) };
        for (const x of data) {
          const yHat = x.labels.map((l) => (rng.next() < 0.4 ? rng.int(L) : l));
          arch.accumulateDifference(x, x.labels, yHat, 0.5 + rng.next(), grad.g);
          grad.touchDifference(x, x.labels, yHat);
          const n = grad.gather(out);
          let nonZero = 0;
          for (let k = 0; k < arch.K; k++) if (grad.g[k] !== 0) nonZero++;
          expect(n).toBe(nonZero); // nothing written outside the marked rows and the tail
          grad.clear();
          expect(grad.g.every((v) => v === 0)).toBe(true);
        }
      }
    }
  });
});
