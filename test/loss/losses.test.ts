import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import {
  LOSS_NAMES,
  LOSS_TABLE,
  type Loss,
  type LossName,
  type LossNeed,
  type LossParams,
  type LossValue,
  makeLoss,
  projectNonNegative,
} from "../../src/loss/index.ts";

const SEED = 2006;
const RUNS = 300;
const LN2 = Math.LN2;
const sigma = (x: number) => 1 / (1 + Math.exp(-x));

/** Free energy F_β = −(1/β) log Σ exp(−β E), by a stable log-sum-exp. */
function freeEnergy(E: readonly number[], beta: number): number {
  const m = Math.min(...E);
  let s = 0;
  for (const e of E) s += Math.exp(-beta * (e - m));
  return m - Math.log(s) / beta;
}

/** Snap to a 2^-20 grid so x ± k·2^-10 is exact: the stencil steps are then exactly h. */
const snap = (x: number) => Math.round(x * 2 ** 20) / 2 ** 20;

const H = 2 ** -10;

/**
 * Five-point central difference of f at x, and a bound on its rounding
 * noise (Σ|coefficients| · ε · max|f| / 12h, times a safety factor of 4).
 */
function fd(f: (x: number) => number, x: number): { d: number; noise: number } {
  const p2 = f(x + 2 * H);
  const p1 = f(x + H);
  const m1 = f(x - H);
  const m2 = f(x - 2 * H);
  const fmax = Math.max(Math.abs(p2), Math.abs(p1), Math.abs(m1), Math.abs(m2));
  return {
    d: (-p2 + 8 * p1 - 8 * m1 + m2) / (12 * H),
    noise: (4 * 18 * Number.EPSILON * fmax) / (12 * H),
  };
}

/** Relative error < 1e-6 above the finite difference's own rounding floor. */
function expectDerivative(analytic: number, f: (x: number) => number, x: number): void {
  const { d, noise } = fd(f, x);
  expect(Number.isFinite(d)).toBe(true);
  const err = Math.abs(analytic - d);
  const tol = 1e-6 * Math.max(Math.abs(analytic), Math.abs(d)) + noise;
  if (!(err <= tol))
    throw new Error(`derivative ${analytic} vs finite difference ${d} at ${x} (tol ${tol})`);
}

const NEEDS: Record<LossName, LossNeed> = {
  energy: "none",
  perceptron: "answer",
  hinge: "offending",
  log: "offending",
  lvq2: "offending",
  mce: "offending",
  "square-square": "offending",
  "square-exp": "offending",
  nll: "free-energy",
  mee: "free-energy",
  cd: "sample",
};

const SMOOTH: readonly LossName[] = ["energy", "log", "mce", "square-exp", "nll", "mee"];
const NON_NEGATIVE: readonly LossName[] = ["square-square", "square-exp"];

describe("LOSS_NAMES, LOSS_TABLE and the flags", () => {
  it("LOSS_NAMES lists the ten losses of the tutorial", () => {
    expect([...LOSS_NAMES]).toEqual(Object.keys(NEEDS));
  });

  it("LOSS_TABLE covers every name exactly once, with the loss's needs", () => {
    expect(LOSS_TABLE.map((r) => r.name)).toEqual([...LOSS_NAMES]);
    expect(new Set(LOSS_TABLE.map((r) => r.name)).size).toBe(LOSS_NAMES.length);
    for (const row of LOSS_TABLE) {
      expect(row.needs).toBe(makeLoss(row.name).needs);
      for (const s of [row.formula, row.margin, row.use]) expect(s.length).toBeGreaterThan(0);
    }
    const margin = Object.fromEntries(LOSS_TABLE.map((r) => [r.name, r.margin]));
    expect(margin).toMatchObject({
      hinge: "m (explicit)",
      log: "soft, infinite",
      perceptron: "none (zero)",
      lvq2: "zero, saturates at M",
      mce: "soft",
      "square-square": "m on E_I",
      "square-exp": "soft via γ",
      nll: "soft via β",
      mee: "soft via β",
    });
    expect(margin.energy).toMatch(/^none/);
    expect(LOSS_TABLE.find((r) => r.name === "energy")!.use).toMatch(/collapse/);
  });

  it.each(LOSS_NAMES.map((n) => [n]))("%s: needs, smooth, needsNonNegativeEnergies", (name) => {
    const loss = makeLoss(name);
    expect(loss.name).toBe(name);
    expect(loss.needs).toBe(NEEDS[name]);
    expect(loss.smooth).toBe(SMOOTH.includes(name));
    expect(loss.needsNonNegativeEnergies).toBe(NON_NEGATIVE.includes(name));
  });
});

describe("makeLoss", () => {
  it("defaults m = β = γ = M = 1, overrides, frozen params", () => {
    expect(makeLoss("hinge").params).toEqual({ margin: 1, beta: 1, gamma: 1, lvqMax: 1 });
    const p = makeLoss("mee", { beta: 2.5, margin: 0, gamma: undefined }).params;
    expect(p).toEqual({ margin: 0, beta: 2.5, gamma: 1, lvqMax: 1 });
    expect(Object.isFrozen(p)).toBe(true);
  });

  it("unknown name → E_ARG listing the names", () => {
    let err: unknown;
    try {
      makeLoss("softmax");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NadirError);
    expect((err as NadirError).code).toBe("E_ARG");
    expect((err as NadirError).message).toBe(
      `unknown loss 'softmax'; expected one of ${LOSS_NAMES.join(", ")}`,
    );
    expect(() => makeLoss("Hinge")).toThrow(/unknown loss 'Hinge'/);
  });

  it.each([
    [{ margin: -1 }, /margin: expected a finite number ≥ 0, got -1/],
    [{ margin: Number.NaN }, /margin: .* got NaN/],
    [{ beta: 0 }, /beta: expected a finite number > 0, got 0/],
    [{ beta: -2 }, /beta: .* got -2/],
    [{ beta: Number.POSITIVE_INFINITY }, /beta: .* got Infinity/],
    [{ gamma: 0 }, /gamma: expected a finite number > 0/],
    [{ lvqMax: -0.5 }, /lvqMax: expected a finite number > 0/],
    [{ margin: Number.NEGATIVE_INFINITY }, /margin: .* got -Infinity/],
    [{ margin: "1" as unknown as number }, /margin: .* got 1/],
    [{ temperature: 1 } as Partial<LossParams>, /unknown loss parameter 'temperature'/],
  ])("invalid params %o → E_ARG", (params, msg) => {
    expect(() => makeLoss("hinge", params)).toThrow(msg);
    try {
      makeLoss("energy", params);
      expect.unreachable("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(NadirError);
      expect((e as NadirError).code).toBe("E_ARG");
    }
  });
});

describe("values at hand-computed points", () => {
  // [name, params, E_C, E_other, value, dEC, dEI, dF]
  const e = Math.E;
  const cases: [LossName, Partial<LossParams>, number, number, number, number, number, number][] = [
    ["energy", {}, 2.5, 99, 2.5, 1, 0, 0],
    ["energy", {}, -3, -7, -3, 1, 0, 0],
    ["perceptron", {}, 3, 1, 2, 1, -1, 0],
    ["perceptron", {}, 1.5, 1.5, 0, 1, -1, 0], // the machine's answer is the correct one
    ["hinge", {}, 2, 2.5, 0.5, 1, -1, 0],
    ["hinge", {}, 0, 3, 0, 0, 0, 0], // margin satisfied
    ["hinge", {}, 1, 2, 0, 0, 0, 0], // kink: m + E_C − E_I = 0 → flat side
    ["hinge", { margin: 2 }, 0, 1, 1, 1, -1, 0],
    ["hinge", { margin: 0 }, 1, 1, 0, 0, 0, 0], // tie with m = 0: kink
    ["log", {}, 0, 0, LN2, 0.5, -0.5, 0],
    ["log", {}, 1, 0, Math.log(1 + e), e / (1 + e), -e / (1 + e), 0],
    ["log", {}, 0, 1, Math.log(1 + 1 / e), 1 / (1 + e), -1 / (1 + e), 0],
    ["lvq2", {}, 2, 1.5, 0.5, 1, -1, 0],
    ["lvq2", {}, 3, 1, 1, 0, 0, 0], // saturated
    ["lvq2", {}, 1, 2, 0, 0, 0, 0], // correct wins
    ["lvq2", {}, 1, 1, 0, 1, -1, 0], // a tie is a mistake: slope at 0
    ["lvq2", {}, 2, 1, 1, 0, 0, 0], // kink at M → flat side
    ["lvq2", { lvqMax: 3 }, 3, 1, 2, 1, -1, 0],
    ["mce", {}, 0, 0, 0.5, 0.25, -0.25, 0],
    ["mce", {}, Math.log(3), 0, 0.75, 3 / 16, -3 / 16, 0],
    ["mce", {}, 0, Math.log(3), 0.25, 3 / 16, -3 / 16, 0],
    ["square-square", {}, 2, 0.5, 4.25, 4, -1, 0],
    ["square-square", {}, 1, 3, 1, 2, 0, 0],
    ["square-square", {}, 0.5, 1, 0.25, 1, 0, 0], // E_I = m: derivative 0 from both sides
    ["square-square", { margin: 3 }, 0, 1, 4, 0, -4, 0],
    ["square-exp", {}, 1, 0, 2, 2, -1, 0],
    ["square-exp", { gamma: 2 }, 0, LN2, 1, 0, -1, 0],
    ["square-exp", {}, 3, 1, 9 + 1 / e, 6, -1 / e, 0],
    ["nll", {}, 3, 1, 2, 1, 0, -1],
    ["nll", { beta: 7 }, -2, -2, 0, 1, 0, -1],
    ["mee", {}, 1 + LN2, 1, 0.5, 0.5, 0, -0.5],
    ["mee", { beta: 2 }, LN2 / 2, 0, 0.5, 1, 0, -1],
    ["mee", {}, 4, 4, 0, 1, 0, -1], // P = 1
    ["mee", { beta: 3 }, 1, 1 + 1e-15, 0, 3, 0, -3], // rounding gave E_C < F: P = 1
  ];

  it.each(cases)("%s %o at (%d, %d)", (name, params, EC, Eo, value, dEC, dEI, dF) => {
    const v = makeLoss(name, params).evaluate(EC, Eo);
    expect(v.value).toBeCloseTo(value, 14);
    expect(v.dEC).toBeCloseTo(dEC, 14);
    expect(v.dEI).toBeCloseTo(dEI, 14);
    expect(v.dF).toBeCloseTo(dF, 14);
  });

  it("writes into `out` and returns it; every field is overwritten", () => {
    const out: LossValue = { value: 9, dEC: 9, dEI: 9, dF: 9 };
    expect(makeLoss("hinge").evaluate(0, 5, out)).toBe(out);
    expect(out).toEqual({ value: 0, dEC: 0, dEI: 0, dF: 0 });
    expect(makeLoss("nll").evaluate(2, 1, out)).toEqual({ value: 1, dEC: 1, dEI: 0, dF: -1 });
  });
});

// ---------------------------------------------------------------------------
// Properties.

const mixed = fc
  .oneof(
    fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    fc.double({ min: -5, max: 5, noNaN: true }),
  )
  .map(snap);
const positive = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true }).map((x) => Math.round(x * 1e6) / 1e6);
const params: fc.Arbitrary<LossParams> = fc.record({
  margin: positive(0, 5),
  beta: positive(0.1, 10),
  gamma: positive(0.1, 10),
  lvqMax: positive(0.1, 10),
});

/** (E_C, E_other) in the loss's domain: F ≤ E_C for free-energy losses, E_I ≥ −700 for square-exp. */
function energies(name: LossName): fc.Arbitrary<[number, number]> {
  if (NEEDS[name] === "free-energy")
    return fc
      .tuple(mixed, fc.oneof(positive(0.01, 5), positive(0.01, 1e3)))
      .map(([EC, g]): [number, number] => [EC, snap(EC - g)]);
  if (name === "square-exp")
    return fc.tuple(mixed, fc.double({ min: -700, max: 1e3, noNaN: true }).map(snap));
  // Either independent energies, or E_I close to E_C (where the contrastive losses bend).
  return fc.oneof(
    fc.tuple(mixed, mixed),
    fc
      .tuple(mixed, fc.double({ min: -6, max: 6, noNaN: true }))
      .map(([EC, d]): [number, number] => [EC, snap(EC - d)]),
  );
}

/** Distance (in E_C − E_I or E_I) to the loss's kinks, or Infinity. */
function kinkDistance(name: LossName, p: LossParams, EC: number, Eo: number): number {
  const d = EC - Eo;
  switch (name) {
    case "hinge":
      return Math.abs(p.margin + d);
    case "lvq2":
      return Math.min(Math.abs(d), Math.abs(d - p.lvqMax));
    case "square-square":
      return Math.abs(Eo - p.margin);
    default:
      return Number.POSITIVE_INFINITY;
  }
}

/** The field holding ∂L/∂E_other for this loss, and the ones that must be 0. */
function otherField(loss: Loss): "dEI" | "dF" | null {
  if (loss.needs === "free-energy") return "dF";
  if (loss.needs === "none") return null;
  return "dEI";
}

describe("derivatives vs finite differences (fixed seed, 300 runs each)", () => {
  it.each(LOSS_NAMES.map((n) => [n]))("%s", (name) => {
    fc.assert(
      fc.property(params, energies(name), (p, [EC, Eo]) => {
        fc.pre(kinkDistance(name, p, EC, Eo) > 0.01);
        const loss = makeLoss(name, p);
        const v = loss.evaluate(EC, Eo);
        expectDerivative(v.dEC, (x) => loss.evaluate(x, Eo).value, EC);
        const other = otherField(loss);
        const byOther = (y: number) => loss.evaluate(EC, y).value;
        if (other === null) {
          expect(fd(byOther, Eo).d).toBe(0);
        } else {
          expectDerivative(v[other], byOther, Eo);
        }
        if (other !== "dEI") expect(v.dEI).toBe(0);
        if (other !== "dF") expect(v.dF).toBe(0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe("stability and signs for |E| ≤ 1e3", () => {
  const corners = [-1000, -1, 0, 1, 1000];

  it.each(LOSS_NAMES.map((n) => [n]))(
    "%s: finite, ordered, non-negative where it must be",
    (name) => {
      const check = (loss: Loss, EC: number, Eo: number) => {
        const v = loss.evaluate(EC, Eo);
        for (const k of ["value", "dEC", "dEI", "dF"] as const)
          if (!Number.isFinite(v[k])) throw new Error(`${name}(${EC}, ${Eo}).${k} = ${v[k]}`);
        // Lower energy is better: a loss never rewards raising E_C (in its domain) or lowering E_I / F.
        if (loss.needsNonNegativeEnergies ? EC >= 0 : true) expect(v.dEC).toBeGreaterThanOrEqual(0);
        expect(v.dEI).toBeLessThanOrEqual(0);
        expect(v.dF).toBeLessThanOrEqual(0);
        const valid = NEEDS[name] === "none" || Eo <= EC || NEEDS[name] === "offending";
        if (name !== "energy" && valid) expect(v.value).toBeGreaterThanOrEqual(0);
        if (name === "mee" || name === "mce") expect(v.value).toBeLessThanOrEqual(1);
      };
      const loss = makeLoss(name);
      for (const EC of corners)
        for (const Eo of corners) if (name !== "square-exp" || Eo > -700) check(loss, EC, Eo);
      fc.assert(
        fc.property(
          params,
          fc.double({ min: -1e3, max: 1e3, noNaN: true }),
          fc.double({ min: name === "square-exp" ? -700 : -1e3, max: 1e3, noNaN: true }),
          (p, EC, Eo) => check(makeLoss(name, p), EC, Eo),
        ),
        { seed: SEED, numRuns: RUNS },
      );
    },
  );

  it("log and mce at E_C − E_I = ±1000 (no overflow)", () => {
    const log = makeLoss("log");
    expect(log.evaluate(1000, 0)).toEqual({ value: 1000, dEC: 1, dEI: -1, dF: 0 });
    expect(log.evaluate(0, 1000)).toEqual({ value: 0, dEC: 0, dEI: -0, dF: 0 });
    expect(log.evaluate(-500, 500).value).toBe(0);
    expect(log.evaluate(40, 0).value).toBeCloseTo(40, 12);
    expect(log.evaluate(0, 40).value).toBeCloseTo(Math.exp(-40), 28);
    const mce = makeLoss("mce");
    expect(mce.evaluate(1000, 0)).toEqual({ value: 1, dEC: 0, dEI: -0, dF: 0 });
    expect(mce.evaluate(0, 1000).value).toBe(0);
    expect(mce.evaluate(0, 30).value).toBeCloseTo(sigma(-30), 25);
  });

  it("mee is accurate near P = 1 and saturates at 1 far from it", () => {
    const mee = makeLoss("mee", { beta: 2 });
    expect(mee.evaluate(1e-12, 0).value).toBeCloseTo(2e-12 - 2e-24, 27);
    expect(mee.evaluate(1000, -1000)).toEqual({ value: 1, dEC: 0, dEI: 0, dF: -0 });
    expect(mee.evaluate(-5, 3)).toEqual({ value: 0, dEC: 2, dEI: 0, dF: -2 }); // E_C < F: P = 1
  });

  it("square-exp beyond its domain: Infinity only where exp(−E_I) overflows", () => {
    expect(Number.isFinite(makeLoss("square-exp").evaluate(0, -709).value)).toBe(true);
    expect(makeLoss("square-exp").evaluate(0, -710).value).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("zero regions give zero derivatives", () => {
  it("hinge where E_I ≥ E_C + m (the margin holds)", () => {
    fc.assert(
      fc.property(params, mixed, fc.double({ min: 0, max: 1e3, noNaN: true }), (p, EC, s) => {
        const v = makeLoss("hinge", p).evaluate(EC, EC + p.margin + s);
        expect([v.value, v.dEC, v.dEI, v.dF]).toEqual([0, 0, 0, 0]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("lvq2 where E_C < E_I (value 0) and where E_C − E_I ≥ M (value M)", () => {
    fc.assert(
      fc.property(params, mixed, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (p, EC, s) => {
        const lvq = makeLoss("lvq2", p);
        fc.pre(EC < EC + s);
        const right = lvq.evaluate(EC, EC + s);
        expect([right.value, right.dEC, right.dEI, right.dF]).toEqual([0, 0, 0, 0]);
        // E_I chosen so that E_C − E_I ≥ M holds after rounding.
        const EI = EC - p.lvqMax - s;
        fc.pre(EC - EI >= p.lvqMax);
        const sat = lvq.evaluate(EC, EI);
        expect([sat.value, sat.dEC, sat.dEI, sat.dF]).toEqual([p.lvqMax, 0, 0, 0]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("square-square pulls E_I up only below m", () => {
    const v = makeLoss("square-square", { margin: 2 }).evaluate(1, 2.0000001);
    expect(v.dEI).toBe(0);
    expect(makeLoss("square-square", { margin: 2 }).evaluate(1, 1.9).dEI).toBeCloseTo(-0.2, 12);
  });
});

describe("relations between losses", () => {
  const energyLists = fc
    .array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 1, maxLength: 8 })
    .chain((E) => fc.tuple(fc.constant(E), fc.integer({ min: 0, max: E.length - 1 })));

  it("nll with F_β = min_Y E(Y) (β → ∞) is the perceptron loss; F_β is within log(n)/β of it", () => {
    fc.assert(
      fc.property(energyLists, fc.double({ min: 0.05, max: 1e6, noNaN: true }), ([E, c], beta) => {
        const EC = E[c]!;
        const Emin = Math.min(...E);
        const perceptron = makeLoss("perceptron").evaluate(EC, Emin);
        const nll = makeLoss("nll", { beta });
        expect(nll.evaluate(EC, Emin).value).toBe(perceptron.value);
        const gap = nll.evaluate(EC, freeEnergy(E, beta)).value - perceptron.value;
        const slack = 1e-9 * (1 + Math.abs(EC) + Math.abs(Emin));
        expect(gap).toBeGreaterThanOrEqual(-slack);
        expect(gap).toBeLessThanOrEqual(Math.log(E.length) / beta + slack);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("mee(E_C, F_β) = 1 − exp(−β E_C)/Z_β and nll(E_C, F_β) = −(1/β) log P_β(Yⁱ)", () => {
    fc.assert(
      fc.property(energyLists, fc.double({ min: 0.05, max: 5, noNaN: true }), ([E, c], beta) => {
        const EC = E[c]!;
        const F = freeEnergy(E, beta);
        const m = Math.min(...E);
        let Z = 0;
        for (const e of E) Z += Math.exp(-beta * (e - m));
        const P = Math.exp(-beta * (EC - m)) / Z;
        expect(makeLoss("mee", { beta }).evaluate(EC, F).value).toBeCloseTo(1 - P, 9);
        if (P > 1e-200)
          expect(makeLoss("nll", { beta }).evaluate(EC, F).value).toBeCloseTo(
            -Math.log(P) / beta,
            8,
          );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("hinge with m = 0 ≤ log ≤ hinge with m = 0 plus log 2; mce is the derivative of log", () => {
    fc.assert(
      fc.property(mixed, mixed, (EC, EI) => {
        const h = makeLoss("hinge", { margin: 0 }).evaluate(EC, EI).value;
        const l = makeLoss("log").evaluate(EC, EI);
        expect(l.value).toBeGreaterThanOrEqual(h);
        expect(l.value).toBeLessThanOrEqual(h + LN2 + 1e-12);
        expect(l.dEC).toBe(makeLoss("mce").evaluate(EC, EI).value);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

describe("projectNonNegative", () => {
  it("clamps negative weights in [from, to) and counts them", () => {
    const W = Float64Array.of(-1, 2, -3, 0, -0.5, 4);
    expect(projectNonNegative(W, 1, 4)).toBe(1);
    expect([...W]).toEqual([-1, 2, 0, 0, -0.5, 4]);
    expect(projectNonNegative(W)).toBe(2);
    expect([...W]).toEqual([0, 2, 0, 0, 0, 4]);
    expect(projectNonNegative(W)).toBe(0);
    expect(projectNonNegative(new Float64Array(0))).toBe(0);
  });

  it.each([
    [-1, 3],
    [2, 1],
    [0, 7],
    [0.5, 2],
  ])("bad range [%d, %d) → E_ARG", (from, to) => {
    expect(() => projectNonNegative(new Float64Array(6), from, to)).toThrow(
      /expected integers 0 ≤ from ≤ to ≤ 6/,
    );
  });

  it("with binary attributes, projected weights make every energy ≥ 0", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.array(fc.boolean(), { minLength: 20, maxLength: 20 }), { maxLength: 10 }),
        (w, phis) => {
          const W = Float64Array.from(w);
          projectNonNegative(W);
          for (const phi of phis) {
            let E = 0;
            for (let k = 0; k < W.length; k++) if (phi[k]) E += W[k]!;
            expect(E).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
