/**
 * Continuous inference through the modules: ∂E/∂y by backward passes against
 * finite differences; gradient search finds the global minimum of a double
 * well and the most offending Ȳ outside the ε-ball; HMC samples match a
 * Gaussian's moments and, on a trained implicit-regression energy, the Gibbs
 * density computed on a fine grid; the collapse experiment with gradient
 * inference keeps its qualitative result.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import {
  DEFAULT_COLLAPSE,
  ImplicitRegressor,
  runCollapse,
  sampleX,
  train,
} from "../../src/regress/collapse.ts";
import { hmc, minimizeEnergy, mostOffendingContinuous } from "../../src/regress/continuous.ts";

/** E(y) = (y² − 1)² + 0.3·y: two wells, the deeper one near y = −1. */
const doubleWell = (y: Float64Array, g: Float64Array): number => {
  const v = y[0]!;
  g[0] = 4 * v * (v * v - 1) + 0.3;
  return (v * v - 1) ** 2 + 0.3 * v;
};

describe("gradient-descent inference", () => {
  it("∂E/∂y of the implicit-regression energy matches central differences", () => {
    const m = new ImplicitRegressor(8, 4, new Rng(3), 3);
    for (const [x, y] of [
      [0.3, 0.7],
      [-0.8, 0.1],
      [0.5, -1.2],
    ] as const) {
      const [, d] = m.energyGrad(x, y);
      const h = 1e-6;
      const fd = (m.energy(x, y + h) - m.energy(x, y - h)) / (2 * h);
      expect(Math.abs(d - fd)).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
    }
  });

  it("restarts find the global minimum of a double well; one start from the right falls in the local one", () => {
    const r = minimizeEnergy(doubleWell, { lo: -2, hi: 2, restarts: 5 });
    expect(r.y).toBeCloseTo(-1.0356, 3);
    const local = minimizeEnergy(doubleWell, { lo: 0.2, hi: 2, restarts: 1 });
    expect(local.y).toBeGreaterThan(0.9);
    expect(local.energy).toBeGreaterThan(r.energy);
  });

  it("the most offending answer lies outside the ε-ball and is the lowest there", () => {
    const o = mostOffendingContinuous(doubleWell, -1.0356, 0.5, { lo: -2, hi: 2 })!;
    expect(Math.abs(o.y + 1.0356)).toBeGreaterThan(0.5);
    expect(o.y).toBeCloseTo(0.96, 1); // the other well
    // no grid point outside the ball is lower
    const g = new Float64Array(1);
    for (let v = -2; v <= 2; v += 0.001) {
      if (Math.abs(v + 1.0356) <= 0.5) continue;
      expect(doubleWell(Float64Array.of(v), g)).toBeGreaterThanOrEqual(o.energy - 1e-6);
    }
  });
});

describe("Hamiltonian Monte Carlo", () => {
  it("samples a Gaussian energy with the right mean and variance", () => {
    const mu = 0.7;
    const s2 = 0.25;
    const f = (y: Float64Array, g: Float64Array) => {
      g[0] = (y[0]! - mu) / s2;
      g[1] = y[1]! / 4;
      return (y[0]! - mu) ** 2 / (2 * s2) + y[1]! ** 2 / 8;
    };
    const { samples, acceptance } = hmc(f, new Float64Array(2), {
      samples: 4000,
      stepSize: 0.2,
      leapfrog: 10,
      seed: 5,
    });
    expect(acceptance).toBeGreaterThan(0.8);
    const mean = (j: number) => samples.reduce((a, s) => a + s[j]!, 0) / samples.length;
    const vari = (j: number, m: number) =>
      samples.reduce((a, s) => a + (s[j]! - m) ** 2, 0) / samples.length;
    const m0 = mean(0);
    const m1 = mean(1);
    expect(Math.abs(m0 - mu)).toBeLessThan(0.05);
    expect(Math.abs(m1)).toBeLessThan(0.15);
    expect(Math.abs(vari(0, m0) - s2)).toBeLessThan(0.03);
    expect(Math.abs(vari(1, m1) - 4)).toBeLessThan(0.5);
  });

  it("on a trained implicit-regression energy, its samples follow the Gibbs density on a fine grid", () => {
    const opts = { ...DEFAULT_COLLAPSE, epochs: 60 };
    const model = train("nll", sampleX(200, new Rng(1)), opts, new Rng(18));
    const x = 0.6;
    const beta = 10;
    const f = model.at(x);
    // the Gibbs density over [−1.5, 1.5] on 3001 points
    const n = 3001;
    const ys = Float64Array.from({ length: n }, (_, k) => -1.5 + (3 * k) / (n - 1));
    const E = new Float64Array(n);
    model.energies(x, ys, E);
    const emin = Math.min(...E);
    const w = Array.from(E, (e) => Math.exp(-beta * (e - emin)));
    const z = w.reduce((a, b) => a + b, 0);
    const mean = ys.reduce((a, y, k) => a + y * w[k]!, 0) / z;
    const sd = Math.sqrt(ys.reduce((a, y, k) => a + (y - mean) ** 2 * w[k]!, 0) / z);
    const { samples } = hmc(f, Float64Array.of(mean), {
      beta,
      samples: 3000,
      stepSize: 0.02,
      leapfrog: 15,
      seed: 2,
    });
    const m = samples.reduce((a, s) => a + s[0]!, 0) / samples.length;
    const s = Math.sqrt(samples.reduce((a, v) => a + (v[0]! - m) ** 2, 0) / samples.length);
    expect(Math.abs(m - mean)).toBeLessThan(0.1 * sd + 0.01);
    expect(Math.abs(s - sd) / sd).toBeLessThan(0.15);
  });
});

describe("the collapse experiment with gradient-descent inference", () => {
  it("the energy loss still collapses and square-square still learns Y = X²", () => {
    const r = runCollapse({
      ...DEFAULT_COLLAPSE,
      inference: "gradient",
      nTest: 40,
      epochs: 120,
      gridN: 101,
    });
    const by = Object.fromEntries(r.map((x) => [x.loss, x.metrics]));
    expect(by.energy!.spreadData).toBeLessThan(0.2);
    expect(by.energy!.mse).toBeGreaterThan(0.05);
    expect(by["square-square"]!.mse).toBeLessThan(0.01);
    expect(by["square-square"]!.spreadData).toBeGreaterThan(5 * by.energy!.spreadData);
  });
});
