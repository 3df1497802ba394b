/**
 * The reliability suite: a seeded fuzzer (fast-check, fixed seeds, so every run
 * draws the same cases) over every kind of file nadir reads — corpora (CoNLL,
 * CoNLL-U, CRFsuite data), graph specs, models, checkpoints, completion models,
 * grid models and images. Most cases run in-process through the CLI's `main`
 * and through the library loaders; a sample runs the real binary.
 *
 * For every case: a failure is exit code 1 with exactly one `ERROR:` line, no
 * stack trace and no internal error, and nothing is written under the output
 * name (nor a temporary file left beside it). A corrupted model, checkpoint,
 * completion model or grid model must be refused — a load of changed content
 * is a "silent load" and fails the suite. Inputs that stay valid after a
 * mutation (a changed word in a corpus, a changed pixel) may be accepted.
 * The counts per target are printed at the end.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Lbl, zeroParams } from "../../src/complete/lbl.ts";
import { Vocab } from "../../src/complete/text.ts";
import { Rng } from "../../src/core/rng.ts";
import {
  type BitImage,
  decodePng,
  encodePbm,
  encodePgm,
  encodePng,
  maskToGray,
  parsePnm,
} from "../../src/data/image.ts";
import { checkpointFromBytes } from "../../src/optimize/checkpoint.ts";
import { flipNoise } from "../../src/segment/images.ts";
import { GridModel } from "../../src/segment/model.ts";
import { Model } from "../../src/tagger/model.ts";
import { TEST, TRAIN } from "../cli/harness.ts";
import { EWT_DEV, GRAPHS, ROOT, tempDir } from "../fixtures/helpers.ts";
import {
  load,
  type Mutation,
  mutate,
  mutateInner,
  mutation,
  runChecked,
  sameContent,
  TALLY,
  tally,
  tallyTable,
} from "./mutate.ts";

const tmp = tempDir();
const p = (name: string) => join(tmp.dir, name);
afterAll(() => {
  const table = tallyTable();
  console.log(`reliability fuzzer (fixed seeds):\n${table}`);
  if (process.env.NADIR_RELIABILITY_COUNTS)
    writeFileSync(process.env.NADIR_RELIABILITY_COUNTS, `${table}\n`);
  tmp.cleanup();
});

const CHUNK = join(GRAPHS, "chunk.json");
const POS = join(GRAPHS, "pos.json");
const CRFSUITE = join(GRAPHS, "crfsuite.json");
const CRF_TRAIN = join(ROOT, "test/fixtures/crfsuite/tiny.train.txt");
const CRF_TEST = join(ROOT, "test/fixtures/crfsuite/tiny.test.txt");
const QUICK = ["--epochs", "1", "--threads", "1"];

const bytes = (f: string) => new Uint8Array(readFileSync(f));

function disk(w: number, h: number, cx: number, cy: number, r: number): BitImage {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data[y * w + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
  return { width: w, height: h, data };
}

/** The first `n` sentences of the shipped EWT dev file, as CoNLL-U text. */
function ewtHead(n: number): string {
  const text = gunzipSync(readFileSync(EWT_DEV)).toString("utf8");
  const blocks = text.split("\n\n").slice(0, n);
  return `${blocks.join("\n\n")}\n\n`;
}

// The valid inputs every target starts from, built once by the real commands.
const base: Record<string, Uint8Array> = {};
let n = 0;
/** A fresh file name under the temporary directory. */
const fresh = (ext: string) => p(`case-${++n}${ext}`);

beforeAll(async () => {
  writeFileSync(p("train.txt"), TRAIN);
  writeFileSync(p("test.txt"), TEST);
  writeFileSync(p("ewt.conllu"), ewtHead(40));
  const ok = async (argv: string[]) => {
    const r = await runChecked(argv, null, tmp.dir);
    expect(r.code, r.stderr).toBe(0);
  };
  await ok([
    "train",
    "--graph",
    CHUNK,
    "--train",
    p("train.txt"),
    "--model",
    p("chunk.nadir"),
    "--checkpoint",
    p("ap.ck"),
    "--epochs",
    "2",
    "--threads",
    "1",
  ]);
  await ok([
    "train",
    "--graph",
    CHUNK,
    "--train",
    p("train.txt"),
    "--model",
    p("nll.nadir"),
    "--checkpoint",
    p("lbfgs.ck"),
    "--loss",
    "nll",
    "--optimizer",
    "lbfgs",
    "--iterations",
    "3",
    "--eval-every",
    "1",
    "--threads",
    "1",
  ]);
  await ok([
    "train",
    "--graph",
    POS,
    "--train",
    p("ewt.conllu"),
    "--model",
    p("pos.nadir"),
    ...QUICK,
  ]);
  await ok([
    "train",
    "--graph",
    CRFSUITE,
    "--train",
    CRF_TRAIN,
    "--model",
    p("crf.nadir"),
    ...QUICK,
  ]);
  // grid model: two noisy disks and their masks
  const masks = [disk(16, 12, 6, 6, 4), disk(16, 12, 10, 5, 5)];
  masks.forEach((m, i) => {
    writeFileSync(p(`img${i}.pgm`), encodePgm(maskToGray(flipNoise(m, 0.1, new Rng(i + 1)))));
    writeFileSync(p(`mask${i}.pbm`), encodePbm(m));
  });
  await ok([
    "segment",
    "train",
    "--images",
    `${p("img0.pgm")},${p("img1.pgm")}`,
    "--masks",
    `${p("mask0.pbm")},${p("mask1.pbm")}`,
    "--model",
    p("grid.model"),
    "--epochs",
    "2",
  ]);
  // completion model: a tiny vocabulary, random weights, f32 and i8 files
  const words = ["<unk>", "<s>", "the", "cat", "ate", "fish", "dog", "ran", ".", "a"];
  const lbl = new Lbl(new Vocab(words), 4, 2, 1, zeroParams(words.length, 4, 3));
  const rng = new Rng(7);
  for (const a of [lbl.p.R, lbl.p.Q, lbl.p.b, lbl.p.W])
    for (let i = 0; i < a.length; i++) a[i] = rng.next() - 0.5;
  writeFileSync(p("f32.lbl"), lbl.toBytes("f32"));
  writeFileSync(p("i8.lbl"), lbl.toBytes("i8"));
  // images: P5, P2, P4, P1, PNG
  const img = maskToGray(flipNoise(disk(16, 12, 8, 6, 4), 0.1, new Rng(3)));
  base.p5 = new Uint8Array(encodePgm(img));
  base.p2 = new Uint8Array(encodePgm(img, { ascii: true }));
  base.p4 = new Uint8Array(encodePbm(disk(16, 12, 8, 6, 4)));
  base.p1 = new Uint8Array(encodePbm(disk(16, 12, 8, 6, 4), { ascii: true }));
  base.png = new Uint8Array(encodePng(img));
  for (const f of [
    "chunk.nadir",
    "nll.nadir",
    "pos.nadir",
    "crf.nadir",
    "ap.ck",
    "lbfgs.ck",
    "grid.model",
    "f32.lbl",
    "i8.lbl",
  ])
    base[f] = bytes(p(f));
  base.spec = bytes(CHUNK);
});

/** fast-check settings of one property: a fixed seed per target, no time limit. */
const opts = (seed: number, numRuns: number) => ({ seed, numRuns, endOnFailure: true });

/** A corrupted file through a command: must be a clean error; must-refuse targets may not load. */
async function corruptThroughCli(
  target: string,
  corrupt: Uint8Array,
  original: Uint8Array,
  ext: string,
  argv: (file: string, out: string) => string[],
  outExt: string,
  mustRefuse: boolean,
  gz = false,
): Promise<void> {
  const t = tally(target);
  const file = fresh(ext);
  const out = fresh(outExt);
  writeFileSync(file, corrupt);
  t.cases++;
  const r = await runChecked(argv(file, out), out, tmp.dir);
  if (r.code === 1) t.clean++;
  else if (!mustRefuse) t.accepted++;
  else if (gz && sameContent(corrupt, new Uint8Array(gunzipSync(original)))) t.benign++;
  else t.silent++;
  rmSync(file, { force: true });
  rmSync(out, { force: true });
}

/** A corrupted file through a library loader: refused, or (only for the same content) loaded. */
function corruptThroughLoader(
  target: string,
  corrupt: Uint8Array,
  original: Uint8Array,
  f: (b: Uint8Array) => unknown,
  gz = false,
): void {
  const t = tally(target);
  t.cases++;
  if (load(() => f(corrupt)) === "refused") t.clean++;
  else if (gz && sameContent(corrupt, new Uint8Array(gunzipSync(original)))) t.benign++;
  else t.silent++;
}

describe("models, checkpoints, completion and grid models: every corruption refused", () => {
  const tagArgs = (file: string, out: string) => [
    "tag",
    "--model",
    file,
    p("test.txt"),
    "--output",
    out,
  ];

  it("nadir models (.nadir, gzipped): raw bytes through tag and Model.fromBytes", async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        await corruptThroughCli(
          "model .nadir (tag)",
          mutate(base["chunk.nadir"]!, m),
          base["chunk.nadir"]!,
          ".nadir",
          tagArgs,
          ".out",
          true,
          true,
        );
      }),
      opts(1201, 100),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("chunk.nadir", "nll.nadir", "pos.nadir", "crf.nadir"),
        mutation,
        (f, m) => {
          corruptThroughLoader(
            "model .nadir (loader)",
            mutate(base[f]!, m),
            base[f]!,
            (b) => Model.fromBytes(b),
            true,
          );
        },
      ),
      opts(1202, 400),
    );
    expect(tally("model .nadir (tag)").silent + tally("model .nadir (loader)").silent).toBe(0);
  });

  it("nadir models: content changed and gzipped again (gzip's CRC valid, the container's not)", async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        await corruptThroughCli(
          "model re-gzipped (tag)",
          mutateInner(base["chunk.nadir"]!, m),
          base["chunk.nadir"]!,
          ".nadir",
          tagArgs,
          ".out",
          true,
          true,
        );
      }),
      opts(1203, 60),
    );
    fc.assert(
      fc.property(
        fc.constantFrom("chunk.nadir", "nll.nadir", "pos.nadir", "crf.nadir"),
        mutation,
        (f, m) => {
          corruptThroughLoader(
            "model re-gzipped (loader)",
            mutateInner(base[f]!, m),
            base[f]!,
            (b) => Model.fromBytes(b),
            true,
          );
        },
      ),
      opts(1204, 200),
    );
    expect(tally("model re-gzipped (tag)").silent + tally("model re-gzipped (loader)").silent).toBe(
      0,
    );
  });

  it("checkpoints (perceptron and L-BFGS): through train --resume and checkpointFromBytes", async () => {
    const resume = (file: string, out: string) => [
      "train",
      "--graph",
      CHUNK,
      "--train",
      p("train.txt"),
      "--resume",
      file,
      "--model",
      out,
      "--epochs",
      "3",
      "--threads",
      "1",
    ];
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        await corruptThroughCli(
          "checkpoint (train --resume)",
          mutate(base["ap.ck"]!, m),
          base["ap.ck"]!,
          ".ck",
          resume,
          ".nadir",
          true,
        );
      }),
      opts(1205, 60),
    );
    fc.assert(
      fc.property(fc.constantFrom("ap.ck", "lbfgs.ck"), mutation, (f, m) => {
        corruptThroughLoader("checkpoint (loader)", mutate(base[f]!, m), base[f]!, (b) =>
          checkpointFromBytes(b),
        );
      }),
      opts(1206, 300),
    );
    expect(tally("checkpoint (train --resume)").silent + tally("checkpoint (loader)").silent).toBe(
      0,
    );
  });

  it("completion models (.lbl, f32 and i8): through complete and Lbl.fromBytes", async () => {
    const complete = (file: string) => [
      "complete",
      "the cat ate the ___",
      "--model",
      file,
      "--k",
      "3",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("f32.lbl", "i8.lbl"), mutation, async (f, m) => {
        await corruptThroughCli(
          "completion .lbl (complete)",
          mutate(base[f]!, m),
          base[f]!,
          ".lbl",
          complete,
          ".unused",
          true,
        );
      }),
      opts(1207, 80),
    );
    fc.assert(
      fc.property(fc.constantFrom("f32.lbl", "i8.lbl"), mutation, (f, m) => {
        corruptThroughLoader("completion .lbl (loader)", mutate(base[f]!, m), base[f]!, (b) =>
          Lbl.fromBytes(b),
        );
      }),
      opts(1208, 300),
    );
    expect(
      tally("completion .lbl (complete)").silent + tally("completion .lbl (loader)").silent,
    ).toBe(0);
  });

  it("grid models: through segment apply and GridModel.fromBytes", async () => {
    writeFileSync(p("apply.pgm"), base.p5!);
    const apply = (file: string, out: string) => [
      "segment",
      "apply",
      "--model",
      file,
      p("apply.pgm"),
      "--output",
      out,
    ];
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        await corruptThroughCli(
          "grid model (segment apply)",
          mutate(base["grid.model"]!, m),
          base["grid.model"]!,
          ".model",
          apply,
          ".pbm",
          true,
        );
      }),
      opts(1209, 60),
    );
    fc.assert(
      fc.property(mutation, (m) => {
        corruptThroughLoader(
          "grid model (loader)",
          mutate(base["grid.model"]!, m),
          base["grid.model"]!,
          (b) => GridModel.fromBytes(b),
        );
      }),
      opts(1210, 300),
    );
    expect(tally("grid model (segment apply)").silent + tally("grid model (loader)").silent).toBe(
      0,
    );
  });
});

describe("images: a clean error or a valid image", () => {
  it("PGM (P5, P2), PBM (P4, P1) and PNG through segment apply and the decoders", async () => {
    const apply = (file: string, out: string) => [
      "segment",
      "apply",
      "--model",
      p("grid.model"),
      file,
      "--output",
      out,
    ];
    const kinds = ["p5", "p2", "p4", "p1", "png"] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...kinds), mutation, async (k, m) => {
        const ext = k === "png" ? ".png" : k === "p4" || k === "p1" ? ".pbm" : ".pgm";
        await corruptThroughCli(
          `image ${k} (segment apply)`,
          mutate(base[k]!, m),
          base[k]!,
          ext,
          apply,
          ".pbm",
          false,
        );
      }),
      opts(1211, 150),
    );
    fc.assert(
      fc.property(fc.constantFrom(...kinds), mutation, (k, m) => {
        const t = tally(`image ${k === "png" ? "png" : "pnm"} (decoder)`);
        const b = mutate(base[k]!, m);
        t.cases++;
        const r = load(() => (k === "png" ? decodePng(b, "x.png") : parsePnm(b, "x.pnm")));
        if (r === "refused") t.clean++;
        else t.accepted++;
      }),
      opts(1212, 400),
    );
  });
});

/** Line-level corruptions of a text corpus, plus byte mutations. */
type TextEdit =
  | { k: "bytes"; m: Mutation }
  | { k: "drop-column"; line: number }
  | { k: "add-column"; line: number; s: string }
  | { k: "replace-line"; line: number; s: string }
  | { k: "blank-lines"; line: number }
  | { k: "line-endings"; eol: "\r" | "\r\n" };

const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "\t",
    "\u0000",
    "\uFEFF",
    "NaN",
    "1e400",
    "#",
    "x:y:z",
    "a:",
    ":",
    "\\",
    "-",
    "_",
    "1-2",
    "1.1",
    "0",
  ),
);

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ k: fc.constant("bytes" as const), m: mutation }),
  fc.record({ k: fc.constant("drop-column" as const), line: fc.nat() }),
  fc.record({ k: fc.constant("add-column" as const), line: fc.nat(), s: junk }),
  fc.record({ k: fc.constant("replace-line" as const), line: fc.nat(), s: junk }),
  fc.record({ k: fc.constant("blank-lines" as const), line: fc.nat() }),
  fc.record({
    k: fc.constant("line-endings" as const),
    eol: fc.constantFrom("\r" as const, "\r\n" as const),
  }),
);

function editText(text: string, e: TextEdit, sep: string): Uint8Array {
  if (e.k === "bytes") return mutate(new Uint8Array(Buffer.from(text)), e.m);
  if (e.k === "line-endings") return new Uint8Array(Buffer.from(text.replace(/\n/g, e.eol)));
  const lines = text.split("\n");
  const nonEmpty = lines.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
  const i = nonEmpty[e.line % nonEmpty.length]!;
  const cols = lines[i]!.split(sep);
  if (e.k === "drop-column") lines[i] = cols.slice(0, -1).join(sep);
  else if (e.k === "add-column") lines[i] = [...cols, e.s].join(sep);
  else if (e.k === "replace-line") lines[i] = e.s;
  else lines.splice(i, 0, "", "", "");
  return new Uint8Array(Buffer.from(lines.join("\n")));
}

describe("corpora: a clean error or a valid corpus", () => {
  async function corpus(
    target: string,
    corrupt: Uint8Array,
    ext: string,
    argv: (file: string, out: string) => string[],
  ) {
    const t = tally(target);
    const file = fresh(ext);
    const out = fresh(".out");
    writeFileSync(file, corrupt);
    t.cases++;
    const r = await runChecked(argv(file, out), out, tmp.dir);
    if (r.code === 1) t.clean++;
    else t.accepted++;
    rmSync(file, { force: true });
    rmSync(out, { force: true });
  }

  it("CoNLL columns: as training data (train) and as input (tag)", async () => {
    await fc.assert(
      fc.asyncProperty(textEdit, async (e) => {
        await corpus("CoNLL (train)", editText(TRAIN, e, " "), ".txt", (f, out) => [
          "train",
          "--graph",
          CHUNK,
          "--train",
          f,
          "--model",
          out,
          ...QUICK,
        ]);
      }),
      opts(1213, 120),
    );
    await fc.assert(
      fc.asyncProperty(textEdit, async (e) => {
        await corpus("CoNLL (tag)", editText(TEST, e, " "), ".txt", (f, out) => [
          "tag",
          "--model",
          p("chunk.nadir"),
          f,
          "--output",
          out,
        ]);
      }),
      opts(1214, 100),
    );
  });

  it("CoNLL-U: as training data (train) and as input (tag)", async () => {
    const text = readFileSync(p("ewt.conllu"), "utf8");
    const small = `${text.split("\n\n").slice(0, 6).join("\n\n")}\n\n`;
    await fc.assert(
      fc.asyncProperty(textEdit, async (e) => {
        await corpus("CoNLL-U (train)", editText(small, e, "\t"), ".conllu", (f, out) => [
          "train",
          "--graph",
          POS,
          "--train",
          f,
          "--model",
          out,
          ...QUICK,
        ]);
      }),
      opts(1215, 80),
    );
    await fc.assert(
      fc.asyncProperty(textEdit, async (e) => {
        await corpus("CoNLL-U (tag)", editText(small, e, "\t"), ".conllu", (f, out) => [
          "tag",
          "--model",
          p("pos.nadir"),
          f,
          "--output",
          out,
        ]);
      }),
      opts(1216, 80),
    );
  });

  it("CRFsuite data files: as training data (train) and as input (tag)", async () => {
    const train = readFileSync(CRF_TRAIN, "utf8");
    const test = readFileSync(CRF_TEST, "utf8");
    await fc.assert(
      fc.asyncProperty(textEdit, async (e) => {
        await corpus("CRFsuite data (train)", editText(train, e, "\t"), ".txt", (f, out) => [
          "train",
          "--graph",
          CRFSUITE,
          "--train",
          f,
          "--model",
          out,
          ...QUICK,
        ]);
      }),
      opts(1217, 80),
    );
    await fc.assert(
      fc.asyncProperty(textEdit, async (e) => {
        await corpus("CRFsuite data (tag)", editText(test, e, "\t"), ".txt", (f, out) => [
          "tag",
          "--model",
          p("crf.nadir"),
          f,
          "--output",
          out,
        ]);
      }),
      opts(1218, 80),
    );
  });
});

/** Structural edits of a spec's JSON, or byte mutations of its text. */
type SpecEdit =
  | { k: "bytes"; m: Mutation }
  | { k: "set"; key: string; v: unknown }
  | { k: "delete"; key: string }
  | { k: "unknown-key"; key: string; v: unknown }
  | { k: "template"; i: number; s: string }
  | { k: "train-path"; key: string };

describe("graph specs (JSON): a clean error or a valid spec", () => {
  it("train with a mutated spec", async () => {
    const spec = JSON.parse(Buffer.from(base.spec!).toString("utf8")) as Record<string, unknown>;
    const keys = Object.keys(spec);
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        -1,
        0,
        1,
        1e9,
        "chain",
        "grid",
        "conllu",
        "crfsuite",
        "iob1",
        "bioes",
        [],
        {},
        null,
      ),
    );
    const edit: fc.Arbitrary<SpecEdit> = fc.oneof(
      fc.record({ k: fc.constant("bytes" as const), m: mutation }),
      fc.record({ k: fc.constant("set" as const), key: fc.constantFrom(...keys), v: value }),
      fc.record({ k: fc.constant("delete" as const), key: fc.constantFrom(...keys) }),
      fc.record({
        k: fc.constant("unknown-key" as const),
        key: fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !keys.includes(s)),
        v: value,
      }),
      fc.record({
        k: fc.constant("template" as const),
        i: fc.nat(),
        s: fc.oneof(
          fc.string({ maxLength: 16 }),
          fc.constantFrom(
            "w[",
            "w[0",
            "w[x]",
            "nope[0]",
            "w[0]|",
            "w[99999999999]",
            "w[0]|w[0]",
            "",
          ),
        ),
      }),
      fc.record({
        k: fc.constant("train-path" as const),
        key: fc.constantFrom("checkpoint", "init", "resume", "model"),
      }),
    );
    await fc.assert(
      fc.asyncProperty(edit, async (e) => {
        let text: Uint8Array;
        const s = structuredClone(spec);
        if (e.k === "bytes") text = mutate(base.spec!, e.m);
        else {
          if (e.k === "set") s[e.key] = e.v;
          else if (e.k === "delete") delete s[e.key];
          else if (e.k === "unknown-key") s[e.key] = e.v;
          else if (e.k === "template") {
            const ts = s.templates as string[];
            ts[e.i % ts.length] = e.s;
          } else s.train = { epochs: 1, [e.key]: p("victim.txt") };
          text = new Uint8Array(Buffer.from(JSON.stringify(s)));
        }
        const t = tally("graph spec (train)");
        const file = fresh(".json");
        const out = fresh(".nadir");
        writeFileSync(file, text);
        writeFileSync(p("victim.txt"), "keep");
        t.cases++;
        const r = await runChecked(
          ["train", "--graph", file, "--train", p("train.txt"), "--model", out, ...QUICK],
          out,
          tmp.dir,
        );
        if (r.code === 1) t.clean++;
        else t.accepted++;
        // a spec never names a file nadir writes or reads
        expect(readFileSync(p("victim.txt"), "utf8")).toBe("keep");
        if (e.k === "train-path" || e.k === "unknown-key") expect(r.code, r.stderr).toBe(1);
        rmSync(file, { force: true });
        rmSync(out, { force: true });
      }),
      opts(1219, 200),
    );
  });
});

describe("found by the fuzzer", () => {
  it("a spec whose JSON error quotes a line break still fails with one ERROR line", async () => {
    const file = p("broken-lines.json");
    writeFileSync(file, '{"name": "x", "columns": ["w",\n! "pos"]}');
    const r = await runChecked(
      ["train", "--graph", file, "--train", p("train.txt"), "--model", p("never.nadir"), ...QUICK],
      p("never.nadir"),
      tmp.dir,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("broken-lines.json: invalid JSON");
  });
});

describe("the real binary (a sample)", () => {
  it("corrupted model, checkpoint, completion model, grid model, image, corpus and spec: one ERROR line, exit 1, no output", () => {
    const bin = join(ROOT, "bin/nadir.js");
    const cases: { file: string; data: Uint8Array; argv: (f: string, out: string) => string[] }[] =
      [];
    const rng = new Rng(1220);
    const pick = (b: Uint8Array, k: number): Uint8Array => {
      const m: Mutation =
        k % 2
          ? { k: "flip", at: Math.floor(rng.next() * b.length), bit: k % 8 }
          : { k: "truncate", at: Math.floor(rng.next() * b.length) };
      return mutate(b, m);
    };
    for (let k = 0; k < 2; k++) {
      cases.push({
        file: "m.nadir",
        data: pick(base["chunk.nadir"]!, k),
        argv: (f, out) => ["tag", "--model", f, p("test.txt"), "--output", out],
      });
      cases.push({
        file: "m.ck",
        data: pick(base["ap.ck"]!, k),
        argv: (f, out) => [
          "train",
          "--graph",
          CHUNK,
          "--train",
          p("train.txt"),
          "--resume",
          f,
          "--model",
          out,
          "--epochs",
          "3",
          "--threads",
          "1",
        ],
      });
      cases.push({
        file: "m.lbl",
        data: pick(base["f32.lbl"]!, k),
        argv: (f) => ["complete", "the ___", "--model", f],
      });
      cases.push({
        file: "m.model",
        data: pick(base["grid.model"]!, k),
        argv: (f, out) => ["segment", "apply", "--model", f, p("apply.pgm"), "--output", out],
      });
    }
    cases.push({
      file: "bad.png",
      data: base.png!.slice(0, 40),
      argv: (f, out) => ["segment", "apply", "--model", p("grid.model"), f, "--output", out],
    });
    cases.push({
      file: "bad.txt",
      data: new Uint8Array(Buffer.from("He PRP B-NP\nreckons\n")),
      argv: (f, out) => ["train", "--graph", CHUNK, "--train", f, "--model", out, ...QUICK],
    });
    cases.push({
      file: "bad.json",
      data: new Uint8Array(
        Buffer.from(
          '{"name": "x", "columns": ["w"], "label": -1, "train": {"checkpoint": "/tmp/x"}}',
        ),
      ),
      argv: (f, out) => [
        "train",
        "--graph",
        f,
        "--train",
        p("train.txt"),
        "--model",
        out,
        ...QUICK,
      ],
    });
    const t = tally("real binary (sample)");
    for (const c of cases) {
      const file = p(`bin-${c.file}`);
      const out = p("bin-out");
      writeFileSync(file, c.data);
      const r = spawnSync(process.execPath, [bin, ...c.argv(file, out)], {
        encoding: "utf8",
        timeout: 30_000,
      });
      t.cases++;
      expect(r.status, r.stderr).toBe(1);
      const lines = r.stderr.trimEnd().split("\n");
      expect(
        lines.filter((l) => l.includes("ERROR")),
        r.stderr,
      ).toHaveLength(1);
      expect(lines.at(-1)!.startsWith("ERROR: "), r.stderr).toBe(true);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toContain("internal error");
      expect(existsSync(out)).toBe(false);
      t.clean++;
    }
  });

  it("ran at least 1,000 cases", () => {
    const total = [...TALLY.values()].reduce((s, t) => s + t.cases, 0);
    expect(total).toBeGreaterThanOrEqual(1000);
  });
});
