/**
 * Numeric columns in specs (users' own real-valued features: embeddings,
 * gazetteer scores): an attribute per numeric column whose value scales its
 * weights, learnable, saved with the model, checked at file:line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Tagger } from "../../src/api/tagger.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Rng } from "../../src/core/rng.ts";
import { Model } from "../../src/tagger/model.ts";
import { run } from "../cli/harness.ts";

const SPEC = {
  name: "num",
  columns: ["w", "e"],
  templates: ["bias"],
  numeric: ["e", "e[-1]"],
};

/** Label P where e > 0, N otherwise; the word says nothing. */
function data(n: number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const T = 2 + rng.int(5);
    const tokens: string[][] = [];
    for (let t = 0; t < T; t++) {
      const e = rng.normal();
      tokens.push(["x", e.toFixed(3), e > 0 ? "P" : "N"]);
    }
    return { tokens };
  });
}

describe("numeric columns", () => {
  const dir = mkdtempSync(join(tmpdir(), "nadir-numeric-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("parse: a column or column[offset] of the inputs; unknown columns are E_SPEC", () => {
    expect(parseSpec(SPEC, "s.json").numeric).toEqual([
      { name: "e[0]", column: "e", offset: 0 },
      { name: "e[-1]", column: "e", offset: -1 },
    ]);
    expect(() => parseSpec({ ...SPEC, numeric: ["z"] }, "s.json")).toThrow(
      /numeric\[0\].*unknown input column 'z'/,
    );
    expect(() => parseSpec({ ...SPEC, numeric: ["e|w"] }, "s.json")).toThrow(/numeric\[0\]/);
  });

  it("the energy is linear in the value (value × weight) and the model learns from it", () => {
    const tagger = Tagger.train(data(200, 1), { spec: SPEC, epochs: 10 });
    const m = tagger.model;
    const E = (e: string, y: string) => m.energy([["x", e, "_"]], [y]);
    for (const y of m.labels)
      expect(E("2", y) - E("0", y)).toBeCloseTo(2 * (E("1", y) - E("0", y)), 10);
    expect(tagger.evaluate(data(100, 2)).accuracy).toBeGreaterThan(95);
    const names = m
      .describe(5)
      .attributes.flatMap((a) => [...a.lowest, ...a.highest].map((q) => q.attribute));
    expect(names).toContain("e[0]");
    const back = Model.fromBytes(m.toBytes());
    expect(
      back.energy(
        [
          ["x", "0.7", "_"],
          ["x", "-1", "_"],
        ],
        ["P", "N"],
      ),
    ).toBeCloseTo(
      m.energy(
        [
          ["x", "0.7", "_"],
          ["x", "-1", "_"],
        ],
        ["P", "N"],
      ),
      12,
    );
  });

  it("a value that is not a number is E_PARSE at file:line", async () => {
    const spec = join(dir, "num.json");
    writeFileSync(spec, JSON.stringify(SPEC));
    const train = join(dir, "train.txt");
    writeFileSync(train, "x 0.5 P\nx -1 N\n\nx 1e-3 P\nx abc N\n");
    const r = await run([
      "train",
      "--graph",
      spec,
      "--train",
      train,
      "--model",
      join(dir, "m.nadir"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${train}:5: numeric column 'e': expected a finite number, got 'abc'`,
    );
  });
});
