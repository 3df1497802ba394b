/**
 * Classification data: CSV (a header line, numeric feature columns, the label
 * in a named column or the last) and libsvm/svmlight (`label idx:value …`,
 * 1-based increasing indices, `#` comments). Parsers report file:line and what
 * was expected; labels are kept as strings and mapped to class ids in order
 * of first appearance (or the order given).
 */
import { NadirError } from "../core/errors.ts";
import type { Dataset } from "./linear.ts";

export interface LabeledData extends Dataset {
  /** class names by id */
  classes: string[];
  /** feature names (CSV header, or "f1" … "fd" for libsvm) */
  features: string[];
}

function classIds(
  labels: string[],
  classes?: readonly string[],
): { y: Int32Array; classes: string[] } {
  const names = classes ? [...classes] : [];
  const index = new Map(names.map((c, i) => [c, i]));
  const y = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    let id = index.get(l);
    if (id === undefined) {
      if (classes)
        throw new NadirError(
          "E_ARG",
          `row ${i + 1}: label '${l}' is not one of ${names.join(", ")}`,
        );
      id = names.length;
      names.push(l);
      index.set(l, id);
    }
    y[i] = id;
  });
  return { y, classes: names };
}

/** Parse CSV text: the first line names the columns; `label` names the label column (default: the last). */
export function parseCsv(
  text: string,
  file: string,
  options: { label?: string; classes?: readonly string[] } = {},
): LabeledData {
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  const header = lines[0]?.split(",").map((h) => h.trim()) ?? [];
  if (header.length < 2 || header.every((h) => h === ""))
    throw new NadirError("E_PARSE", "expected a header line naming at least 2 columns", {
      file,
      line: 1,
    });
  const li = options.label === undefined ? header.length - 1 : header.indexOf(options.label);
  if (li < 0)
    throw new NadirError(
      "E_PARSE",
      `no column named '${options.label}' (columns: ${header.join(", ")})`,
      {
        file,
        line: 1,
      },
    );
  const d = header.length - 1;
  const X: number[] = [];
  const labels: string[] = [];
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    if (line.trim() === "") continue;
    const cells = line.split(",");
    if (cells.length !== header.length)
      throw new NadirError(
        "E_PARSE",
        `expected ${header.length} comma-separated values, got ${cells.length}`,
        {
          file,
          line: k + 1,
        },
      );
    for (let c = 0; c < cells.length; c++) {
      if (c === li) continue;
      const v = Number(cells[c]!.trim());
      if (cells[c]!.trim() === "" || !Number.isFinite(v))
        throw new NadirError(
          "E_PARSE",
          `column '${header[c]}': expected a finite number, got '${cells[c]}'`,
          {
            file,
            line: k + 1,
          },
        );
      X.push(v);
    }
    labels.push(cells[li]!.trim());
  }
  const { y, classes } = classIds(labels, options.classes);
  return {
    n: labels.length,
    d,
    X: Float64Array.from(X),
    y,
    classes,
    features: header.filter((_, c) => c !== li),
  };
}

/** Parse libsvm/svmlight text; `d` fixes the feature count (default: the largest index seen). */
export function parseLibsvm(
  text: string,
  file: string,
  options: { d?: number; classes?: readonly string[] } = {},
): LabeledData {
  const rows: { label: string; idx: number[]; val: number[] }[] = [];
  let maxIdx = 0;
  const lines = text.split(/\r\n|\n|\r/);
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const parts = line.split(/\s+/);
    const row = { label: parts[0]!, idx: [] as number[], val: [] as number[] };
    let prev = 0;
    for (let p = 1; p < parts.length; p++) {
      const m = /^(\d+):(.+)$/.exec(parts[p]!);
      const idx = m ? Number(m[1]) : Number.NaN;
      const val = m ? Number(m[2]) : Number.NaN;
      if (!m || !Number.isInteger(idx) || idx < 1 || !Number.isFinite(val))
        throw new NadirError(
          "E_PARSE",
          `expected index:value with a 1-based index and a finite value, got '${parts[p]}'`,
          {
            file,
            line: k + 1,
          },
        );
      if (idx <= prev)
        throw new NadirError(
          "E_PARSE",
          `expected increasing feature indices, got ${idx} after ${prev}`,
          {
            file,
            line: k + 1,
          },
        );
      prev = idx;
      row.idx.push(idx);
      row.val.push(val);
      if (idx > maxIdx) maxIdx = idx;
    }
    rows.push(row);
  }
  const d = options.d ?? maxIdx;
  if (maxIdx > d)
    throw new NadirError("E_PARSE", `feature index ${maxIdx} exceeds the ${d} features expected`, {
      file,
    });
  const X = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.idx.length; j++) X[i * d + r.idx[j]! - 1] = r.val[j]!;
  });
  const { y, classes } = classIds(
    rows.map((r) => r.label),
    options.classes,
  );
  return {
    n: rows.length,
    d,
    X,
    y,
    classes,
    features: Array.from({ length: d }, (_, j) => `f${j + 1}`),
  };
}
