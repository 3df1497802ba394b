import { NadirError } from "../core/errors.ts";
import { readFileText } from "../core/host.ts";
import { readJsonFile } from "../core/json.ts";
import { resolveSpecPath } from "../core/shipped.ts";
import { conlluColumnIndex } from "../data/conllu-columns.ts";
import { type DerivedColumn, parseDerived } from "./columns.ts";
import { looksLikeCrfppTemplate, readCrfppTemplate } from "./crfpp-template.ts";
import { parseTemplate, type Template } from "./templates.ts";

/**
 * A graph spec (graphs/*.json): which corpus columns feed the energy, which
 * column holds Y, the feature templates and the structure of the factor graph.
 *
 * ```json
 * { "name": "chunk", "format": "conll", "columns": ["w", "pos"], "label": -1,
 *   "derived": { "lw": "lower(w)" }, "templates": ["w[0]", "w[-1]|w[0]"],
 *   "outside": "skip", "boundary": true, "structure": "chain",
 *   "encoding": "iob2", "metric": "chunk-f1" }
 * ```
 */
export interface GraphSpec {
  name: string;
  description: string;
  /**
   * Corpus format: CoNLL columns, CoNLL-U, or CRFsuite data files
   * (`label<TAB>attr[:value]…`: the attributes are given, so a crfsuite spec
   * has no columns, templates or derived columns; the label is field 0).
   */
  format: "conll" | "conllu" | "crfsuite";
  /** Base column name → column index in the file (CoNLL-U names resolved). */
  columns: Record<string, number>;
  /** Index of the label column; negative counts from the end (conll). */
  label: number;
  derived: DerivedColumn[];
  templates: Template[];
  /**
   * Numeric input columns (`"emb3"` or `"emb3[-1]"`): each is one attribute
   * whose value is the column's number at that offset (value × weight in the
   * energy) — users' own real-valued features: embeddings, gazetteer scores.
   */
  numeric: { name: string; column: string; offset: number }[];
  /** Template windows reaching outside the sentence: "skip" the attribute or "pad" with __BOS-1__ etc. */
  outside: "skip" | "pad";
  /**
   * How padded values are named in attribute names: nadir's `__BOS-1__` /
   * `__EOS+1__`, or CRF++'s `_B-1` / `_B+1` (the same features either way).
   */
  padding: "nadir" | "crfpp";
  /** Emit __BOS__ on the first and __EOS__ on the last position. */
  boundary: boolean;
  /** Attributes seen fewer times than this in training are dropped. */
  minCount: number;
  /**
   * The factor graph over Y: a first-order "chain", a second-order "chain2"
   * (factors over label triples), or a "skip-chain" (a chain plus skip factors
   * between repeated capitalized words, see `skip`).
   */
  structure: "chain" | "chain2" | "skip-chain";
  /** skip-chain only: the column compared for skip edges, and the scope of a skip */
  skip: { column: string; capitalized: boolean; maxDistance: number } | null;
  /** Label encoding for chunk scoring and constraints. */
  encoding: "iob2" | "iob1" | "bioes" | "none";
  /** Model selection metric on dev. */
  metric: "accuracy" | "chunk-f1";
  /** Forbid transitions the encoding cannot produce (e.g. O → I-NP under iob2). */
  constrained: boolean;
  /**
   * State weights for "all" (attribute, label) pairs, or only the pairs
   * "observed" in training (CRFsuite's default feature set: smaller, faster).
   */
  features: "all" | "observed";
  /**
   * Binary labels only: keep the pairwise energies submodular while training
   * (E(0,1) + E(1,0) ≥ E(0,0) + E(1,1)), so min-cut decoding stays exact.
   */
  submodular: boolean;
  /** Training defaults the spec recommends (overridable from the CLI). */
  train: Record<string, unknown>;
  /** The JSON the spec was read from, kept in the model file. */
  source: unknown;
}

const KEYS = new Set([
  "$schema",
  "name",
  "description",
  "format",
  "columns",
  "label",
  "derived",
  "templates",
  "numeric",
  "outside",
  "padding",
  "boundary",
  "minCount",
  "structure",
  "skip",
  "encoding",
  "metric",
  "constrained",
  "features",
  "submodular",
  "train",
  // a deep architecture under the chain (src/architecture/network.ts reads it from `source`)
  "network",
]);

function fail(where: string, msg: string): never {
  throw new NadirError("E_SPEC", `${where}: ${msg}`);
}

function columnIndex(ref: unknown, format: string, where: string): number {
  if (typeof ref === "number" && Number.isInteger(ref)) return ref;
  if (typeof ref === "string" && format === "conllu") {
    try {
      return conlluColumnIndex(ref);
    } catch (e) {
      return fail(where, (e as Error).message);
    }
  }
  return fail(
    where,
    `expected a column index${format === "conllu" ? " or a CoNLL-U column name" : ""}, got ${JSON.stringify(ref)}`,
  );
}

/** Check a parsed JSON value against the spec schema; `file` names it in errors. */
export function parseSpec(json: unknown, file: string): GraphSpec {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    fail(file, "expected a JSON object");
  const o = json as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!KEYS.has(k))
      fail(`${file}: key '${k}'`, `unknown key; expected one of ${[...KEYS].join(", ")}`);
  }
  const str = (k: string, dflt?: string): string => {
    const v = o[k] ?? dflt;
    if (typeof v !== "string")
      fail(`${file}: key '${k}'`, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[], dflt: T): T => {
    const v = o[k] ?? dflt;
    if (!allowed.includes(v as T)) {
      fail(
        `${file}: key '${k}'`,
        `expected one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`,
      );
    }
    return v as T;
  };
  const name = str("name");
  const format = oneOf("format", ["conll", "conllu", "crfsuite"] as const, "conll");
  const crfsuite = format === "crfsuite";
  if (crfsuite) {
    for (const k of ["columns", "label", "derived", "templates", "boundary", "numeric"]) {
      if (o[k] !== undefined)
        fail(
          `${file}: key '${k}'`,
          "a crfsuite spec reads the attributes as given (label<TAB>attr[:value]…); remove this key",
        );
    }
  }

  const columns: Record<string, number> = {};
  const rawCols = crfsuite ? {} : o.columns;
  if (Array.isArray(rawCols)) {
    rawCols.forEach((c, i) => {
      if (typeof c !== "string" || c === "")
        fail(`${file}: key 'columns[${i}]'`, `expected a column name, got ${JSON.stringify(c)}`);
      if (Object.hasOwn(columns, c))
        fail(`${file}: key 'columns[${i}]'`, `column '${c}' is named twice`);
      columns[c] = i;
    });
  } else if (typeof rawCols === "object" && rawCols !== null) {
    for (const [k, v] of Object.entries(rawCols)) {
      const where = `${file}: key 'columns.${k}'`;
      const i = columnIndex(v, format, where);
      if (i < 0) fail(where, `expected a column index ≥ 0, got ${i}`);
      columns[k] = i;
    }
  } else {
    fail(`${file}: key 'columns'`, "expected an array of column names or an object name → column");
  }
  if (!crfsuite && Object.keys(columns).length === 0)
    fail(`${file}: key 'columns'`, "expected at least one input column");
  const label = crfsuite
    ? 0
    : columnIndex(o.label ?? (format === "conll" ? -1 : "UPOS"), format, `${file}: key 'label'`);

  const derived: DerivedColumn[] = [];
  const known = new Set(Object.keys(columns));
  const rawDerived = o.derived ?? {};
  if (typeof rawDerived !== "object" || rawDerived === null || Array.isArray(rawDerived)) {
    fail(`${file}: key 'derived'`, "expected an object name → expression");
  }
  for (const [k, v] of Object.entries(rawDerived as Record<string, unknown>)) {
    const where = `${file}: key 'derived.${k}'`;
    if (typeof v !== "string")
      fail(where, `expected an expression string, got ${JSON.stringify(v)}`);
    if (known.has(k)) fail(where, `column '${k}' is defined twice`);
    const d = parseDerived(k, v, where);
    if (!known.has(d.source))
      fail(where, `unknown column '${d.source}'; known: ${[...known].join(", ")}`);
    derived.push(d);
    known.add(k);
  }

  const rawTemplates = crfsuite ? [] : o.templates;
  const hasNumeric = Array.isArray(o.numeric) && o.numeric.length > 0;
  if (!crfsuite && (!Array.isArray(rawTemplates) || (rawTemplates.length === 0 && !hasNumeric))) {
    fail(`${file}: key 'templates'`, 'expected a non-empty array of templates like "w[0]"');
  }
  const templates: Template[] = [];
  const seen = new Set<string>();
  (rawTemplates as unknown[]).forEach((t, i) => {
    const where = `${file}: key 'templates[${i}]'`;
    if (typeof t !== "string") fail(where, `expected a template string, got ${JSON.stringify(t)}`);
    const tpl = parseTemplate(t, where);
    for (const p of tpl.parts) {
      if (!known.has(p.column))
        fail(where, `unknown column '${p.column}' in '${t}'; known: ${[...known].join(", ")}`);
    }
    if (seen.has(tpl.name)) fail(where, `template '${tpl.name}' appears twice`);
    seen.add(tpl.name);
    templates.push(tpl);
  });

  const numeric: GraphSpec["numeric"] = [];
  const rawNumeric = o.numeric ?? [];
  if (!Array.isArray(rawNumeric))
    fail(
      `${file}: key 'numeric'`,
      'expected an array of numeric columns like "emb0" or "emb0[-1]"',
    );
  (rawNumeric as unknown[]).forEach((t, i) => {
    const where = `${file}: key 'numeric[${i}]'`;
    if (typeof t !== "string") fail(where, `expected a column name, got ${JSON.stringify(t)}`);
    const tpl = parseTemplate(t.includes("[") ? t : `${t}[0]`, where);
    const part = tpl.parts[0];
    if (tpl.parts.length !== 1 || part === undefined)
      fail(where, `expected one column like "emb0" or "emb0[-1]", got '${t}'`);
    if (!Object.hasOwn(columns, part.column))
      fail(
        where,
        `unknown input column '${part.column}'; input columns: ${Object.keys(columns).join(", ")}`,
      );
    if (seen.has(tpl.name) || numeric.some((q) => q.name === tpl.name))
      fail(where, `'${tpl.name}' appears twice`);
    numeric.push({ name: tpl.name, column: part.column, offset: part.offset });
  });

  const minCount = o.minCount ?? 1;
  if (typeof minCount !== "number" || !Number.isInteger(minCount) || minCount < 1) {
    fail(`${file}: key 'minCount'`, `expected an integer ≥ 1, got ${JSON.stringify(minCount)}`);
  }
  const boundary = o.boundary ?? !crfsuite;
  if (typeof boundary !== "boolean")
    fail(`${file}: key 'boundary'`, `expected true or false, got ${JSON.stringify(boundary)}`);
  const constrained = o.constrained ?? false;
  if (typeof constrained !== "boolean")
    fail(
      `${file}: key 'constrained'`,
      `expected true or false, got ${JSON.stringify(constrained)}`,
    );
  const train = o.train ?? {};
  if (typeof train !== "object" || train === null || Array.isArray(train))
    fail(`${file}: key 'train'`, "expected an object of training options");
  // a spec (often downloaded) may not name files: paths come from the command line or the library call
  for (const k of ["init", "checkpoint", "resume"]) {
    if (Object.hasOwn(train, k))
      fail(
        `${file}: key 'train.${k}'`,
        `a spec may not name files; give --${k} on the command line (or ${k} in the library call)`,
      );
  }
  const encoding = oneOf("encoding", ["iob2", "iob1", "bioes", "none"] as const, "none");
  if (constrained && encoding === "none")
    fail(`${file}: key 'constrained'`, "needs an encoding (iob2, iob1 or bioes)");

  const submodular = o.submodular ?? false;
  if (typeof submodular !== "boolean")
    fail(`${file}: key 'submodular'`, `expected true or false, got ${JSON.stringify(submodular)}`);
  const structure = oneOf("structure", ["chain", "chain2", "skip-chain"] as const, "chain");
  let skip: GraphSpec["skip"] = null;
  if (structure === "skip-chain") {
    const raw = (o.skip ?? {}) as Record<string, unknown>;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      fail(`${file}: key 'skip'`, "expected an object");
    const column = raw.column ?? "w";
    if (typeof column !== "string" || !Object.hasOwn(columns, column)) {
      fail(
        `${file}: key 'skip.column'`,
        `expected an input column, got ${JSON.stringify(column)}; input columns: ${Object.keys(columns).join(", ")}`,
      );
    }
    const capitalized = raw.capitalized ?? true;
    if (typeof capitalized !== "boolean")
      fail(`${file}: key 'skip.capitalized'`, "expected true or false");
    const maxDistance = raw.maxDistance ?? 1000;
    if (typeof maxDistance !== "number" || !Number.isInteger(maxDistance) || maxDistance < 1) {
      fail(
        `${file}: key 'skip.maxDistance'`,
        `expected an integer ≥ 1, got ${JSON.stringify(maxDistance)}`,
      );
    }
    skip = { column, capitalized, maxDistance };
  } else if (o.skip !== undefined) {
    fail(`${file}: key 'skip'`, "only a skip-chain structure takes skip settings");
  }
  return {
    name,
    description: o.description === undefined ? "" : str("description"),
    format,
    columns,
    label,
    derived,
    templates,
    numeric,
    outside: oneOf("outside", ["skip", "pad"] as const, "pad"),
    padding: oneOf("padding", ["nadir", "crfpp"] as const, "nadir"),
    boundary,
    minCount,
    structure,
    skip,
    encoding,
    metric: oneOf(
      "metric",
      ["accuracy", "chunk-f1"] as const,
      encoding === "none" ? "accuracy" : "chunk-f1",
    ),
    constrained,
    features: oneOf("features", ["all", "observed"] as const, "all"),
    submodular,
    train: train as Record<string, unknown>,
    source: json,
  };
}

/** Does this file hold a CRF++ template rather than JSON? */
function isCrfppTemplateFile(path: string): boolean {
  try {
    return looksLikeCrfppTemplate(readFileText(path).replace(/^\uFEFF/, ""));
  } catch {
    return false; // unreadable: readJsonFile reports it
  }
}

/**
 * Read and check a spec file; errors name the file and the key. A bare name
 * (`chunk`, `pos`, `ner`, …) is the package's own graphs/NAME.json.
 */
export function loadSpec(pathOrName: string): GraphSpec {
  const path = resolveSpecPath(pathOrName);
  if (!path.endsWith(".json") && isCrfppTemplateFile(path)) {
    // a CRF++ template file (U00:%x[0,0] … B): translated into a spec
    return parseSpec(readCrfppTemplate(path).spec, path);
  }
  const json = readJsonFile(path, "spec");
  return parseSpec(json, path);
}
