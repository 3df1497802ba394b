/**
 * CRFsuite model files (the binary `lCRF` format that `crfsuite learn -m`
 * and python-crfsuite's `Trainer.train` write), read into the parts of a
 * nadir `Model`. Written from the format's description, all integers
 * little-endian:
 *
 *   header (48 bytes): "lCRF" · u32 file size · "FOMC" · u32 version (100) ·
 *     u32 #features (not filled in by CRFsuite) · u32 #labels · u32 #attributes ·
 *     u32 offsets of: features, label CQDB, attribute CQDB, label refs, attribute refs
 *   features chunk: "FEAT" · u32 chunk size · u32 #features ·
 *     per feature (20 bytes): u32 type (0 state, 1 transition) · u32 src · u32 dst · f64 weight
 *   label refs "LFRF" / attribute refs "AFRF": chunk id · u32 size · u32 n ·
 *     n u32 offsets (absolute), each to: u32 count · count u32 feature ids
 *   CQDB string databases (labels, attributes): "CQDB" · u32 size · u32 flag ·
 *     u32 byte-order mark 0x62445371 · u32 backlink slots · u32 backlink offset ·
 *     256 hash-table refs · records (i32 id · u32 key size · key, NUL-terminated) ·
 *     hash tables · backlinks (u32 record offset per id, relative to the chunk)
 *
 * The energy view: a CRFsuite state feature (attribute a, label y, weight w)
 * scores +w; nadir's weights are energies, so it becomes W_state[a, y] = −w;
 * a transition (y₁ → y₂, w) becomes W_trans[y₁, y₂] = −w; CRFsuite has no
 * start/end weights (0). Tagging sums value × weight over an item's
 * attributes, as CRFsuite does; attributes unknown to the model add nothing.
 *
 * Everything is checked (sizes, offsets, ids, finite weights) before use: a
 * damaged file is an E_MODEL, never a crash. The format has no checksum, so
 * a flipped bit inside a weight cannot be detected.
 */
import { FeatureExtractor } from "../architecture/features.ts";
import type { StateRows } from "../architecture/linear-chain.ts";
import { type GraphSpec, parseSpec } from "../architecture/spec.ts";
import { NadirError } from "../core/errors.ts";

const HEADER_SIZE = 48;
const CHUNK_SIZE = 12;
const FEATURE_SIZE = 20;
const CQDB_HEADER = 24;
const CQDB_TABLES = 256;
const BYTE_ORDER = 0x62445371;

/** Does this look like a CRFsuite model (its magic and type)? */
export function isCrfsuiteModel(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 12 &&
    bytes[0] === 0x6c && // l
    bytes[1] === 0x43 && // C
    bytes[2] === 0x52 && // R
    bytes[3] === 0x46 // F
  );
}

/** A CRFsuite model as nadir energies. */
export interface CrfsuiteModelParts {
  labels: string[];
  attributes: string[];
  /** State weights as CSR rows over attributes (labels increasing within a row). */
  rows: StateRows;
  /** [state (rows) | transition L×L | start L | end L], energies (−CRFsuite weight). */
  W: Float64Array;
  /** Number of CRFsuite features (state + transition). */
  features: number;
}

/** Parse the bytes of a CRFsuite model; `name` names the file in errors. */
export function readCrfsuiteModel(bytes: Uint8Array, name = "<bytes>"): CrfsuiteModelParts {
  const bad = (msg: string): never => {
    throw new NadirError("E_MODEL", `not a valid CRFsuite model: ${msg}`, { file: name });
  };
  const n = bytes.length;
  if (n < HEADER_SIZE) bad(`expected a 48-byte header, got ${n} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (at: number, what: string): number => {
    if (at < 0 || at + 4 > n) bad(`${what} at byte ${at} lies past the end (${n} bytes)`);
    return view.getUint32(at, true);
  };
  const tag = (at: number): string =>
    String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (!isCrfsuiteModel(bytes)) bad(`expected magic 'lCRF', got '${tag(0)}'`);
  const size = u32(4, "file size");
  if (size !== n) bad(`header says ${size} bytes, the file has ${n} (truncated or padded?)`);
  if (tag(8) !== "FOMC") bad(`expected model type 'FOMC' (first-order chain), got '${tag(8)}'`);
  const version = u32(12, "version");
  if (version !== 100) bad(`expected version 100, got ${version}`);
  const L = u32(20, "label count");
  const A = u32(24, "attribute count");
  const offFeatures = u32(28, "features offset");
  const offLabels = u32(32, "labels offset");
  const offAttrs = u32(36, "attributes offset");
  const offLabelRefs = u32(40, "label refs offset");
  const offAttrRefs = u32(44, "attribute refs offset");
  if (L === 0) bad("the model has no labels");
  // every count bounds a table that must fit in the file
  if (L > n / 4 || A > n / 4) bad(`${L} labels / ${A} attributes cannot fit in ${n} bytes`);

  // features
  if (tag(offFeatures) !== "FEAT" || offFeatures + CHUNK_SIZE > n)
    bad(`expected the features chunk 'FEAT' at byte ${offFeatures}`);
  const featSize = u32(offFeatures + 4, "features chunk size");
  const F = u32(offFeatures + 8, "feature count");
  if (offFeatures + featSize > n || CHUNK_SIZE + F * FEATURE_SIZE > featSize)
    bad(`features chunk: ${F} features do not fit in its ${featSize} bytes`);
  const fType = new Uint8Array(F);
  const fSrc = new Int32Array(F);
  const fDst = new Int32Array(F);
  const fW = new Float64Array(F);
  for (let f = 0; f < F; f++) {
    const at = offFeatures + CHUNK_SIZE + f * FEATURE_SIZE;
    const type = view.getUint32(at, true);
    const src = view.getUint32(at + 4, true);
    const dst = view.getUint32(at + 8, true);
    const w = view.getFloat64(at + 12, true);
    if (type > 1) bad(`feature ${f}: expected type 0 (state) or 1 (transition), got ${type}`);
    if (type === 0 ? src >= A : src >= L)
      bad(`feature ${f}: source ${src} out of range (${type === 0 ? A : L})`);
    if (dst >= L) bad(`feature ${f}: label ${dst} out of range (${L})`);
    if (!Number.isFinite(w)) bad(`feature ${f}: weight ${w} is not finite`);
    fType[f] = type;
    fSrc[f] = src;
    fDst[f] = dst;
    fW[f] = w;
  }

  const labels = readCqdb(bytes, view, offLabels, L, "labels", bad);
  const attributes = readCqdb(bytes, view, offAttrs, A, "attributes", bad);

  // references: what CRFsuite's tagger follows (attribute → its state
  // features, label → its outgoing transitions); each must agree with FEAT
  const used = new Uint8Array(F);
  const refs = (
    off: number,
    id: string,
    count: number,
    what: string,
    visit: (i: number, f: number) => void,
  ): void => {
    if (tag(off) !== id || off + CHUNK_SIZE > n) bad(`expected the ${what} chunk '${id}'`);
    const num = u32(off + 8, `${what} count`);
    // CRFsuite writes L + 2 label-ref slots (two unused); never fewer than the count
    if (num < count || off + CHUNK_SIZE + 4 * num > n)
      bad(`${what}: expected ${count} entries, got ${num}`);
    for (let i = 0; i < count; i++) {
      const p = u32(off + CHUNK_SIZE + 4 * i, `${what} offset`);
      const k = u32(p, `${what} ${i} size`);
      if (k > F || p + 4 + 4 * k > n) bad(`${what} ${i}: ${k} references run past the end`);
      for (let j = 0; j < k; j++) {
        const f = view.getUint32(p + 4 + 4 * j, true);
        if (f >= F) bad(`${what} ${i}: feature ${f} out of range (${F})`);
        if (used[f]) bad(`${what} ${i}: feature ${f} referenced twice`);
        used[f] = 1;
        visit(i, f);
      }
    }
  };

  const trans = new Float64Array(L * L);
  refs(offLabelRefs, "LFRF", L, "label refs", (i, f) => {
    if (fType[f] !== 1 || fSrc[f] !== i)
      bad(`label refs ${i}: feature ${f} is not a transition from label ${i}`);
    trans[i * L + fDst[f]!] = -fW[f]!;
  });
  const rowPtr = new Int32Array(A + 1);
  const pairs: number[] = []; // feature ids in row order
  refs(offAttrRefs, "AFRF", A, "attribute refs", (i, f) => {
    if (fType[f] !== 0 || fSrc[f] !== i)
      bad(`attribute refs ${i}: feature ${f} is not a state feature of attribute ${i}`);
    pairs.push(f);
    rowPtr[i + 1] = pairs.length;
  });
  for (let a = 0; a < A; a++) if (rowPtr[a + 1]! < rowPtr[a]!) rowPtr[a + 1] = rowPtr[a]!;
  for (let f = 0; f < F; f++)
    if (!used[f]) bad(`feature ${f} is referenced by no label or attribute`);

  // rows: labels increasing within each attribute's row (nadir's invariant)
  const S = pairs.length;
  const rowLabel = new Int32Array(S);
  const W = new Float64Array(S + L * L + 2 * L);
  for (let a = 0; a < A; a++) {
    const row = pairs.slice(rowPtr[a]!, rowPtr[a + 1]!).sort((x, y) => fDst[x]! - fDst[y]!);
    for (let j = 0; j < row.length; j++) {
      const k = rowPtr[a]! + j;
      const f = row[j]!;
      if (j > 0 && fDst[f] === fDst[row[j - 1]!])
        bad(`attribute ${a}: two state features for label ${fDst[f]}`);
      rowLabel[k] = fDst[f]!;
      W[k] = -fW[f]!;
    }
  }
  W.set(trans, S);
  return { labels, attributes, rows: { rowPtr, rowLabel }, W, features: F };
}

/** The strings of a CQDB chunk by id (its backlink array), checked. */
function readCqdb(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  count: number,
  what: string,
  bad: (msg: string) => never,
): string[] {
  const n = bytes.length;
  const base = CQDB_HEADER + 8 * CQDB_TABLES;
  if (off + base > n) bad(`${what}: the string database at byte ${off} runs past the end`);
  if (
    bytes[off] !== 0x43 ||
    bytes[off + 1] !== 0x51 ||
    bytes[off + 2] !== 0x44 ||
    bytes[off + 3] !== 0x42
  )
    bad(`${what}: expected a 'CQDB' string database at byte ${off}`);
  const size = view.getUint32(off + 4, true);
  if (view.getUint32(off + 12, true) !== BYTE_ORDER) bad(`${what}: wrong byte-order mark`);
  const slots = view.getUint32(off + 16, true);
  const bwd = view.getUint32(off + 20, true);
  if (size < base || off + size > n) bad(`${what}: database size ${size} does not fit`);
  if (count === 0) return [];
  if (bwd === 0 || slots < count || bwd + 4 * count > size)
    bad(`${what}: expected ${count} backlinks inside the database`);
  const decoder = new TextDecoder("utf-8");
  const out = new Array<string>(count);
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const rec = view.getUint32(off + bwd + 4 * i, true);
    if (rec < base || rec + 8 > size) bad(`${what} ${i}: record offset ${rec} out of range`);
    const id = view.getInt32(off + rec, true);
    const k = view.getUint32(off + rec + 4, true);
    if (id !== i) bad(`${what} ${i}: the record says id ${id}`);
    const start = off + rec + 8;
    if (k < 1 || rec + 8 + k > size || bytes[start + k - 1] !== 0)
      bad(`${what} ${i}: expected a NUL-terminated string of ${k} bytes`);
    const s = decoder.decode(bytes.subarray(start, start + k - 1));
    if (seen.has(s)) bad(`${what}: '${s}' appears twice`);
    seen.add(s);
    out[i] = s;
  }
  return out;
}

/** The spec a CRFsuite model is read under: given attributes, no constraints (as CRFsuite decodes). */
export function crfsuiteSpec(labels: readonly string[], file: string): GraphSpec {
  const iob = labels.length > 0 && labels.every((l) => l === "O" || /^[BI]-./.test(l));
  return parseSpec(
    {
      name: "crfsuite",
      description: `read from the CRFsuite model ${file}`,
      format: "crfsuite",
      encoding: iob ? "iob2" : "none",
      features: "observed",
    },
    "crfsuite spec",
  );
}

/**
 * What `new Model(...)` needs for a CRFsuite model file's bytes: the spec
 * (`"format": "crfsuite"`), labels, an extractor over the raw attribute
 * names, the energies W and the observed state rows.
 */
export function crfsuiteModelArgs(
  bytes: Uint8Array,
  name = "<bytes>",
): {
  spec: GraphSpec;
  labels: string[];
  fx: FeatureExtractor;
  W: Float64Array;
  nColumns: number;
  rows: StateRows;
} {
  const p = readCrfsuiteModel(bytes, name);
  const spec = crfsuiteSpec(p.labels, name);
  const keys = new Int32Array(p.attributes.length);
  for (let i = 0; i < keys.length; i++) keys[i] = i;
  const fx = new FeatureExtractor(spec, { vocabs: [p.attributes], stride: 1, keys });
  return { spec, labels: p.labels, fx, W: p.W, nColumns: 1, rows: p.rows };
}
