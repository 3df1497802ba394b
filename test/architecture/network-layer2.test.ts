import { describe, expect, it } from "vitest";
import { combineNetworks, NetworkChain } from "../../src/architecture/network.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { viterbiBackend, viterbiInto } from "../../src/inference/viterbi.ts";
import { trainDeep } from "../../src/optimize/adam.ts";
import {
  finiteDifferenceError,
  networkObjective,
  tinyNetwork,
  totalLoss,
} from "../fixtures/network-fd.ts";

/**
 * The second layer of the window network (`network.layer2`: a convolution
 * over the first layer's hidden states): gradients of the composed chain
 * energy through EnergyObjective against central finite differences (every
 * parameter of the dense block sampled, with and without hidden dropout's
 * mask held fixed), the tagging cache, the description round trip, the
 * receptive field (a word c + c₂ away moves the energy, one further does not).
 */

const SENTS = [
  "The dog barks at 3 cats .",
  "A cat sleeps .",
  "Dogs bark loudly in Paris",
  "the Cat saw 12 dogs",
  "x",
].map((s) => s.split(" "));
const TAGS = ["D", "N", "V", "P", "X"];

function makeSpec(layer2: unknown, activation = "tanh", chars = false) {
  return parseSpec(
    {
      name: "tiny-deep2",
      format: "conll",
      columns: ["w"],
      label: -1,
      derived: { lw: "lower(w)", s2: "suffix(lw,2)", caps: "caps(w)" },
      templates: ["w[0]", "s2[0]", "lw[-1]|lw[0]"],
      network: {
        window: 1,
        hidden: 4,
        activation,
        hybrid: true,
        ...(layer2 === null ? {} : { layer2 }),
        fields: [
          { column: "lw", dim: 3, digits: true },
          { column: "caps", dim: 2 },
        ],
        ...(chars ? { chars: { column: "w", dim: 3, filters: 3, width: 3 } } : {}),
      },
    },
    "tiny-deep2.json",
  );
}

function setup(
  layer2: unknown = { window: 1, hidden: 3 },
  activation = "tanh",
  chars = false,
  sents = SENTS,
) {
  const spec = makeSpec(layer2, activation, chars);
  const rng = new Rng(3);
  const sentences = sents.map((ws) => ({
    tokens: ws.map((w) => [w, TAGS[rng.int(TAGS.length)]!]),
  }));
  const { arch, W, instances, fx, set } = tinyNetwork(spec, sentences, rng);
  return { spec, arch, W, instances, sentences, fx, set };
}

/** Worst relative error of the gradient against central differences (dense block at 60%, the rest sampled). */
function check(name: string, activation = "tanh", chars = false): number {
  const { arch, W, instances } = setup({ window: 1, hidden: 3 }, activation, chars);
  const obj = networkObjective(arch, name);
  const grad = new Float64Array(arch.K);
  totalLoss(obj, instances, W, grad);
  const rng = new Rng(11);
  const ks: number[] = [];
  for (let k = arch.linear.transOffset; k < arch.linear.K; k++) ks.push(k);
  for (let k = arch.denseStart; k < arch.K; k++) if (rng.next() < 0.6) ks.push(k);
  for (let k = arch.embOff[0]!; k < arch.denseStart; k++) if (rng.next() < 0.5) ks.push(k);
  for (let k = 0; k < arch.linear.transOffset; k++) if (rng.next() < 0.2) ks.push(k);
  // a piecewise loss (or hardtanh unit) may cross a kink within ±h
  const kinks = name !== "nll" || activation !== "tanh";
  const { worst, checked } = finiteDifferenceError(obj, instances, W, grad, ks, kinks);
  expect(checked).toBeGreaterThan(ks.length * 0.95);
  return worst;
}

describe("network chain with a second layer over the hidden states", () => {
  it("parses layer2 and lays V and its biases out between b1 and W2", () => {
    const { arch } = setup({ window: 2, hidden: 3 });
    expect(arch.c2).toBe(2);
    expect(arch.H2).toBe(3);
    expect(arch.Ho).toBe(3);
    expect(arch.vOff).toBe(arch.b1Off + arch.H);
    expect(arch.bvOff).toBe(arch.vOff + 5 * arch.H * 3);
    expect(arch.w2Off).toBe(arch.bvOff + 3);
    expect(arch.K).toBe(arch.w2Off + arch.L * 3 + arch.L);
    const plain = setup(null).arch;
    expect(plain.H2).toBe(0);
    expect(plain.w2Off).toBe(plain.b1Off + plain.H);
    expect(() => setup({ window: -1, hidden: 3 })).toThrow(/layer2.window/);
    expect(() => setup({ window: 1, hidden: 0 })).toThrow(/layer2.hidden/);
    expect(() => setup(5)).toThrow(/layer2/);
  });

  for (const loss of ["perceptron", "hinge", "nll"]) {
    it(`${loss} matches finite differences (tanh units)`, () => {
      expect(check(loss)).toBeLessThan(1e-5);
    });
  }

  it("nll matches finite differences with hardtanh units and with the character module", () => {
    expect(check("nll", "hardtanh")).toBeLessThan(1e-5);
    expect(check("nll", "tanh", true)).toBeLessThan(1e-5);
  });

  it("the energy of a labeling is the chain energy of the potentials, and accumulate is its gradient", () => {
    const { arch, W, instances } = setup();
    const x = instances[0]!;
    const y = x.labels;
    const grad = new Float64Array(arch.K);
    const e0 = chainEnergy(arch.potentials(x, W), y);
    arch.accumulate(x, y, 1, grad);
    const rng = new Rng(7);
    const dir = new Float64Array(arch.K);
    for (let k = 0; k < arch.K; k++) dir[k] = rng.normal();
    const h = 1e-6;
    const Wp = W.map((w, k) => w + h * dir[k]!);
    const Wm = W.map((w, k) => w - h * dir[k]!);
    const fd =
      (chainEnergy(arch.potentials(x, Wp), y) - chainEnergy(arch.potentials(x, Wm), y)) / (2 * h);
    let g = 0;
    for (let k = 0; k < arch.K; k++) g += grad[k]! * dir[k]!;
    expect(Math.abs(fd - g)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
    expect(Number.isFinite(e0)).toBe(true);
  });

  it("deferred mode and hidden dropout (mask held by a fixed seed) give the immediate gradient", () => {
    const a = setup();
    const b = setup();
    const ga = new Float64Array(a.arch.K);
    const gb = new Float64Array(b.arch.K);
    for (const arch of [a.arch, b.arch]) {
      arch.dropout = 0.3;
      arch.training = true;
    }
    b.arch.defer = true;
    const oa = networkObjective(a.arch, "nll");
    const ob = networkObjective(b.arch, "nll");
    totalLoss(oa, a.instances, a.W, ga);
    totalLoss(ob, b.instances, b.W, gb);
    b.arch.flush();
    let worst = 0;
    let nz = 0;
    for (let k = 0; k < ga.length; k++) {
      worst = Math.max(worst, Math.abs(ga[k]! - gb[k]!));
      if (ga[k] !== 0) nz++;
    }
    expect(nz).toBeGreaterThan(100);
    expect(worst).toBeLessThan(1e-10);
  });

  it("hidden dropout: the gradient is that of the energy under the same mask", () => {
    // one instance, dropout on; re-running potentials draws a new mask, so the
    // finite difference uses a network whose mask is replayed by resetting the seed
    const { arch, W, instances } = setup();
    const x = instances[0]!;
    const y = x.labels;
    arch.dropout = 0.4;
    arch.training = true;
    const seed = (arch as unknown as { seed: number }).seed;
    const energy = (w: Float64Array) => {
      (arch as unknown as { seed: number }).seed = seed;
      return chainEnergy(arch.potentials(x, w), y);
    };
    const grad = new Float64Array(arch.K);
    energy(W);
    arch.accumulate(x, y, 1, grad);
    const rng = new Rng(9);
    const h = 1e-6;
    let worst = 0;
    for (let k = arch.denseStart; k < arch.K; k++) {
      if (rng.next() > 0.5) continue;
      const w0 = W[k]!;
      W[k] = w0 + h;
      const fp = energy(W);
      W[k] = w0 - h;
      const fm = energy(W);
      W[k] = w0;
      worst = Math.max(worst, Math.abs((fp - fm) / (2 * h) - grad[k]!));
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it("the frozen projection cache tags like the direct forward pass", () => {
    const { arch, W, instances } = setup({ window: 1, hidden: 3 }, "hardtanh");
    for (const x of instances) {
      const direct = Float64Array.from(arch.potentials(x, W).unary);
      arch.frozen = true;
      const cached = arch.potentials(x, W).unary;
      arch.frozen = false;
      for (let i = 0; i < direct.length; i++) expect(cached[i]!).toBeCloseTo(direct[i]!, 5);
    }
  });

  it("the receptive field is ±(c + c₂): a word 2 away moves U[0], one 3 away does not", () => {
    const sents = [
      ["a", "b", "c", "d", "e"],
      ["a", "b", "Zz", "d", "e"],
      ["a", "b", "c", "Zz", "e"],
    ];
    const { arch, W, instances } = setup({ window: 1, hidden: 3 }, "tanh", false, sents);
    const u = instances.map((x) => Float64Array.from(arch.potentials(x, W).unary));
    const L = arch.L;
    let d2 = 0;
    let d3 = 0;
    for (let l = 0; l < L; l++) {
      d2 = Math.max(d2, Math.abs(u[0]![l]! - u[1]![l]!));
      d3 = Math.max(d3, Math.abs(u[0]![l]! - u[2]![l]!));
    }
    expect(d2).toBeGreaterThan(1e-6);
    expect(d3).toBe(0);
    // without the second layer the window alone (±1) does not reach 2 away
    const p = setup(null, "tanh", false, sents);
    const v = p.instances.map((x) => Float64Array.from(p.arch.potentials(x, p.W).unary));
    let e2 = 0;
    for (let l = 0; l < p.arch.L; l++) e2 = Math.max(e2, Math.abs(v[0]![l]! - v[1]![l]!));
    expect(e2).toBe(0);
  });

  it("describe / fromDescription round trip keeps the second layer (and old descriptions have none)", () => {
    const { spec, arch, W, instances, sentences } = setup();
    const d = JSON.parse(JSON.stringify(arch.describe()));
    const back = NetworkChain.fromDescription(spec, d);
    expect(back.H2).toBe(arch.H2);
    expect(back.K).toBe(arch.K);
    for (let i = 0; i < instances.length; i++) {
      const x = instances[i]!;
      back.bind(x, sentences[i]!.tokens);
      const a = Float64Array.from(arch.potentials(x, W).unary);
      const b = back.potentials(x, W).unary;
      for (let j = 0; j < a.length; j++) expect(b[j]).toBe(a[j]);
    }
    delete d.settings.layer2;
    expect(NetworkChain.fromDescription(spec, d).H2).toBe(0);
  });

  it("an ensemble of second-layer networks is refused", () => {
    const { spec, arch, W } = setup();
    expect(() =>
      combineNetworks(spec, [
        { arch, W },
        { arch, W },
      ]),
    ).toThrow(/second layer/);
  });

  it("trainDeep fits the tiny set through the second layer (network only has to learn it)", () => {
    const { arch, W, instances } = setup({ window: 1, hidden: 8 }, "hardtanh");
    const out = new Int32Array(16);
    const errors = (w: Float64Array) => {
      let wrong = 0;
      for (const x of instances) {
        viterbiInto(arch.potentials(x, w), out);
        for (let t = 0; t < x.T; t++) if (out[t] !== x.labels[t]) wrong++;
      }
      return wrong;
    };
    const r = trainDeep(
      arch,
      W,
      instances,
      { loss: "nll", epochs: 40, batch: 1, lr: 0.02, linearLr: 0.05, decay: 1, average: false },
      { backend: viterbiBackend, constraintsFor: () => undefined },
    );
    expect(r.reports[r.reports.length - 1]!.loss).toBeLessThan(r.reports[0]!.loss);
    expect(errors(r.W)).toBe(0);
  });
});
