/**
 * A deep spec with lookup and ambiguity columns (in the sparse templates and
 * as network fields) through the tagger's ordinary path: trainTagger reads
 * the lookup file and counts the ambiguity classes; the model file carries
 * both tables, so the saved model tags the same with the lookup file gone.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AmbiguityTable, LookupTable } from "../../src/architecture/columns.ts";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { parseSpec } from "../../src/architecture/spec.ts";
import { Model } from "../../src/tagger/model.ts";
import { type TrainResult, trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences } from "../fixtures/helpers.ts";

let dir: string;
let file: string;
let train: CorpusSentence[];
let dev: CorpusSentence[];
let r: TrainResult;

function specOf(path: string) {
  return parseSpec(
    {
      name: "pos-deep-tables-test",
      format: "conllu",
      columns: { w: "FORM" },
      label: "UPOS",
      derived: {
        lw: "lower(w)",
        lw0: "digits(lw)",
        s3: "suffix(lw,3)",
        k: `lookup(lw0, ${path}, 1)`,
        kf: `lookup(lw0, ${path}, 2)`,
        ac: "ambiguity(lw0, 4)",
      },
      templates: ["bias", "lw[0]", "s3[0]", "k[0]", "kf[-1]|kf[0]", "ac[0]", "ac[0]|ac[1]"],
      network: {
        window: 1,
        hidden: 10,
        hybrid: true,
        fields: [
          { column: "lw", dim: 6 },
          { column: "k", dim: 4 },
          { column: "ac", dim: 4 },
        ],
        train: { loss: "perceptron", linearOptimizer: "sgd", linearLr: 1, lr: 0.003, batch: 4 },
      },
    },
    "<deep tables test spec>",
  );
}

const word = (tok: readonly string[]) => tok[1]!.toLowerCase().replace(/[0-9]/g, "0");

beforeAll(async () => {
  train = await ewtSentences(80);
  dev = await ewtSentences(20, 80);
  dir = mkdtempSync(join(tmpdir(), "nadir-tables-"));
  file = join(dir, "clusters.txt");
  // a cluster file: coarse = first letter, fine = last letter; "zqxwabc" (unseen) shares "the"'s
  const words = new Set(train.flatMap((s) => s.tokens.map(word)));
  const lines = [...words].map((w) => `${w}\tc${w[0]}\tf${w.at(-1)}`);
  lines.push("zqxwabc\tct\tfe");
  writeFileSync(file, `${lines.join("\n")}\n`);
  // the spec names the file relative to a directory the caller grants (files: dir)
  r = trainTagger({
    spec: specOf("clusters.txt"),
    train,
    dev,
    options: { epochs: 2, seed: 3, files: dir },
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("lookup and ambiguity columns in a trained model", () => {
  it("the training used both: their attributes and network fields exist", () => {
    const m = r.model;
    const names = Array.from({ length: m.fx.numAttributes }, (_, a) => m.fx.attributeName(a));
    expect(names).toContain("k[0]=ct");
    expect(names.some((n) => n.startsWith("ac[0]=") && n.includes("|"))).toBe(true);
    // jackknifed: some training tokens read '?' although every word has a class in the full table
    expect(names).toContain("ac[0]=?");
    expect(m.network!.vocabs[1]!.get("ct")).toBeGreaterThan(2);
    expect(m.network!.vocabs[2]!.names.some((n) => n.includes("|"))).toBe(true);
  });

  it("the caller's spec is left without tables (training bound its own copy)", () => {
    const mine = specOf("clusters.txt");
    trainTagger({
      spec: mine,
      train: train.slice(0, 20),
      options: { epochs: 1, seed: 1, files: dir },
    });
    expect((mine.derived.find((d) => d.name === "k")!.table as LookupTable).rows).toBeNull();
    expect((mine.derived.find((d) => d.name === "ac")!.table as AmbiguityTable).full).toBeNull();
  });

  it("a spec reads no file of its own choosing: an absolute or '..' path, or one outside the granted directory", () => {
    const options = { epochs: 1, seed: 1, files: dir };
    for (const bad of [file, "../clusters.txt", "/etc/passwd"])
      expect(() => trainTagger({ spec: specOf(bad), train: train.slice(0, 5), options })).toThrow(
        /a spec names files by a plain relative path/,
      );
    // the right name, but no directory granted: not read from the working directory either
    expect(() =>
      trainTagger({
        spec: specOf("clusters.txt"),
        train: train.slice(0, 5),
        options: { epochs: 1 },
      }),
    ).toThrow(/no such file in the package \(grant a directory with --files DIR\)/);
    // and a spec cannot grant itself a directory
    expect(() =>
      trainTagger({
        spec: parseSpec(
          { ...(specOf("clusters.txt").source as object), train: { files: "/" } },
          "t",
        ),
        train: train.slice(0, 5),
      }),
    ).toThrow(/a spec may not name files/);
  });

  it("the model file carries the tables: the same answers and energies with the lookup file gone", () => {
    const bytes = r.model.toBytes();
    rmSync(file);
    const again = Model.fromBytes(bytes);
    const table = (m: Model, n: string) => m.spec.derived.find((d) => d.name === n)!.table;
    expect((table(again, "k") as LookupTable).rows!.get("zqxwabc")).toEqual(["ct", "fe"]);
    expect((table(again, "k") as LookupTable).rows!.size).toBe(
      (table(r.model, "k") as LookupTable).rows!.size,
    );
    expect([...(table(again, "ac") as AmbiguityTable).full!]).toEqual([
      ...(table(r.model, "ac") as AmbiguityTable).full!,
    ]);
    for (const s of dev.slice(0, 8).map((d) => d.tokens)) {
      const y = r.model.tag(s);
      expect(again.tag(s)).toEqual(y);
      expect(again.energy(s, y)).toBeCloseTo(r.model.energy(s, y), 6);
    }
    // an unseen word in the lookup table tags through its cluster; one it lacks does not
    const s = dev[0]!.tokens.map((t) => t.slice());
    const y = again.tag(s);
    s[0]![1] = "zqxwabc";
    const inTable = again.energy(s, y);
    s[0]![1] = "zqywabc";
    const notInTable = again.energy(s, y);
    expect(Math.abs(inTable - notInTable)).toBeGreaterThan(1e-6);
  });
});
