/**
 * The dev metric: chunk F1 when asked, even for a spec without a label
 * encoding (CRFsuite attribute files, plain label strings: read as IOB2,
 * conlleval's default) — never token accuracy in its place.
 */
import { describe, expect, it } from "vitest";
import { loadSpec, parseSpec } from "../../src/architecture/spec.ts";
import { scoreSequences } from "../../src/tagger/evaluate.ts";

const gold = [["B-NP", "I-NP", "O", "B-VP"]];
const pred = [["B-NP", "O", "O", "B-VP"]]; // 3 of 4 tokens right; 1 of 2 gold chunks found, 1 of 2 predicted right

describe("scoreSequences", () => {
  it("scores chunk F1 for metric chunk-f1 with encoding none (CRFsuite data)", () => {
    const src = loadSpec("crfsuite").source as Record<string, unknown>;
    const spec = parseSpec({ ...src, metric: "chunk-f1" }, "crfsuite with chunk-f1");
    expect(spec.encoding).toBe("none");
    expect(scoreSequences(spec, gold, pred)).toBeCloseTo(50, 10);
  });

  it("scores token accuracy for metric accuracy", () => {
    const spec = loadSpec("crfsuite");
    expect(spec.metric).toBe("accuracy");
    expect(scoreSequences(spec, gold, pred)).toBeCloseTo(75, 10);
  });
});
