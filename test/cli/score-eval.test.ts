/** `nadir score` and `nadir eval` on every format `nadir tag` writes, without tripping. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPHS, tempDir } from "../fixtures/helpers.ts";
import { expectOneError, run, TEST, TRAIN } from "./harness.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function file(name: string, data: string): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, data);
  return p;
}

/** TRAIN / TEST as CoNLL-U (FORM, UPOS = the POS column), for the pos spec. */
function conllu(text: string): string {
  return text
    .trim()
    .split("\n\n")
    .map(
      (s) =>
        `# sent\n${s
          .split("\n")
          .map((l, i) => {
            const [w, pos] = l.split(" ");
            return `${i + 1}\t${w}\t_\t${pos}\t_\t_\t_\t_\t_\t_`;
          })
          .join("\n")}\n`,
    )
    .join("\n");
}

let chunkModel: string;
let posModel: string;
let testFile: string;
let testU: string;

beforeAll(async () => {
  testFile = file("test.txt", TEST);
  testU = file("test.conllu", conllu(TEST));
  chunkModel = join(tmp.dir, "chunk.model");
  posModel = join(tmp.dir, "pos.model");
  const a = await run([
    "train",
    ...["--graph", join(GRAPHS, "chunk.json"), "--train", file("train.txt", TRAIN)],
    ...["--model", chunkModel],
  ]);
  if (a.code !== 0) throw new Error(a.stderr);
  const b = await run([
    "train",
    ...["--graph", join(GRAPHS, "pos.json"), "--train", file("train.conllu", conllu(TRAIN))],
    ...["--model", posModel, "--epochs", "3"],
  ]);
  if (b.code !== 0) throw new Error(b.stderr);
});

const rowsOf = (stdout: string) =>
  stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((l) => l.split("\t"));

describe("nadir score", () => {
  it("an unknown label: probability 0 for its labeling, every sentence scored, one warning at the end with the token's line", async () => {
    const tagged = (await run(["tag", "--model", chunkModel, testFile])).stdout;
    const lines = tagged.split("\n");
    const at = lines.findIndex((l) => l.startsWith("said "));
    lines[at] = lines[at]!.replace(/ (\S+) (\S+)$/, " I-LST $2");
    const r = await run(["score", "--model", chunkModel, file("unknown.txt", lines.join("\n"))]);
    expect(r.code, r.stderr).toBe(0);
    const rows = rowsOf(r.stdout);
    expect(rows).toHaveLength(4); // 2 sentences × (gold, prediction)
    const bad = rows.find((x) => x[0] === "2" && x[1] === "3")!;
    expect(bad[2]).toBe("Infinity");
    expect(Number(bad[3])).toBe(0);
    expect(rows.filter((x) => Number(x[3]) > 0)).toHaveLength(3);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^warning: 1 token in 1 labeling had labels unknown to the model/);
    expect(r.stderr).toContain(`'I-LST' at ${join(tmp.dir, "unknown.txt")}:${at + 1}`);
  });

  it("reads tag --marginals (label/probability) and tag --kbest (with _ padding) output", async () => {
    const plain = rowsOf(
      (
        await run([
          "score",
          "--model",
          chunkModel,
          file("t.txt", (await run(["tag", "--model", chunkModel, testFile])).stdout),
        ])
      ).stdout,
    );
    const marg = (await run(["tag", "--model", chunkModel, testFile, "--marginals"])).stdout;
    expect(marg).toMatch(/\/0\.\d{4}\n/);
    const r = await run(["score", "--model", chunkModel, file("m.txt", marg)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(rowsOf(r.stdout)).toEqual(plain);
    const kb = (await run(["tag", "--model", chunkModel, testFile, "--kbest", "500"])).stdout;
    const k = await run(["score", "--model", chunkModel, file("k.txt", kb), "--json"]);
    expect(k.code, k.stderr).toBe(0);
    expect(k.stderr).toBe("");
    for (const line of k.stdout.trimEnd().split("\n")) {
      for (const lab of JSON.parse(line).labelings) expect(lab.probability).toBeGreaterThan(0);
    }
  });

  it("reads a CoNLL-U file and tag's FORM GOLD PREDICTED rows for a CoNLL-U model alike", async () => {
    const fromU = await run(["score", "--model", posModel, testU, "--json"]);
    expect(fromU.code, fromU.stderr).toBe(0);
    const rows = (await run(["tag", "--model", posModel, testU])).stdout;
    expect(rows.split("\n")[0]!.split("\t")).toHaveLength(3);
    const r = await run(["score", "--model", posModel, file("rows.txt", rows), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const a = fromU.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    const b = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(b).toHaveLength(a.length);
    b.forEach((o, i) => {
      expect(o.freeEnergy).toBeCloseTo(a[i].freeEnergy, 9);
      expect(o.labelings).toHaveLength(2); // gold and prediction
      expect(o.labelings[0].energy).toBeCloseTo(a[i].labelings[0].energy, 9);
    });
  });

  it("a token line with too few columns is an error at its own line", async () => {
    const bad = file("short.txt", "The DT B-NP B-NP\ndeficit\n");
    expectOneError(await run(["score", "--model", chunkModel, bad]), `${bad}:2`, "columns");
  });
});

describe("nadir tag on CoNLL-U", () => {
  it("an empty FORM is written as _ so the row keeps its three columns", async () => {
    const text = conllu(TEST).replace("\tdeficit\t", "\t\t");
    const r = await run(["tag", "--model", posModel, file("empty-form.conllu", text)]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => l !== "");
    for (const row of rows) expect(row.split(/\s+/)).toHaveLength(3);
    expect(rows[1]!.startsWith("_\tNN\t")).toBe(true);
  });
});

describe("nadir eval", () => {
  it("POS labels (no B-/I- prefixes): accuracy and per-label scores, not FB1 0.00", async () => {
    const rows = (await run(["tag", "--model", posModel, testU])).stdout;
    const r = await run(["eval", file("pos-rows.txt", rows)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).not.toContain("FB1");
    expect(r.stdout).toMatch(/^accuracy: +\d+\.\d\d% \(\d+ of 11 tokens\)$/m);
  });

  it("chunk scores asked for unchunked labels: scored, with a warning", async () => {
    const rows = (await run(["tag", "--model", posModel, testU])).stdout;
    const r = await run(["eval", "--encoding", "iob2", file("pos-rows2.txt", rows)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("FB1");
    expect(r.stderr).toMatch(/^warning: .*no B-\/I-\/E-\/S- prefix.*--encoding none/);
  });

  it("tag --marginals output (label/probability) scores like plain output", async () => {
    const plain = (await run(["tag", "--model", chunkModel, testFile])).stdout;
    const marg = (await run(["tag", "--model", chunkModel, testFile, "--marginals"])).stdout;
    const a = await run(["eval", file("plain.txt", plain), "--json"]);
    const b = await run(["eval", file("marg.txt", marg), "--json"]);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual(JSON.parse(a.stdout));
  });

  it("chunk labels: the encoding is chosen from them (iob2 here; bioes when E-/S- appear)", async () => {
    const tagged = (await run(["tag", "--model", chunkModel, testFile])).stdout;
    const r = await run(["eval", file("chunk-rows.txt", tagged)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/FB1/);
    const bioes = file("bioes.txt", "a S-NP S-NP\nb O O\nc B-VP B-VP\nd E-VP O\n");
    const j = JSON.parse((await run(["eval", bioes, "--json"])).stdout);
    expect(j.goldChunks).toBe(2);
    expect(j.correctChunks).toBe(1);
  });
});
