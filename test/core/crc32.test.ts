/**
 * The CRC-32 and gunzip that Node takes natively (zlib) and the ones a browser
 * runs in TypeScript must agree: checked on seeded random bytes and on every
 * split point of a continuation.
 */
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32, crc32Table } from "../../src/core/crc32.ts";
import { gunzip, gzip } from "../../src/core/gzip.ts";

describe("CRC-32", () => {
  it("the table-driven TypeScript equals zlib's on random bytes, continued across any split", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.nat(), (bytes, at) => {
        const k = bytes.length === 0 ? 0 : at % bytes.length;
        const whole = crc32Table(bytes);
        expect(crc32(bytes)).toBe(whole);
        expect(crc32(bytes.subarray(k), crc32(bytes.subarray(0, k)))).toBe(whole);
        expect(crc32Table(bytes.subarray(k), crc32Table(bytes.subarray(0, k)))).toBe(whole);
      }),
      { seed: 32, numRuns: 300 },
    );
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  it("gunzip reads fflate's and zlib's streams and refuses a changed trailer", () => {
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251);
    expect(gunzip(gzip(data))).toEqual(data);
    expect(gunzip(new Uint8Array(gzipSync(data)))).toEqual(data);
    const bad = new Uint8Array(gzipSync(data)); // unsealed: gzip's own trailer check
    bad[bad.length - 6] = bad[bad.length - 6]! ^ 1; // the stored CRC
    expect(() => gunzip(bad)).toThrow(/incorrect data check/);
    const sealed = gzip(data); // sealed: refused before inflating
    sealed[sealed.length - 6] = sealed[sealed.length - 6]! ^ 1;
    expect(() => gunzip(sealed)).toThrow(/seal/);
    const short = gzip(data);
    short[short.length - 2] = short[short.length - 2]! ^ 1; // the stored length
    expect(() => gunzip(short)).toThrow();
  });
});
