/**
 * Text and JSON renderings of evaluation reports. The chunk report follows
 * conlleval's layout byte for byte (numbers as C printf "%6.2f" prints them).
 */
import type { LabelReport } from "./accuracy.ts";
import type { ChunkReport } from "./chunks.ts";

/**
 * `x` with `digits` decimals as C printf "%.<digits>f" writes it: the exact
 * binary value rounded to nearest, exact ties to even (Number#toFixed breaks
 * ties upward, e.g. 0.125 → "0.13" where printf gives "0.12").
 */
export function toFixedC(x: number, digits: number): string {
  if (!Number.isFinite(x) || digits < 0 || digits > 15) return x.toFixed(digits);
  const a = Math.abs(x);
  // A tie needs a·10^d = k + 1/2, i.e. a = odd / 2^(d+1) (power-of-two scaling is exact).
  const m = a * 2 ** (digits + 1);
  if (Number.isInteger(m) && m % 2 === 1) {
    const scaled = m * 5 ** digits; // = 2·a·10^d, an odd integer
    if (Number.isSafeInteger(scaled)) {
      let n = (scaled - 1) / 2; // the lower neighbour
      if (n % 2 === 1) n += 1;
      const s = (n / 10 ** digits).toFixed(digits);
      return x < 0 ? `-${s}` : s;
    }
  }
  return x.toFixed(digits);
}

/** `toFixedC` right-aligned in `width` columns ("%<width>.<digits>f"). */
function f(x: number, width: number, digits = 2): string {
  return toFixedC(x, digits).padStart(width);
}

/** The conlleval summary: header, overall line, one line per chunk type. */
export function formatChunkReport(r: ChunkReport): string {
  let s =
    `processed ${r.tokens} tokens with ${r.goldChunks} phrases; ` +
    `found: ${r.predChunks} phrases; correct: ${r.correctChunks}.\n` +
    `accuracy: ${f(r.accuracy, 6)}%; precision: ${f(r.precision, 6)}%; ` +
    `recall: ${f(r.recall, 6)}%; FB1: ${f(r.f1, 6)}\n`;
  for (const [type, v] of Object.entries(r.byType)) {
    s +=
      `${type.padStart(17)}: precision: ${f(v.precision, 6)}%; ` +
      `recall: ${f(v.recall, 6)}%; FB1: ${f(v.f1, 6)}  ${v.pred}\n`;
  }
  return s;
}

/** The chunk report as JSON (the `ChunkReport` fields). */
export function formatChunkReportJson(r: ChunkReport, indent = 2): string {
  return `${JSON.stringify(r, null, indent)}\n`;
}

/**
 * The per-label report as a table: accuracy line, one row per label
 * (precision, recall, F1, gold and predicted counts), micro and macro rows.
 */
export function formatLabelReport(r: LabelReport): string {
  const labels = Object.keys(r.byLabel);
  const w = Math.max(9, ...labels.map((l) => l.length));
  const head = (name: string) => name.padStart(w);
  let s = `accuracy: ${f(r.accuracy, 6)}% (${r.correct} of ${r.tokens} tokens)\n`;
  s += `${head("label")}${"precision".padStart(10)}${"recall".padStart(10)}${"F1".padStart(8)}`;
  s += `${"gold".padStart(10)}${"pred".padStart(10)}\n`;
  for (const l of labels) {
    const v = r.byLabel[l]!;
    s += `${head(l)}${f(v.precision, 9)}%${f(v.recall, 9)}%${f(v.f1, 8)}`;
    s += `${String(v.gold).padStart(10)}${String(v.pred).padStart(10)}\n`;
  }
  for (const [name, a] of [
    ["micro avg", r.micro],
    ["macro avg", r.macro],
  ] as const) {
    s += `${head(name)}${f(a.precision, 9)}%${f(a.recall, 9)}%${f(a.f1, 8)}\n`;
  }
  return s;
}

/** The per-label report as JSON (the `LabelReport` fields). */
export function formatLabelReportJson(r: LabelReport, indent = 2): string {
  return `${JSON.stringify(r, null, indent)}\n`;
}
