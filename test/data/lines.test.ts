import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { readLines, readTextFile, splitLines, writeText } from "../../src/data/lines.ts";

const dir = mkdtempSync(join(tmpdir(), "nadir-lines-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, data: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

async function collect(path: string): Promise<{ text: string; line: number }[]> {
  const out: { text: string; line: number }[] = [];
  for await (const l of readLines(path)) out.push(l);
  return out;
}

async function rejection(p: Promise<unknown>): Promise<NadirError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(NadirError);
    return err as NadirError;
  }
  throw new Error("expected a rejection");
}

describe("readLines", () => {
  it("strips the BOM and trailing CR, numbers lines from 1", async () => {
    const p = file("crlf.txt", "\uFEFFa b\r\nc\r\n\r\nd");
    expect(await collect(p)).toEqual([
      { text: "a b", line: 1 },
      { text: "c", line: 2 },
      { text: "", line: 3 },
      { text: "d", line: 4 },
    ]);
  });

  it("gives no extra line after a final newline; empty file has no lines", async () => {
    expect((await collect(file("nl.txt", "x\ny\n"))).map((l) => l.text)).toEqual(["x", "y"]);
    expect(await collect(file("empty.txt", ""))).toEqual([]);
    expect(await collect(file("one.txt", "\n"))).toEqual([{ text: "", line: 1 }]);
  });

  it("decodes multi-byte characters split across 1 MiB chunks", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60_000; i++) lines.push(`${i} Ωμέγα 日本語 🙂 x`);
    const p = file("big.txt", `${lines.join("\r\n")}\r\n`);
    const got = await collect(p);
    expect(got.length).toBe(lines.length);
    for (let i = 0; i < lines.length; i++) {
      if (got[i]!.text !== lines[i] || got[i]!.line !== i + 1) throw new Error(`line ${i + 1}`);
    }
  });

  it("gunzips .gz files transparently", async () => {
    const p = file("a.txt.gz", gzipSync("\uFEFFone\r\ntwo\nthree"));
    expect(await collect(p)).toEqual([
      { text: "one", line: 1 },
      { text: "two", line: 2 },
      { text: "three", line: 3 },
    ]);
  });

  it("missing file → E_IO with the file", async () => {
    const p = join(dir, "nope.txt");
    const err = await rejection(collect(p));
    expect(err.code).toBe("E_IO");
    expect(err.file).toBe(p);
    expect(err.message).toContain("cannot read file: no such file or directory");
    const gz = await rejection(collect(join(dir, "nope.txt.gz")));
    expect(gz.code).toBe("E_IO");
  });

  it("stopping early is fine (plain and gzipped)", async () => {
    const text = "x\n".repeat(300_000);
    for (const p of [file("early.txt", text), file("early.gz", gzipSync(text))]) {
      let n = 0;
      for await (const _ of readLines(p)) if (++n === 5) break;
      expect(n).toBe(5);
    }
  });

  it("corrupt or truncated gzip → E_PARSE with the file", async () => {
    const bad = file("bad.gz", "this is not gzip data at all");
    const err = await rejection(collect(bad));
    expect(err.code).toBe("E_PARSE");
    expect(err.file).toBe(bad);
    const full = gzipSync("a\nb\n".repeat(1000));
    const cut = file("cut.gz", full.subarray(0, full.length - 10));
    expect((await rejection(collect(cut))).code).toBe("E_PARSE");
  });
});

describe("splitLines / readTextFile", () => {
  it("splits like readLines", () => {
    expect(splitLines("\uFEFFa\r\nb\n\nc")).toEqual(["a", "b", "", "c"]);
    expect(splitLines("a\n")).toEqual(["a"]);
    expect(splitLines("")).toEqual([]);
  });

  it("reads plain and gzipped files, drops the BOM", () => {
    expect(readTextFile(file("t.txt", "\uFEFFhi\n"))).toBe("hi\n");
    expect(readTextFile(file("t.txt.gz", gzipSync("hé\n")))).toBe("hé\n");
  });

  it("errors: E_IO for a missing file, E_PARSE for bad gzip", () => {
    expect(() => readTextFile(join(dir, "missing"))).toThrow(/cannot read file/);
    try {
      readTextFile(file("bad2.gz", "nope"));
      expect.unreachable();
    } catch (err) {
      expect((err as NadirError).code).toBe("E_PARSE");
    }
  });
});

describe("writeText", () => {
  it("writes plain and gzipped files", async () => {
    const p = join(dir, "out.txt");
    await writeText(p, ["a\n", "b\n"]);
    expect(readFileSync(p, "utf8")).toBe("a\nb\n");
    const gz = join(dir, "out.txt.gz");
    async function* gen() {
      for (let i = 0; i < 3; i++) yield `${i}\n`;
    }
    await writeText(gz, gen());
    expect(gunzipSync(readFileSync(gz)).toString()).toBe("0\n1\n2\n");
  });

  it("E_IO when the file cannot be written", async () => {
    const err = await rejection(writeText(join(dir, "no", "such", "dir.txt"), ["x"]));
    expect(err.code).toBe("E_IO");
  });
});
