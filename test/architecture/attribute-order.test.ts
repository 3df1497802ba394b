/**
 * Renumbering attributes by decreasing frequency (TrainingSetBuilder.finish):
 * the counting sort against a comparison sort, and TupleTable.permute (ids
 * renumbered in place) against a table rebuilt in the new order.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TupleTable } from "../../src/architecture/attribute-table.ts";
import { byDecreasingCount } from "../../src/architecture/features.ts";

describe("attribute order", () => {
  it("byDecreasingCount: ids with count ≥ minCount, by decreasing count, ties by id (fuzz)", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(6), { maxLength: 200 }), fc.nat(3), (cs, minCount) => {
        const counts = Int32Array.from(cs);
        const want = [...counts.keys()]
          .filter((a) => counts[a]! >= minCount)
          .sort((a, b) => counts[b]! - counts[a]! || a - b);
        expect([...byDecreasingCount(counts, minCount)]).toEqual(want);
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it("TupleTable.permute renumbers ids in place: same lookups as a rebuilt table (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(3), fc.integer({ min: -3, max: 40 }), fc.nat(5)), {
          maxLength: 150,
        }),
        fc.nat(1000),
        (tuples, seed) => {
          const t = new TupleTable(3, 4);
          for (const k of tuples) t.add(Int32Array.from(k));
          const n = t.size;
          const keep = Array.from({ length: n }, (_, i) => i);
          let r = seed;
          for (let i = n - 1; i > 0; i--) {
            r = (r * 1103515245 + 12345) % 2147483648;
            const j = r % (i + 1);
            [keep[i], keep[j]] = [keep[j]!, keep[i]!];
          }
          const before = keep.map((a) => Array.from(t.keys.subarray(a * 3, a * 3 + 3)));
          t.permute(keep);
          before.forEach((k, i) => {
            expect(Array.from(t.keys.subarray(i * 3, i * 3 + 3))).toEqual(k);
            expect(t.get(Int32Array.from(k))).toBe(i);
          });
          expect(t.get(Int32Array.of(9, 99, 99))).toBe(-1);
          expect(t.add(Int32Array.of(9, 99, 99))).toBe(n);
        },
      ),
      { seed: 5, numRuns: 200 },
    );
  });
});
