import { NadirError } from "../core/errors.ts";
import type { Dictionary } from "./features.ts";

/**
 * A character-level module for the window network (dos Santos & Zadrozny
 * 2014; Ma & Hovy 2016): each word is the sequence of its characters padded
 * with begin/end markers, s = ⟨ c₀ … c_{n−1} ⟩ (char ids), embedded row-wise
 * (E: V_c × d_c), convolved with F filters of width w and max-pooled over
 * the positions:
 *
 *   h_i[k] = b[k] + Σ_{j<w} Σ_{d<d_c} C[(j·d_c + d)·F + k] · E[s_{i+j}, d]
 *   v[k]   = max_i h_i[k]      (i = 0 … n − w; the argmax is kept for backward)
 *
 * ∂v[k]/∂C[(j·d_c+d)·F+k] = E[s_{i*+j}, d], ∂v[k]/∂E[s_{i*+j}, d] = C[(j·d_c+d)·F+k],
 * ∂v[k]/∂b[k] = 1, with i* = argmaxᵢ h_i[k]. The word vector v joins the
 * per-position input of the window network (one more segment of width F).
 */

export interface CharSettings {
  /** the base or derived column whose characters are read (e.g. the raw word "w") */
  column: string;
  /** character embedding size d_c */
  dim: number;
  /** number of filters F (the word vector's size) */
  filters: number;
  /** filter width w (characters) */
  width: number;
  /** longer words keep their first and last maxLen/2 characters */
  maxLen: number;
}

export const CHAR_UNK = 0;
export const CHAR_BOW = 1;
export const CHAR_EOW = 2;
export const CHAR_RESERVED = 3;

/** Check a network section's `chars` object. */
export function parseCharSection(raw: unknown, where: string): CharSettings {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new NadirError("E_SPEC", `${where}: expected an object { column, dim, filters, width }`);
  const o = raw as Record<string, unknown>;
  const int = (k: string, d: number, min: number): number => {
    const v = o[k] ?? d;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min)
      throw new NadirError(
        "E_SPEC",
        `${where}.${k}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`,
      );
    return v;
  };
  const column = o.column ?? "w";
  if (typeof column !== "string")
    throw new NadirError("E_SPEC", `${where}.column: expected a column name`);
  return {
    column,
    dim: int("dim", 15, 1),
    filters: int("filters", 30, 1),
    width: int("width", 3, 1),
    maxLen: int("maxLen", 24, 2),
  };
}

/**
 * The char id sequence of a word: ⌊w/2⌋ (at least 1) begin markers, the
 * characters (unknown ones → CHAR_UNK; long words cut to their first and last
 * maxLen/2), end markers; at least w ids long.
 */
export function charSequence(word: string, vocab: Dictionary, s: CharSettings): Int32Array {
  let cs = Array.from(word);
  if (cs.length > s.maxLen) {
    const h = s.maxLen >> 1;
    cs = [...cs.slice(0, h), ...cs.slice(cs.length - h)];
  }
  const pad = Math.max(1, s.width >> 1);
  const n = Math.max(cs.length + 2 * pad, s.width);
  const out = new Int32Array(n).fill(CHAR_EOW);
  for (let i = 0; i < pad; i++) out[i] = CHAR_BOW;
  for (let i = 0; i < cs.length; i++) {
    const id = vocab.get(cs[i]!);
    out[pad + i] = id < 0 ? CHAR_UNK : id;
  }
  return out;
}

/** Offsets of the module's parameters in W: E (V_c × d_c), C (w·d_c × F), b (F). */
export interface CharLayout {
  embOff: number;
  convOff: number;
  biasOff: number;
  dim: number;
  filters: number;
  width: number;
}

/** v = maxpool(conv(E[seq])) into out[o …], argmax window starts into arg[o …]. */
export function charForward(
  W: Float64Array,
  lay: CharLayout,
  seq: Int32Array,
  out: Float64Array,
  arg: Int32Array,
  o: number,
): void {
  const { embOff, convOff, biasOff, dim, filters: F, width } = lay;
  const nWin = seq.length - width + 1;
  for (let k = 0; k < F; k++) out[o + k] = Number.NEGATIVE_INFINITY;
  const h = scratch(F);
  for (let i = 0; i < nWin; i++) {
    for (let k = 0; k < F; k++) h[k] = W[biasOff + k]!;
    for (let j = 0; j < width; j++) {
      const e = embOff + seq[i + j]! * dim;
      const cj = convOff + j * dim * F;
      for (let d = 0; d < dim; d++) {
        const z = W[e + d]!;
        const r = cj + d * F;
        for (let k = 0; k < F; k++) h[k] = h[k]! + z * W[r + k]!;
      }
    }
    for (let k = 0; k < F; k++) {
      if (h[k]! > out[o + k]!) {
        out[o + k] = h[k]!;
        arg[o + k] = i;
      }
    }
  }
}

/** grad += ∂(Σₖ g[gOff + k] · v[k])/∂(E, C, b) through the kept argmax windows. */
export function charBackward(
  W: Float64Array,
  grad: Float64Array,
  lay: CharLayout,
  seq: Int32Array,
  g: Float64Array,
  arg: Int32Array,
  o: number,
): void {
  const { embOff, convOff, biasOff, dim, filters: F, width } = lay;
  for (let k = 0; k < F; k++) {
    const gk = g[o + k]!;
    if (gk === 0) continue;
    grad[biasOff + k] = grad[biasOff + k]! + gk;
    const i = arg[o + k]!;
    for (let j = 0; j < width; j++) {
      const e = embOff + seq[i + j]! * dim;
      const cj = convOff + j * dim * F + k;
      for (let d = 0; d < dim; d++) {
        const r = cj + d * F;
        grad[r] = grad[r]! + gk * W[e + d]!;
        grad[e + d] = grad[e + d]! + gk * W[r]!;
      }
    }
  }
}

let buf = new Float64Array(64);
function scratch(n: number): Float64Array {
  if (buf.length < n) buf = new Float64Array(n);
  return buf;
}
