import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  Dictionary,
  encodeSentence,
  FeatureExtractor,
  type Instance,
} from "./architecture/features.ts";
import { type Encoding, encodingConstraints, withEnd } from "./architecture/labels.ts";
import { LinearChain } from "./architecture/linear-chain.ts";
import { type GraphSpec, parseSpec } from "./architecture/spec.ts";
import { NadirError } from "./core/errors.ts";
import { writeFileAtomic } from "./core/io.ts";
import type { Constraints, InferenceResult } from "./inference/types.ts";
import { viterbi } from "./inference/viterbi.ts";

const MAGIC = "NADIRMDL";
export const MODEL_VERSION = 1;

/**
 * A trained energy model over sequences: the spec (architecture), the label
 * and attribute dictionaries, and the weights W of the linear-chain energy.
 * It answers the decision question: ŷ = argmin_y E(W, y, x).
 */
export class Model {
  readonly spec: GraphSpec;
  readonly labels: string[];
  /** X side of the architecture: column vocabularies and the attribute table. */
  readonly fx: FeatureExtractor;
  readonly arch: LinearChain;
  readonly W: Float64Array;
  /** Number of columns of the training file (so tagging can tell whether gold labels are present). */
  readonly nColumns: number;
  private readonly constraints: Constraints | undefined;
  private readonly labelDict: Dictionary;

  /** `W` null: all-zero weights of the right size. */
  constructor(
    spec: GraphSpec,
    labels: string[],
    fx: FeatureExtractor,
    W: Float64Array | null,
    nColumns: number,
  ) {
    this.spec = spec;
    this.labels = labels;
    this.fx = fx;
    this.arch = new LinearChain(fx.numAttributes, labels.length);
    W ??= new Float64Array(this.arch.K);
    if (W.length !== this.arch.K) {
      throw new NadirError("E_MODEL", `weights: expected ${this.arch.K} values, got ${W.length}`);
    }
    this.W = W;
    this.nColumns = nColumns;
    this.labelDict = Dictionary.from(labels);
    this.constraints = spec.constrained
      ? encodingConstraints(spec.encoding as Encoding, labels)
      : undefined;
  }

  /** Decoding constraints for a sequence of length T (encoding well-formedness). */
  constraintsFor(T: number): Constraints | undefined {
    return withEnd(this.constraints, this.spec.encoding as Encoding, this.labels, T);
  }

  /** Encode a sentence's tokens (tokens[t][c]) into attribute ids; gold labels read if asked. */
  encode(
    tokens: string[][],
    withGold = false,
    where?: { file?: string; firstLine?: number },
  ): Instance {
    return encodeSentence(this.fx, { tokens, ...where }, this.labelDict, withGold);
  }

  /** ŷ = argmin_y E(W, y, x) by Viterbi, under the encoding's constraints. */
  decideInstance(x: Instance, out?: Int32Array): InferenceResult {
    const p = this.arch.potentials(x, this.W);
    return viterbi(p, this.constraintsFor(x.T), out);
  }

  /** The best labels for a sentence, as strings. */
  tag(tokens: string[][]): string[] {
    if (tokens.length === 0) return [];
    const r = this.decideInstance(this.encode(tokens));
    const out = new Array<string>(r.labels.length);
    for (let t = 0; t < out.length; t++) out[t] = this.labels[r.labels[t]!]!;
    return out;
  }

  /**
   * Tag plain words, for specs with a single word column: each word fills
   * that column of an otherwise empty token line.
   */
  tagWords(words: readonly string[]): string[] {
    const cols = Object.values(this.spec.columns);
    if (cols.length !== 1) {
      throw new NadirError(
        "E_ARG",
        `tagWords needs a spec with one input column; ${this.spec.name} has ${cols.length}`,
      );
    }
    const width = Math.max(this.nColumns, cols[0]! + 1);
    return this.tag(
      words.map((w) => {
        const tok = new Array<string>(width).fill("_");
        tok[cols[0]!] = w;
        return tok;
      }),
    );
  }

  /** Does a token line of this many columns carry a gold label? */
  hasGold(columns: number): boolean {
    return this.spec.format === "conllu" || columns >= this.nColumns;
  }

  /**
   * Write the model atomically. Attributes whose weights are all zero are
   * dropped. Layout (then gzip, whose CRC guards against corruption):
   * "NADIRMDL" · u32 version · u32 header bytes · header JSON · pad to 8 ·
   * Float64 weights (K) · Int32 attribute tuples (A' × stride).
   */
  save(path: string): void {
    const { L, A } = this.arch;
    const keep: number[] = [];
    for (let a = 0; a < A; a++) {
      const base = a * L;
      for (let l = 0; l < L; l++) {
        if (this.W[base + l] !== 0) {
          keep.push(a);
          break;
        }
      }
    }
    const arch2 = new LinearChain(keep.length, L);
    const W2 = new Float64Array(arch2.K);
    keep.forEach((a, i) => {
      W2.set(this.W.subarray(a * L, a * L + L), i * L);
    });
    W2.set(this.W.subarray(this.arch.transOffset), arch2.transOffset);
    const st = this.fx.state(keep);
    const keys = st.keys as Int32Array;
    const header = JSON.stringify({
      format: "nadir-model",
      version: MODEL_VERSION,
      spec: this.spec.source,
      labels: this.labels,
      nColumns: this.nColumns,
      vocabs: st.vocabs,
      stride: st.stride,
      attributes: keep.length,
      K: arch2.K,
    });
    const hbytes = Buffer.from(header, "utf8");
    const headLen = 16 + hbytes.length;
    const pad = (8 - (headLen % 8)) % 8;
    const buf = Buffer.alloc(headLen + pad + W2.byteLength + keys.byteLength);
    buf.write(MAGIC, 0, "latin1");
    buf.writeUInt32LE(MODEL_VERSION, 8);
    buf.writeUInt32LE(hbytes.length, 12);
    hbytes.copy(buf, 16);
    Buffer.from(W2.buffer, W2.byteOffset, W2.byteLength).copy(buf, headLen + pad);
    Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength).copy(
      buf,
      headLen + pad + W2.byteLength,
    );
    writeFileAtomic(path, gzipSync(buf, { level: 6 }));
  }

  /** Read and check a model file: gzip integrity, magic, version, sizes, finite weights. */
  static load(path: string): Model {
    let raw: Buffer;
    try {
      raw = readFileSync(path);
    } catch (e) {
      throw new NadirError("E_MODEL", `cannot read model: ${(e as Error).message}`, { file: path });
    }
    const bad = (msg: string): never => {
      throw new NadirError("E_MODEL", `not a valid nadir model: ${msg}`, { file: path });
    };
    let buf: Buffer;
    try {
      buf = gunzipSync(raw);
    } catch (e) {
      return bad(`${(e as Error).message} (truncated or corrupt file?)`);
    }
    if (buf.length < 16 || buf.toString("latin1", 0, 8) !== MAGIC)
      return bad("missing the NADIRMDL header");
    const version = buf.readUInt32LE(8);
    if (version !== MODEL_VERSION) return bad(`expected version ${MODEL_VERSION}, got ${version}`);
    const hlen = buf.readUInt32LE(12);
    if (16 + hlen > buf.length) return bad("header runs past the end of the file");
    let h: {
      spec: unknown;
      labels: string[];
      nColumns: number;
      vocabs: string[][];
      stride: number;
      attributes: number;
      K: number;
    };
    try {
      h = JSON.parse(buf.toString("utf8", 16, 16 + hlen));
    } catch (e) {
      return bad(`header is not JSON: ${(e as Error).message}`);
    }
    if (
      !Array.isArray(h.labels) ||
      !Array.isArray(h.vocabs) ||
      !Number.isInteger(h.attributes) ||
      !Number.isInteger(h.stride) ||
      !Number.isInteger(h.K)
    ) {
      return bad("header lacks labels, vocabularies, attributes or K");
    }
    const spec = parseSpec(h.spec, `${path} (embedded spec)`);
    const arch = new LinearChain(h.attributes, h.labels.length);
    if (arch.K !== h.K)
      return bad(`expected ${arch.K} weights for the dictionaries, header says ${h.K}`);
    const headLen = 16 + hlen;
    const off = headLen + ((8 - (headLen % 8)) % 8);
    const keyBytes = h.attributes * h.stride * 4;
    if (buf.length - off !== h.K * 8 + keyBytes) {
      return bad(
        `expected ${h.K * 8 + keyBytes} bytes of weights and attributes, got ${buf.length - off}`,
      );
    }
    const W = new Float64Array(h.K);
    Buffer.from(W.buffer).set(buf.subarray(off, off + h.K * 8));
    for (let k = 0; k < W.length; k++)
      if (!Number.isFinite(W[k]!)) return bad(`weight ${k} is ${W[k]}`);
    const keys = new Int32Array(h.attributes * h.stride);
    Buffer.from(keys.buffer).set(buf.subarray(off + h.K * 8));
    let fx: FeatureExtractor;
    try {
      fx = new FeatureExtractor(spec, { vocabs: h.vocabs, stride: h.stride, keys });
    } catch (e) {
      return bad((e as Error).message);
    }
    return new Model(spec, h.labels, fx, W, h.nColumns);
  }
}
