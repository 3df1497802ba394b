import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convertLegacyLbl, Lbl, zeroParams } from "../../src/complete/lbl.ts";
import { Vocab } from "../../src/complete/text.ts";
import { Rng } from "../../src/core/rng.ts";
import { nadirError, ROOT } from "../fixtures/helpers.ts";

const SHIPPED = `${ROOT}models/completion.lbl`;

function tiny(): Lbl {
  const vocab = new Vocab(["<unk>", "<s>", "the", "cat", "sat", "on", "mat", "water"]);
  return new Lbl(vocab, 4, 2, 1, zeroParams(vocab.size, 4, 3)).init(new Rng(5), undefined, 0.5);
}

/** The old "NADIR-LBL 2" bytes of a model (int8 rows), as the previous writer laid them out. */
function legacyBytes(m: Lbl): Buffer {
  const D = m.D;
  const rows = (a: Float32Array | Float64Array): Buffer => {
    const V = a.length / D;
    const out = Buffer.alloc(V * (4 + D));
    for (let w = 0, o = 0; w < V; w++, o += 4 + D) {
      let mx = 0;
      for (let d = 0; d < D; d++) mx = Math.max(mx, Math.abs(a[w * D + d]!));
      const scale = mx / 127;
      out.writeFloatLE(scale, o);
      for (let d = 0; d < D; d++)
        out.writeInt8(scale > 0 ? Math.round(a[w * D + d]! / scale) : 0, o + 4 + d);
    }
    return out;
  };
  const f32 = (a: Float32Array | Float64Array) => Buffer.from(Float32Array.from(a).buffer);
  const payload = Buffer.concat([rows(m.p.R), rows(m.p.Q), f32(m.p.b), f32(m.p.W)]);
  const header = Buffer.from(
    JSON.stringify({
      format: "nadir-lbl",
      version: 2,
      dtype: "i8",
      D,
      left: m.left,
      right: m.right,
      vocab: m.vocab.words,
      meta: m.meta,
      sha256: createHash("sha256").update(payload).digest("hex"),
      bytes: payload.length,
    }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length, 0);
  return Buffer.concat([Buffer.from("NADIR-LBL 2\n", "latin1"), len, header, payload]);
}

const same = (a: Lbl, b: Lbl) => {
  for (const k of ["R", "Q", "b", "W"] as const)
    expect(Buffer.from(b.p[k].buffer).equals(Buffer.from(a.p[k].buffer)), k).toBe(true);
  expect(b.vocab.words).toEqual(a.vocab.words);
  expect(b.meta).toEqual(a.meta);
};

describe("completion model files on the container", () => {
  it("the shipped model is a container file of at most 10 MB and loads", () => {
    const bytes = readFileSync(SHIPPED);
    expect(bytes.toString("latin1", 0, 8)).toBe("NADIRLBL");
    expect(bytes.length).toBeLessThanOrEqual(10_000_000);
    const m = Lbl.fromBytes(bytes, SHIPPED);
    expect(m.V).toBeGreaterThanOrEqual(25_000);
  });

  it("an old NADIR-LBL 2 file loads, and converts with identical parameters", () => {
    const m = tiny();
    m.meta = { note: "old" };
    const old = legacyBytes(m);
    const a = Lbl.fromBytes(old, "old.lbl");
    const b = Lbl.fromBytes(convertLegacyLbl(old), "new.lbl");
    same(a, b);
    // and the new writer quantizes the same way as the old one
    same(a, Lbl.fromBytes(m.toBytes("i8")));
  });

  it("int8 and float32 files round-trip (float32 exactly)", () => {
    const m = tiny();
    same(m, Lbl.fromBytes(m.toBytes("f32")));
    expect(m.toBytes("i8").length).toBeLessThan(m.toBytes("f32").length);
  });

  it("a changed vocabulary word in the header is refused (the CRC covers the header)", () => {
    const bytes = Buffer.from(tiny().toBytes("i8"));
    const at = bytes.indexOf('"water"', 0, "latin1");
    expect(at).toBeGreaterThan(16);
    bytes[at + 2] = "b".charCodeAt(0); // "wbter"
    const e = nadirError(() => Lbl.fromBytes(bytes, "tampered.lbl"));
    expect(e.code).toBe("E_MODEL");
    expect(e.message).toMatch(/not a valid completion model \(CRC mismatch/);
    expect(e.file).toBe("tampered.lbl");
  });

  it("every single-byte change of a small model file is refused", () => {
    const bytes = Buffer.from(tiny().toBytes("i8"));
    let refused = 0;
    for (let i = 0; i < bytes.length; i += 7) {
      const b = Buffer.from(bytes);
      b[i] = b[i]! ^ 0x10;
      try {
        Lbl.fromBytes(b);
      } catch {
        refused++;
        continue;
      }
      throw new Error(`a change at byte ${i} loaded`);
    }
    expect(refused).toBeGreaterThan(10);
  });
});
