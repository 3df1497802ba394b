/** Streaming `nadir tag`: per-sentence output, back-pressure, verbatim echo, JSON Lines. */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { Model } from "../../src/tagger/model.ts";
import { GRAPHS, ROOT, tempDir } from "../fixtures/helpers.ts";
import { run, TEST, TRAIN } from "./harness.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let modelFile: string;
let testFile: string;

function file(name: string, data: string | Uint8Array): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, data);
  return p;
}

beforeAll(async () => {
  const trainFile = file("train.txt", TRAIN);
  testFile = file("test.txt", TEST);
  modelFile = join(tmp.dir, "chunk.model");
  const r = await run([
    "train",
    ...["--graph", join(GRAPHS, "chunk.json"), "--train", trainFile, "--model", modelFile],
  ]);
  if (r.code !== 0) throw new Error(`training failed: ${r.stderr}`);
});

/** The real process, through tsx, reading stdin. */
function nadir(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/bin.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, NADIR_DEBUG: "" },
  });
}

/** Resolve with the stdout text once it holds `n` complete sentences (blank-line terminated). */
function sentencesOut(child: ChildProcessWithoutNullStreams, n: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (b: Buffer) => {
      text += b.toString("utf8");
      if (text.split("\n\n").length - 1 >= n) {
        child.stdout.off("data", onData);
        resolve(text);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited (${code}) after: ${text}`)));
  });
}

describe("nadir tag streams", () => {
  it("writes each sentence before the next one is sent (a live pipeline)", async () => {
    const [s1, s2] = TEST.trim().split("\n\n") as [string, string];
    const child = nadir(["tag", "--model", modelFile, "-"]);
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<number | null>((r) => child.once("exit", r));
    // stdin stays open: the first sentence must come out while more input may follow
    const first = sentencesOut(child, 1);
    child.stdin.write(`${s1}\n\n`);
    const out1 = await first;
    expect(out1.split("\n").slice(0, -2)).toHaveLength(s1.split("\n").length);
    const second = sentencesOut(child, 1);
    child.stdin.write(`${s2}\n\n`);
    const out2 = await second;
    child.stdin.end();
    expect(await exited, stderr).toBe(0);
    const whole = (await run(["tag", "--model", modelFile, testFile])).stdout;
    expect(out1 + out2).toBe(whole);
  }, 60_000);

  it("waits for 'drain' when stdout is full (back-pressure)", async () => {
    // every sentence ends with a blank line: all are parsed from the first chunk read
    const input = file("blank-terminated.txt", `${TEST}\n`);
    const writes: string[] = [];
    const waiters: [number, () => void][] = [];
    const nth = (n: number) =>
      new Promise<void>((r) => {
        if (writes.length >= n) r();
        else waiters.push([n, r]);
      });
    const w = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: unknown) => {
      writes.push(String(chunk));
      for (const [n, r] of waiters) if (writes.length >= n) r();
      return false; // the pipe is full after every write
    }) as never);
    const e = vi.spyOn(process.stderr, "write").mockImplementation((() => true) as never);
    try {
      const done = main(["tag", "--model", modelFile, input]);
      await nth(1);
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      expect(writes).toHaveLength(1); // one sentence out, then waiting for 'drain'
      process.stdout.emit("drain");
      await nth(2);
      process.stdout.emit("drain");
      expect(await done).toBe(0);
      expect(writes).toHaveLength(2);
    } finally {
      w.mockRestore();
      e.mockRestore();
    }
    expect(writes.join("")).toBe((await run(["tag", "--model", modelFile, testFile])).stdout);
  });

  it("echoes invalid UTF-8 byte for byte and reads CR-only line endings", async () => {
    const bad = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf\xE9": Latin-1, not UTF-8
    const lines = TEST.trim().split("\n");
    lines[0] = lines[0]!.replace("The", "\u0000");
    const input = Buffer.concat(
      lines.map((l, i) =>
        Buffer.concat([
          i === 0 ? Buffer.concat([bad, Buffer.from(l.slice(1))]) : Buffer.from(l),
          Buffer.from("\r"),
        ]),
      ),
    );
    const out = join(tmp.dir, "latin1.out");
    const r = await run(["tag", "--model", modelFile, file("latin1.txt", input), "--output", out]);
    expect(r.code, r.stderr).toBe(0);
    const got = readFileSync(out);
    const firstLine = got.subarray(0, got.indexOf(10));
    expect(firstLine.subarray(0, bad.length).equals(bad)).toBe(true);
    expect(firstLine.toString("latin1")).toMatch(/^caf\xE9 DT B-NP \S+$/);
    // CR-only input: one output row per token, two sentences
    const rows = got.toString("latin1").split("\n");
    expect(rows.filter((x) => x !== "")).toHaveLength(lines.filter((x) => x !== "").length);
    expect(got.toString("latin1").split("\n\n")).toHaveLength(3);
  });

  it("--output streams to a temporary file and renames it at the end", async () => {
    const out = join(tmp.dir, "tagged.txt");
    const r = await run(["tag", "--model", modelFile, testFile, "--output", out]);
    expect(r.code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(
      (await run(["tag", "--model", modelFile, testFile])).stdout,
    );
    expect(readdirSync(tmp.dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});

describe("nadir tag --output interrupted", () => {
  it("SIGTERM while streaming removes the temporary file and leaves no output file", async () => {
    const dir = join(tmp.dir, "killed");
    mkdirSync(dir);
    const out = join(dir, "out.txt");
    const child = nadir(["tag", "--model", modelFile, "-", "--output", out]);
    const exited = new Promise<NodeJS.Signals | null>((r) =>
      child.once("exit", (_c, sig) => r(sig)),
    );
    child.stdin.write(`${TEST.trim().split("\n\n")[0]}\n\n`); // stdin stays open
    while (readdirSync(dir).length === 0) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(dir)[0]).toMatch(/^out\.txt\.tmp-/);
    child.kill("SIGTERM");
    expect(await exited).toBe("SIGTERM");
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe("nadir tag --jsonl", () => {
  it("one object per sentence: tokens, labels, energy (= the model's energy)", async () => {
    const r = await run(["tag", "--model", modelFile, testFile, "--jsonl"]);
    expect(r.code, r.stderr).toBe(0);
    const objs = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(objs).toHaveLength(2);
    const model = Model.load(modelFile);
    const sents = TEST.trim()
      .split("\n\n")
      .map((s) => s.split("\n").map((l) => l.split(" ")));
    objs.forEach((o, i) => {
      expect(o.sentence).toBe(i + 1);
      expect(o.tokens).toEqual(sents[i]!.map((t) => t[0]));
      expect(o.labels).toEqual(model.tag(sents[i]!));
      expect(o.energy).toBeCloseTo(model.energy(sents[i]!, o.labels), 9);
      expect(o.marginals).toBeUndefined();
      expect(o.kbest).toBeUndefined();
    });
    expect(objs[1].line).toBe(7);
    const json = await run(["tag", "--model", modelFile, testFile, "--json"]);
    expect(json.stdout).toBe(r.stdout);
  });

  it("--marginals and --kbest add confidence, marginals, beta and kbest", async () => {
    const r = await run([
      "tag",
      ...[
        "--model",
        modelFile,
        testFile,
        "--jsonl",
        "--marginals",
        "--beta",
        "0.5",
        "--kbest",
        "3",
      ],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const model = Model.load(modelFile);
    const o = JSON.parse(r.stdout.split("\n")[0]!);
    const sent = TEST.trim()
      .split("\n\n")[0]!
      .split("\n")
      .map((l) => l.split(" "));
    expect(o.beta).toBe(0.5);
    expect(o.kbest).toHaveLength(3);
    expect(o.kbest[0].labels).toEqual(o.labels);
    expect(o.kbest[0].energy).toBe(o.energy);
    expect(o.kbest[1].energy).toBeGreaterThanOrEqual(o.kbest[0].energy);
    const mu = model.density(sent, 0.5).marginals;
    const L = model.labels.length;
    for (let t = 0; t < sent.length; t++) {
      let sum = 0;
      for (let l = 0; l < L; l++) {
        expect(o.marginals[t][model.labels[l]!]).toBeCloseTo(mu[t * L + l]!, 12);
        sum += o.marginals[t][model.labels[l]!];
      }
      expect(sum).toBeCloseTo(1, 9);
      expect(o.confidence[t]).toBe(o.marginals[t][o.labels[t]]);
    }
  });

  it("--help documents the JSON schema", async () => {
    const r = await run(["tag", "--help"]);
    for (const k of ["--jsonl", '"tokens"', '"labels"', '"energy"', '"marginals"', '"kbest"'])
      expect(r.stdout).toContain(k);
  });
});

describe("nadir tag --jsonl on CRFsuite data", () => {
  it("gives each item's attribute fields as its token (there is no word column; the label is not a token)", async () => {
    const fixture = join(import.meta.dirname, "../fixtures/crfsuite");
    const r = await run([
      "tag",
      "--model",
      join(fixture, "tiny.crfsuite"),
      join(fixture, "tiny.test.txt"),
      "--jsonl",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const first = JSON.parse(r.stdout.split("\n")[0]!);
    expect(first.tokens[0]).toEqual(["w[0]=a", "len:0.25"]);
    expect(first.tokens).toHaveLength(first.labels.length);
  });
});
