/** `nadir train` options from one table: spec-level options, no file names in specs, progress lines, locations. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec } from "../../src/architecture/spec.ts";
import { progressLine } from "../../src/cli/progress.ts";
import { SPEC_OPTIONS, trainOptions } from "../../src/optimize/options.ts";
import { Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { GRAPHS, nadirError, tempDir } from "../fixtures/helpers.ts";
import { expectOneError, run, TEST, TRAIN } from "./harness.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const CHUNK = join(GRAPHS, "chunk.json");
const chunkJson = () => JSON.parse(readFileSync(CHUNK, "utf8")) as Record<string, unknown>;

function file(name: string, data: string): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, data);
  return p;
}

let trainFile: string;
beforeAll(() => {
  trainFile = file("train.txt", TRAIN);
});

const train = (model: string, ...extra: string[]) =>
  run(["train", "--graph", CHUNK, "--train", trainFile, "--model", model, ...extra]);

describe("specs may not name files", () => {
  for (const key of ["init", "checkpoint", "resume"]) {
    it(`train.${key} in a spec is an E_SPEC error naming the key; nothing is written`, async () => {
      const target = join(tmp.dir, `victim-${key}`);
      const spec = { ...chunkJson(), train: { epochs: 2, [key]: target } };
      const specFile = file(`spec-${key}.json`, JSON.stringify(spec));
      const model = join(tmp.dir, `spec-${key}.model`);
      expectOneError(
        await run(["train", "--graph", specFile, "--train", trainFile, "--model", model]),
        specFile,
        `train.${key}`,
        "may not name files",
      );
      expect(existsSync(target)).toBe(false);
      expect(existsSync(model)).toBe(false);
      expect(nadirError(() => parseSpec(spec, "s.json")).code).toBe("E_SPEC");
      // a spec object built in code is refused too, by the option resolver
      expect(nadirError(() => trainOptions({ [key]: target })).code).toBe("E_SPEC");
    });
  }

  it("the command line still gives --checkpoint", async () => {
    const ck = join(tmp.dir, "ck");
    const r = await train(join(tmp.dir, "ck.model"), "--epochs", "2", "--checkpoint", ck);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(ck)).toBe(true);
  });
});

describe("spec-level options from the command line", () => {
  it("--features observed (and --min-count) reach the model, which records them", async () => {
    const all = join(tmp.dir, "all.model");
    const obs = join(tmp.dir, "observed.model");
    expect((await train(all, "--features", "all")).code).toBe(0);
    const r = await train(obs, "--features", "observed", "--min-count", "2");
    expect(r.code, r.stderr).toBe(0);
    const a = Model.load(all);
    const o = Model.load(obs);
    expect(a.spec.features).toBe("all");
    expect(o.spec.features).toBe("observed");
    expect(o.spec.minCount).toBe(2);
    expect(o.fx.numAttributes).toBeLessThan(a.fx.numAttributes);
    const t = await run(["tag", "--model", obs, file("test.txt", TEST)]);
    expect(t.code, t.stderr).toBe(0);
  });

  it("the library takes the same names in trainTagger's options", () => {
    const spec = parseSpec(chunkJson(), "chunk.json");
    const sents = TRAIN.trim()
      .split("\n\n")
      .map((s) => ({ tokens: s.split("\n").map((l) => l.split(" ")) }));
    const r = trainTagger({ spec, train: sents, options: { features: "observed", epochs: 1 } });
    expect(r.model.spec.features).toBe("observed");
    expect(spec.features).toBe("all"); // the caller's spec is left alone
  });

  it("a bad value names the option", async () => {
    expectOneError(await train(join(tmp.dir, "bad.model"), "--features", "some"), "features");
  });

  it("train --help lists every spec-level option", async () => {
    const r = await run(["train", "--help"]);
    for (const o of SPEC_OPTIONS) expect(r.stdout).toContain(`--${o.name}`);
  });
});

describe("progress lines", () => {
  it("reading and extraction get a line; L-BFGS prints iterations, not epochs of mistakes", async () => {
    const r = await train(
      join(tmp.dir, "nll.model"),
      ...[
        "--loss",
        "nll",
        "--optimizer",
        "lbfgs",
        "--iterations",
        "3",
        "--dev",
        file("dev.txt", TEST),
      ],
      ...["--eval-every", "1", "--features", "observed", "--threads", "1"],
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^read training data \S+: 3 sentences, 35 tokens \(/m);
    expect(r.stderr).toMatch(/^read dev data \S+: 2 sentences, 11 tokens/m);
    expect(r.stderr).toMatch(/^extracted \d+ attributes, 6 labels from 3 sentences/m);
    expect(r.stderr).toMatch(
      /^iteration 1, objective \d[\d.e+-]*, ‖g‖ \d[\d.e+-]*, step \d[\d.e+-]*, dev chunk-f1 \d+\.\d\d/m,
    );
    expect(r.stderr).not.toMatch(/mistakes/);
    expect(r.stderr).toMatch(/kept iteration \d+/);
  });
});

describe("errors carry file:line", () => {
  it("tag: a token line without the spec's columns, at its own line", async () => {
    const bad = file("one-column.txt", "\n\nword\nother\n");
    const model = join(tmp.dir, "loc.model");
    expect((await train(model, "--epochs", "1")).code).toBe(0);
    expectOneError(
      await run(["tag", "--model", model, bad]),
      `${bad}:3`,
      "expected at least 2 columns for the spec, got 1",
    );
  });

  it("a dev set with only labels unseen in training fails before training, at file:line", async () => {
    const dev = file("dev-unseen.txt", "The DT Z-A\ndeficit NN Z-B\n");
    const r = await train(join(tmp.dir, "du.model"), "--dev", dev);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/^epoch/m);
    expect(r.stderr).toMatch(new RegExp(`^ERROR: ${dev}:1: dev data: none of its labels`, "m"));
    // some unseen labels, no sentence entirely known: trains (no detection calibration)
    const partial = file("dev-partial.txt", "The DT B-NP\ndeficit NN Z-A\n");
    const ok = await train(join(tmp.dir, "dp.model"), "--dev", partial, "--epochs", "2");
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("train --model X --train X refuses to overwrite its own input", async () => {
    const x = file("self.txt", TRAIN);
    expectOneError(
      await run(["train", "--graph", CHUNK, "--train", x, "--model", x]),
      "--train",
      x,
    );
    expect(readFileSync(x, "utf8")).toBe(TRAIN);
    expectOneError(
      await run(["train", "--graph", CHUNK, "--train", trainFile, "--model", CHUNK]),
      "--graph",
    );
  });
});

describe("progress bar (a TTY only)", () => {
  it("shows the rate and the time left", () => {
    const line = progressLine("training", 50, 50, 200, 2, "sentences", "epoch 1");
    expect(line).toContain(" 25% 25.0 sentences/s ETA 6s epoch 1");
    expect(progressLine("training", 0, 0, 10, 0, "sentences", "")).not.toContain("ETA");
    expect(progressLine("x", 600, 600, 60600, 1, "sentences", "")).toContain("ETA 1m40s");
  });
});
