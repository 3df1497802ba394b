/**
 * Segmentation on in-memory images (no paths, no file system): the grid
 * energy of src/segment (one minimum cut) driven from bytes and pixel
 * arrays, for the browser entry. Node's `Segmenter` (src/api/segmenter.ts)
 * reads paths; this one reads what a page has — PGM/PBM bytes, canvas
 * pixels, a trained model's bytes.
 */
import { NadirError } from "../core/errors.ts";
import type { BitImage, GrayImage } from "../data/image.ts";
import { GridModel } from "../segment/model.ts";
import { parseGridSpec } from "../segment/spec.ts";

/** Decode binary or ASCII Netpbm bytes (P1/P2/P4/P5) into a gray image or a bit mask. */
export function decodeNetpbm(
  bytes: Uint8Array,
): { kind: "pgm"; image: GrayImage } | { kind: "pbm"; image: BitImage } {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]!))) pos++;
      if (bytes[pos] === 0x23) while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
      else break;
    }
    let s = "";
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos]!)))
      s += String.fromCharCode(bytes[pos++]!);
    return s;
  };
  const bad = (msg: string): never => {
    throw new NadirError("E_PARSE", `not a Netpbm image: ${msg}`);
  };
  const magic = token();
  if (!["P1", "P2", "P4", "P5"].includes(magic))
    return bad(`expected P1, P2, P4 or P5, got ${JSON.stringify(magic)}`);
  const width = Number(token());
  const height = Number(token());
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0))
    return bad("bad size");
  const P = width * height;
  if (magic === "P1" || magic === "P4") {
    const data = new Uint8Array(P);
    if (magic === "P4") {
      pos++;
      const rowBytes = Math.ceil(width / 8);
      if (pos + rowBytes * height > bytes.length) return bad("truncated pixels");
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          data[y * width + x] = (bytes[pos + y * rowBytes + (x >> 3)]! >> (7 - (x & 7))) & 1;
    } else {
      for (let p = 0; p < P; p++) {
        while (pos < bytes.length && (bytes[pos] === 0x20 || bytes[pos]! < 0x30)) pos++;
        data[p] = bytes[pos++] === 0x31 ? 1 : 0;
      }
    }
    return { kind: "pbm", image: { width, height, data } };
  }
  const maxval = Number(token());
  if (!(Number.isInteger(maxval) && maxval > 0 && maxval < 65536)) return bad("bad maxval");
  const data = new Uint16Array(P);
  if (magic === "P5") {
    pos++;
    const wide = maxval > 255;
    if (pos + P * (wide ? 2 : 1) > bytes.length) return bad("truncated pixels");
    for (let p = 0; p < P; p++)
      data[p] = wide ? (bytes[pos + 2 * p]! << 8) | bytes[pos + 2 * p + 1]! : bytes[pos + p]!;
  } else {
    for (let p = 0; p < P; p++) data[p] = Number(token());
  }
  return { kind: "pgm", image: { width, height, maxval, data } };
}

/** A mask as a gray image with values 0/1 (maxval 1), as the grid features read it. */
export function maskAsGray(mask: BitImage): GrayImage {
  return {
    width: mask.width,
    height: mask.height,
    maxval: 1,
    data: Uint16Array.from(mask.data),
  };
}

/** Options of `denoiseMask`. */
export interface DenoiseOptions {
  /** weight λ of the Potts term (a label change between neighbours costs λ; default 1) */
  lambda?: number;
  /** weight θ of the data term (disagreeing with the observed bit costs θ; default 1) */
  theta?: number;
  /** grid connectivity (default 8, diagonals weighted 1/√2) */
  connectivity?: 4 | 8;
}

/**
 * Restore a noisy binary mask by one minimum cut of the Ising energy
 * E(y) = θ Σ_p [y_p ≠ x_p] + λ Σ_{p~q} w_pq [y_p ≠ y_q]:
 * returns the mask of lowest energy and that energy.
 */
export function denoiseMask(
  noisy: BitImage,
  options: DenoiseOptions = {},
): { mask: BitImage; energy: number } {
  const lambda = options.lambda ?? 1;
  const theta = options.theta ?? 1;
  if (!(lambda >= 0 && Number.isFinite(lambda)) || !(theta >= 0 && Number.isFinite(theta)))
    throw new NadirError("E_ARG", `denoiseMask: expected λ, θ ≥ 0, got ${lambda}, ${theta}`);
  const spec = parseGridSpec(
    {
      name: "ising",
      description: "Ising denoising: observed-bit unaries and a plain Potts term",
      structure: "grid",
      connectivity: options.connectivity ?? 8,
      features: ["bias", "x"],
      pairwise: { contrast: false, diagonal: Math.SQRT1_2 },
    },
    "<denoise>",
  );
  // W: bias[0], bias[1], x[0], x[1], potts, const — E_p(0) = θ·x, E_p(1) = θ·(1 − x).
  const W = Float64Array.from([0, theta, theta, -theta, lambda, 0]);
  return new GridModel(spec, W).segment(maskAsGray(noisy));
}
