import { describe, expect, it } from "vitest";
import { Rng } from "../../src/core/rng.ts";
import { LBFGS_DEFAULTS, lbfgs } from "../../src/optimize/lbfgs.ts";

/** Solve Q x = b by Gaussian elimination with partial pivoting (Q is small and dense). */
function solve(Q: number[][], b: number[]): number[] {
  const n = b.length;
  const M = Q.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k] = M[r]![k]! - f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/** f(x) = ½ xᵀQx − bᵀx with Q = MᵀM/n + I (strictly convex, eigenvalues in [1, ~5]). */
function randomQuadratic(rng: Rng, n: number) {
  const M = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.normal()));
  const Q = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => {
      let s = 0;
      for (let k = 0; k < n; k++) s += M[k]![i]! * M[k]![j]!;
      return s / n + (i === j ? 1 : 0);
    }),
  );
  const b = Array.from({ length: n }, () => 3 * rng.normal());
  const fg = (x: Float64Array, g: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      let qi = 0;
      for (let j = 0; j < n; j++) qi += Q[i]![j]! * x[j]!;
      g[i] = qi - b[i]!;
      f += 0.5 * x[i]! * qi - b[i]! * x[i]!;
    }
    return f;
  };
  return { Q, b, fg };
}

function rosenbrock(x: Float64Array, g: Float64Array): number {
  const a = x[0]!;
  const b = x[1]!;
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
}

describe("L-BFGS", () => {
  it("minimizes random strictly convex quadratics to the exact solution (1e-6)", () => {
    // ‖g‖ ≤ 1e-7·max(1, ‖x‖) and λ_min(Q) ≥ 1 bound the error by ~1e-7·‖x*‖ (‖x*‖ ≲ 10).
    const rng = new Rng(11);
    for (let draw = 0; draw < 5; draw++) {
      const n = 8 + draw * 3;
      const { Q, b, fg } = randomQuadratic(rng, n);
      const exact = solve(Q, b);
      const x = new Float64Array(n);
      const fs: number[] = [];
      const r = lbfgs(x, fg, {
        epsilon: 1e-7,
        delta: 0,
        maxIterations: 200,
        onIteration: (_it, f) => {
          fs.push(f);
          return false;
        },
      });
      expect(r.reason).toBe("gradient");
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i]! - exact[i]!));
      expect(err).toBeLessThan(1e-6);
      // f(x*) = −½ bᵀx*
      let fStar = 0;
      for (let i = 0; i < n; i++) fStar -= 0.5 * b[i]! * exact[i]!;
      expect(r.f).toBeCloseTo(fStar, 8);
      // the Armijo search only accepts decreases
      for (let i = 1; i < fs.length; i++) expect(fs[i]!).toBeLessThanOrEqual(fs[i - 1]!);
      expect(r.iterations).toBe(fs.length);
      expect(r.evaluations).toBeGreaterThanOrEqual(r.iterations + 1);
    }
  });

  it("minimizes Rosenbrock from (−1.2, 1) to (1, 1) within 200 iterations", () => {
    const x = Float64Array.of(-1.2, 1);
    const r = lbfgs(x, rosenbrock, { epsilon: 1e-9, delta: 0, maxIterations: 200 });
    expect(r.reason).toBe("gradient");
    expect(r.iterations).toBeLessThanOrEqual(200);
    expect(Math.abs(x[0]! - 1)).toBeLessThan(1e-6);
    expect(Math.abs(x[1]! - 1)).toBeLessThan(1e-6);
    expect(r.f).toBeLessThan(1e-12);
  });

  it("reason max-iterations: stops after exactly maxIterations", () => {
    const x = Float64Array.of(-1.2, 1);
    const r = lbfgs(x, rosenbrock, { maxIterations: 3, delta: 0 });
    expect(r.reason).toBe("max-iterations");
    expect(r.iterations).toBe(3);
    expect(r.f).toBeLessThan(24.2); // f(−1.2, 1) = 24.2
  });

  it("reason gradient at a stationary start: no iteration, one evaluation", () => {
    const x = Float64Array.of(1, 1);
    const r = lbfgs(x, rosenbrock);
    expect(r).toEqual({ f: 0, iterations: 0, evaluations: 1, reason: "gradient" });
  });

  it("reason delta: too little relative progress over `period` iterations", () => {
    const x = Float64Array.of(-1.2, 1);
    const r = lbfgs(x, rosenbrock, { delta: 0.5, period: 2, epsilon: 0, maxIterations: 200 });
    expect(r.reason).toBe("delta");
    expect(r.iterations).toBeGreaterThan(2);
    expect(r.iterations).toBeLessThan(200);
  });

  it("reason line-search: a gradient that lies (points uphill) makes every step fail", () => {
    // f = ‖x‖², reported gradient −2x: the 'descent' direction increases f
    const fg = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        f += x[i]! * x[i]!;
        g[i] = -2 * x[i]!;
      }
      return f;
    };
    const x = Float64Array.of(1, -2, 3);
    const r = lbfgs(x, fg);
    expect(r.reason).toBe("line-search");
    expect(r.iterations).toBe(0);
    expect(r.evaluations).toBe(1 + LBFGS_DEFAULTS.maxLineSearch);
    expect(Array.from(x)).toEqual([1, -2, 3]); // x untouched
  });

  it("reason line-search when f becomes NaN / Infinity everywhere but the start", () => {
    let calls = 0;
    const fg = (x: Float64Array, g: Float64Array) => {
      g[0] = 2 * x[0]!;
      return calls++ === 0 ? x[0]! ** 2 : Number.NaN;
    };
    const r = lbfgs(Float64Array.of(3), fg, { maxLineSearch: 5 });
    expect(r).toMatchObject({ reason: "line-search", iterations: 0, evaluations: 6, f: 9 });
  });

  it("onIteration returning true stops (reason stopped) and sees x, f and ‖g‖", () => {
    const seen: { it: number; f: number; x: number[]; gnorm: number }[] = [];
    const x = Float64Array.of(-1.2, 1);
    const r = lbfgs(x, rosenbrock, {
      delta: 0,
      onIteration: (it, f, xi, gnorm) => {
        seen.push({ it, f, x: Array.from(xi), gnorm });
        return it === 4;
      },
    });
    expect(r.reason).toBe("stopped");
    expect(r.iterations).toBe(4);
    expect(seen.map((s) => s.it)).toEqual([1, 2, 3, 4]);
    expect(seen.at(-1)!.x).toEqual(Array.from(x));
    expect(seen.at(-1)!.f).toBe(r.f);
    const g = new Float64Array(2);
    expect(rosenbrock(x, g)).toBe(r.f);
    expect(seen.at(-1)!.gnorm).toBeCloseTo(Math.hypot(g[0]!, g[1]!), 10);
    // returning undefined / false does not stop
    const y = Float64Array.of(-1.2, 1);
    const r2 = lbfgs(y, rosenbrock, { delta: 0, maxIterations: 6, onIteration: () => undefined });
    expect(r2.reason).toBe("max-iterations");
  });
});
