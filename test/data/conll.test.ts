import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import {
  formatConll,
  formatConllColumns,
  parseConll,
  readConll,
  type Sentence,
  sentenceColumn,
  splitColumns,
} from "../../src/data/conll.ts";

const dir = mkdtempSync(join(tmpdir(), "nadir-conll-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string, opts?: Parameters<typeof readConll>[1]): Promise<Sentence[]> {
  const out: Sentence[] = [];
  for await (const s of readConll(path, opts)) out.push(s);
  return out;
}

function parseError(f: () => unknown): NadirError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NadirError);
    return err as NadirError;
  }
  throw new Error("expected an error");
}

const TEXT = [
  "\uFEFF-DOCSTART- -X- O",
  "",
  "Rockwell NNP B-NP",
  "said\tVBD   B-VP",
  "",
  "",
  "it PRP B-NP",
  "-DOCSTART- -X- O",
  "La DA B-LOC",
  "Coruña NC I-LOC",
].join("\r\n");

describe("parseConll", () => {
  it("splits on runs of spaces/tabs, handles BOM, CRLF, -DOCSTART-, no final blank line", () => {
    const s = parseConll(TEXT, "t.conll");
    expect(s.map((x) => x.tokens)).toEqual([
      [
        ["Rockwell", "NNP", "B-NP"],
        ["said", "VBD", "B-VP"],
      ],
      [["it", "PRP", "B-NP"]],
      [
        ["La", "DA", "B-LOC"],
        ["Coruña", "NC", "I-LOC"],
      ],
    ]);
    expect(s.map((x) => x.firstLine)).toEqual([3, 7, 9]);
    expect(s[0]!.lines).toEqual(["Rockwell NNP B-NP", "said\tVBD   B-VP"]);
    expect(s[2]!.file).toBe("t.conll");
  });

  it("treats whitespace-only lines as blank and tolerates leading/trailing blanks", () => {
    const s = parseConll("\n \t \na b\n  \nc d  \n\n\n", "f");
    expect(s.map((x) => x.tokens)).toEqual([[["a", "b"]], [["c", "d"]]]);
    expect(s[1]!.firstLine).toBe(5);
  });

  it("wrong column count → E_PARSE with file:line", () => {
    const err = parseError(() => parseConll("a b c\nd e f\n\ng h\n", "x.txt"));
    expect(err.code).toBe("E_PARSE");
    expect(err.line).toBe(4);
    expect(err.file).toBe("x.txt");
    expect(err.message).toBe("x.txt:4: expected 3 columns, got 2");
  });

  it("the columns option fixes the count; minColumns bounds the first line", () => {
    expect(parseError(() => parseConll("a b c\n", "f", { columns: 2 })).message).toBe(
      "f:1: expected 2 columns, got 3",
    );
    expect(parseError(() => parseConll("\na\n", "f", { minColumns: 2 })).message).toBe(
      "f:2: expected at least 2 columns, got 1",
    );
    expect(parseConll("a b\n", "f", { columns: 2, minColumns: 2 })).toHaveLength(1);
    expect(parseError(() => parseConll("", "f", { columns: 0 })).code).toBe("E_ARG");
    expect(parseError(() => parseConll("", "f", { columns: 1, minColumns: 2 })).code).toBe("E_ARG");
  });

  it("splitColumns", () => {
    expect(splitColumns("  a\t\tb  c ")).toEqual(["a", "b", "c"]);
    expect(splitColumns(" \t ")).toEqual([]);
    expect(splitColumns("a\u00a0b c")).toEqual(["a\u00a0b", "c"]);
  });
});

describe("readConll", () => {
  it("streams the same sentences as parseConll, plain and gzipped", async () => {
    const p = join(dir, "t.conll");
    writeFileSync(p, TEXT);
    const gz = join(dir, "t.conll.gz");
    writeFileSync(gz, gzipSync(TEXT));
    const want = parseConll(TEXT, p);
    expect(await readAll(p)).toEqual(want);
    const fromGz = await readAll(gz);
    expect(fromGz.map((s) => s.tokens)).toEqual(want.map((s) => s.tokens));
    expect(fromGz[0]!.file).toBe(gz);
  });

  it("many sentences across chunk boundaries keep their line numbers", async () => {
    let text = "";
    const n = 40_000;
    for (let i = 0; i < n; i++) text += `w${i} X B-NP\nv${i} Y I-NP\n\n`;
    const p = join(dir, "many.conll");
    writeFileSync(p, text);
    let i = 0;
    for await (const s of readConll(p)) {
      if (s.firstLine !== 3 * i + 1 || s.tokens[1]![0] !== `v${i}`)
        throw new Error(`sentence ${i}`);
      i++;
    }
    expect(i).toBe(n);
  });

  it("wrong column count → E_PARSE with file:line and .line", async () => {
    const p = join(dir, "bad.conll");
    writeFileSync(p, "a B-NP\nb I-NP\n\nc d I-NP\n");
    try {
      await readAll(p);
      expect.unreachable();
    } catch (err) {
      const e = err as NadirError;
      expect(e.code).toBe("E_PARSE");
      expect(e.line).toBe(4);
      expect(e.message).toBe(`${p}:4: expected 2 columns, got 3`);
    }
  });

  it("missing file → E_IO", async () => {
    await expect(readAll(join(dir, "none.conll"))).rejects.toMatchObject({ code: "E_IO" });
  });
});

describe("writing", () => {
  it("formatConll appends a tab-separated column and a blank line", () => {
    const [s] = parseConll("a X\nb Y\n", "f");
    const out = formatConll(s!.lines, ["B-NP", "I-NP"]);
    expect(out).toBe("a X\tB-NP\nb Y\tI-NP\n\n");
    expect(parseConll(out, "g")[0]!.tokens).toEqual([
      ["a", "X", "B-NP"],
      ["b", "Y", "I-NP"],
    ]);
    expect(() => formatConll(s!.lines, ["O"])).toThrow(/expected 2 labels, got 1/);
  });

  it("formatConllColumns appends several columns", () => {
    expect(
      formatConllColumns(
        ["a", "b"],
        [
          ["1", "2"],
          ["x", "y"],
        ],
      ),
    ).toBe("a\t1\tx\nb\t2\ty\n\n");
    expect(() => formatConllColumns(["a"], [["1", "2"]])).toThrow(/expected 1 values, got 2/);
  });

  it("sentenceColumn, negative from the end", () => {
    const [s] = parseConll("a X B\nb Y I\n", "f");
    expect(sentenceColumn(s!, 0)).toEqual(["a", "b"]);
    expect(sentenceColumn(s!, -1)).toEqual(["B", "I"]);
    expect(() => sentenceColumn(s!, 3)).toThrow(NadirError);
  });
});
