import { describe, expect, it } from "vitest";
import type { Instance } from "../../src/architecture/features.ts";
import { NetworkChain as Net, type NetworkChain } from "../../src/architecture/network.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";
import { chainEnergy } from "../../src/graph/chain.ts";
import { viterbiBackend, viterbiInto } from "../../src/inference/viterbi.ts";
import { dropAttributes, trainDeep } from "../../src/optimize/adam.ts";
import {
  finiteDifferenceError,
  networkObjective,
  tinyNetwork,
  totalLoss,
} from "../fixtures/network-fd.ts";

/**
 * Gradient checks of the composed structure energy — a window network under
 * a first-order chain (hybrid: plus the sparse linear attributes) — through
 * EnergyObjective, against central finite differences of the summed loss, for
 * the perceptron, hinge and NLL losses. Tanh units keep the network smooth;
 * the piecewise losses are checked where the answers do not move under ±h
 * (a draw where the argmin changes is skipped, at most a few).
 */

const SENTS = [
  "The dog barks at 3 cats .",
  "A cat sleeps .",
  "Dogs bark loudly in Paris",
  "the Cat saw 12 dogs",
].map((s) => s.split(" "));
const TAGS = ["D", "N", "V", "P", "X"];

/** The spec a described network is rebuilt against (its own settings travel in the description). */
const ROUND_TRIP_SPEC = parseSpec(
  {
    name: "tiny-deep",
    format: "conll",
    columns: ["w"],
    label: -1,
    derived: { lw: "lower(w)", s2: "suffix(lw,2)", caps: "caps(w)" },
    templates: ["w[0]"],
  },
  "x.json",
);

function setup(hybrid: boolean, activation: "tanh" | "hardtanh" = "tanh", chars = false) {
  const spec = parseSpec(
    {
      name: "tiny-deep",
      format: "conll",
      columns: ["w"],
      label: -1,
      derived: { lw: "lower(w)", s2: "suffix(lw,2)", caps: "caps(w)" },
      templates: ["w[0]", "s2[0]", "lw[-1]|lw[0]"],
      network: {
        window: 1,
        hidden: 5,
        activation,
        hybrid,
        fields: [
          { column: "lw", dim: 3, digits: true },
          { column: "caps", dim: 2 },
        ],
        ...(chars ? { chars: { column: "w", dim: 3, filters: 4, width: 3 } } : {}),
      },
    },
    "tiny-deep.json",
  );
  const rng = new Rng(3);
  const sentences = SENTS.map((ws) => ({
    tokens: ws.map((w) => [w, TAGS[rng.int(TAGS.length)]!]),
  }));
  // a non-trivial linear part and biases
  const { arch, W, instances, L } = tinyNetwork(spec, sentences, rng);
  return { arch, W, instances, L };
}

/** Labels Viterbi gets wrong on the instances under W. */
function decodingErrors(
  arch: NetworkChain,
  W: Float64Array,
  instances: readonly Instance[],
): number {
  let wrong = 0;
  for (const x of instances) {
    const out = new Int32Array(x.T);
    viterbiInto(arch.potentials(x, W), out);
    for (let t = 0; t < x.T; t++) if (out[t] !== x.labels[t]) wrong++;
  }
  return wrong;
}

function check(
  name: string,
  hybrid: boolean,
  activation: "tanh" | "hardtanh" = "tanh",
  chars = false,
) {
  const { arch, W, instances } = setup(hybrid, activation, chars);
  const obj = networkObjective(arch, name);
  const grad = new Float64Array(arch.K);
  totalLoss(obj, instances, W, grad);
  const rng = new Rng(11);
  // every dense parameter plus a sample of embeddings and linear weights
  const ks: number[] = [];
  for (let k = arch.linear.transOffset; k < arch.linear.K; k++) ks.push(k);
  for (let k = arch.w1Off; k < arch.K; k++) if (rng.next() < 0.5) ks.push(k);
  for (let k = arch.embOff[0]!; k < arch.w1Off; k++) if (rng.next() < 0.5) ks.push(k);
  for (let k = 0; k < arch.linear.transOffset; k++) if (rng.next() < 0.2) ks.push(k);
  // a piecewise loss may cross a kink within ±h: a jump of the order of 1/h
  const { worst, checked } = finiteDifferenceError(obj, instances, W, grad, ks, name !== "nll");
  expect(checked).toBeGreaterThan(ks.length * 0.95);
  return worst;
}

describe("network chain: gradients of the composed energy through EnergyObjective", () => {
  for (const hybrid of [true, false]) {
    for (const loss of ["perceptron", "hinge", "nll"]) {
      it(`${loss} (${hybrid ? "hybrid" : "network only"}) matches finite differences`, () => {
        expect(check(loss, hybrid)).toBeLessThan(1e-5);
      });
    }
  }

  for (const loss of ["perceptron", "hinge", "nll"]) {
    it(`${loss} with the character module (conv + max-pool) matches finite differences`, () => {
      const { arch } = setup(true, "tanh", true);
      // the character block lies in [denseStart, w1Off): every entry is checked at 50%
      expect(arch.w1Off - arch.denseStart).toBeGreaterThan(40);
      expect(check(loss, true, "tanh", true)).toBeLessThan(1e-5);
    });
  }

  it("the character module: gradients reach every filter, the char embeddings and the biases", () => {
    const { arch, W, instances } = setup(true, "tanh", true);
    const obj = networkObjective(arch, "nll");
    const grad = new Float64Array(arch.K);
    totalLoss(obj, instances, W, grad);
    const lay = arch.charLay!;
    let nz = 0;
    for (let k = lay.biasOff; k < lay.biasOff + lay.filters; k++) if (grad[k] !== 0) nz++;
    expect(nz).toBe(lay.filters);
    let ne = 0;
    for (let k = lay.embOff; k < lay.convOff; k++) if (grad[k] !== 0) ne++;
    expect(ne).toBeGreaterThan(10);
  });

  it("the auxiliary local loss of the network matches finite differences (with the character module)", () => {
    const { arch, W, instances } = setup(true, "tanh", true);
    const A = (w: Float64Array, g: Float64Array | null): number => {
      let s = 0;
      for (const x of instances) s += arch.auxiliary(x, w, 0.7, g ?? new Float64Array(arch.K));
      return s;
    };
    const grad = new Float64Array(arch.K);
    A(W, grad);
    const ks: number[] = [];
    for (let k = arch.embOff[0]!; k < arch.K; k++) ks.push(k);
    let worst = 0;
    for (const k of ks) {
      const w0 = W[k]!;
      W[k] = w0 + 1e-5;
      const fp = A(W, null);
      W[k] = w0 - 1e-5;
      const fm = A(W, null);
      W[k] = w0;
      const fd = (fp - fm) / 2e-5;
      worst = Math.max(worst, Math.abs(fd - grad[k]!) / Math.max(1, Math.abs(fd)));
    }
    expect(worst).toBeLessThan(1e-5);
    // the linear part has no part in it
    for (let k = 0; k < arch.linear.K; k++) expect(grad[k]).toBe(0);
  });

  it("hardtanh units: nll matches finite differences", () => {
    expect(check("nll", true, "hardtanh")).toBeLessThan(1e-5);
  });

  it("the energy of a labeling is the chain energy of the potentials, and accumulate is its gradient", () => {
    const { arch, W, instances } = setup(true);
    const x = instances[0]!;
    const y = x.labels;
    const grad = new Float64Array(arch.K);
    const E = (w: Float64Array) => chainEnergy(arch.potentials(x, w), y);
    E(W);
    arch.accumulate(x, y, 1, grad);
    for (const k of [
      arch.w1Off + 3,
      arch.b2Off + 1,
      arch.embOff[0]! + 10,
      arch.linear.transOffset,
    ]) {
      const w0 = W[k]!;
      W[k] = w0 + 1e-6;
      const ep = E(W);
      W[k] = w0 - 1e-6;
      const em = E(W);
      W[k] = w0;
      expect(Math.abs((ep - em) / 2e-6 - grad[k]!)).toBeLessThan(1e-6);
    }
  });

  it("deferred mode (one backward pass per instance) gives the immediate gradient", () => {
    const { arch, W, instances } = setup(true);
    for (const loss of ["nll", "hinge", "perceptron"]) {
      const obj = networkObjective(arch, loss);
      const g1 = new Float64Array(arch.K);
      totalLoss(obj, instances, W, g1);
      arch.defer = true;
      const g2 = new Float64Array(arch.K);
      totalLoss(obj, instances, W, g2);
      arch.flush();
      arch.defer = false;
      for (let k = 0; k < arch.K; k++) expect(g2[k]).toBeCloseTo(g1[k]!, 12);
    }
  });

  it("every gradient entry lies in the dense block or in the instance's sparse indices", () => {
    for (const hybrid of [true, false]) {
      const { arch, W, instances } = setup(hybrid);
      const obj = networkObjective(arch, "nll");
      for (const x of instances) {
        const grad = new Float64Array(arch.K);
        obj.evaluate(x, W, 1, grad);
        const mark = new Int32Array(arch.K).fill(-1);
        const idx = new Int32Array(arch.maxSparse(x));
        const n = arch.sparseIndices(x, mark, 7, idx, 0);
        const ok = new Uint8Array(arch.K);
        for (let i = 0; i < n; i++) ok[idx[i]!] = 1;
        for (const [a, b] of arch.denseRanges) ok.fill(1, a, b);
        for (let k = 0; k < arch.K; k++) if (grad[k] !== 0) expect(ok[k]).toBe(1);
      }
    }
  });

  it("trainDeep lowers the training loss and fits the tiny set", () => {
    const { arch, W, instances } = setup(true);
    const r = trainDeep(
      arch,
      W,
      instances,
      { loss: "nll", epochs: 30, batch: 2, lr: 0.01, linearLr: 0.05, decay: 1 },
      { backend: viterbiBackend, constraintsFor: () => undefined },
    );
    expect(r.reports[r.reports.length - 1]!.loss).toBeLessThan(r.reports[0]!.loss / 4);
    expect(decodingErrors(arch, r.W, instances)).toBe(0);
  });

  it("averageNetwork: the network's weights averaged over all steps, the current epoch's, or none", () => {
    // one step per epoch (batch = every sentence): iterates W0, W1, W2, W3
    const run = (epochs: number, o: Record<string, unknown>) => {
      const { arch, W, instances } = setup(true);
      let e = 0;
      const r = trainDeep(
        arch,
        W,
        instances,
        { loss: "nll", epochs, batch: instances.length, lr: 0.01, linearLr: 0.05, ...o },
        { backend: viterbiBackend, constraintsFor: () => undefined },
        { score: () => ++e }, // the last epoch is the best
      );
      return { W: r.W, lin: arch.linear.K };
    };
    const iters = [setup(true).W, ...[1, 2, 3].map((n) => run(n, { average: false }).W)];
    const mean = (ws: Float64Array[], k: number) => ws.reduce((a, w) => a + w[k]!, 0) / ws.length;
    const all = run(3, { average: true, averageNetwork: "all" });
    const tail = run(3, { average: true, averageNetwork: "epoch" });
    const none = run(3, { average: true, averageNetwork: "none" });
    const K = all.W.length;
    let netDiff = 0;
    for (let k = 0; k < K; k++) {
      const lin = k < all.lin;
      expect(all.W[k]!).toBeCloseTo(mean(iters, k), 10);
      expect(tail.W[k]!).toBeCloseTo(lin ? mean(iters, k) : mean([iters[2]!, iters[3]!], k), 10);
      expect(none.W[k]!).toBeCloseTo(lin ? mean(iters, k) : iters[3]![k]!, 10);
      if (!lin) netDiff = Math.max(netDiff, Math.abs(all.W[k]! - tail.W[k]!));
    }
    expect(netDiff).toBeGreaterThan(1e-4);
  });

  it("attribute dropout keeps the network inputs and, on average, the linear state energies", () => {
    const { arch, W, instances } = setup(true, "tanh", true);
    const x = instances[0]!;
    const rng = new Rng(9);
    const full = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary.slice();
    const mean = new Float64Array(full.length);
    const n = 4000;
    for (let r = 0; r < n; r++) {
      const d = dropAttributes(x, 0.3, rng);
      expect((d as { net?: unknown }).net).toBe((x as { net?: unknown }).net);
      expect((d as { cw?: unknown }).cw).toBe((x as { cw?: unknown }).cw);
      expect(d.offsets[d.T]!).toBeLessThanOrEqual(x.offsets[x.T]!);
      const u = arch.potentials(d, W, new Float64Array(x.T * arch.L)).unary;
      for (let i = 0; i < u.length; i++) mean[i] = mean[i]! + u[i]! / n;
    }
    for (let i = 0; i < full.length; i++) expect(Math.abs(mean[i]! - full[i]!)).toBeLessThan(0.1);
  });

  it("trainDeep with attribute dropout and the character module fits the tiny set", () => {
    const { arch, W, instances } = setup(true, "tanh", true);
    const r = trainDeep(
      arch,
      W,
      instances,
      {
        loss: "nll",
        epochs: 40,
        batch: 2,
        lr: 0.01,
        linearLr: 0.05,
        decay: 1,
        attrDropout: 0.2,
        aux: 0.5,
      },
      { backend: viterbiBackend, constraintsFor: () => undefined },
    );
    expect(decodingErrors(arch, r.W, instances)).toBe(0);
  });

  it("potentials at weight scale s equal potentials of s·W", () => {
    const { arch, W, instances } = setup(true);
    const x = instances[1]!;
    const a = arch.potentials(x, W, new Float64Array(x.T * arch.L), 0.7).unary.slice();
    const sW = W.map((v) => v * 0.7);
    const b = arch.potentials(x, sW, new Float64Array(x.T * arch.L)).unary;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 10);
  });

  it("the frozen projection cache tags like the direct forward pass", () => {
    const { arch, W, instances } = setup(true);
    const x = instances[2]!;
    const a = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary.slice();
    arch.frozen = true;
    const b = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary;
    arch.frozen = false;
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 4);
  });

  it("the frozen projection cache with the character module tags like the direct forward pass", () => {
    const { arch, W, instances } = setup(true, "tanh", true);
    for (const x of instances) {
      const a = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary.slice();
      arch.frozen = true;
      const b = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary;
      arch.frozen = false;
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 4);
    }
  });

  it("describe / fromDescription round trip keeps the character module (alphabet, sizes, potentials)", () => {
    const { arch, W, instances } = setup(true, "tanh", true);
    const d = JSON.parse(JSON.stringify(arch.describe()));
    const b = Net.fromDescription(ROUND_TRIP_SPEC, d);
    expect(b.K).toBe(arch.K);
    expect(b.charVocab!.names).toEqual(arch.charVocab!.names);
    // a fresh network binds the words itself (its own word table)
    const x = instances[0]!;
    const toks = SENTS[0]!.map((w) => [w, "D"]);
    const y = { ...x };
    b.bind(y, toks);
    const u1 = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary.slice();
    const u2 = b.potentials(y, W, new Float64Array(x.T * arch.L)).unary;
    for (let i = 0; i < u1.length; i++) expect(u2[i]).toBeCloseTo(u1[i]!, 12);
  });

  it("describe / fromDescription round trip gives the same potentials", () => {
    const { arch, W, instances } = setup(true);
    const d = JSON.parse(JSON.stringify(arch.describe()));
    const b = Net.fromDescription(ROUND_TRIP_SPEC, d);
    expect(b.K).toBe(arch.K);
    const x = instances[3]!;
    const u1 = arch.potentials(x, W, new Float64Array(x.T * arch.L)).unary.slice();
    const u2 = b.potentials(x, W, new Float64Array(x.T * arch.L)).unary;
    for (let i = 0; i < u1.length; i++) expect(u2[i]).toBeCloseTo(u1[i]!, 12);
  });
});
