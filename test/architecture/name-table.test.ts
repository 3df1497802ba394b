/**
 * NameTable (the attribute names of CRFsuite data) against a Map: ids dense
 * in order of first appearance, lookups of ranges inside longer strings,
 * names read back from the arena — over seeded random names that share
 * prefixes, differ in length, repeat, and hold non-ASCII code units.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NameTable } from "../../src/architecture/name-table.ts";

const name = fc
  .array(fc.constantFrom("a", "b", "w", "[", "]", "=", "|", "é", "中", "\u{1F600}", "0"), {
    maxLength: 12,
  })
  .map((cs) => cs.join(""));

describe("NameTable", () => {
  it("agrees with a Map on add, get, ranges and names (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.array(name, { maxLength: 300 }),
        fc.array(name, { maxLength: 50 }),
        (adds, probes) => {
          const t = new NameTable(4); // tiny: forces the arena, the starts and the slots to grow
          const m = new Map<string, number>();
          for (const s of adds) {
            if (!m.has(s)) m.set(s, m.size);
            // a range inside a longer string, as in a row of tab-separated fields
            const row = `x\t${s}\ty`;
            const id = t.addRange(row, 2, 2 + s.length, NameTable.hash(row, 2, 2 + s.length));
            expect(id).toBe(m.get(s));
          }
          expect(t.size).toBe(m.size);
          for (const [s, id] of m) {
            expect(t.get(s)).toBe(id);
            expect(t.name(id)).toBe(s);
          }
          for (const s of probes) expect(t.get(s)).toBe(m.get(s) ?? -1);
          // retain: every other name, in reverse order, renumbered 0, 1, …
          const names = [...m.keys()];
          const keep = names
            .map((_, i) => i)
            .filter((i) => i % 2 === 0)
            .reverse();
          const r = t.retain(keep);
          expect(r.size).toBe(keep.length);
          keep.forEach((old, i) => {
            expect(r.name(i)).toBe(names[old]);
            expect(r.get(names[old]!)).toBe(i);
          });
          for (let i = 1; i < names.length; i += 2) expect(r.get(names[i]!)).toBe(-1);
          // a permutation (nothing dropped): renumbered in place
          const all = names.map((_, i) => i).reverse();
          const p = t.retain(all);
          all.forEach((old, i) => {
            expect(p.name(i)).toBe(names[old]);
            expect(p.get(names[old]!)).toBe(i);
          });
          expect(p.add("new-name")).toBe(names.length);
          expect(r.add("new-name")).toBe(keep.length); // not in the alphabet: a new id after the kept ones
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it("keeps 100,000 names through many rehashes", () => {
    const t = new NameTable();
    let wrong = 0;
    for (let i = 0; i < 100_000; i++) if (t.add(`w[0]=${i}`) !== i) wrong++;
    expect(wrong).toBe(0);
    for (let i = 0; i < 100_000; i += 997) expect(t.get(`w[0]=${i}`)).toBe(i);
    expect(t.get("w[0]=100000")).toBe(-1);
    expect(t.name(99_999)).toBe("w[0]=99999");
  });

  it("returns the same id for a name added whole and found as a range", () => {
    const t = new NameTable();
    t.add("pos[0]=NN");
    const row = "B-NP\tw[0]=x\tpos[0]=NN";
    const a = row.indexOf("pos");
    expect(t.find(row, a, row.length, NameTable.hash(row, a, row.length))).toBe(0);
    expect(t.find(row, a, row.length - 1, NameTable.hash(row, a, row.length - 1))).toBe(-1);
  });

  it("round-trips through encode/decode as UTF-8 (fuzz: ASCII, accents, CJK, astral, a kept subset)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { maxLength: 200 }),
        fc.integer({ min: 1, max: 3 }),
        (names, step) => {
          const t = new NameTable(4);
          for (const s of names) t.add(s);
          const keep = names
            .map((_, i) => i)
            .filter((i) => i % step === 0)
            .reverse();
          const e = t.encode(keep)!;
          expect(e.start.length).toBe(keep.length + 1);
          expect(new TextDecoder().decode(e.text)).toBe(keep.map((i) => names[i]).join(""));
          const d = NameTable.decode(e.text, e.start);
          expect(d.size).toBe(keep.length);
          keep.forEach((old, i) => {
            expect(d.name(i)).toBe(names[old]);
            expect(d.get(names[old]!)).toBe(i);
          });
          expect(d.add("new-name")).toBe(keep.length);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });

  it("refuses what decode cannot trust: duplicates, bad offsets, invalid UTF-8", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const ok = NameTable.decode(enc("abcd"), Int32Array.of(0, 2, 4));
    expect(ok.name(1)).toBe("cd");
    expect(() => NameTable.decode(enc("abab"), Int32Array.of(0, 2, 4))).toThrow(/occurs twice/);
    expect(() => NameTable.decode(enc("abcd"), Int32Array.of(0, 3, 2, 4))).toThrow(/backwards/);
    expect(() => NameTable.decode(enc("abcd"), Int32Array.of(0, 2, 5))).toThrow(/do not cover/);
    expect(() => NameTable.decode(enc("abcd"), Int32Array.of(1, 4))).toThrow(/do not cover/);
    expect(() => NameTable.decode(Uint8Array.of(0x61, 0xc3), Int32Array.of(0, 2))).toThrow(/UTF-8/);
  });

  it("encodes nothing when a name holds a lone surrogate (UTF-8 cannot carry it)", () => {
    const t = new NameTable();
    t.add("ok");
    t.add("bad\uD800");
    expect(t.encode()).toBeNull();
    expect(t.encode([0])).not.toBeNull();
  });
});
