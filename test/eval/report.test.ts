import { describe, expect, it } from "vitest";
import { scoreLabels } from "../../src/eval/accuracy.ts";
import { scoreChunks } from "../../src/eval/chunks.ts";
import {
  formatChunkReport,
  formatChunkReportJson,
  formatLabelReport,
  formatLabelReportJson,
  toFixedC,
} from "../../src/eval/report.ts";

const sp = (s: string) => s.split(" ");

describe("toFixedC", () => {
  it("rounds exact ties to even like printf, otherwise like toFixed", () => {
    expect(toFixedC(12.125, 2)).toBe("12.12");
    expect(toFixedC(0.375, 2)).toBe("0.38");
    expect(toFixedC(50.625, 2)).toBe("50.62");
    expect(toFixedC(0.125, 2)).toBe("0.12");
    expect(toFixedC(-0.125, 2)).toBe("-0.12");
    expect(toFixedC(2.5, 0)).toBe("2");
    expect(toFixedC(3.5, 0)).toBe("4");
    expect(toFixedC(200 / 3, 2)).toBe("66.67");
    expect(toFixedC(100, 2)).toBe("100.00");
    expect(toFixedC(0, 2)).toBe("0.00");
    expect(toFixedC(1.005, 2)).toBe("1.00"); // 1.005 is below the tie in binary
  });
});

describe("formatChunkReport", () => {
  it("matches conlleval's layout (expected text from chunkeval.py)", () => {
    const r = scoreChunks(
      [sp("B-NP I-NP O B-VP B-NP I-NP"), sp("I-ADJP B-NP")],
      [sp("B-NP I-NP B-VP B-VP B-NP O"), sp("B-ADJP I-NP")],
    );
    expect(formatChunkReport(r)).toBe(
      [
        "processed 8 tokens with 5 phrases; found: 6 phrases; correct: 4.",
        "accuracy:  50.00%; precision:  66.67%; recall:  80.00%; FB1:  72.73",
        "             ADJP: precision: 100.00%; recall: 100.00%; FB1: 100.00  1",
        "               NP: precision:  66.67%; recall:  66.67%; FB1:  66.67  3",
        "               VP: precision:  50.00%; recall: 100.00%; FB1:  66.67  2",
        "",
      ].join("\n"),
    );
    expect(JSON.parse(formatChunkReportJson(r))).toEqual(r);
  });
});

describe("formatLabelReport", () => {
  it("lists labels, micro and macro rows; JSON round-trips", () => {
    const r = scoreLabels([sp("A B B")], [sp("A B A")]);
    const text = formatLabelReport(r);
    expect(text).toBe(
      [
        "accuracy:  66.67% (2 of 3 tokens)",
        "    label precision    recall      F1      gold      pred",
        "        A    50.00%   100.00%   66.67         1         2",
        "        B   100.00%    50.00%   66.67         2         1",
        "micro avg    66.67%    66.67%   66.67",
        "macro avg    75.00%    75.00%   66.67",
        "",
      ].join("\n"),
    );
    expect(JSON.parse(formatLabelReportJson(r))).toEqual(r);
  });
});
