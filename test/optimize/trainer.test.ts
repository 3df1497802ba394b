import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { TrainOptions } from "../../src/optimize/options.ts";
import { Model } from "../../src/tagger/model.ts";
import { type TrainResult, trainTagger } from "../../src/tagger/train.ts";
import { conllTokens, nadirError, spec, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/**
 * A tiny separable tagging task, inline CoNLL: a, d → A; b, e → B; c → C;
 * "z" copies the label of the word before it (learnable through w[-1]|w[0]).
 */
const TRAIN = `
a A
z A
b B
c C

b B
z B
c C
z C
a A

d A
e B
z B
a A

c C
a A
z A
e B
z B

e B
d A
z A
c C

a A
b B
c C
d A
e B

d A
z A
b B
z B
c C
z C

e B
c C
z C
d A
`;

const sentences = TRAIN.trim()
  .split(/\n\s*\n/)
  .map((s) => ({ tokens: conllTokens(s) }));
const synSpec = spec({ templates: ["w[0]", "w[-1]", "w[-1]|w[0]"], outside: "pad" });

function train(options: Partial<TrainOptions>, dev?: typeof sentences): TrainResult {
  return trainTagger({ spec: synSpec, train: sentences, dev, options: { threads: 1, ...options } });
}

function accuracy(model: Model): number {
  let ok = 0;
  let n = 0;
  for (const s of sentences) {
    const pred = model.tag(s.tokens);
    s.tokens.forEach((tok, t) => {
      n++;
      if (pred[t] === tok[1]) ok++;
    });
  }
  return ok / n;
}

const bits = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe("trainTagger with the loss table (tiny separable task)", () => {
  const cases: [string, Partial<TrainOptions>][] = [
    ["hinge + pa", { loss: "hinge", optimizer: "pa", epochs: 10 }],
    ["log + sgd", { loss: "log", optimizer: "sgd", epochs: 20, eta: 0.5, c2: 0.1 }],
    ["nll + lbfgs (threads 1)", { loss: "nll", optimizer: "lbfgs", iterations: 60, c2: 0.1 }],
    ["mee + sgd", { loss: "mee", optimizer: "sgd", epochs: 30, eta: 1, c2: 0.01 }],
    ["square-square + sgd", { loss: "square-square", optimizer: "sgd", epochs: 20, eta: 0.1 }],
  ];
  for (const [name, o] of cases) {
    it(`${name} reaches ≥ 95% training accuracy`, () => {
      const r = train(o);
      expect(r.options.loss).toBe(o.loss);
      expect(r.options.optimizer).toBe(o.optimizer);
      expect(accuracy(r.model)).toBeGreaterThanOrEqual(0.95);
      expect(r.reports.length).toBeGreaterThan(0);
      for (const rep of r.reports) expect(Number.isFinite(rep.loss)).toBe(true);
      // an untrained model does much worse (the task is not trivial)
      if (name.startsWith("hinge")) {
        const zero = new Model(synSpec, r.model.labels, r.model.fx, null, 2);
        expect(accuracy(zero)).toBeLessThan(0.6);
      }
    });
  }

  it("square-square + sgd keeps every weight ≥ 0, hence every energy ≥ 0", () => {
    const r = train({ loss: "square-square", optimizer: "sgd", epochs: 20, eta: 0.1 });
    const W = r.model.W;
    expect(W.some((w) => w > 0)).toBe(true);
    for (const w of W) expect(w).toBeGreaterThanOrEqual(0);
    for (const s of sentences) {
      // the lowest energy over all labelings is ≥ 0, so all of them are
      const best = r.model.decide(s.tokens, 3);
      for (const b of best) expect(b.energy).toBeGreaterThanOrEqual(0);
      const gold = s.tokens.map((t) => t[1]!);
      expect(r.model.energy(s.tokens, gold)).toBeGreaterThanOrEqual(0);
    }
    // the unconstrained loss (log, same optimizer) does learn negative weights
    const free = train({ loss: "log", optimizer: "sgd", epochs: 20, eta: 0.5, c2: 0.1 });
    expect(free.model.W.some((w) => w < 0)).toBe(true);
  });

  it("lbfgs with a non-smooth loss is an E_ARG naming the smooth ones", () => {
    for (const loss of ["hinge", "perceptron", "lvq2", "square-square"]) {
      const e = nadirError(() => train({ loss: loss as never, optimizer: "lbfgs" }));
      expect(e.code).toBe("E_ARG");
      expect(e.message).toContain(loss);
      expect(e.message).toContain("smooth");
    }
  });

  it("an unknown loss or optimizer is an E_ARG", () => {
    expect(nadirError(() => train({ loss: "nope" as never })).code).toBe("E_ARG");
    expect(nadirError(() => train({ optimizer: "adam" as never })).code).toBe("E_ARG");
  });
});

describe("checkpoint and resume", () => {
  for (const optimizer of ["sgd", "adagrad"] as const) {
    for (const withDev of [false, true]) {
      it(`${optimizer}${withDev ? " with a dev set" : ""}: 4 epochs straight = 2 epochs + resume (bitwise)`, () => {
        const dev = withDev ? sentences.slice(0, 3) : undefined;
        const o = { loss: "log", optimizer, eta: 0.3, c2: 0.5 } as const;
        const straight = train({ ...o, epochs: 4 }, dev);
        const ck = join(tmp.dir, `${optimizer}-${withDev}.ckpt`);
        const first = train({ ...o, epochs: 2, checkpoint: ck }, dev);
        expect(first.reports.map((r) => r.epoch)).toEqual([1, 2]);
        const resumed = train({ ...o, epochs: 4, resume: ck }, dev);
        expect(resumed.reports.map((r) => r.epoch)).toEqual([3, 4]);
        expect(bits(resumed.model.W).equals(bits(straight.model.W))).toBe(true);
        expect(resumed.bestEpoch).toBe(straight.bestEpoch);
        expect(resumed.reports.map((r) => r.loss)).toEqual(
          straight.reports.slice(2).map((r) => r.loss),
        );
        if (!withDev) {
          // the 2-epoch weights differ (the comparison is not vacuous)
          expect(bits(first.model.W).equals(bits(straight.model.W))).toBe(false);
        } else {
          // the kept best epoch came from the checkpoint's first half: the
          // resumed run had to restore it (the last weights differ from it)
          expect(straight.bestEpoch).toBeLessThanOrEqual(2);
          const last = train({ ...o, epochs: 4, keepBest: false }, dev);
          expect(bits(last.model.W).equals(bits(straight.model.W))).toBe(false);
        }
      });
    }
  }

  it("lbfgs: resuming continues from the saved W", () => {
    const ck = join(tmp.dir, "lbfgs.ckpt");
    const o = { loss: "nll", optimizer: "lbfgs", c2: 0.1, evalEvery: 1 } as const;
    const a = train({ ...o, iterations: 5, checkpoint: ck });
    expect(a.reports.map((r) => r.epoch)).toEqual([1, 2, 3, 4, 5]);
    // nothing left to do: the weights are exactly the checkpoint's
    const same = train({ ...o, iterations: 5, resume: ck });
    expect(same.reports).toHaveLength(0);
    expect(bits(same.model.W).equals(bits(a.model.W))).toBe(true);
    // three more iterations, numbered 6…8, starting below where the first run ended
    const more = train({ ...o, iterations: 8, resume: ck });
    expect(more.reports.map((r) => r.epoch)).toEqual([6, 7, 8]);
    const lastA = a.reports.at(-1)!.loss;
    for (const r of more.reports) expect(r.loss).toBeLessThanOrEqual(lastA);
    // a fresh 3-iteration run (from W = 0) is worse than the resumed one
    const fresh = train({ ...o, iterations: 3 });
    expect(fresh.reports.at(-1)!.loss).toBeGreaterThan(more.reports.at(-1)!.loss);
  });

  it("lbfgs resume forgets the best dev weights and the patience count", () => {
    // src/optimize/trainer.ts:175 saves only { kind, K, iteration } and W for
    // L-BFGS (the online branch also saves best/bestScore/bestEpoch/sinceBest,
    // trainer.ts:259-270, restored at 213-218), and the resume at trainer.ts:106-112
    // restores only W: a run resumed after its best evaluation returns a later
    // (not the best) W and restarts the patience count.
    const o = {
      loss: "nll",
      optimizer: "lbfgs",
      c2: 0.1,
      evalEvery: 1,
      patience: 3,
      iterations: 60,
    } as const;
    const straight = train(o, sentences);
    const b = straight.bestEpoch;
    expect(straight.reports.length).toBe(b + 3);
    const ck = join(tmp.dir, "lbfgs-best.ckpt");
    train({ ...o, iterations: b + 1, checkpoint: ck }, sentences);
    const resumed = train({ ...o, resume: ck }, sentences);
    expect(resumed.bestEpoch).toBe(b);
    expect(resumed.reports.at(-1)!.epoch).toBe(straight.reports.at(-1)!.epoch);
    expect(bits(resumed.model.W).equals(bits(straight.model.W))).toBe(true);
  });

  it("a truncated, corrupt, foreign or mismatched checkpoint is an E_MODEL naming the file", () => {
    const ck = join(tmp.dir, "good.ckpt");
    train({ loss: "log", optimizer: "sgd", epochs: 1, checkpoint: ck });
    const bytes = readFileSync(ck);
    const variant = (name: string, data: Uint8Array) => {
      const p = join(tmp.dir, name);
      writeFileSync(p, data);
      return p;
    };
    const paths = [
      variant("truncated.ckpt", bytes.subarray(0, bytes.length - 8)),
      variant("short.ckpt", bytes.subarray(0, 12)),
      variant("garbage.ckpt", Buffer.from("this is not a checkpoint at all")),
      variant("empty.ckpt", new Uint8Array(0)),
      join(tmp.dir, "missing.ckpt"),
    ];
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0x40; // inside the arrays
    paths.push(variant("flipped.ckpt", flipped));
    const badHeader = Buffer.from(bytes);
    badHeader[17] = 0x7b ^ badHeader[17]!; // inside the JSON header
    paths.push(variant("header.ckpt", badHeader));
    for (const p of paths) {
      const e = nadirError(() => train({ loss: "log", optimizer: "sgd", epochs: 2, resume: p }));
      expect(e.code, `${p}: ${e.message}`).toBe("E_MODEL");
      expect(e.message).toContain(p);
    }
    // a checkpoint of another optimizer, or of another data set / spec
    for (const o of [
      { loss: "log", optimizer: "adagrad" },
      { loss: "nll", optimizer: "lbfgs" },
    ] as const) {
      const e = nadirError(() => train({ ...o, epochs: 2, iterations: 2, resume: ck }));
      expect(e.code).toBe("E_MODEL");
    }
    const e = nadirError(() =>
      trainTagger({
        spec: spec({ templates: ["w[0]"], outside: "pad" }),
        train: sentences,
        options: { loss: "log", optimizer: "sgd", epochs: 2, resume: ck },
      }),
    );
    expect(e.code).toBe("E_MODEL");
  });
});

describe("an interrupted run resumed from its last checkpoint = the uninterrupted run (bitwise)", () => {
  const cases: [string, Partial<TrainOptions>, number, number][] = [
    [
      "averaged perceptron (the default trainer)",
      { loss: "perceptron", optimizer: "perceptron" },
      5,
      2,
    ],
    [
      "perceptron without averaging",
      { loss: "perceptron", optimizer: "perceptron", average: false },
      4,
      1,
    ],
    ["passive-aggressive (hinge)", { loss: "hinge", optimizer: "pa" }, 5, 3],
    ["sgd (log loss)", { loss: "log", optimizer: "sgd", eta: 0.3, c2: 0.5 }, 5, 2],
    ["L-BFGS (nll)", { loss: "nll", optimizer: "lbfgs", c2: 0.1, evalEvery: 1 }, 12, 5],
  ];
  for (const [name, o, N, k] of cases) {
    for (const withDev of [false, true]) {
      it(`${name}${withDev ? " with a dev set" : ""}: ${N} straight = ${k} + resume to ${N}`, () => {
        const dev = withDev ? sentences.slice(0, 3) : undefined;
        const n = (e: number) => (o.optimizer === "lbfgs" ? { iterations: e } : { epochs: e });
        const straight = train({ ...o, ...n(N) }, dev);
        const ck = join(tmp.dir, `resume-${o.optimizer}-${o.average}-${withDev}.ckpt`);
        const first = train({ ...o, ...n(k), checkpoint: ck }, dev);
        expect(first.reports.at(-1)!.epoch).toBe(k);
        const resumed = train({ ...o, ...n(N), resume: ck }, dev);
        expect(resumed.reports[0]!.epoch).toBe(k + 1);
        expect(resumed.reports.map((r) => r.loss)).toEqual(
          straight.reports.slice(k).map((r) => r.loss),
        );
        expect(bits(resumed.model.W).equals(bits(straight.model.W))).toBe(true);
        expect(resumed.bestEpoch).toBe(straight.bestEpoch);
        if (!withDev) expect(bits(first.model.W).equals(bits(straight.model.W))).toBe(false);
      });
    }
  }

  it("the default trainer refuses a missing checkpoint, and one of another trainer", () => {
    const missing = join(tmp.dir, "no-such-dir", "ck");
    const e = nadirError(() => train({ epochs: 2, resume: missing }));
    expect(e.code).toBe("E_MODEL");
    expect(e.message).toContain(missing);
    const ck = join(tmp.dir, "sgd-for-perceptron.ckpt");
    train({ loss: "log", optimizer: "sgd", epochs: 1, checkpoint: ck });
    expect(nadirError(() => train({ epochs: 2, resume: ck })).message).toMatch(
      /checkpoint is for online-sgd .* this run is perceptron-averaged/,
    );
  });
});

describe("checkpoint header validation", () => {
  it("a corrupt header that is still valid JSON (a key renamed) is an E_MODEL, not a TypeError", () => {
    // src/optimize/checkpoint.ts:73-79 uses the parsed header's h.lengths /
    // h.arrays / h.crc without checking them: one changed byte in a key name
    // ("lengths" → "Lengths") throws "Cannot read properties of undefined
    // (reading 'reduce')" — an internal error instead of E_MODEL.
    const ck = join(tmp.dir, "key.ckpt");
    train({ loss: "log", optimizer: "sgd", epochs: 1, checkpoint: ck });
    const bytes = Buffer.from(readFileSync(ck));
    const at = bytes.indexOf('"sections"');
    expect(at).toBeGreaterThan(16);
    bytes[at + 1] = "S".charCodeAt(0);
    writeFileSync(ck, bytes);
    const e = nadirError(() => train({ loss: "log", optimizer: "sgd", epochs: 2, resume: ck }));
    expect(e.code).toBe("E_MODEL");
  });

  it("a header changed to other valid values (the epoch, the RNG state) is refused by the CRC", () => {
    const ck = join(tmp.dir, "epoch.ckpt");
    train({ loss: "log", optimizer: "sgd", epochs: 1, checkpoint: ck });
    const bytes = Buffer.from(readFileSync(ck));
    const at = bytes.indexOf('"epoch":1');
    expect(at).toBeGreaterThan(16);
    bytes[at + 8] = "0".charCodeAt(0);
    writeFileSync(ck, bytes);
    const e = nadirError(() => train({ loss: "log", optimizer: "sgd", epochs: 2, resume: ck }));
    expect(e.code).toBe("E_MODEL");
    expect(e.message).toContain("CRC mismatch");
  });
});

describe("checkpoint versions", () => {
  it("a version 1 checkpoint (before the container) is refused with a version message", () => {
    const ck = join(tmp.dir, "v1.ckpt");
    const old = Buffer.alloc(24);
    old.write("NADIRCKP", 0, "latin1");
    old.writeUInt32LE(1, 8);
    old.writeUInt32LE(2, 12);
    old.write("{}", 16, "latin1");
    writeFileSync(ck, old);
    const e = nadirError(() => train({ loss: "log", optimizer: "sgd", epochs: 2, resume: ck }));
    expect(e.code).toBe("E_MODEL");
    expect(e.message).toMatch(/version 1 checkpoints .* start the run again/);
  });
});

describe("training that diverges stops with a clear error and writes nothing", () => {
  /** A model of the task with every weight ±1e308 (a warm start whose energies overflow). */
  const huge = (): Model => {
    const m = train({ epochs: 1 }).model;
    for (let k = 0; k < m.W.length; k++) m.W[k] = k % 2 ? 1e308 : -1e308;
    return m;
  };
  const cases: [string, Partial<TrainOptions>, boolean, RegExp][] = [
    [
      "sgd + log, η = 1e308",
      { loss: "log", optimizer: "sgd", eta: 1e308, epochs: 3 },
      false,
      /^training diverged at epoch 1, example \d+ of the shuffled order: the log loss became NaN; .*--eta 1e\+307/,
    ],
    [
      "adagrad + nll, η = 1e200 (was: no labeling satisfies the constraints)",
      { loss: "nll", optimizer: "adagrad", eta: 1e200, epochs: 3 },
      false,
      /^training diverged at epoch 1: .*--eta 1e\+199/,
    ],
    [
      "the perceptron from weights ±1e308",
      { epochs: 2 },
      true,
      /^training diverged at epoch 1: .*initial weights/,
    ],
    [
      "L-BFGS from weights ±1e308",
      { loss: "nll", optimizer: "lbfgs", iterations: 5 },
      true,
      /^training diverged at iteration 0 of L-BFGS: the weights reached 1e\+308/,
    ],
  ];
  for (const [name, o, fromHuge, message] of cases) {
    it(name, () => {
      const ck = join(tmp.dir, `diverged-${o.optimizer}-${o.loss}.ckpt`);
      const e = nadirError(() =>
        trainTagger({
          spec: synSpec,
          train: sentences,
          init: fromHuge ? huge() : undefined,
          options: { threads: 1, ...o, checkpoint: ck },
        }),
      );
      expect(e.code).toBe("E_ARG");
      expect(e.message).toMatch(message);
      expect(existsSync(ck)).toBe(false);
    });
  }
});

describe("early stopping", () => {
  it("patience stops once the dev score stops improving", () => {
    // dev = the training data: the separable task reaches 100% early and
    // cannot improve afterwards, so patience 2 stops two epochs later
    const o = { loss: "hinge", optimizer: "pa", epochs: 15, patience: 2 } as const;
    const r = train(o, sentences);
    const devs = r.reports.map((x) => x.dev!);
    const best = Math.max(...devs);
    expect(best).toBe(100);
    expect(r.reports.length).toBeLessThan(15);
    expect(r.reports.length).toBe(r.bestEpoch + 2);
    expect(devs[r.bestEpoch - 1]).toBe(best);
    for (const d of devs.slice(r.bestEpoch)) expect(d).toBeLessThanOrEqual(best);
    // without patience every epoch runs
    const all = train({ ...o, patience: 0 }, sentences);
    expect(all.reports).toHaveLength(15);
    // patience applies to lbfgs evaluations too
    const lb = train(
      { loss: "nll", optimizer: "lbfgs", iterations: 60, evalEvery: 1, patience: 3, c2: 0.1 },
      sentences,
    );
    expect(lb.reports.length).toBeLessThan(60);
    expect(lb.reports.length).toBe(lb.bestEpoch + 3);
  });
});
