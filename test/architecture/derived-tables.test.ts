/**
 * The table functions of derived columns: `lookup(col, FILE, n)` and
 * `ambiguity(col, k)` — spec parsing (good and bad), the k-fold jackknife of
 * the ambiguity classes on the training set, and the training set's
 * attributes following the folds.
 */
import { describe, expect, it } from "vitest";
import type { AmbiguityTable, LookupTable } from "../../src/architecture/columns.ts";
import { fitTrainingTables, setFold } from "../../src/architecture/derived-tables.ts";
import { FeatureExtractor, TrainingSetBuilder } from "../../src/architecture/features.ts";
import { parseSpec } from "../../src/architecture/spec.ts";

const base = {
  name: "tables-test",
  format: "conll",
  columns: ["w"],
  label: -1,
  boundary: false,
  templates: ["ac[0]"],
};

function specWith(derived: Record<string, string>, templates = ["w[0]"]) {
  return parseSpec({ ...base, derived, templates }, "<tables test>");
}

describe("spec parsing of the table functions", () => {
  it("lookup, ambiguity and digits parse, with their defaults", () => {
    const s = specWith({
      lw: "lower(w)",
      lw0: "digits(lw)",
      k: "lookup(lw0, embeddings/en-clusters.txt.gz, 2)",
      k1: "lookup(lw0, embeddings/en-clusters.txt.gz)",
      ac: "ambiguity(lw0, 5)",
      ac10: "ambiguity(lw0)",
    });
    const t = (n: string) => s.derived.find((d) => d.name === n)!;
    expect(t("lw0").fn("Ab12")).toBe("Ab00");
    expect(t("k").table).toMatchObject({
      kind: "lookup",
      file: "embeddings/en-clusters.txt.gz",
      field: 2,
    });
    expect((t("k1").table as LookupTable).field).toBe(1);
    expect(t("k").source).toBe("lw0");
    expect(t("ac").table).toMatchObject({ kind: "ambiguity", folds: 5, fold: -1 });
    expect((t("ac10").table as AmbiguityTable).folds).toBe(10);
  });

  it("a table column used before its table exists says so", () => {
    const s = specWith({ k: "lookup(w, x.txt, 1)", ac: "ambiguity(w)" });
    expect(() => s.derived[0]!.fn("a")).toThrow(/'k' \(lookup\(w, x.txt, 1\)\) has no table yet/);
    expect(() => s.derived[1]!.fn("a")).toThrow(/counted from the training data/);
  });

  it.each([
    ["lookup(w)", /key 'derived.k'.*expected lookup\(COLUMN, FILE\)/],
    ["lookup(w, )", /key 'derived.k'.*expected lookup\(COLUMN, FILE\)/],
    ["lookup(w, f.txt, 0)", /key 'derived.k'.*integer ≥ 1, got '0'/],
    ["lookup(w, f.txt, two)", /key 'derived.k'.*integer ≥ 1, got 'two'/],
    ["lookup(zz, f.txt, 1)", /key 'derived.k'.*unknown column 'zz'/],
    ["ambiguity(w, 1)", /key 'derived.k'.*≥ 2 folds/],
    ["ambiguity(zz)", /key 'derived.k'.*unknown column 'zz'/],
    ["digits(w, 2)", /key 'derived.k'.*digits takes one argument/],
    ["lookp(w)", /key 'derived.k'.*unknown function 'lookp'.*lookup, ambiguity/],
  ])("%s is refused with the key path", (expr, msg) => {
    expect(() => specWith({ k: expr })).toThrow(msg);
  });
});

// fold of training sentence i is i mod 2: fold 0 = s0, s2; fold 1 = s1, s3
const sents = [
  [
    ["dog", "N"],
    ["dog", "N"],
  ],
  [
    ["dog", "V"],
    ["dog", "V"],
  ],
  [
    ["cat", "N"],
    ["cat", "N"],
  ],
  [
    ["dog", "N"],
    ["cat", "N"],
  ],
].map((tokens) => ({ tokens }));

describe("ambiguity classes: jackknifed on the training set", () => {
  it("a training sentence's classes are counted without its own fold; the full table has every sentence", () => {
    const spec = specWith({ ac: "ambiguity(w, 2)" }, ["ac[0]"]);
    fitTrainingTables(spec, [{ tokens: [] }, ...sents]); // empty sentences belong to no fold
    const ac = spec.derived[0]!.fn;
    // full: dog N×3 V×2, cat N×3
    expect([ac("dog"), ac("cat"), ac("emu")]).toEqual(["N|V", "N", "?"]);
    setFold(spec, 0); // without s0, s2: dog V×2 N×1, cat N×1 (seen once: unknown)
    expect([ac("dog"), ac("cat")]).toEqual(["N|V", "?"]);
    setFold(spec, 1); // without s1, s3: dog N×2 — s1's own V is not in its class
    expect([ac("dog"), ac("cat")]).toEqual(["N", "N"]);
    setFold(spec, 3); // sentence 3 is in fold 1
    expect(ac("dog")).toBe("N");
    setFold(spec, -1);
    expect(ac("dog")).toBe("N|V");
  });

  it("labels under 5% of a word's occurrences stay out of its class", () => {
    const spec = specWith({ ac: "ambiguity(w, 2)" }, ["ac[0]"]);
    const many = Array.from({ length: 40 }, (_, i) => ({
      tokens: [["a", i === 0 ? "X" : "Y"]],
    }));
    fitTrainingTables(spec, many);
    expect(spec.derived[0]!.fn("a")).toBe("Y");
  });

  it("the training set's attributes follow the folds, dev and tagging read the full table", () => {
    const spec = specWith({ ac: "ambiguity(w, 2)" }, ["ac[0]"]);
    fitTrainingTables(spec, sents);
    const fx = new FeatureExtractor(spec);
    const b = new TrainingSetBuilder(fx);
    for (const s of sents) b.add({ tokens: s.tokens.map((t) => [...t]) });
    const set = b.finish();
    const names = (x: { attrs: Int32Array }) => Array.from(x.attrs, (a) => fx.attributeName(a));
    expect(names(set.instances[0]!)).toEqual(["ac[0]=N|V", "ac[0]=N|V"]);
    expect(names(set.instances[1]!)).toEqual(["ac[0]=N", "ac[0]=N"]);
    expect(names(set.instances[2]!)).toEqual(["ac[0]=?", "ac[0]=?"]);
    expect(names(set.instances[3]!)).toEqual(["ac[0]=N", "ac[0]=N"]);
    // after the training set: the full table (the extractor's per-fold caches do not leak)
    const dev = fx.extract([["dog"], ["cat"]], false);
    expect(Array.from(dev.attrs, (a) => fx.attributeName(a))).toEqual(["ac[0]=N|V", "ac[0]=N"]);
  });
});
