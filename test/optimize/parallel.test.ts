import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildTrainingSet,
  FeatureExtractor,
  type Instance,
} from "../../src/architecture/features.ts";
import { LinearChain, observedRows } from "../../src/architecture/linear-chain.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import { makeLoss } from "../../src/loss/index.ts";
import { EnergyObjective } from "../../src/optimize/objective.ts";
import {
  type ObjectiveConfig,
  ParallelObjective,
  type ShardEvaluator,
  unpack,
} from "../../src/optimize/parallel.ts";
import { ewtSentences, GRAPHS } from "../fixtures/helpers.ts";
import { relError } from "./random-chain.ts";

/**
 * ParallelObjective: worker threads (src/optimize/worker-entry.mjs, which
 * loads the TypeScript worker through tsx) evaluate shards of the batch on
 * shared weights; the sum must equal the single-thread objective.
 */

let data: Instance[];
let L: number;
let A: number;
let labelNames: string[];
const open: ParallelObjective[] = [];

beforeAll(async () => {
  const pos = loadSpec(join(GRAPHS, "pos.json"));
  const fx = new FeatureExtractor(pos);
  const set = buildTrainingSet(fx, await ewtSentences(200, 500));
  data = set.instances;
  A = fx.numAttributes;
  L = set.labels.size;
  labelNames = set.labels.names;
});

afterAll(() => {
  for (const p of open) p.close();
});

function setup(rows: "dense" | "observed", loss = "nll") {
  const arch = new LinearChain(A, L, rows === "observed" ? observedRows(data, A, L) : null);
  const lossObj = makeLoss(loss, { beta: 0.8 });
  const objective = new EnergyObjective(arch, {
    loss: lossObj,
    offending: "exact",
    backend: viterbiBackend,
    constraintsFor: () => undefined,
  });
  const local: ShardEvaluator = (W, g, from, to) => {
    let f = 0;
    for (let i = from; i < to; i++) {
      const v = objective.evaluate(data[i]!, W, 1, g, 1);
      if (!Number.isNaN(v)) f += v;
    }
    return f;
  };
  const config: ObjectiveConfig = {
    arch: arch.describe(),
    loss: lossObj.name,
    params: { ...lossObj.params },
    offending: "exact",
    backend: "viterbi",
    encoding: "none",
    constrained: false,
    labels: labelNames,
  };
  return { arch, local, config };
}

function make(
  s: ReturnType<typeof setup>,
  threads: number,
  config: ObjectiveConfig = s.config,
): ParallelObjective {
  const p = new ParallelObjective(s.arch, data, config, s.local, threads);
  open.push(p);
  return p;
}

describe("ParallelObjective", () => {
  for (const rows of ["dense", "observed"] as const) {
    it(`threads = 2 gives the value and gradient of threads = 1 (nll, ${rows} rows, 200 EWT sentences)`, () => {
      const s = setup(rows);
      const one = make(s, 1);
      const two = make(s, 2);
      expect(one.threads).toBe(1);
      expect(two.threads).toBe(2);
      const rng = new Rng(rows === "dense" ? 1 : 2);
      // several weight vectors through the same objects: the workers follow each call
      for (let round = 0; round < 3; round++) {
        const W = new Float64Array(s.arch.K);
        for (let k = 0; k < W.length; k++) W[k] = round === 0 ? 0 : 0.3 * rng.normal();
        const g1 = new Float64Array(s.arch.K);
        const g2 = new Float64Array(s.arch.K).fill(123); // fg overwrites g
        const f1 = one.fg(W, g1);
        const f2 = two.fg(W, g2);
        expect(Math.abs(f2 - f1)).toBeLessThanOrEqual(1e-9 * Math.abs(f1));
        expect(relError(g2, g1)).toBeLessThan(1e-9);
        // and the sum is the plain serial sum over all instances
        const g0 = new Float64Array(s.arch.K);
        const f0 = s.local(W, g0, 0, data.length);
        expect(Math.abs(f1 - f0)).toBeLessThanOrEqual(1e-12 * Math.abs(f0));
        if (round === 0)
          expect(f1).toBeCloseTo((data.reduce((n, x) => n + x.T, 0) * Math.log(L)) / 0.8, 6);
      }
    });
  }

  it("more threads than instances are capped; one thread spawns no worker", () => {
    const s = setup("dense", "log");
    const few = data.slice(0, 1);
    const p = new ParallelObjective(s.arch, few, s.config, s.local, 4);
    open.push(p);
    expect(p.threads).toBe(1);
  });

  it("unpack(pack(data)) round-trips the instances (through the worker's view)", () => {
    // exercised indirectly above; here the public unpack on a hand-made pack
    const x = data[0]!;
    const packed = {
      index: Int32Array.of(0, 0, 0, x.T + 1, x.attrs.length, x.T),
      offsets: Int32Array.from(x.offsets),
      attrs: Int32Array.from(x.attrs),
      labels: Int32Array.from(x.labels),
      skipIndex: Int32Array.of(0, 2),
      skips: Int32Array.of(0, x.T - 1),
      hasSkips: true,
      n: 1,
    };
    const [y] = unpack(packed);
    expect(Array.from(y!.skips!)).toEqual([0, x.T - 1]);
    expect(y!.T).toBe(x.T);
    expect(Array.from(y!.attrs)).toEqual(Array.from(x.attrs));
    expect(Array.from(y!.labels)).toEqual(Array.from(x.labels));
  });

  it("a BIOES spec without `constrained` gets end constraints in the workers only", () => {
    // src/optimize/worker.ts:34 always applies withEnd(…) (BIOES: no sequence may
    // end in B-/I-), while the main thread (Model.constraintsFor) uses no
    // constraints at all when the spec is not `constrained`: the shards then
    // optimize different objectives and threads = 2 ≠ threads = 1.
    const s = setup("dense");
    const names = Array.from({ length: L }, (_, i) => `${"BIES"[i % 4]}-T${i}`);
    const config = { ...s.config, encoding: "bioes", constrained: false, labels: names };
    const one = make(s, 1, config);
    const two = make(s, 2, config);
    const W = new Float64Array(s.arch.K);
    const rng = new Rng(9);
    for (let k = 0; k < W.length; k++) W[k] = 0.3 * rng.normal();
    const f1 = one.fg(W, new Float64Array(s.arch.K));
    const f2 = two.fg(W, new Float64Array(s.arch.K));
    expect(Math.abs(f2 - f1)).toBeLessThanOrEqual(1e-9 * Math.abs(f1));
  });

  it("a worker that fails to start gives a NadirError, not a hang", () => {
    const s = setup("dense");
    const t0 = Date.now();
    let err: unknown;
    try {
      make(s, 2, { ...s.config, loss: "nope" }); // makeLoss throws inside the worker
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NadirError);
    expect((err as NadirError).code).toBe("E_UNSUPPORTED");
    expect((err as NadirError).message).toContain("--threads 1");
    // the worker's own reason reaches the caller as a message
    expect((err as NadirError).message).toContain("unknown loss 'nope'");
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it("a first evaluation right after start-up never hangs (the workers' generation race)", () => {
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "../fixtures/parallel-race.ts"), "20"],
      { encoding: "utf8", timeout: 120_000 },
    );
    expect(r.signal, "the child hung and was killed").toBeNull();
    expect(r.stdout.trim()).toBe("ok 20");
  });

  it("failing workers never leave an uncaught exception behind (repeated: it was a race)", async () => {
    const s = setup("dense");
    const uncaught: unknown[] = [];
    const onError = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onError);
    try {
      for (let i = 0; i < 5; i++) {
        expect(() => make(s, 2, { ...s.config, loss: "nope" })).toThrow(NadirError);
      }
      // let any 'error' event the terminated workers could still emit arrive
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.off("uncaughtException", onError);
    }
    expect(uncaught).toEqual([]);
  });
});
