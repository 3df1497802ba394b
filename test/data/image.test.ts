/**
 * PGM / PBM / PNG: round trips (binary and ASCII, 8- and 16-bit, widths that
 * are not a multiple of 8, comments in headers), errors with file:line or
 * byte offsets, atomic writes, and PNG chunk CRCs.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import {
  bitImage,
  crc32,
  decodePng,
  encodePbm,
  encodePgm,
  encodePng,
  type GrayImage,
  grayImage,
  grayToMask,
  maskToGray,
  parsePnm,
  readGray,
  readMask,
  readPbm,
  readPgm,
  readPnm,
  writeMask,
  writePgm,
  writePng,
} from "../../src/data/image.ts";
import { nadirError, tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const bytes = (s: string) => Buffer.from(s, "latin1");
const parse = (s: string | Buffer) => parsePnm(typeof s === "string" ? bytes(s) : s, "img.pnm");

const grayArb = fc
  .record({
    width: fc.integer({ min: 1, max: 13 }),
    height: fc.integer({ min: 1, max: 9 }),
    maxval: fc.constantFrom(1, 7, 255, 256, 1000, 65535),
  })
  .chain(({ width, height, maxval }) =>
    fc
      .array(fc.integer({ min: 0, max: maxval }), {
        minLength: width * height,
        maxLength: width * height,
      })
      .map((v) => grayImage(width, height, maxval, Uint16Array.from(v))),
  );

const bitArb = fc
  .record({ width: fc.integer({ min: 1, max: 21 }), height: fc.integer({ min: 1, max: 7 }) })
  .chain(({ width, height }) =>
    fc
      .array(fc.integer({ min: 0, max: 1 }), {
        minLength: width * height,
        maxLength: width * height,
      })
      .map((v) => bitImage(width, height, Uint8Array.from(v))),
  );

describe("PGM", () => {
  it("round-trips binary (P5, 1 or 2 bytes per sample) and ASCII (P2)", () => {
    fc.assert(
      fc.property(grayArb, fc.boolean(), (img, ascii) => {
        const p = parse(encodePgm(img, { ascii }));
        expect(p.kind).toBe("pgm");
        expect(p.image).toEqual(img);
      }),
      { seed: 5101, numRuns: 200 },
    );
  });

  it("writes 16-bit samples big-endian and reads headers with comments", () => {
    const img = grayImage(2, 1, 65535, Uint16Array.from([0x0102, 65535]));
    const b = encodePgm(img);
    expect(b.subarray(b.length - 4)).toEqual(Buffer.from([1, 2, 255, 255]));
    const p = parse(bytes("P2 # a comment\n# another\n3 # w\n1\n9\n0 4\n9\n"));
    expect(p).toEqual({ kind: "pgm", image: grayImage(3, 1, 9, Uint16Array.from([0, 4, 9])) });
  });

  it("reads and writes files atomically", () => {
    const img = grayImage(
      5,
      3,
      255,
      Uint16Array.from({ length: 15 }, (_, i) => i * 17),
    );
    const path = join(tmp.dir, "a.pgm");
    writePgm(path, img);
    expect(readPgm(path)).toEqual(img);
    expect(readPnm(path).kind).toBe("pgm");
    expect(readdirSync(tmp.dir).filter((f) => f.includes(".tmp"))).toEqual([]);
  });

  it("rejects bad headers with file:line", () => {
    const cases: [string, string][] = [
      ["", "img.pnm:1: expected a Netpbm magic number"],
      ["P7\n1 1\n", "expected a Netpbm magic number (P1, P2, P4 or P5)"],
      ["P6\n1 1\n255\n\0\0\0", "P6 (PPM color) is not supported"],
      ["P5\n4\n", "img.pnm:2: expected the height, got the end of the file"],
      ["P2\n4 x\n255\n", 'img.pnm:2: expected the height (a decimal integer), got "x"'],
      ["P2\n0 3\n255\n", "expected a width and height ≥ 1, got 0×3"],
      ["P2\n1 1\n0\n0\n", "expected maxval in 1 … 65535, got 0"],
      ["P2\n1 1\n70000\n0\n", "img.pnm:3: expected maxval ≤ 65535, got 70000"],
      ["P2\n2 1\n9\n3 10\n", "img.pnm:4: sample 2 expected ≤ maxval 9, got 10"],
      ["P2\n2 2\n9\n1 2\n3\n", "img.pnm:5: expected 4 samples, got 3 (truncated data: row 2 of 2)"],
      ["P2\n1 1\n9\n1 2\n", "img.pnm:4: expected the end of the file after the pixel data"],
    ];
    for (const [text, msg] of cases) {
      const e = nadirError(() => parse(text));
      expect(e.code, text).toBe(e.code === "E_TOO_LARGE" ? "E_TOO_LARGE" : "E_PARSE");
      expect(e.message, JSON.stringify(text)).toContain(msg);
      expect(e.file).toBe("img.pnm");
    }
    const big = nadirError(() => parse("P5\n65536 65536\n255\n"));
    expect(big.code).toBe("E_TOO_LARGE");
  });

  it("rejects truncated binary data with the byte offset", () => {
    const e = nadirError(() =>
      parse(Buffer.concat([bytes("P5\n3 2\n255\n"), Buffer.from([1, 2, 3, 4])])),
    );
    expect(e.code).toBe("E_PARSE");
    expect(e.message).toBe(
      "img.pnm: byte offset 11: expected 6 bytes of pixel data (3×2, 1 byte each), got 4 (truncated file)",
    );
    const e16 = nadirError(() =>
      parse(Buffer.concat([bytes("P5\n1 1\n300\n"), Buffer.from([1, 45])])),
    );
    expect(e16.message).toContain("byte offset 11: sample 1 expected ≤ maxval 300, got 301");
    const noSep = nadirError(() => parse(bytes("P5\n1 1\n255")));
    expect(noSep.message).toContain("expected one whitespace byte before the pixel data");
  });

  it("names the file of a missing path (E_IO) and of a PBM given for a PGM", () => {
    const e = nadirError(() => readPgm(join(tmp.dir, "nope.pgm")));
    expect(e.code).toBe("E_IO");
    expect(e.message).toContain("nope.pgm: cannot read image: no such file or directory");
    const path = join(tmp.dir, "bits.pbm");
    writeFileSync(path, encodePbm(bitImage(2, 1, Uint8Array.from([1, 0]))));
    expect(nadirError(() => readPgm(path)).message).toContain("expected a PGM image");
  });
});

describe("PBM", () => {
  it("round-trips binary (P4, padded rows) and ASCII (P1)", () => {
    fc.assert(
      fc.property(bitArb, fc.boolean(), (img, ascii) => {
        const p = parse(encodePbm(img, { ascii }));
        expect(p).toEqual({ kind: "pbm", image: img });
      }),
      { seed: 5102, numRuns: 200 },
    );
  });

  it("packs bits MSB first, 1 = black, and reads P1 digits without separators", () => {
    const img = bitImage(10, 1, Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, 1, 1]));
    const b = encodePbm(img);
    expect(Array.from(b.subarray(b.length - 2))).toEqual([0x81, 0xc0]);
    expect(parse("P1\n# c\n3 2\n010\n1 1 0\n").image.data).toEqual(
      Uint8Array.from([0, 1, 0, 1, 1, 0]),
    );
  });

  it("rejects bad bitmaps", () => {
    expect(nadirError(() => parse("P1\n2 1\n0 2\n")).message).toBe(
      'img.pnm:3: pixel 2 expected 0 or 1, got "2"',
    );
    expect(nadirError(() => parse("P1\n2 2\n0 1\n1\n")).message).toContain(
      "img.pnm:4: expected 4 pixels, got 3",
    );
    const e = nadirError(() => parse(Buffer.concat([bytes("P4\n9 2\n"), Buffer.from([0, 0, 0])])));
    expect(e.message).toBe(
      "img.pnm: byte offset 7: expected 4 bytes of pixel data (2 rows of 2 bytes), got 3 (truncated file)",
    );
  });

  it("masks: PBM as is, PGM thresholded (dark = foreground); writes by extension", () => {
    const mask = bitImage(3, 2, Uint8Array.from([1, 0, 1, 1, 1, 0]));
    for (const ext of ["pbm", "pgm", "png"]) {
      const path = join(tmp.dir, `m.${ext}`);
      writeMask(path, mask);
      if (ext === "png") {
        expect(grayToMask(decodePng(readFileSync(path))).data).toEqual(mask.data);
      } else expect(readMask(path)).toEqual(mask);
    }
    expect(readPbm(join(tmp.dir, "m.pbm"))).toEqual(mask);
    // A bitmap read as gray: black 0, white 1 (maxval 1).
    expect(readGray(join(tmp.dir, "m.pbm"))).toEqual(maskToGray(mask, 1));
    expect(nadirError(() => writeMask(join(tmp.dir, "m.jpg"), mask)).code).toBe("E_ARG");
  });
});

describe("PNG", () => {
  it("CRC-32 matches the standard check value", () => {
    expect(crc32(bytes("123456789"))).toBe(0xcbf43926);
    expect(crc32(bytes("IEND"))).toBe(0xae426082);
  });

  it("round-trips 8-bit gray images and scales other maxvals to 0 … 255", () => {
    fc.assert(
      fc.property(grayArb, (img) => {
        const back = decodePng(encodePng(img));
        expect(back.width).toBe(img.width);
        expect(back.height).toBe(img.height);
        const want = Array.from(img.data, (v) => Math.round((v * 255) / img.maxval));
        expect(Array.from(back.data)).toEqual(want);
      }),
      { seed: 5103, numRuns: 100 },
    );
  });

  it("writes a valid signature, IHDR and IEND, and detects a corrupt chunk", () => {
    const img: GrayImage = grayImage(
      4,
      3,
      255,
      Uint16Array.from({ length: 12 }, (_, i) => i * 20),
    );
    const path = join(tmp.dir, "g.png");
    writePng(path, img);
    const b = readFileSync(path);
    expect(b.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect(b.toString("latin1", 12, 16)).toBe("IHDR");
    expect(b.toString("latin1", b.length - 8, b.length - 4)).toBe("IEND");
    expect(decodePng(b)).toEqual(img);
    const bad = Buffer.from(b);
    bad[20]! ^= 1; // inside IHDR
    const e = nadirError(() => decodePng(bad, "g.png"));
    expect(e).toBeInstanceOf(NadirError);
    expect(e.message).toContain("chunk IHDR: CRC mismatch");
  });
});
