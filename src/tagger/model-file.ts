import { restoreTables, tablesState } from "../architecture/derived-tables.ts";
import { FeatureExtractor } from "../architecture/features.ts";
import type { StateRows } from "../architecture/linear-chain.ts";
import { NetworkChain, type NetworkDescription } from "../architecture/network.ts";
import { type GraphSpec, parseSpec } from "../architecture/spec.ts";
import {
  type ContainerFormat,
  decodeContainer,
  encodeContainer,
  type SectionArray,
  u32,
  utf8Text,
} from "../core/container.ts";
import { NadirError } from "../core/errors.ts";

/**
 * The tagger's model file: the file container (magic NADIRMDL, a JSON header
 * — spec, labels, vocabularies, sizes, extra settings — typed-array sections
 * W, keys, rowPtr, rowLabel, one CRC-32 over header and payload, gzip).
 * Version 1 files (before the container) still load.
 */

/** Order of the chain a spec asks for. */
export function orderOf(spec: GraphSpec): 1 | 2 {
  return spec.structure === "chain2" ? 2 : 1;
}
/** Version 2: the checksummed container (version 1 files still load). */
export const MODEL_VERSION = 2;
const MODEL_FORMAT: ContainerFormat = { magic: "NADIRMDL", version: MODEL_VERSION };

/** What a model file holds: everything the Model facade is built from. */
export interface ModelFileParts {
  spec: GraphSpec;
  labels: string[];
  fx: FeatureExtractor;
  W: Float64Array;
  nColumns: number;
  rows: StateRows | null;
  extra: Record<string, unknown>;
  /** the network under the chain (header `network`), or null */
  network: NetworkChain | null;
}

/** What encoding a model needs of it (the Model facade has all of it). */
export interface ModelFileSource {
  readonly spec: GraphSpec;
  readonly labels: readonly string[];
  readonly fx: FeatureExtractor;
  readonly W: Float64Array;
  readonly nColumns: number;
  readonly arch: {
    readonly A: number;
    readonly K: number;
    readonly rows: StateRows | null;
    pack(W: Float64Array): { keep: number[]; W: Float64Array; rows: StateRows | null };
  };
  readonly network: NetworkChain | null;
  readonly extra: Record<string, unknown>;
}

/** The bytes of a model file; attributes whose state weights are all zero are dropped. */
export function encodeModelFile(m: ModelFileSource): Uint8Array {
  // the attributes with a non-zero state weight, renumbered densely; a
  // network's layout keeps them all (its layers follow the chain's weights)
  const { keep, W, rows } = m.network
    ? { keep: Array.from({ length: m.arch.A }, (_, a) => a), W: m.W, rows: m.arch.rows }
    : m.arch.pack(m.W);
  const st = m.fx.state(keep);
  const keys = st.keys as Int32Array;
  // the tables of the spec's lookup / ambiguity columns (a model tags without the lookup file)
  const tables = tablesState(m.spec);
  const header = {
    format: "nadir-model",
    version: MODEL_VERSION,
    spec: m.spec.source,
    labels: m.labels,
    nColumns: m.nColumns,
    vocabs: st.vocabs,
    stride: st.stride,
    attributes: keep.length,
    sparse: rows !== null,
    K: W.length,
    extra: m.extra,
    ...(tables ? { tables } : {}),
    // the network's sizes and vocabularies (its rows are the sections')
    ...(m.network ? { network: { ...m.network.describe(), rows: null } } : {}),
  };
  const rowPtr = rows?.rowPtr ?? new Int32Array(0);
  const rowLabel = rows?.rowLabel ?? new Int32Array(0);
  const names: Record<string, SectionArray> = st.names
    ? { names: st.names.text, nameStart: st.names.start }
    : {};
  return encodeContainer(
    MODEL_FORMAT,
    header,
    { W, keys: keys.slice(), rowPtr, rowLabel, ...names },
    6,
  );
}

/**
 * Check and decode a model file's bytes: the container's integrity, magic,
 * version, sizes, finite weights, rows in range; `name` stands for the file
 * in errors (E_MODEL).
 */
export function decodeModelFile(bytes: Uint8Array, name: string): ModelFileParts {
  const path = name;
  const bad = (msg: string): never => {
    throw new NadirError("E_MODEL", `not a valid nadir model: ${msg}`, { file: path });
  };
  const d = decodeContainer(bytes, MODEL_FORMAT, bad, [1]);
  const { h, tables } = d.legacy
    ? readModelV1(d.bytes, bad)
    : { h: checkHeader(d.header, bad), tables: d.sections };
  let spec: GraphSpec;
  try {
    spec = parseSpec(h.spec, "embedded spec");
  } catch (e) {
    return bad((e as Error).message);
  }
  try {
    restoreTables(spec, h.tables, bad);
  } catch (e) {
    if (e instanceof NadirError && e.code === "E_MODEL") throw e;
    return bad((e as Error).message);
  }
  const L = h.labels.length;
  const A = h.attributes;
  const tailSize =
    L * L +
    2 * L +
    (orderOf(spec) === 2 ? L * L * L : 0) +
    (spec.structure === "skip-chain" ? L * L : 0);
  let network: NetworkChain | null = null;
  let linearK = h.K;
  if (h.network !== undefined) {
    if (typeof h.network !== "object" || h.network === null)
      return bad("header's network is not an object");
    try {
      // rows come from the sections below; sizes are checked against them
      network = NetworkChain.fromDescription(spec, {
        ...(h.network as NetworkDescription),
        rows: null,
      });
    } catch (e) {
      return bad((e as Error).message);
    }
    linearK = h.K - (network.K - network.linear.K);
  }
  const nState = linearK - tailSize;
  if (nState < 0 || (!h.sparse && nState !== A * L)) {
    return bad(`expected ${A * L + tailSize} weights for the dictionaries, header says ${h.K}`);
  }
  const table = <C extends SectionArray>(key: string, type: new (n: number) => C, n: number): C => {
    const t = tables[key];
    if (!(t instanceof type) || t.length !== n)
      return bad(`expected ${n} values in the ${key} table, got ${t ? t.length : "none"}`);
    return t;
  };
  // weights saved as float32 (a smaller file, e.g. the playground's) are widened on load
  const W =
    tables.W instanceof Float32Array && tables.W.length === h.K
      ? Float64Array.from(tables.W)
      : table("W", Float64Array, h.K);
  for (let k = 0; k < W.length; k++)
    if (!Number.isFinite(W[k]!)) return bad(`weight ${k} is ${W[k]}`);
  // given attributes: the names as UTF-8 text and offsets (keys empty), or (older files) a vocabulary
  const names =
    tables.names !== undefined || tables.nameStart !== undefined
      ? {
          text: table("names", Uint8Array, tables.names?.length ?? 0),
          start: table("nameStart", Int32Array, A + 1),
        }
      : undefined;
  const keys = table("keys", Int32Array, names ? 0 : A * h.stride);
  let rows: StateRows | null = null;
  if (h.sparse) {
    const rowPtr = table("rowPtr", Int32Array, A + 1);
    const rowLabel = table("rowLabel", Int32Array, nState);
    for (let a = 0; a < A; a++)
      if (rowPtr[a + 1]! < rowPtr[a]!) return bad("state rows are not increasing");
    if (rowPtr[0] !== 0 || rowPtr[A] !== nState)
      return bad("state rows do not cover the state weights");
    for (let k = 0; k < nState; k++)
      if (rowLabel[k]! < 0 || rowLabel[k]! >= L) return bad(`state label ${k} out of range`);
    rows = { rowPtr, rowLabel };
  }
  let fx: FeatureExtractor;
  try {
    fx = new FeatureExtractor(spec, {
      vocabs: h.vocabs,
      stride: h.stride,
      keys,
      ...(names ? { names } : {}),
    });
  } catch (e) {
    return bad((e as Error).message);
  }
  const extra = h.extra && typeof h.extra === "object" ? h.extra : {};
  if (network !== null && rows !== null) {
    // the network again, over the sparse rows the sections hold
    const d = network.describe();
    network = NetworkChain.fromDescription(spec, {
      ...d,
      rows: { rowPtr: Array.from(rows.rowPtr), rowLabel: Array.from(rows.rowLabel) },
    });
  }
  if (network !== null && (network.K !== h.K || network.linear.A !== A || network.L !== L))
    return bad(
      `the network's sizes (K ${network.K}, ${network.linear.A} attributes, ${network.L} labels) do not match the header's (K ${h.K}, ${A}, ${L})`,
    );
  return { spec, labels: h.labels, fx, W, nColumns: h.nColumns, rows, extra, network };
}

/** The header of a model file. */
interface ModelHeader {
  spec: unknown;
  labels: string[];
  nColumns: number;
  vocabs: string[][];
  stride: number;
  attributes: number;
  sparse?: boolean;
  K: number;
  extra?: Record<string, unknown>;
  network?: unknown;
  /** the tables of the spec's lookup / ambiguity columns (derived-tables.ts) */
  tables?: unknown;
}

function checkHeader(h: Record<string, unknown>, bad: (msg: string) => never): ModelHeader {
  if (
    !Array.isArray(h.labels) ||
    !Array.isArray(h.vocabs) ||
    !Number.isInteger(h.attributes) ||
    !Number.isInteger(h.stride) ||
    !Number.isInteger(h.K) ||
    (h.attributes as number) < 0 ||
    (h.stride as number) < 0 ||
    (h.K as number) < 0
  ) {
    return bad("header lacks labels, vocabularies, attributes or K");
  }
  return h as unknown as ModelHeader;
}

/**
 * Version 1 model files (before the container; gzip's CRC only):
 * "NADIRMDL" · u32 1 · u32 header bytes · header JSON · pad to 8 ·
 * Float64 weights (K) · Int32 attribute tuples (A × stride) · when sparse,
 * Int32 row pointers (A + 1) and row labels (the rest).
 */
function readModelV1(
  buf: Uint8Array,
  bad: (msg: string) => never,
): { h: ModelHeader; tables: Record<string, SectionArray> } {
  const hlen = u32(buf, 12);
  if (16 + hlen > buf.length) return bad("header runs past the end of the file");
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Text(buf, 16, 16 + hlen));
  } catch (e) {
    return bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null) return bad("header is not a JSON object");
  const h = checkHeader(raw as Record<string, unknown>, bad);
  const headLen = 16 + hlen;
  let at = headLen + ((8 - (headLen % 8)) % 8);
  const take = <C extends SectionArray>(
    type: { new (n: number): C; BYTES_PER_ELEMENT: number },
    n: number,
  ): C => {
    const bytes = n * type.BYTES_PER_ELEMENT;
    if (at + bytes > buf.length)
      return bad(`expected more bytes of tables than the ${buf.length - at} left`);
    const a = new type(n);
    new Uint8Array(a.buffer).set(buf.subarray(at, at + bytes));
    at += bytes;
    return a;
  };
  const W = take(Float64Array, h.K);
  const keys = take(Int32Array, h.attributes * h.stride);
  const rowPtr = take(Int32Array, h.sparse ? h.attributes + 1 : 0);
  const rest = buf.length - at;
  if (!h.sparse && rest !== 0) return bad(`expected no bytes after the tables, got ${rest}`);
  if (rest % 4 !== 0) return bad(`expected whole Int32 row labels, got ${rest} bytes`);
  const rowLabel = take(Int32Array, rest / 4);
  return { h, tables: { W, keys, rowPtr, rowLabel } };
}
