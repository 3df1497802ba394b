/**
 * CRF++ templates: translation into a spec, CRF++'s %x[row,col] semantics
 * (padding included) checked against a direct expansion of the template as
 * CRF++ defines it, errors at file:line, a seeded fuzzer, and training from
 * a template file on the command line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { translateCrfppTemplate } from "../../src/architecture/crfpp-template.ts";
import { FeatureExtractor } from "../../src/architecture/features.ts";
import { loadSpec, parseSpec } from "../../src/architecture/spec.ts";
import { NadirError } from "../../src/core/errors.ts";
import { run, TEST, TRAIN } from "../cli/harness.ts";

const TEMPLATE = `# Unigram
U00:%x[-2,0]
U01:%x[-1,0]
U02:%x[0,0]
U03:%x[1,0]
U05:%x[-1,0]/%x[0,0]
U10:%x[-2,1]
U12:%x[0,1]
U15:%x[-2,1]/%x[-1,1]
U22:%x[0,1]/%x[1,1]/%x[2,1]
U99:%x[0,0]

# Bigram
B
`;

/** CRF++'s expansion of one U line at position t: macros replaced, outside rows padded _B-k / _B+k. */
function crfppFeature(line: string, tokens: string[][], t: number): string {
  return line.replace(/%x\[(-?\d+),(\d+)\]/g, (_, r: string, c: string) => {
    const i = t + Number(r);
    if (i < 0) return `_B${i}`;
    if (i >= tokens.length) return `_B+${i - tokens.length + 1}`;
    return tokens[i]![Number(c)]!;
  });
}

describe("CRF++ templates", () => {
  it("translate into a spec: c<col>[row] templates, CRF++ padding, one B, duplicates dropped", () => {
    const { spec, notes } = translateCrfppTemplate(TEMPLATE, "chunk.template");
    expect(spec.templates).toEqual([
      "c0[-2]",
      "c0[-1]",
      "c0[0]",
      "c0[1]",
      "c0[-1]|c0[0]",
      "c1[-2]",
      "c1[0]",
      "c1[-2]|c1[-1]",
      "c1[0]|c1[1]|c1[2]",
    ]);
    expect(spec).toMatchObject({
      columns: { c0: 0, c1: 1 },
      label: -1,
      outside: "pad",
      boundary: false,
      padding: "crfpp",
    });
    expect(notes.join("\n")).toMatch(/line 11: 'U99:%x\[0,0\]' fires exactly like line 4/);
    expect(parseSpec(spec, "chunk.template").templates).toHaveLength(9);
  });

  it("defines CRF++'s features: the same partition of (position, feature) as CRF++'s strings, on random sentences", () => {
    const lines = TEMPLATE.split("\n").filter((l) => l.startsWith("U") && l !== "U99:%x[0,0]");
    const spec = parseSpec(translateCrfppTemplate(TEMPLATE, "t").spec, "t");
    // (a token spelled like a padding value, "_B-1", is the padding itself in CRF++ but
    // an ordinary word in nadir: the one place the two differ, left out here)
    const word = fc.constantFrom("a", "b", "c", "B-1");
    fc.assert(
      fc.property(
        fc.array(
          fc.array(fc.tuple(word, fc.constantFrom("N", "V")), { minLength: 1, maxLength: 6 }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        (sentences) => {
          const fx = new FeatureExtractor(spec);
          const toNadir = new Map<string, number>();
          const toCrfpp = new Map<number, string>();
          for (const s of sentences) {
            const tokens = s.map(([w, p]) => [w, p, "O"]);
            const { offsets, attrs } = fx.extract(tokens, true);
            for (let t = 0; t < tokens.length; t++) {
              const ids = Array.from(attrs.subarray(offsets[t]!, offsets[t + 1]!));
              // one attribute per U line (after dropping the duplicate line), in order
              expect(ids).toHaveLength(lines.length);
              lines.forEach((line, k) => {
                const f = crfppFeature(line, tokens, t);
                const id = ids[k]!;
                if (toNadir.has(f)) expect(toNadir.get(f)).toBe(id);
                else toNadir.set(f, id);
                if (toCrfpp.has(id)) expect(toCrfpp.get(id)).toBe(f);
                else toCrfpp.set(id, f);
              });
            }
          }
          // and the names carry CRF++'s padding values
          for (const [id, f] of toCrfpp) {
            const name = fx.attributeName(id);
            const values = f.slice(f.indexOf(":") + 1).split("/");
            expect(name.slice(name.indexOf("=") + 1).split("|")).toEqual(values);
          }
        },
      ),
      { seed: 3, numRuns: 200 },
    );
  });

  it("reports what it cannot read at file:line", () => {
    const err = (text: string): NadirError => {
      try {
        translateCrfppTemplate(text, "t.template");
      } catch (e) {
        return e as NadirError;
      }
      throw new Error("expected an error");
    };
    expect(err("U00:%x[0,0]\nX01:%x[0,0]\n").message).toMatch(
      /^t\.template:2: expected a template line starting with U/,
    );
    const b = err("U00:%x[0,0]\n\nB01:%x[0,0]\n");
    expect(b.code).toBe("E_UNSUPPORTED");
    expect(b.message).toMatch(/^t\.template:3: /);
    expect(err("U00:%x[0]\n").message).toMatch(
      /t\.template:1: expected macros of the form %x\[row,col\]/,
    );
    expect(err("# nothing\nB\n").message).toMatch(/expected at least one U template line/);
  });

  it("fuzz: any text translates to a valid spec or fails with a NadirError", () => {
    const piece = fc.constantFrom(
      "U",
      "B",
      "0",
      ":",
      "%x[",
      "-1",
      ",",
      "1",
      "]",
      "/",
      "#",
      "\n",
      " ",
      "%",
      "x",
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        try {
          const { spec } = translateCrfppTemplate(parts.join(""), "fuzz.template");
          parseSpec(spec, "fuzz.template");
        } catch (e) {
          expect(e).toBeInstanceOf(NadirError);
        }
      }),
      { seed: 11, numRuns: 1000 },
    );
  });

  describe("on the command line", () => {
    const dir = mkdtempSync(join(tmpdir(), "nadir-crfpp-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const template = join(dir, "chunking.template");
    writeFileSync(template, TEMPLATE);
    writeFileSync(join(dir, "train.txt"), TRAIN);
    writeFileSync(join(dir, "test.txt"), TEST);

    it("loadSpec and nadir train --graph read a template file (not as JSON)", async () => {
      expect(loadSpec(template).templates.map((t) => t.name)).toContain("c0[-1]|c0[0]");
      const model = join(dir, "m.nadir");
      const tr = await run([
        "train",
        "--graph",
        template,
        "--train",
        join(dir, "train.txt"),
        "--model",
        model,
      ]);
      expect(tr.code, tr.stderr).toBe(0);
      const tg = await run(["tag", "--model", model, join(dir, "test.txt")]);
      expect(tg.code, tg.stderr).toBe(0);
      expect(tg.stdout.split("\n")[0]).toMatch(/^The DT B-NP \S+$/);
    });

    it("nadir train --template translates the template (notes on stderr); --graph with it is refused", async () => {
      const dup = join(dir, "dup.template");
      writeFileSync(dup, "U00:%x[0,0]\nU01:%x[0,0]\nB\nB\n");
      const model = join(dir, "t.nadir");
      const tr = await run([
        "train",
        "--template",
        dup,
        "--train",
        join(dir, "train.txt"),
        "--model",
        model,
      ]);
      expect(tr.code, tr.stderr).toBe(0);
      expect(tr.stderr).toContain(`${dup}: line 2: 'U01:%x[0,0]' fires exactly like line 1`);
      expect(tr.stderr).toContain("line 4: 'B' repeats the label bigrams");
      const both = await run([
        "train",
        "--template",
        dup,
        "--graph",
        "chunk",
        "--train",
        join(dir, "train.txt"),
        "--model",
        model,
      ]);
      expect(both.code).toBe(1);
      expect(both.stderr).toContain("give --graph or --template, not both");
      const bad = join(dir, "bad.template");
      writeFileSync(bad, "U00:%x[0,0]\nB01:%x[0,0]\n");
      const e = await run([
        "train",
        "--template",
        bad,
        "--train",
        join(dir, "train.txt"),
        "--model",
        model,
      ]);
      expect(e.code).toBe(1);
      expect(e.stderr).toContain(`${bad}:2: 'B01:%x[0,0]': bigram templates with %x macros`);
    });
  });
});
