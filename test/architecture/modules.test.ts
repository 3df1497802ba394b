import { describe, expect, it } from "vitest";
import {
  Dot,
  Embedding,
  L1Distance,
  Linear,
  type Module,
  ReLU,
  Sequential,
  Sigmoid,
  SquaredL2Distance,
  Sum,
  sgdStep,
  Tanh,
  zeroGrad,
} from "../../src/architecture/modules.ts";
import { Rng } from "../../src/core/rng.ts";

/**
 * Gradient check: the scalar S = ⟨r, f(inputs)⟩ for a fixed random r; the
 * analytic gradient (backward(r), parameter grads) against central finite
 * differences with h = 1e-6. Relative error = ‖g − fd‖ / max(‖g‖ + ‖fd‖, 1e-12)
 * over each whole gradient vector; it must be < 1e-5.
 */
const H = 1e-6;
const TOL = 1e-5;

function relErr(a: Float64Array, b: Float64Array): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(na) + Math.sqrt(nb), 1e-12);
}

function randVec(n: number, rng: Rng, avoidZero = false): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = rng.normal();
    if (avoidZero && Math.abs(x) < 0.05) x += x < 0 ? -0.1 : 0.1;
    v[i] = x;
  }
  return v;
}

function dotv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Checks module `m` at `inputs` (indices in `differentiable` are checked). */
function check(
  m: Module,
  inputs: Float64Array[],
  rng: Rng,
  differentiable = inputs.map((_, i) => i),
): number {
  const out = m.forward(inputs);
  const r = randVec(out.length, rng);
  zeroGrad([m]);
  m.forward(inputs);
  const dIn = m.backward(r).map((d) => d.slice());
  const S = () => dotv(r, m.forward(inputs));
  let worst = 0;
  for (const k of differentiable) {
    const x = inputs[k]!;
    const fd = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const x0 = x[i]!;
      x[i] = x0 + H;
      const sp = S();
      x[i] = x0 - H;
      const sm = S();
      x[i] = x0;
      fd[i] = (sp - sm) / (2 * H);
    }
    worst = Math.max(worst, relErr(dIn[k]!, fd));
  }
  for (const p of m.params()) {
    const fd = new Float64Array(p.value.length);
    for (let i = 0; i < p.value.length; i++) {
      const v0 = p.value[i]!;
      p.value[i] = v0 + H;
      const sp = S();
      p.value[i] = v0 - H;
      const sm = S();
      p.value[i] = v0;
      fd[i] = (sp - sm) / (2 * H);
    }
    worst = Math.max(worst, relErr(p.grad, fd));
  }
  return worst;
}

describe("modules: gradient checks vs central differences", () => {
  it("Linear", () => {
    const rng = new Rng(11);
    expect(check(new Linear(5, 3, rng), [randVec(5, rng)], rng)).toBeLessThan(TOL);
  });

  it("Embedding (table rows of the looked-up ids, repeated ids accumulate)", () => {
    const rng = new Rng(12);
    const e = new Embedding(6, 4, rng);
    const ids = Float64Array.from([2, 5, 2]);
    expect(check(e, [ids], rng, [])).toBeLessThan(TOL);
    const out = e.forward([ids]);
    expect(Array.from(out.subarray(0, 4))).toEqual(Array.from(e.table.value.subarray(8, 12)));
    expect(() => e.forward([Float64Array.from([6])])).toThrow(RangeError);
  });

  it("Tanh, Sigmoid, ReLU", () => {
    const rng = new Rng(13);
    expect(check(new Tanh(), [randVec(7, rng)], rng)).toBeLessThan(TOL);
    expect(check(new Sigmoid(), [randVec(7, rng)], rng)).toBeLessThan(TOL);
    expect(check(new ReLU(), [randVec(7, rng, true)], rng)).toBeLessThan(TOL);
  });

  it("Sum of three inputs", () => {
    const rng = new Rng(14);
    expect(check(new Sum(), [randVec(4, rng), randVec(4, rng), randVec(4, rng)], rng)).toBeLessThan(
      TOL,
    );
  });

  it("L1 distance, squared L2 distance, dot product", () => {
    const rng = new Rng(15);
    const a = randVec(6, rng);
    const b = randVec(6, rng);
    for (let i = 0; i < 6; i++) if (Math.abs(a[i]! - b[i]!) < 0.05) b[i] = b[i]! + 0.2;
    expect(check(new L1Distance(), [a, b], rng)).toBeLessThan(TOL);
    expect(check(new SquaredL2Distance(), [a, b], rng)).toBeLessThan(TOL);
    expect(check(new Dot(), [a, b], rng)).toBeLessThan(TOL);
    expect(new L1Distance().forward([Float64Array.of(1, -1), Float64Array.of(0, 1)])[0]).toBe(3);
    expect(
      new SquaredL2Distance().forward([Float64Array.of(1, -1), Float64Array.of(0, 1)])[0],
    ).toBe(5);
  });

  it("Sequential (Linear, Tanh, Linear, Sigmoid, Linear, ReLU)", () => {
    const rng = new Rng(16);
    const net = new Sequential([
      new Linear(3, 6, rng),
      new Tanh(),
      new Linear(6, 5, rng),
      new Sigmoid(),
      new Linear(5, 4, rng),
    ]);
    expect(check(net, [randVec(3, rng)], rng)).toBeLessThan(TOL);
  });
});

/**
 * A two-branch energy written by hand from modules:
 *   E(W, Y, X) = ‖G₁(X) − G₂(Y)‖₁ + ‖G₁(X) − Emb(c)‖² + G₁(X)·Emb(c)
 * with G₁ = Linear→Tanh→Linear, G₂ = Linear→Sigmoid→Linear, c a class id.
 */
class TwoBranch implements Module {
  readonly g1: Sequential;
  readonly g2: Sequential;
  readonly emb: Embedding;
  private readonly l1 = new L1Distance();
  private readonly l2 = new SquaredL2Distance();
  private readonly dot = new Dot();
  private readonly sum = new Sum();
  private h1 = new Float64Array(0);
  private h2 = new Float64Array(0);
  private c = new Float64Array(0);

  constructor(rng: Rng) {
    this.g1 = new Sequential([new Linear(3, 5, rng), new Tanh(), new Linear(5, 4, rng)]);
    this.g2 = new Sequential([new Linear(2, 5, rng), new Sigmoid(), new Linear(5, 4, rng)]);
    this.emb = new Embedding(3, 4, rng);
  }

  /** inputs: [X, Y, class id]. */
  forward(inputs: readonly Float64Array[]): Float64Array {
    this.h1 = this.g1.forward([inputs[0]!]).slice();
    this.h2 = this.g2.forward([inputs[1]!]).slice();
    this.c = this.emb.forward([inputs[2]!]).slice();
    const e1 = this.l1.forward([this.h1, this.h2]).slice();
    const e2 = this.l2.forward([this.h1, this.c]).slice();
    const e3 = this.dot.forward([this.h1, this.c]).slice();
    return this.sum.forward([e1, e2, e3]);
  }

  backward(dOut: Float64Array): Float64Array[] {
    const [d1, d2, d3] = this.sum.backward(dOut);
    const [a1, b1] = this.l1.backward(d1!);
    const [a2, c2] = this.l2.backward(d2!);
    const [a3, c3] = this.dot.backward(d3!);
    const dh1 = new Float64Array(this.h1.length);
    const dc = new Float64Array(this.c.length);
    for (let i = 0; i < dh1.length; i++) {
      dh1[i] = a1![i]! + a2![i]! + a3![i]!;
      dc[i] = c2![i]! + c3![i]!;
    }
    const dY = this.g2.backward(b1!)[0]!.slice();
    const dX = this.g1.backward(dh1)[0]!.slice();
    const dId = this.emb.backward(dc)[0]!;
    return [dX, dY, dId];
  }

  params() {
    return [...this.g1.params(), ...this.g2.params(), ...this.emb.params()];
  }
}

describe("a composed two-branch energy", () => {
  it("gradient w.r.t. X, Y and all parameters matches finite differences", () => {
    const rng = new Rng(21);
    const e = new TwoBranch(rng);
    for (let trial = 0; trial < 5; trial++) {
      const x = randVec(3, rng);
      const y = randVec(2, rng);
      const c = Float64Array.of(rng.int(3));
      expect(check(e, [x, y, c], rng, [0, 1])).toBeLessThan(TOL);
    }
  });

  it("SGD on the composed energy lowers it; init is reproducible from the seed", () => {
    const a = new TwoBranch(new Rng(5));
    const b = new TwoBranch(new Rng(5));
    expect(Array.from(a.g1.params()[0]!.value)).toEqual(Array.from(b.g1.params()[0]!.value));
    const x = Float64Array.of(0.3, -0.2, 0.5);
    const y = Float64Array.of(0.1, 0.4);
    const c = Float64Array.of(1);
    const before = a.forward([x, y, c])[0]!;
    for (let s = 0; s < 20; s++) {
      zeroGrad([a]);
      a.forward([x, y, c]);
      a.backward(Float64Array.of(1));
      sgdStep([a], 0.01);
    }
    expect(a.forward([x, y, c])[0]!).toBeLessThan(before);
  });
});
