import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import {
  CONLLU_COLUMNS,
  type ConlluSentence,
  conlluColumnIndex,
  parseConllu,
  readConllu,
} from "../../src/data/conllu.ts";

const dir = mkdtempSync(join(tmpdir(), "nadir-conllu-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (...f: string[]) => f.join("\t");
const TEXT = [
  "# sent_id = 1",
  "# text = Vámonos al mar.",
  row("1-2", "Vámonos", "_", "_", "_", "_", "_", "_", "_", "_"),
  row("1", "Vamos", "ir", "VERB", "_", "_", "0", "root", "_", "_"),
  row("2", "nos", "nosotros", "PRON", "_", "_", "1", "obj", "_", "_"),
  row("3-4", "al", "_", "_", "_", "_", "_", "_", "_", "_"),
  row("3", "a", "a", "ADP", "_", "_", "5", "case", "_", "_"),
  row("4", "el", "el", "DET", "_", "_", "5", "det", "_", "_"),
  row("4.1", "ido", "ir", "VERB", "_", "_", "_", "_", "5:conj", "_"),
  row("5", "mar", "mar", "NOUN", "_", "_", "1", "obl", "_", "SpaceAfter=No"),
  row("6", ".", ".", "PUNCT", "_", "_", "1", "punct", "_", "_"),
  "",
  "# sent_id = 2",
  row("1", "Hola", "hola", "INTJ", "_", "_", "0", "root", "_", "_"),
].join("\n");

function error(f: () => unknown): NadirError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NadirError);
    return err as NadirError;
  }
  throw new Error("expected an error");
}

describe("parseConllu", () => {
  it("skips ranges and empty nodes, keeps comments, emits the last sentence", () => {
    const s = parseConllu(TEXT, "es.conllu");
    expect(s).toHaveLength(2);
    expect(s[0]!.tokens.map((t) => t[1])).toEqual(["Vamos", "nos", "a", "el", "mar", "."]);
    expect(s[0]!.tokens.every((t) => t.length === 10)).toBe(true);
    expect(s[0]!.comments).toEqual(["# sent_id = 1", "# text = Vámonos al mar."]);
    expect(s[0]!.firstLine).toBe(4);
    expect(s[0]!.lines[4]).toBe(
      row("5", "mar", "mar", "NOUN", "_", "_", "1", "obl", "_", "SpaceAfter=No"),
    );
    expect(s[1]!.comments).toEqual(["# sent_id = 2"]);
    expect(s[1]!.tokens[0]![3]).toBe("INTJ");
    expect(s[1]!.firstLine).toBe(14);
  });

  it("keeps spaces inside fields (only tabs separate)", () => {
    const [s] = parseConllu(
      `${row("1", "New York", "New York", "PROPN", "_", "_", "0", "root", "_", "_")}\n`,
      "f",
    );
    expect(s!.tokens[0]![1]).toBe("New York");
  });

  it("bad field count → E_PARSE with file:line", () => {
    const text = `# c\n${row("1", "a", "a", "X", "_", "_", "0", "root", "_", "_")}\n1 b b X _ _ 0 root _ _\n`;
    const err = error(() => parseConllu(text, "u.conllu"));
    expect(err.code).toBe("E_PARSE");
    expect(err.line).toBe(3);
    expect(err.message).toBe("u.conllu:3: expected 10 tab-separated columns, got 1");
    const nine = row("1", "a", "a", "X", "_", "_", "0", "root", "_");
    expect(error(() => parseConllu(nine, "f")).message).toBe(
      "f:1: expected 10 tab-separated columns, got 9",
    );
  });

  it("bad or out-of-order IDs → E_PARSE", () => {
    const bad = row("x", "a", "a", "X", "_", "_", "0", "root", "_", "_");
    expect(error(() => parseConllu(bad, "f")).message).toMatch(/^f:1: expected an ID/);
    const skip = row("2", "a", "a", "X", "_", "_", "0", "root", "_", "_");
    expect(error(() => parseConllu(skip, "f")).message).toBe("f:1: expected word ID 1, got 2");
    expect(parseConllu(skip, "f", { checkIds: false })).toHaveLength(1);
  });
});

describe("readConllu", () => {
  it("streams the same sentences as parseConllu (gz too)", async () => {
    const p = join(dir, "a.conllu.gz");
    writeFileSync(p, gzipSync(TEXT));
    const got: ConlluSentence[] = [];
    for await (const s of readConllu(p)) got.push(s);
    expect(got).toEqual(parseConllu(TEXT, p));
  });
});

describe("columns", () => {
  it("resolves names case-insensitively; unknown → E_SPEC listing names", () => {
    expect(CONLLU_COLUMNS).toHaveLength(10);
    expect(conlluColumnIndex("UPOS")).toBe(3);
    expect(conlluColumnIndex("form")).toBe(1);
    const err = error(() => conlluColumnIndex("POS"));
    expect(err.code).toBe("E_SPEC");
    expect(err.message).toContain("ID, FORM, LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL, DEPS, MISC");
  });
});
