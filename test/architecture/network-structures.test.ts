import { describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";
import { chain2Energy } from "../../src/graph/chain2.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import {
  finiteDifferenceError,
  networkObjective,
  tinyNetwork,
  totalLoss,
} from "../fixtures/network-fd.ts";

/**
 * A network under the second-order chain and under the skip-chain (issue 15:
 * deep unary energies for any structure): the spec's structure reaches the
 * network's linear part (W_trans2, W_skip), the energy is the structure's
 * energy of the network's potentials, and the gradient of the composed energy
 * through EnergyObjective matches central finite differences — perceptron and
 * hinge on the second-order chain (it offers no marginals), perceptron, hinge
 * and NLL on the skip-chain (BP marginals, exact on these trees).
 */

const SENTS = [
  "Paris saw Paris and the dog .",
  "A cat sleeps near the cat",
  "Dogs bark at Dogs in Paris",
  "the Cat saw 12 dogs",
].map((s) => s.split(" "));
const TAGS = ["D", "N", "V", "P"];

type Structure = "chain2" | "skip-chain";

function specOf(structure: Structure, hybrid: boolean) {
  return parseSpec(
    {
      name: "tiny-deep-structure",
      format: "conll",
      columns: ["w"],
      label: -1,
      structure,
      ...(structure === "skip-chain"
        ? { skip: { column: "w", capitalized: false, maxDistance: 10 } }
        : {}),
      derived: { lw: "lower(w)", caps: "caps(w)" },
      templates: ["w[0]", "lw[-1]|lw[0]"],
      network: {
        window: 1,
        hidden: 4,
        activation: "tanh",
        hybrid,
        fields: [
          { column: "lw", dim: 3 },
          { column: "caps", dim: 2 },
        ],
      },
    },
    "tiny-deep-structure.json",
  );
}

function setup(structure: Structure, hybrid: boolean) {
  const spec = specOf(structure, hybrid);
  const rng = new Rng(7);
  const sentences = SENTS.map((ws) => ({
    tokens: ws.map((w) => [w, TAGS[rng.int(TAGS.length)]!]),
  }));
  const { arch, W, instances } = tinyNetwork(spec, sentences, rng);
  return { arch, W, instances };
}

/** Worst relative error of the gradient against central differences (linear tail, dense block, samples). */
function check(structure: Structure, hybrid: boolean, loss: string): number {
  const { arch, W, instances } = setup(structure, hybrid);
  const obj = networkObjective(arch, loss);
  const grad = new Float64Array(arch.K);
  totalLoss(obj, instances, W, grad);
  const rng = new Rng(13);
  const ks: number[] = [];
  // transitions, start/end and W_trans2 or W_skip: every one
  for (let k = arch.linear.transOffset; k < arch.linear.K; k++) ks.push(k);
  for (let k = arch.w1Off; k < arch.K; k++) if (rng.next() < 0.5) ks.push(k);
  for (let k = arch.embOff[0]!; k < arch.w1Off; k++) if (rng.next() < 0.5) ks.push(k);
  for (let k = 0; k < arch.linear.transOffset; k++) if (rng.next() < 0.3) ks.push(k);
  // a piecewise loss may cross a kink within ±h
  const { worst, checked } = finiteDifferenceError(obj, instances, W, grad, ks, loss !== "nll");
  expect(checked).toBeGreaterThan(ks.length * 0.95);
  return worst;
}

describe("a network under the second-order chain and the skip-chain", () => {
  it("the spec's structure reaches the network's linear part (W_trans2, W_skip)", () => {
    const c2 = setup("chain2", true).arch;
    const L = c2.L;
    expect(c2.order).toBe(2);
    expect(c2.linear.K - c2.linear.trans2Offset).toBe(L * L * L);
    const sk = setup("skip-chain", true).arch;
    expect(sk.skip).toBe(true);
    expect(sk.linear.K - sk.linear.skipOffset).toBe(sk.L * sk.L);
    // the skip spec finds edges between the repeated words
    expect(setup("skip-chain", true).instances.some((x) => (x.skips?.length ?? 0) > 0)).toBe(true);
  });

  it("the second-order energy is the chain's of the network's potentials plus W_trans2", () => {
    const { arch, W, instances } = setup("chain2", false);
    const x = instances[0]!;
    const y = Int32Array.from(x.labels);
    const p2 = arch.potentials2(x, W);
    let e = 0;
    const { unary, transition, start, end, L } = p2.chain;
    for (let t = 0; t < x.T; t++) e += unary[t * L + y[t]!]!;
    for (let t = 1; t < x.T; t++) e += transition[y[t - 1]! * L + y[t]!]!;
    e += start[y[0]!]! + end[y[x.T - 1]!]!;
    for (let t = 2; t < x.T; t++)
      e += W[arch.linear.trans2Offset + (y[t - 2]! * L + y[t - 1]!) * L + y[t]!]!;
    expect(chain2Energy(p2, y)).toBeCloseTo(e, 10);
  });

  it("the skip-chain factor graph's energy adds W_skip on every skip edge", () => {
    const { arch, W, instances } = setup("skip-chain", true);
    const x = instances.find((i) => (i.skips?.length ?? 0) > 0)!;
    const y = Int32Array.from(x.labels);
    const chain = arch.potentials(x, W);
    const { L } = chain;
    let e = 0;
    for (let t = 0; t < x.T; t++) e += chain.unary[t * L + y[t]!]!;
    for (let t = 1; t < x.T; t++) e += chain.transition[y[t - 1]! * L + y[t]!]!;
    e += chain.start[y[0]!]! + chain.end[y[x.T - 1]!]!;
    const s = x.skips!;
    for (let i = 0; i < s.length; i += 2)
      e += W[arch.linear.skipOffset + y[s[i]!]! * L + y[s[i + 1]!]!]!;
    expect(arch.graphPotentials(x, W).energy(y)).toBeCloseTo(e, 10);
  });

  for (const hybrid of [true, false]) {
    const kind = hybrid ? "hybrid" : "network only";
    for (const loss of ["perceptron", "hinge"]) {
      it(`chain2: ${loss} (${kind}) matches finite differences`, () => {
        expect(check("chain2", hybrid, loss)).toBeLessThan(1e-5);
      });
    }
    for (const loss of ["perceptron", "hinge", "nll"]) {
      it(`skip-chain: ${loss} (${kind}) matches finite differences`, () => {
        expect(check("skip-chain", hybrid, loss)).toBeLessThan(1e-5);
      });
    }
  }

  it("chain2 refuses NLL with the structure's reason", () => {
    const { arch } = setup("chain2", true);
    expect(() => networkObjective(arch, "nll")).toThrow(/second-order chains do not offer/);
  });

  for (const structure of ["chain2", "skip-chain"] as const) {
    it(`${structure}: trains through trainTagger, and the model file keeps the structure`, () => {
      const rng = new Rng(2);
      const words = ["Paris", "dog", "cat", "saw", "the", "and", "Rome", "."];
      const sentences: CorpusSentence[] = [];
      for (let i = 0; i < 60; i++) {
        const T = 3 + rng.int(5);
        const tokens: string[][] = [];
        for (let t = 0; t < T; t++) {
          const w = words[rng.int(words.length)]!;
          // the tag follows the word and the previous tag: learnable
          const prev = t > 0 ? tokens[t - 1]![1]! : "S";
          tokens.push([w, /^[A-Z]/.test(w) ? "N" : prev === "N" ? "V" : "D"]);
        }
        sentences.push({ tokens } as CorpusSentence);
      }
      const spec = parseSpec(
        {
          ...(specOf(structure, true).source as object),
          network: {
            window: 1,
            hidden: 6,
            hybrid: true,
            fields: [{ column: "lw", dim: 4 }],
            train: { loss: "perceptron", batch: 2 },
          },
        },
        "<spec>",
      );
      const r = trainTagger({ spec, train: sentences, options: { epochs: 3, seed: 1 } });
      const m = r.model;
      expect(m.network).not.toBeNull();
      expect(m.network!.order).toBe(structure === "chain2" ? 2 : 1);
      expect(m.network!.skip).toBe(structure === "skip-chain");
      let right = 0;
      let n = 0;
      for (const s of sentences.slice(0, 20)) {
        const pred = m.tag(s.tokens);
        s.tokens.forEach((tok, t) => {
          right += tok[1] === pred[t] ? 1 : 0;
          n++;
        });
      }
      expect(right / n).toBeGreaterThan(0.9);
      const back = Model.fromBytes(m.toBytes());
      expect(back.network!.order).toBe(m.network!.order);
      expect(back.network!.skip).toBe(m.network!.skip);
      for (const s of sentences.slice(0, 10)) expect(back.tag(s.tokens)).toEqual(m.tag(s.tokens));
    });
  }
});
