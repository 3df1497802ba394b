/**
 * Writing nadir models as CRFsuite model files (`lCRF`, the layout that
 * crfsuite-model.ts reads), so `crfsuite tag -m` and python-crfsuite tag with
 * a model nadir trained. Energies become CRFsuite weights (w = −E); only
 * non-zero weights are written. CRFsuite's string databases (CQDB) are
 * written with their hash tables (Bob Jenkins' lookup3 `hashlittle`, as
 * CRFsuite looks strings up with it) and backlinks.
 *
 * CRFsuite has no start/end weights. A model whose start/end energies are
 * not all zero has them folded into its `__BOS__` / `__EOS__` attributes
 * (exact when, as with nadir's `boundary` specs and CRFsuite's example
 * scripts, `__BOS__` fires on the first item only and `__EOS__` on the last);
 * without those attributes the model is refused unless `dropBoundary` is set.
 * First-order chains only.
 */

import type { FeatureExtractor } from "../architecture/features.ts";
import type { LinearChain } from "../architecture/linear-chain.ts";
import { NadirError } from "../core/errors.ts";

/** What the writer reads of a tagger model (the tagger's Model has all of it). */
export interface CrfsuiteWritable {
  readonly arch: LinearChain;
  readonly W: Float64Array;
  readonly spec: { readonly name: string };
  readonly fx: Pick<FeatureExtractor, "attributeName">;
  readonly labels: readonly string[];
  /** a network under the chain (not expressible in CRFsuite's format) */
  readonly network?: unknown;
}

/** Options of `writeCrfsuiteModel`. */
export interface CrfsuiteWriteOptions {
  /** Drop start/end energies the model cannot carry (no __BOS__/__EOS__ attribute) instead of refusing. */
  dropBoundary?: boolean;
}

const rot = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** lookup3's hashlittle (byte-at-a-time form) of `key`, initial value `init`. */
export function hashlittle(key: Uint8Array, init = 0): number {
  let length = key.length;
  let a = (0xdeadbeef + length + init) | 0;
  let b = a;
  let c = a;
  let k = 0;
  while (length > 12) {
    a = (a + (key[k]! | (key[k + 1]! << 8) | (key[k + 2]! << 16) | (key[k + 3]! << 24))) | 0;
    b = (b + (key[k + 4]! | (key[k + 5]! << 8) | (key[k + 6]! << 16) | (key[k + 7]! << 24))) | 0;
    c = (c + (key[k + 8]! | (key[k + 9]! << 8) | (key[k + 10]! << 16) | (key[k + 11]! << 24))) | 0;
    // mix(a, b, c)
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    length -= 12;
    k += 12;
  }
  if (length === 0) return c >>> 0;
  // the last 1–12 bytes: byte i of the block goes into a, b or c at bits 8·(i mod 4)
  for (let i = length - 1; i >= 0; i--) {
    const v = key[k + i]! << (8 * (i & 3));
    if (i >= 8) c = (c + v) | 0;
    else if (i >= 4) b = (b + v) | 0;
    else a = (a + v) | 0;
  }
  // final(a, b, c)
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/** A little-endian byte writer that grows. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  view = new DataView(this.buf.buffer);
  n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + k) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.room(4);
    this.view.setUint32(this.n, v >>> 0, true);
    this.n += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.n, v, true);
    this.n += 4;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.n, v, true);
    this.n += 8;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  tag(s: string): void {
    for (let i = 0; i < 4; i++) this.bytes(Uint8Array.of(s.charCodeAt(i)));
  }
  align4(): void {
    while (this.n % 4 !== 0) this.bytes(Uint8Array.of(0));
  }
  setU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
}

/** A CQDB chunk holding `strings` with ids 0…n−1, written at the writer's position. */
function writeCqdb(out: Bytes, strings: readonly string[]): void {
  const begin = out.n;
  const enc = new TextEncoder();
  const HEADER = 24;
  const DATA = HEADER + 8 * 256;
  const tables: { hash: number; offset: number }[][] = Array.from({ length: 256 }, () => []);
  const backlinks = new Uint32Array(strings.length);
  out.bytes(new Uint8Array(DATA)); // header and table refs, filled in below
  strings.forEach((s, id) => {
    const raw = enc.encode(s);
    if (raw.includes(0))
      throw new NadirError(
        "E_ARG",
        `CRFsuite strings cannot hold NUL characters: ${JSON.stringify(s)}`,
      );
    const key = new Uint8Array(raw.length + 1);
    key.set(raw);
    const hash = hashlittle(key);
    const offset = out.n - begin;
    tables[hash % 256]!.push({ hash, offset });
    backlinks[id] = offset;
    out.i32(id);
    out.u32(key.length);
    out.bytes(key);
  });
  const refs: { offset: number; num: number }[] = [];
  for (const t of tables) {
    if (t.length === 0) {
      refs.push({ offset: 0, num: 0 });
      continue;
    }
    const n = t.length * 2;
    const hash = new Uint32Array(n);
    const offset = new Uint32Array(n);
    for (const e of t) {
      let k = (e.hash >>> 8) % n;
      while (offset[k] !== 0) k = (k + 1) % n;
      hash[k] = e.hash;
      offset[k] = e.offset;
    }
    refs.push({ offset: out.n - begin, num: n });
    for (let k = 0; k < n; k++) {
      out.u32(hash[k]!);
      out.u32(offset[k]!);
    }
  }
  const bwd = strings.length > 0 ? out.n - begin : 0;
  for (let i = 0; i < backlinks.length; i++) out.u32(backlinks[i]!);
  const size = out.n - begin;
  out.buf.set([0x43, 0x51, 0x44, 0x42], begin); // CQDB
  out.setU32(begin + 4, size);
  out.setU32(begin + 8, 0);
  out.setU32(begin + 12, 0x62445371);
  out.setU32(begin + 16, strings.length);
  out.setU32(begin + 20, bwd);
  refs.forEach((r, i) => {
    out.setU32(begin + HEADER + 8 * i, r.offset);
    out.setU32(begin + HEADER + 8 * i + 4, r.num);
  });
}

/** The bytes of a CRFsuite model file holding `model`'s energies as weights. */
export function writeCrfsuiteModel(
  model: CrfsuiteWritable,
  options: CrfsuiteWriteOptions = {},
): Uint8Array {
  const arch = model.arch;
  if (model.network)
    throw new NadirError(
      "E_UNSUPPORTED",
      `CRFsuite models are linear; ${model.spec.name} has a network under its chain`,
    );
  if (arch.order !== 1 || arch.skip)
    throw new NadirError(
      "E_UNSUPPORTED",
      `CRFsuite models are first-order chains; ${model.spec.name} is ${arch.order === 2 ? "second-order" : "a skip-chain"}`,
    );
  const { A, L } = arch;
  const W = model.W;
  // state energies by attribute, with start/end folded into __BOS__/__EOS__
  const names: string[] = [];
  for (let a = 0; a < A; a++) names.push(model.fx.attributeName(a));
  const extraRow = new Map<number, Float64Array>();
  const fold = (offset: number, name: string, what: string): void => {
    let any = false;
    for (let l = 0; l < L; l++) if (W[offset + l] !== 0) any = true;
    if (!any) return;
    const a = names.indexOf(name);
    if (a < 0) {
      if (options.dropBoundary) return;
      throw new NadirError(
        "E_UNSUPPORTED",
        `CRFsuite models have no ${what} weights and this model has no ${name} attribute to carry them; pass dropBoundary to drop them (the energies change)`,
      );
    }
    const row = extraRow.get(a) ?? new Float64Array(L);
    for (let l = 0; l < L; l++) row[l] = row[l]! + W[offset + l]!;
    extraRow.set(a, row);
  };
  fold(arch.startOffset, "__BOS__", "start");
  fold(arch.endOffset, "__EOS__", "end");
  const row = new Float64Array(L);
  const kept: number[] = []; // nadir attribute ids written, in order
  const stateFeatures: { a: number; l: number; w: number }[] = [];
  for (let a = 0; a < A; a++) {
    row.fill(0);
    for (let k = arch.rowStart(a); k < arch.rowEnd(a); k++) row[arch.labelOf(k, a)] = W[k]!;
    const extra = extraRow.get(a);
    if (extra) for (let l = 0; l < L; l++) row[l] = row[l]! + extra[l]!;
    let any = false;
    for (let l = 0; l < L; l++) {
      if (row[l] === 0) continue;
      if (!any) kept.push(a);
      any = true;
      stateFeatures.push({ a: kept.length - 1, l, w: -row[l]! });
    }
  }
  // features: transitions first, then state features by attribute
  const type: number[] = [];
  const src: number[] = [];
  const dst: number[] = [];
  const weight: number[] = [];
  const labelRefs: number[][] = Array.from({ length: L }, () => []);
  const attrRefs: number[][] = Array.from({ length: kept.length }, () => []);
  for (let i = 0; i < L; i++)
    for (let j = 0; j < L; j++) {
      const e = W[arch.transOffset + i * L + j]!;
      if (e === 0) continue;
      labelRefs[i]!.push(type.length);
      type.push(1);
      src.push(i);
      dst.push(j);
      weight.push(-e);
    }
  for (const f of stateFeatures) {
    attrRefs[f.a]!.push(type.length);
    type.push(0);
    src.push(f.a);
    dst.push(f.l);
    weight.push(f.w);
  }
  const out = new Bytes();
  out.bytes(new Uint8Array(48));
  const offLabels = out.n;
  writeCqdb(out, model.labels);
  const offAttrs = out.n;
  writeCqdb(
    out,
    kept.map((a) => names[a]!),
  );
  const refsChunk = (id: string, lists: number[][], slots: number): number => {
    out.align4();
    const begin = out.n;
    out.tag(id);
    out.u32(0);
    out.u32(slots);
    const table = out.n;
    for (let i = 0; i < slots; i++) out.u32(0);
    lists.forEach((fids, i) => {
      out.setU32(table + 4 * i, out.n);
      out.u32(fids.length);
      for (const f of fids) out.u32(f);
    });
    // CRFsuite's two spare label slots point at an empty list
    if (slots > lists.length) {
      const empty = out.n;
      out.u32(0);
      for (let i = lists.length; i < slots; i++) out.setU32(table + 4 * i, empty);
    }
    out.setU32(begin + 4, out.n - begin);
    return begin;
  };
  const offLabelRefs = refsChunk("LFRF", labelRefs, L + 2);
  const offAttrRefs = refsChunk("AFRF", attrRefs, kept.length);
  out.align4();
  const offFeatures = out.n;
  out.tag("FEAT");
  out.u32(12 + 20 * type.length);
  out.u32(type.length);
  for (let f = 0; f < type.length; f++) {
    out.u32(type[f]!);
    out.u32(src[f]!);
    out.u32(dst[f]!);
    out.f64(weight[f]!);
  }
  const size = out.n;
  out.buf.set([0x6c, 0x43, 0x52, 0x46], 0); // lCRF
  out.setU32(4, size);
  out.buf.set([0x46, 0x4f, 0x4d, 0x43], 8); // FOMC
  const header = [
    100,
    type.length,
    L,
    kept.length,
    offFeatures,
    offLabels,
    offAttrs,
    offLabelRefs,
    offAttrRefs,
  ];
  for (let i = 0; i < header.length; i++) out.setU32(12 + 4 * i, header[i]!);
  return out.buf.slice(0, size);
}
