/**
 * Energy surfaces of implicit regressors as gray panels: E(X, Y) over
 * [−1, 1]², X left → right, Y bottom → top. Each column shows
 * E(x, y) − min_y E(x, ·) (the valley inference sees) scaled by
 * S = max(largest such value in the panel, 1): 0 → white, ≥ S → dark gray
 * (55). The curve Y = X² is drawn black. Panels side by side, 4 px white gaps.
 * An 8-bit gray image (maxval 255), for writePng / encodePng of src/data/image.ts.
 */
import { type GrayImage, grayImage } from "../data/image.ts";
import type { ImplicitRegressor } from "./collapse.ts";

export function energyPanels(models: readonly ImplicitRegressor[], size = 121, gap = 4): GrayImage {
  const width = models.length * size + (models.length - 1) * gap;
  const height = size;
  const pixels = new Uint16Array(width * height).fill(255);
  const ys = new Float64Array(size);
  for (let r = 0; r < size; r++) ys[r] = 1 - (2 * r) / (size - 1); // row 0 = Y 1
  const E = new Float64Array(size * size); // [col][row]
  const col = new Float64Array(size);
  models.forEach((m, p) => {
    let scale = 1;
    for (let c = 0; c < size; c++) {
      const x = -1 + (2 * c) / (size - 1);
      m.energies(x, ys, col);
      let mn = Number.POSITIVE_INFINITY;
      for (let r = 0; r < size; r++) mn = Math.min(mn, col[r]!);
      for (let r = 0; r < size; r++) {
        const v = col[r]! - mn;
        E[c * size + r] = v;
        if (v > scale) scale = v;
      }
    }
    const x0 = p * (size + gap);
    for (let c = 0; c < size; c++)
      for (let r = 0; r < size; r++)
        pixels[r * width + x0 + c] = Math.round(255 - 200 * Math.min(1, E[c * size + r]! / scale));
    // the curve Y = X², joined column to column
    let prev = -1;
    for (let c = 0; c < size; c++) {
      const x = -1 + (2 * c) / (size - 1);
      const row = Math.round(((1 - x * x) / 2) * (size - 1));
      const from = prev < 0 ? row : Math.min(prev, row);
      const to = prev < 0 ? row : Math.max(prev, row);
      for (let r = from; r <= to; r++) pixels[r * width + x0 + c] = 0;
      prev = row;
    }
  });
  return grayImage(width, height, 255, pixels);
}
