import { NadirError } from "../core/errors.ts";
import type { Rng } from "../core/rng.ts";
import type { BitImage, GrayImage } from "../data/image.ts";

/**
 * Small image utilities for segmentation experiments: noise models with a
 * seeded generator, Otsu's threshold, IoU and pixel error of masks, and a
 * side-by-side montage for figures.
 */

/** Throw E_ARG unless two images have the same size. */
export function sameSize(
  a: { width: number; height: number },
  b: { width: number; height: number },
  who: string,
): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new NadirError(
      "E_ARG",
      `${who}: expected images of the same size, got ${a.width}×${a.height} and ${b.width}×${b.height}`,
    );
  }
}

/** Flip each pixel of a mask independently with probability p (binary symmetric channel). */
export function flipNoise(mask: BitImage, p: number, rng: Rng): BitImage {
  if (!(p >= 0 && p <= 1))
    throw new NadirError("E_ARG", `flipNoise: expected p in [0, 1], got ${p}`);
  const n = mask.width * mask.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.next() < p ? 1 - mask.data[i]! : mask.data[i]!;
  return { width: mask.width, height: mask.height, data };
}

/** Add N(0, (sigma·maxval)²) to every sample, rounded and clipped to 0 … maxval. */
export function gaussianNoise(img: GrayImage, sigma: number, rng: Rng): GrayImage {
  if (!(sigma >= 0 && Number.isFinite(sigma)))
    throw new NadirError("E_ARG", `gaussianNoise: expected sigma ≥ 0, got ${sigma}`);
  const n = img.width * img.height;
  const data = new Uint16Array(n);
  const s = sigma * img.maxval;
  for (let i = 0; i < n; i++) {
    const v = Math.round(img.data[i]! + s * rng.normal());
    data[i] = Math.max(0, Math.min(v, img.maxval));
  }
  return { width: img.width, height: img.height, maxval: img.maxval, data };
}

/**
 * Otsu's threshold: the t maximizing the between-class variance of the
 * classes {v < t} and {v ≥ t}. Returns t in 1 … maxval (samples below t are
 * the dark class).
 */
export function otsuThreshold(img: GrayImage): number {
  const { maxval, data } = img;
  const hist = new Float64Array(maxval + 1);
  for (let i = 0; i < data.length; i++) hist[data[i]!]!++;
  const n = data.length;
  let total = 0;
  for (let v = 0; v <= maxval; v++) total += v * hist[v]!;
  let w0 = 0;
  let s0 = 0;
  let best = -1;
  let bestT = 1;
  for (let t = 1; t <= maxval; t++) {
    w0 += hist[t - 1]!;
    s0 += (t - 1) * hist[t - 1]!;
    const w1 = n - w0;
    if (w0 === 0 || w1 === 0) continue;
    const m0 = s0 / w0;
    const m1 = (total - s0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      bestT = t;
    }
  }
  return bestT;
}

/** The dark pixels (sample < t) as foreground (1). */
export function darkMask(img: GrayImage, t: number): BitImage {
  const n = img.width * img.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i]! < t ? 1 : 0;
  return { width: img.width, height: img.height, data };
}

/** Intersection over union of the foregrounds (1) of two masks; 1 when both are empty. */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new NadirError(
      "E_ARG",
      `iou: expected masks of the same size, got ${a.length} and ${b.length}`,
    );
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] === 1;
    const y = b[i] === 1;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}

/** Fraction of pixels whose labels differ. */
export function pixelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new NadirError(
      "E_ARG",
      `pixelError: expected masks of the same size, got ${a.length} and ${b.length}`,
    );
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return a.length === 0 ? 0 : d / a.length;
}

/**
 * A montage of gray images (8-bit) in rows: each row's tiles side by side,
 * separated by `gap` pixels of `background`; rows are stacked likewise.
 * Tiles keep their size; a row is as tall as its tallest tile.
 */
export function montage(rows: GrayImage[][], gap = 8, background = 128): GrayImage {
  let width = 0;
  let height = 0;
  for (const row of rows) {
    let w = 0;
    let h = 0;
    row.forEach((t, i) => {
      w += t.width + (i > 0 ? gap : 0);
      h = Math.max(h, t.height);
    });
    width = Math.max(width, w);
    height += h;
  }
  height += gap * Math.max(0, rows.length - 1);
  const data = new Uint16Array(width * height).fill(background);
  let y0 = 0;
  for (const row of rows) {
    let x0 = 0;
    let h = 0;
    for (const t of row) {
      for (let y = 0; y < t.height; y++) {
        for (let x = 0; x < t.width; x++) {
          const v = t.data[y * t.width + x]!;
          data[(y0 + y) * width + x0 + x] = t.maxval === 255 ? v : Math.round((v * 255) / t.maxval);
        }
      }
      x0 += t.width + gap;
      h = Math.max(h, t.height);
    }
    y0 += h + gap;
  }
  return { width, height, maxval: 255, data };
}
