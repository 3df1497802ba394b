import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRAIN_OPTIONS } from "../../src/optimize/options.ts";
import { GRAPHS, ROOT, tempDir } from "../fixtures/helpers.ts";
import { expectOneError, type Run, run, TEST, TRAIN } from "./harness.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const CHUNK = join(GRAPHS, "chunk.json");

/** Write a file in the temp dir (under `sub` if given) and return its path. */
function file(name: string, text: string | Uint8Array): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, text);
  return p;
}

/** Run the real binary. */
function spawn(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/nadir.js"), ...args], {
    cwd: ROOT,
    input,
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NADIR_DEBUG: "" },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** One `ERROR: …` line on stderr, exit code 1, no stack trace. */

let trainFile: string;
let testFile: string;
let modelFile: string;

beforeAll(async () => {
  trainFile = file("train.txt", TRAIN);
  testFile = file("test.txt", TEST);
  modelFile = join(tmp.dir, "chunk.model");
  const r = await run([
    "train",
    "--graph",
    CHUNK,
    "--train",
    trainFile,
    "--model",
    modelFile,
    "--epochs",
    "10",
  ]);
  if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
});

describe("nadir train / tag / eval round trip", () => {
  it("train wrote the model and reported the epochs on stderr", async () => {
    expect(existsSync(modelFile)).toBe(true);
    expect(readdirSync(tmp.dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    const r = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--model",
      join(tmp.dir, "two.model"),
      "--epochs=2",
      "--no-shuffle",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^epoch 1: \d+ mistakes/m);
    expect(r.stderr).toMatch(/^epoch 2: /m);
    expect(r.stderr).not.toMatch(/^epoch 3: /m);
    expect(r.stderr).toContain("model written to");
    expect(r.stderr).toContain("kept epoch 2");
  });

  it("tag appends the prediction as the last column and keeps the blank lines", async () => {
    const r = await run(["tag", "--model", modelFile, testFile]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const inLines = TEST.trimEnd().split("\n");
    const outLines = r.stdout.split("\n");
    // one output line per input line, a blank line after each sentence, final newline
    expect(outLines).toHaveLength(inLines.length + 2);
    expect(outLines.at(-1)).toBe("");
    expect(outLines.at(-2)).toBe("");
    const labels = new Set(["B-NP", "I-NP", "B-VP", "I-VP", "B-PP", "O"]);
    inLines.forEach((line, i) => {
      const out = outLines[i]!;
      if (line === "") {
        expect(out).toBe("");
        return;
      }
      expect(out.startsWith(line)).toBe(true);
      const extra = out.slice(line.length);
      expect(extra).toMatch(/^[ \t]\S+$/);
      expect(labels.has(extra.slice(1))).toBe(true);
      expect(out.split(/\s+/)).toHaveLength(4);
    });
  });

  it("tag --output writes the same text to a file; eval scores it", async () => {
    const stdout = (await run(["tag", "--model", modelFile, testFile])).stdout;
    const out = join(tmp.dir, "tagged.txt");
    const r = await run(["tag", "--model", modelFile, testFile, "--output", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(out, "utf8")).toBe(stdout);

    const ev = await run(["eval", out]);
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(
      /^processed 11 tokens with \d+ phrases; found: \d+ phrases; correct: \d+\.$/m,
    );
    expect(ev.stdout).toMatch(
      /^accuracy: +\d+\.\d\d%; precision: +\d+\.\d\d%; recall: +\d+\.\d\d%; FB1: +\d+\.\d\d$/m,
    );
    expect(ev.stdout).toMatch(/^ +NP: precision: /m);

    const js = await run(["eval", "--json", out]);
    expect(js.code).toBe(0);
    const j = JSON.parse(js.stdout) as { f1: unknown; tokens: unknown };
    expect(typeof j.f1).toBe("number");
    expect(j.f1 as number).toBeGreaterThanOrEqual(0);
    expect(j.f1 as number).toBeLessThanOrEqual(100);
    expect(j.tokens).toBe(11);

    const none = await run(["eval", "--encoding", "none", out]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^accuracy: +\d+\.\d\d% \(\d+ of 11 tokens\)$/m);
  });

  it("the model tags its own training data perfectly (eval F1 = 100)", async () => {
    const out = join(tmp.dir, "train-tagged.txt");
    expect((await run(["tag", "--model", modelFile, trainFile, "--output", out])).code).toBe(0);
    const js = JSON.parse((await run(["eval", "--json", out])).stdout) as { f1: number };
    expect(js.f1).toBe(100);
  });
});

describe("nadir errors: one ERROR line, exit 1", () => {
  it("unknown command", async () => {
    const r = await run(["frobnicate"]);
    expectOneError(r, "unknown command 'frobnicate'", "train", "tag", "eval");
    expect(r.stdout).toBe("");
  });

  it("no command prints the usage and fails; --help succeeds", async () => {
    const none = await run([]);
    expect(none.code).toBe(1);
    expect(none.stdout + none.stderr).toContain("usage: nadir");
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const c of ["train", "tag", "eval"])
      expect(help.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  });

  it("train without --model", async () => {
    expectOneError(
      await run(["train", "--graph", CHUNK, "--train", trainFile]),
      "--model",
      "required",
    );
  });

  it("unknown flag and bad option value", async () => {
    expectOneError(await run(["tag", "--modle", modelFile]), "modle");
    const model = join(tmp.dir, "bad-epochs.model");
    const r = await run([
      "train",
      "--graph",
      CHUNK,
      "--train",
      trainFile,
      "--model",
      model,
      "--epochs",
      "0",
    ]);
    expectOneError(r, "epochs");
    expect(existsSync(model)).toBe(false);
  });

  it("a corpus line with the wrong number of columns names file:line; no model", async () => {
    const bad = file("bad-columns.txt", TRAIN.replace("account NN I-NP", "account I-NP"));
    const line = TRAIN.split("\n").indexOf("account NN I-NP") + 1;
    const model = join(tmp.dir, "bad-columns.model");
    const r = await run(["train", "--graph", CHUNK, "--train", bad, "--model", model]);
    expectOneError(r, `${bad}:${line}`, "columns");
    expect(existsSync(model)).toBe(false);
  });

  it("an unknown column in a template names the spec key", async () => {
    const spec = JSON.parse(readFileSync(CHUNK, "utf8")) as { templates: string[] };
    spec.templates.push("lemma[0]");
    const specFile = file("bad-spec.json", JSON.stringify(spec, null, 2));
    const model = join(tmp.dir, "bad-spec.model");
    const r = await run(["train", "--graph", specFile, "--train", trainFile, "--model", model]);
    expectOneError(r, specFile, `templates[${spec.templates.length - 1}]`, "lemma");
    expect(existsSync(model)).toBe(false);
  });

  it("a truncated model for tag names the model file", async () => {
    const bytes = readFileSync(modelFile);
    const cut = file("cut.model", bytes.subarray(0, bytes.length >> 1));
    const r = await run(["tag", "--model", cut, testFile]);
    expectOneError(r, cut);
    expect(r.stdout).toBe("");
  });

  it("tag --output on a bad input leaves no output file", async () => {
    const dir = join(tmp.dir, "out-bad");
    mkdirSync(dir);
    const badInput = file("bad-input.txt", `${TEST}\nword\n`);
    const out = join(dir, "out.txt");
    const r = await run(["tag", "--model", modelFile, badInput, "--output", out]);
    expectOneError(r, badInput);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("missing input files are named", async () => {
    const missing = join(tmp.dir, "nope.txt");
    expectOneError(await run(["tag", "--model", modelFile, missing]), missing);
    expectOneError(await run(["eval", missing]), missing);
    expectOneError(
      await run([
        "train",
        "--graph",
        CHUNK,
        "--train",
        missing,
        "--model",
        join(tmp.dir, "x.model"),
      ]),
      missing,
    );
  });
});

describe("nadir <command> --help", () => {
  it("train lists every declared training option with its help and default", async () => {
    expect(TRAIN_OPTIONS.find((o) => o.name === "epochs")?.default).toBe(10);
    const r = await run(["train", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    for (const flag of ["--graph", "--train", "--dev", "--model", "--help"])
      expect(r.stdout).toContain(flag);
    for (const o of TRAIN_OPTIONS) {
      const line = lines.find((l) => l.includes(o.name) && l.includes(o.help));
      expect(line, o.name).toBeDefined();
      // flags without a meaningful default ("" / false) show none
      const d = o.default as unknown;
      if (d !== "" && d !== false) expect(line).toContain(`(default: ${d})`);
    }
  });

  it("tag and eval list their options", async () => {
    const tag = await run(["tag", "--help"]);
    expect(tag.code).toBe(0);
    expect(tag.stdout).toContain("usage: nadir tag");
    expect(tag.stdout).toContain("--model");
    expect(tag.stdout).toContain("--output");
    const ev = await run(["eval", "--help"]);
    expect(ev.code).toBe(0);
    expect(ev.stdout).toContain("--json");
    const enc = ev.stdout.split("\n").find((l) => l.trimStart().startsWith("--encoding"));
    expect(enc).toContain("auto|iob2|iob1|bioes|none");
    expect(enc).toContain("(default: auto)");
  });
});

describe("the real binary (bin/nadir.js)", () => {
  it("an error is one ERROR line without a stack trace, exit code 1", () => {
    const bytes = readFileSync(modelFile);
    const cut = file("spawn-cut.model", bytes.subarray(0, bytes.length - 10));
    const r = spawn(["tag", "--model", cut, testFile]);
    expectOneError(r, cut);
    expect(r.stdout).toBe("");
    const bad = file("spawn-bad.txt", "a B c\nd\n");
    const t = spawn([
      "train",
      "--graph",
      CHUNK,
      "--train",
      bad,
      "--model",
      join(tmp.dir, "s.model"),
    ]);
    expectOneError(t, `${bad}:2`);
    expect(existsSync(join(tmp.dir, "s.model"))).toBe(false);
  });

  it("tag - reads stdin", async () => {
    const expected = (await run(["tag", "--model", modelFile, testFile])).stdout;
    const r = spawn(["tag", "--model", modelFile, "-"], TEST);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(expected);
  });
});
