import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CorpusSentence } from "../../src/architecture/corpus.ts";
import { loadSpec } from "../../src/architecture/spec.ts";
import { decodeContainer, encodeContainer, type SectionArray } from "../../src/core/container.ts";
import { MODEL_VERSION, Model } from "../../src/tagger/model.ts";
import { trainTagger } from "../../src/tagger/train.ts";
import { ewtSentences, GRAPHS, nadirError, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let model: Model;
let other: Model;
let heldOut: CorpusSentence[];
let modelPath: string;
let bytes: Buffer;

beforeAll(async () => {
  const pos = loadSpec(join(GRAPHS, "pos.json"));
  const train = await ewtSentences(300);
  heldOut = await ewtSentences(100, 300);
  model = trainTagger({ spec: pos, train, options: { epochs: 2 } }).model;
  other = trainTagger({ spec: pos, train: train.slice(0, 60), options: { epochs: 1 } }).model;
  modelPath = join(tmp.dir, "pos.model");
  model.save(modelPath);
  bytes = readFileSync(modelPath);
});

/** Write a variant of the saved model and return its path. */
function variant(name: string, data: Uint8Array): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, data);
  return p;
}

/** Recompute the container's trailing CRC-32 (to reach the checks behind it). */
function sealed(raw: Buffer): Buffer {
  raw.writeUInt32LE(crc32(raw.subarray(0, raw.length - 4)), raw.length - 4);
  return raw;
}

/** The saved model rewritten with a changed header and/or tables, correctly sealed. */
function rewritten(
  edit: (h: Record<string, unknown>, t: Record<string, SectionArray>) => void,
): Uint8Array {
  const d = decodeContainer(bytes, { magic: "NADIRMDL", version: MODEL_VERSION }, (m) => {
    throw new Error(m);
  });
  if (d.legacy) throw new Error("unexpected legacy model");
  edit(d.header, d.sections);
  return encodeContainer({ magic: "NADIRMDL", version: MODEL_VERSION }, d.header, d.sections, 6);
}

/** The uncompressed payload of the saved model, and the offset of its weights. */
function payload(): { raw: Buffer; weightsAt: number } {
  const raw = Buffer.from(gunzipSync(bytes));
  const headLen = 16 + raw.readUInt32LE(12);
  return { raw, weightsAt: headLen + ((8 - (headLen % 8)) % 8) };
}

function expectModelError(path: string, what?: string): void {
  const e = nadirError(() => Model.load(path));
  expect(e.code).toBe("E_MODEL");
  expect(e.file).toBe(path);
  expect(e.message).toContain(path);
  if (what) expect(e.message).toContain(what);
}

/**
 * Weights of the model keyed by attribute name (state rows, read through the
 * potentials of a one-token instance so that any state layout works) plus the
 * label-only parts (transition, start, end).
 */
function weightsByName(m: Model): { rows: Map<string, number[]>; rest: number[] } {
  const { A, L } = m.arch;
  const rows = new Map<string, number[]>();
  const one = (a: number) => ({
    T: 1,
    offsets: Int32Array.of(0, 1),
    attrs: Int32Array.of(a),
    labels: Int32Array.of(0),
  });
  for (let a = 0; a < A; a++) {
    const row = Array.from(m.arch.potentials(one(a), m.W, new Float64Array(L)).unary);
    if (row.some((v) => v !== 0)) rows.set(m.fx.attributeName(a), row);
  }
  const p = m.arch.potentials(
    { ...one(0), attrs: new Int32Array(0), offsets: Int32Array.of(0, 0) },
    m.W,
  );
  return { rows, rest: [...p.transition, ...p.start, ...p.end] };
}

describe("Model save / load round trip (EWT, 300 sentences, 2 epochs)", () => {
  it("the file starts as gzip and holds the NADIRMDL header and version", () => {
    expect(bytes[0]).toBe(0x1f);
    expect(bytes[1]).toBe(0x8b);
    const { raw } = payload();
    expect(raw.toString("latin1", 0, 8)).toBe("NADIRMDL");
    expect(raw.readUInt32LE(8)).toBe(MODEL_VERSION);
  });

  it("gives identical tags on held-out sentences", () => {
    const loaded = Model.load(modelPath);
    expect(loaded.labels).toEqual(model.labels);
    expect(loaded.spec.source).toEqual(model.spec.source);
    expect(loaded.nColumns).toBe(model.nColumns);
    let n = 0;
    for (const s of heldOut) {
      expect(loaded.tag(s.tokens)).toEqual(model.tag(s.tokens));
      n += s.tokens.length;
    }
    expect(n).toBeGreaterThan(500);
    // and on plain words (single-column spec)
    const words = heldOut[0]!.tokens.map((t) => t[1]!);
    expect(loaded.tagWords(words)).toEqual(model.tag(heldOut[0]!.tokens));
  });

  it("gives identical W (per attribute name; all-zero rows dropped)", () => {
    const loaded = Model.load(modelPath);
    const a = weightsByName(model);
    const b = weightsByName(loaded);
    expect(loaded.arch.A).toBe(a.rows.size); // only the non-zero rows are kept
    expect(loaded.arch.A).toBeLessThanOrEqual(model.arch.A);
    expect(b.rows).toEqual(a.rows);
    expect(b.rest).toEqual(a.rest);
    expect(a.rest.some((v) => v !== 0)).toBe(true);
  });

  it("saving the loaded model again writes the same bytes", () => {
    const loaded = Model.load(modelPath);
    const p = join(tmp.dir, "again.model");
    loaded.save(p);
    expect(readFileSync(p).equals(bytes)).toBe(true);
  });

  it("a model with all-zero weights round-trips", () => {
    const zero = new Model(model.spec, model.labels, model.fx, null, model.nColumns);
    const p = join(tmp.dir, "zero.model");
    zero.save(p);
    const z = Model.load(p);
    expect(z.arch.A).toBe(0);
    expect(z.tag(heldOut[0]!.tokens)).toEqual(zero.tag(heldOut[0]!.tokens));
  });
});

describe("Model files of version 1 (before the container)", () => {
  /** The v1 layout, built from the current file's header and tables. */
  function v1Bytes(): Uint8Array {
    const d = decodeContainer(bytes, { magic: "NADIRMDL", version: MODEL_VERSION }, (m) => {
      throw new Error(m);
    });
    if (d.legacy) throw new Error("unexpected legacy model");
    const h = Buffer.from(JSON.stringify({ ...d.header, version: 1 }), "utf8");
    const headLen = 16 + h.length;
    const head = Buffer.alloc(headLen + ((8 - (headLen % 8)) % 8));
    head.write("NADIRMDL", 0, "latin1");
    head.writeUInt32LE(1, 8);
    head.writeUInt32LE(h.length, 12);
    h.copy(head, 16);
    const t = d.sections;
    const raw = (a: SectionArray) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    return gzipSync(
      Buffer.concat([head, raw(t.W!), raw(t.keys!), raw(t.rowPtr!), raw(t.rowLabel!)]),
    );
  }

  it("still load, with the same tags", () => {
    const m = Model.fromBytes(v1Bytes(), "old.model");
    for (const s of heldOut.slice(0, 20)) expect(m.tag(s.tokens)).toEqual(model.tag(s.tokens));
  });

  it("are refused when their tables are cut short", () => {
    const raw = Buffer.from(gunzipSync(v1Bytes()));
    const cut = gzipSync(raw.subarray(0, raw.length - 4));
    const e = nadirError(() => Model.fromBytes(cut, "old.model"));
    expect(e.code).toBe("E_MODEL");
  });
});

describe("resource guard on the model size", () => {
  it("a huge label set is refused before any L×L table is allocated (E_TOO_LARGE, limit and how to raise it)", () => {
    const labels = 20_000; // L² = 4·10⁸ transition weights > 2²⁸
    const train = Array.from({ length: labels / 100 }, (_, i) => ({
      tokens: Array.from({ length: 100 }, (_, t) => ["1", `w${t % 7}`, "_", `L${i * 100 + t}`]),
    }));
    const e = nadirError(() =>
      trainTagger({ spec: loadSpec(join(GRAPHS, "pos.json")), train, options: { epochs: 1 } }),
    );
    expect(e.code).toBe("E_TOO_LARGE");
    expect(e.message).toMatch(/20,000 labels.*above the limit of 268,435,456.*NADIR_MAX_WEIGHTS=/);
  });

  it("NADIR_MAX_WEIGHTS sets the limit", () => {
    const old = process.env.NADIR_MAX_WEIGHTS;
    try {
      process.env.NADIR_MAX_WEIGHTS = String(model.arch.K - 1);
      const make = () =>
        new Model(model.spec, model.labels, model.fx, model.W, model.nColumns, model.arch.rows);
      const e = nadirError(make);
      expect(e.code).toBe("E_TOO_LARGE");
      expect(e.message).toContain(`above the limit of ${(model.arch.K - 1).toLocaleString("en")}`);
      process.env.NADIR_MAX_WEIGHTS = String(model.arch.K);
      expect(make().arch.K).toBe(model.arch.K);
    } finally {
      if (old === undefined) delete process.env.NADIR_MAX_WEIGHTS;
      else process.env.NADIR_MAX_WEIGHTS = old;
    }
  });
});

describe("Model bytes without a file system", () => {
  it("toBytes gives the bytes save writes, and fromBytes reads them back", () => {
    const b = model.toBytes();
    expect(Buffer.from(b).equals(bytes)).toBe(true);
    const m = Model.fromBytes(b);
    for (const s of heldOut.slice(0, 20)) expect(m.tag(s.tokens)).toEqual(model.tag(s.tokens));
    expect(Buffer.from(m.toBytes()).equals(bytes)).toBe(true);
  });

  it("fromBytes names the given source in its errors (default <bytes>)", () => {
    const e1 = nadirError(() => Model.fromBytes(new Uint8Array(3)));
    expect(e1.code).toBe("E_MODEL");
    expect(e1.file).toBe("<bytes>");
    const e2 = nadirError(() => Model.fromBytes(bytes.subarray(0, 100), "upload.nadir"));
    expect(e2.file).toBe("upload.nadir");
    expect(e2.message).toContain("upload.nadir");
  });
});

describe("Model.load rejects bad files with E_MODEL naming the file", () => {
  it("missing file", () => {
    expectModelError(join(tmp.dir, "does-not-exist.model"), "cannot read model");
  });

  it("truncated file (half the bytes)", () => {
    expectModelError(variant("half.model", bytes.subarray(0, bytes.length >> 1)));
  });

  it("truncated file (last byte missing)", () => {
    expectModelError(variant("short.model", bytes.subarray(0, bytes.length - 1)));
  });

  it("a corrupt byte in the compressed data", () => {
    const b = Buffer.from(bytes);
    const i = b.length >> 1;
    b[i] = b[i]! ^ 0x5a;
    expectModelError(variant("corrupt.model", b));
  });

  it("not gzip at all", () => {
    expectModelError(variant("text.model", Buffer.from("hello, I am not a model\n")));
    expectModelError(variant("empty.model", new Uint8Array(0)));
  });

  it("wrong magic", () => {
    const { raw } = payload();
    raw.write("BADMAGIC", 0, "latin1");
    expectModelError(variant("magic.model", gzipSync(raw)), "NADIRMDL");
  });

  it("wrong version", () => {
    const { raw } = payload();
    raw.writeUInt32LE(MODEL_VERSION + 7, 8);
    expectModelError(variant("version.model", gzipSync(raw)), "version");
  });

  it("extra or missing weight bytes", () => {
    const { raw } = payload();
    expectModelError(variant("long.model", gzipSync(Buffer.concat([raw, Buffer.alloc(8)]))));
    expectModelError(variant("cut.model", gzipSync(raw.subarray(0, raw.length - 8))));
  });

  it("a NaN weight", () => {
    const { raw, weightsAt } = payload();
    raw.writeDoubleLE(Number.NaN, weightsAt + 8);
    expectModelError(variant("nan.model", gzipSync(sealed(raw))), "weight 1");
  });

  it("an embedded spec that fails the schema is E_MODEL", () => {
    const out = rewritten((h) => {
      h.spec = { ...(h.spec as object), futureKey: 1 };
    });
    expectModelError(variant("spec.model", out), "futureKey");
  });

  it("a table of the wrong length is E_MODEL naming it", () => {
    const out = rewritten((_h, t) => {
      t.keys = (t.keys as Int32Array).subarray(1);
    });
    expectModelError(variant("keys.model", out), "keys table");
  });

  it("a changed header byte, re-gzipped (gzip's CRC valid), is refused by the container CRC", () => {
    const { raw } = payload();
    const i = raw.indexOf('"labels"', 16, "latin1") + 3;
    raw[i] = raw[i]! ^ 0x01;
    expectModelError(variant("hdr.model", gzipSync(raw)), "CRC mismatch");
  });

  it("a changed weight, re-gzipped, is refused by the container CRC", () => {
    const { raw, weightsAt } = payload();
    raw.writeDoubleLE(raw.readDoubleLE(weightsAt) + 1, weightsAt);
    expectModelError(variant("w.model", gzipSync(raw)), "CRC mismatch");
  });

  it("a header that is not JSON", () => {
    const { raw } = payload();
    raw[16] = "#".charCodeAt(0);
    expectModelError(variant("header.model", gzipSync(sealed(raw))), "header is not JSON");
  });
});

describe("Model.save writes atomically", () => {
  const tmpFiles = (dir: string) => readdirSync(dir).filter((f) => f.includes(".tmp"));

  it("into a missing directory: E_IO naming the path, nothing left behind", () => {
    const dir = join(tmp.dir, "save-missing");
    mkdirSync(dir);
    const p = join(dir, "no", "such", "dir", "m.model");
    const e = nadirError(() => model.save(p));
    expect(e.code).toBe("E_IO");
    expect(e.message).toContain(p);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("over a directory: E_IO and the temporary file is removed", () => {
    const dir = join(tmp.dir, "save-over-dir");
    mkdirSync(join(dir, "m.model", "inside"), { recursive: true });
    const e = nadirError(() => model.save(join(dir, "m.model")));
    expect(e.code).toBe("E_IO");
    expect(e.message).toContain(join(dir, "m.model"));
    expect(readdirSync(dir)).toEqual(["m.model"]);
  });

  it("over an existing model: replaced, no *.tmp-* files left", () => {
    const dir = join(tmp.dir, "save-replace");
    mkdirSync(dir);
    const p = join(dir, "m.model");
    model.save(p);
    other.save(p);
    expect(readdirSync(dir)).toEqual(["m.model"]);
    expect(tmpFiles(dir)).toEqual([]);
    const loaded = Model.load(p);
    expect(loaded.arch.K).not.toBe(Model.load(modelPath).arch.K);
    for (const s of heldOut.slice(0, 20)) expect(loaded.tag(s.tokens)).toEqual(other.tag(s.tokens));
    model.save(p);
    expect(readFileSync(p).equals(bytes)).toBe(true);
    expect(readdirSync(dir)).toEqual(["m.model"]);
  });
});
