/**
 * Sealed gzip (src/core/gzip.ts): plain gzip to other readers, the same bytes
 * on every host, and refused after any change of its bytes — every bit of a
 * small file is flipped in turn — while unsealed gzip of earlier files opens.
 */
import { deflateRawSync, gunzipSync as zlibGunzip, gzipSync as zlibGzip } from "node:zlib";
import { gunzipSync as fflateGunzip } from "fflate";
import { describe, expect, it } from "vitest";
import { crc32 as zlibCrc } from "../../src/core/crc32.ts";
import { gunzip, gzip, isGzip } from "../../src/core/gzip.ts";
import { Rng } from "../../src/core/rng.ts";

function payload(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const words = ["the", "B-NP", "I-VP", "0.25", "\t", "\n", "w[0]=", "é"];
  const text = Array.from({ length: n }, () => words[Math.floor(rng.next() * words.length)]).join(
    "",
  );
  return new Uint8Array(Buffer.from(text));
}

describe("sealed gzip", () => {
  it("is plain gzip to zlib and fflate, deterministic, and round-trips", () => {
    for (const n of [0, 1, 100, 5000]) {
      const p = payload(n, n + 1);
      const z = gzip(p);
      expect(isGzip(z)).toBe(true);
      expect(Buffer.from(gzip(p)).equals(Buffer.from(z))).toBe(true);
      expect(new Uint8Array(zlibGunzip(z))).toEqual(p);
      expect(fflateGunzip(z)).toEqual(p);
      expect(gunzip(z)).toEqual(p);
    }
  });

  it("refuses every single-bit change of a sealed file (exhaustive over 8 bits × every byte)", () => {
    const p = payload(400, 3);
    const z = gzip(p);
    let silent = 0;
    for (let at = 0; at < z.length; at++)
      for (let bit = 0; bit < 8; bit++) {
        const c = z.slice();
        c[at]! ^= 1 << bit;
        try {
          gunzip(c, true); // one of nadir's own files (a container)
          silent++;
        } catch {
          // refused, as it must be
        }
      }
    expect(silent).toBe(0);
  });

  it("opens a foreign gzip with its own extra field (bgzip's BC), unless it claims to be nadir's", () => {
    const p = payload(200, 5);
    const body = deflateRawSync(p);
    const head = Uint8Array.of(0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, 0x42, 0x43, 2, 0, 0, 0);
    const f = new Uint8Array(head.length + body.length + 8);
    f.set(head, 0);
    f.set(body, head.length);
    const dv = new DataView(f.buffer);
    dv.setUint32(f.length - 8, Number(zlibCrc(p)), true);
    dv.setUint32(f.length - 4, p.length, true);
    expect(gunzip(f)).toEqual(p); // word vectors from elsewhere
    expect(() => gunzip(f, true)).toThrow(/header/); // not a seal: refused as a nadir file
  });

  it("refuses every truncation and opens unsealed gzip (earlier files)", () => {
    const p = payload(300, 9);
    const z = gzip(p);
    for (let n = 0; n < z.length; n++) expect(() => gunzip(z.subarray(0, n))).toThrow();
    expect(gunzip(new Uint8Array(zlibGzip(p)))).toEqual(p);
  });
});
