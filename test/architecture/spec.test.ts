import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTrainingSet, FeatureExtractor } from "../../src/architecture/features.ts";
import { loadSpec, parseSpec } from "../../src/architecture/spec.ts";
import { parseTemplate } from "../../src/architecture/templates.ts";
import { GRAPHS, nadirError, spec, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Write `text` to a fresh file in the temp dir and return its path. */
function file(name: string, text: string): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
}

const BASE = { name: "t", columns: ["w", "pos"], label: -1, templates: ["w[0]"] };

describe("shipped graph specs", () => {
  it("graphs/chunk.json loads with the CRFsuite chunking set", () => {
    const s = loadSpec(join(GRAPHS, "chunk.json"));
    expect(s.name).toBe("chunk");
    expect(s.format).toBe("conll");
    expect(s.columns).toEqual({ w: 0, pos: 1 });
    expect(s.label).toBe(-1);
    expect(s.derived).toEqual([]);
    expect(s.templates).toHaveLength(19);
    expect(s.templates[5]).toEqual({
      name: "w[-1]|w[0]",
      parts: [
        { column: "w", offset: -1 },
        { column: "w", offset: 0 },
      ],
    });
    expect(s.outside).toBe("skip");
    expect(s.boundary).toBe(true);
    expect(s.minCount).toBe(1);
    expect(s.encoding).toBe("iob2");
    expect(s.metric).toBe("chunk-f1");
    expect(s.constrained).toBe(false);
    expect(s.train).toEqual({ epochs: 10 });
    expect((s.source as { name: string }).name).toBe("chunk");
  });

  it("graphs/pos.json loads: CoNLL-U names resolved, derived columns parsed", () => {
    const s = loadSpec(join(GRAPHS, "pos.json"));
    expect(s.format).toBe("conllu");
    expect(s.columns).toEqual({ w: 1 }); // FORM
    expect(s.label).toBe(3); // UPOS
    expect(s.derived.map((d) => d.name)).toEqual([
      "lw",
      "p1",
      "p2",
      "p3",
      "p4",
      "s1",
      "s2",
      "s3",
      "s4",
      "shape",
      "caps",
    ]);
    expect(s.derived.find((d) => d.name === "p1")!.source).toBe("lw");
    expect(s.templates).toHaveLength(27);
    expect(s.templates[0]).toEqual({ name: "bias", parts: [] });
    expect(s.outside).toBe("pad");
    expect(s.encoding).toBe("none");
    expect(s.metric).toBe("accuracy");
  });
});

describe("parseSpec defaults", () => {
  it("fills outside, boundary, minCount, encoding, metric, constrained, train", () => {
    const s = parseSpec({ name: "t", columns: ["w"], templates: ["w[0]"] }, "f.json");
    expect(s).toMatchObject({
      format: "conll",
      label: -1,
      outside: "pad",
      boundary: true,
      minCount: 1,
      structure: "chain",
      encoding: "none",
      metric: "accuracy",
      constrained: false,
      train: {},
      description: "",
    });
    expect(parseSpec({ ...BASE, encoding: "bioes" }, "f.json").metric).toBe("chunk-f1");
  });

  it("CoNLL-U: label defaults to UPOS; names are case-insensitive", () => {
    const s = parseSpec(
      { name: "t", format: "conllu", columns: { w: "form", l: "LEMMA" }, templates: ["w[0]"] },
      "f.json",
    );
    expect(s.columns).toEqual({ w: 1, l: 2 });
    expect(s.label).toBe(3);
    expect(parseSpec({ ...BASE, format: "conllu", label: "xpos" }, "f.json").label).toBe(4);
  });
});

describe("parseSpec errors (E_SPEC, naming the file and the key)", () => {
  it("unknown key", () => {
    const e = nadirError(() => parseSpec({ ...BASE, tempaltes: [] }, "my.json"));
    expect(e.code).toBe("E_SPEC");
    expect(e.message).toContain("my.json");
    expect(e.message).toContain("key 'tempaltes'");
    expect(e.message).toContain("unknown key");
    expect(e.message).toContain("templates"); // lists the expected keys
  });

  it("not an object", () => {
    for (const bad of [null, [], 3, "x"]) {
      const e = nadirError(() => parseSpec(bad, "my.json"));
      expect(e.code).toBe("E_SPEC");
      expect(e.message).toContain("my.json");
    }
  });

  it("unknown column in a template names templates[i] and the column", () => {
    const e = nadirError(() =>
      parseSpec({ ...BASE, templates: ["w[0]", "pos[-1]|lemma[0]"] }, "my.json"),
    );
    expect(e.code).toBe("E_SPEC");
    expect(e.message).toContain("my.json");
    expect(e.message).toContain("templates[1]");
    expect(e.message).toContain("'lemma'");
    expect(e.message).not.toContain("templates[0]");
  });

  it("a derived column is known to the templates that follow", () => {
    const s = parseSpec({ ...BASE, derived: { lw: "lower(w)" }, templates: ["lw[0]"] }, "f.json");
    expect(s.templates[0]!.parts[0]!.column).toBe("lw");
  });

  it("malformed templates", () => {
    for (const [t, what] of [
      ["w[x]", "col[offset]"],
      ["w[0]|", "col[offset]"],
      ["", "template"],
      ["1bias", "constant"],
    ] as const) {
      const e = nadirError(() => parseSpec({ ...BASE, templates: ["w[0]", t] }, "f.json"));
      expect(e.code).toBe("E_SPEC");
      expect(e.message).toContain("templates[1]");
      expect(e.message).toContain(what);
    }
    const dup = nadirError(() => parseSpec({ ...BASE, templates: ["w[0]", "w[0]"] }, "f.json"));
    expect(dup.message).toContain("templates[1]");
    expect(dup.message).toContain("twice");
    expect(nadirError(() => parseSpec({ ...BASE, templates: [] }, "f.json")).message).toContain(
      "key 'templates'",
    );
    expect(nadirError(() => parseSpec({ ...BASE, templates: [3] }, "f.json")).message).toContain(
      "templates[0]",
    );
  });

  it("bad derived expressions name derived.<key>", () => {
    const cases: [string, string][] = [
      ["lowr(w)", "unknown function 'lowr'"],
      ["lower(w", "expected an expression"],
      ["suffix(w)", "needs a length"],
      ["suffix(w,0)", "needs a length"],
      ["lower(w,2)", "takes one argument"],
      ["lower(q)", "unknown column 'q'"],
    ];
    for (const [expr, what] of cases) {
      const e = nadirError(() => parseSpec({ ...BASE, derived: { d: expr } }, "f.json"));
      expect(e.code).toBe("E_SPEC");
      expect(e.message).toContain("derived.d");
      expect(e.message).toContain(what);
    }
    const twice = nadirError(() => parseSpec({ ...BASE, derived: { w: "lower(w)" } }, "f.json"));
    expect(twice.message).toContain("defined twice");
    const notStr = nadirError(() => parseSpec({ ...BASE, derived: { d: 3 } }, "f.json"));
    expect(notStr.message).toContain("derived.d");
    // a derived column may only use columns defined before it
    const order = nadirError(() =>
      parseSpec({ ...BASE, derived: { a: "prefix(b,2)", b: "lower(w)" } }, "f.json"),
    );
    expect(order.message).toContain("derived.a");
  });

  it("bad enumerations, booleans and counts", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ format: "csv" }, "key 'format'"],
      [{ outside: "wrap" }, "key 'outside'"],
      [{ structure: "grid" }, "key 'structure'"],
      [{ encoding: "bilou" }, "key 'encoding'"],
      [{ metric: "f2" }, "key 'metric'"],
      [{ boundary: "yes" }, "key 'boundary'"],
      [{ constrained: 1 }, "key 'constrained'"],
      [{ constrained: true }, "needs an encoding"],
      [{ minCount: 0 }, "key 'minCount'"],
      [{ minCount: 1.5 }, "key 'minCount'"],
      [{ train: [] }, "key 'train'"],
      [{ name: 7 }, "key 'name'"],
      [{ columns: [] }, "key 'columns'"],
      [{ columns: "w" }, "key 'columns'"],
      [{ columns: ["w", ""] }, "columns[1]"],
      [{ label: "UPOS" }, "key 'label'"], // names need format conllu
      [{ label: 1.5 }, "key 'label'"],
    ];
    for (const [patch, what] of cases) {
      const e = nadirError(() => parseSpec({ ...BASE, ...patch }, "f.json"));
      expect(e.code, JSON.stringify(patch)).toBe("E_SPEC");
      expect(e.message, JSON.stringify(patch)).toContain(what);
    }
    const conllu = nadirError(() =>
      parseSpec({ ...BASE, format: "conllu", columns: { w: "FROM" } }, "f.json"),
    );
    expect(conllu.message).toContain("columns.w");
    expect(conllu.message).toContain("FROM");
  });

  it("duplicate base column names are rejected", () => {
    const e = nadirError(() => parseSpec({ ...BASE, columns: ["w", "pos", "w"] }, "f.json"));
    expect(e.code).toBe("E_SPEC");
    expect(e.message).toContain("columns[2]");
  });

  it("a negative input column index is rejected, naming the key", () => {
    const e = nadirError(() => spec({ columns: { w: -2 }, templates: ["w[0]"], boundary: false }));
    expect(e.code).toBe("E_SPEC");
    expect(e.message).toContain("columns.w");
  });
});

describe("loadSpec (files)", () => {
  it("bad JSON: E_PARSE with file:line of the error", () => {
    const p = file("bad.json", '{\n  "name": "x",\n  oops\n}\n');
    const e = nadirError(() => loadSpec(p));
    expect(e.code).toBe("E_PARSE");
    expect(e.file).toBe(p);
    expect(e.line).toBe(3);
    expect(e.message.startsWith(`${p}:3: `)).toBe(true);
    expect(e.message).toContain("invalid JSON");
  });

  it("truncated JSON names the file and its last line", () => {
    const p = file("trunc.json", '{\n  "name": "x",\n  "columns": ["w"]\n');
    const e = nadirError(() => loadSpec(p));
    expect(e.code).toBe("E_PARSE");
    expect(e.message).toContain(p);
    expect(e.line).toBe(4);
  });

  it("missing file: E_IO naming it", () => {
    const p = join(tmp.dir, "nope.json");
    const e = nadirError(() => loadSpec(p));
    expect(e.code).toBe("E_IO");
    expect(e.message).toContain(p);
  });

  it("schema errors from a file name the file and the key", () => {
    const p = file("unk.json", JSON.stringify({ ...BASE, templates: ["w[0]", "x[0]"] }));
    const e = nadirError(() => loadSpec(p));
    expect(e.code).toBe("E_SPEC");
    expect(e.message).toContain(p);
    expect(e.message).toContain("templates[1]");
    expect(e.message).toContain("'x'");
  });

  it("a valid file round-trips through source", () => {
    const o = { ...BASE, derived: { lw: "lower(w)" }, train: { epochs: 3 } };
    const s = loadSpec(file("ok.json", JSON.stringify(o, null, 2)));
    expect(s.source).toEqual(o);
    expect(s.train).toEqual({ epochs: 3 });
  });
});

describe("label column out of range", () => {
  it("a training token without the label column is E_PARSE at file:line", () => {
    const s = spec({ columns: ["w", "pos"], label: 5, templates: ["w[0]"] });
    const fx = new FeatureExtractor(s);
    const e = nadirError(() =>
      buildTrainingSet(fx, [
        {
          tokens: [
            ["a", "D", "x", "y", "z", "B-NP"],
            ["b", "N", "x", "y", "z", "I-NP"],
          ],
          file: "ok.txt",
          firstLine: 1,
        },
        {
          tokens: [
            ["c", "D", "x", "y", "z", "B-NP"],
            ["d", "N", "I-NP"],
          ],
          file: "train.txt",
          firstLine: 10,
        },
      ]),
    );
    expect(e.code).toBe("E_PARSE");
    expect(e.message).toContain("train.txt:11");
    expect(e.message).toContain("6");
    expect(e.message).toContain("got 3");
  });

  it("a negative label must lie past the input columns", () => {
    // label −1 with two input columns needs ≥ 3 columns (label distinct from w, pos)
    const s = spec({ columns: ["w", "pos"], label: -1, templates: ["w[0]"] });
    const e = nadirError(() =>
      buildTrainingSet(new FeatureExtractor(s), [
        { tokens: [["a", "D"]], file: "f.txt", firstLine: 4 },
      ]),
    );
    expect(e.code).toBe("E_PARSE");
    expect(e.message).toContain("f.txt:4");
    const ok = buildTrainingSet(new FeatureExtractor(s), [{ tokens: [["a", "D", "B-NP"]] }]);
    expect(ok.labels.names).toEqual(["B-NP"]);
  });
});

describe("parseTemplate", () => {
  it("parses references and constants", () => {
    expect(parseTemplate("pos[-2]|pos[-1]|pos[0]", "w").parts).toEqual([
      { column: "pos", offset: -2 },
      { column: "pos", offset: -1 },
      { column: "pos", offset: 0 },
    ]);
    expect(parseTemplate("w[+1]", "w").parts).toEqual([{ column: "w", offset: 1 }]);
    expect(parseTemplate(" bias ", "w")).toEqual({ name: "bias", parts: [] });
  });
});
