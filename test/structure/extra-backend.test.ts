/**
 * Adding a backend touches its file, one registration and one conformance
 * line (test/conformance/backends.ts); decoding and training then go through
 * it with no other edit. The backend here is test/fixtures/backward-viterbi.ts.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { getBackend, registerBackend } from "../../src/inference/registry.ts";
import type { Backend } from "../../src/inference/types.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { backwardViterbiBackend, calls } from "../fixtures/backward-viterbi.ts";
import { ewtSentences, GRAPHS } from "../fixtures/helpers.ts";

let train: CorpusSentence[];
let dev: CorpusSentence[];
const spec = loadSpec(join(GRAPHS, "pos.json"));

beforeAll(async () => {
  train = await ewtSentences(150);
  dev = await ewtSentences(40, 150);
  // the one registration line (in src/inference/registry.ts for a built-in backend)
  registerBackend(backwardViterbiBackend, { replace: true });
});

const run = (options: Record<string, unknown>) =>
  trainTagger({ spec, train, dev, options: { epochs: 3, threads: 1, ...options } });

describe("a backend added by registration alone", () => {
  it("is offered by --inference and decodes and trains: the same model as Viterbi (both exact, same ties)", () => {
    expect(getBackend("backward-viterbi")).toBe(backwardViterbiBackend);
    calls.minimize = 0;
    // (sgd: the general trainer for both; perceptron + perceptron + viterbi takes the fast path)
    const mine = run({ inference: "backward-viterbi", optimizer: "sgd" });
    const usedInTraining = calls.minimize;
    // 3 epochs × 150 sentences of decoding, plus dev decoding each epoch
    expect(usedInTraining).toBeGreaterThanOrEqual(3 * 150);
    const ref = run({ inference: "viterbi", optimizer: "sgd" });
    expect(Array.from(mine.model.W)).toEqual(Array.from(ref.model.W));
    expect(mine.inference).toContain("backward-viterbi");

    // the model remembers its backend: tagging (here and after a save/load) goes through it
    const words = dev[0]!.tokens;
    calls.minimize = 0;
    expect(mine.model.tag(words)).toEqual(ref.model.tag(words));
    expect(calls.minimize).toBe(1);
    const again = Model.fromBytes(mine.model.toBytes());
    calls.minimize = 0;
    again.tag(words);
    expect(calls.minimize).toBe(1);
  });

  it("answers the most offending answer of margin losses by clamping through it", () => {
    calls.minimize = 0;
    const r = run({ inference: "backward-viterbi", loss: "hinge", optimizer: "sgd", epochs: 1 });
    expect(calls.minimize).toBeGreaterThan(150);
    expect(r.reports.length).toBe(1);
  });

  it("a backend that refuses chains stops training with its reason, naming itself", () => {
    const picky: Backend = {
      ...backwardViterbiBackend,
      name: "picky-test",
      supports: () => "picky-test only solves grids",
    };
    registerBackend(picky, { replace: true });
    let err: unknown;
    try {
      run({ inference: "picky-test", epochs: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NadirError);
    expect((err as NadirError).code).toBe("E_UNSUPPORTED");
    expect((err as NadirError).message).toContain("picky-test");
    expect((err as NadirError).message).toContain("only solves grids");
  });
});
