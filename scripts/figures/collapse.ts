/**
 * docs/collapse.png: the implicit-regression experiment (Y = X², E(X, Y) =
 * ‖G₁(X) − G₂(Y)‖₁; src/regress/collapse.ts, default options) for the energy,
 * square-square and NLL losses: E(X, Y) − min_Y E(X, ·) as heat maps with
 * axes, the true curve, the predictions argmin_Y E, a shared colour bar, and
 * each loss's test MSE and spread. 1200 px wide.
 *
 *   npx tsx scripts/figures/collapse.ts [--out docs/collapse.png]
 */
import { parseArgs } from "node:util";
import { DEFAULT_COLLAPSE, grid, runCollapse } from "../../src/regress/collapse.ts";
import { PAGE_STYLE, renderPng, VIRIDIS_JS } from "./render.ts";

const { values } = parseArgs({
  options: { out: { type: "string", default: "docs/collapse.png" } },
});
const t0 = performance.now();
const results = runCollapse(DEFAULT_COLLAPSE);
const NX = 101;
const NY = 151;
const X = Array.from({ length: NX }, (_, i) => -1 + (2 * i) / (NX - 1));
const Y = Float64Array.from({ length: NY }, (_, j) => -1.5 + (3 * j) / (NY - 1));
const E = new Float64Array(NY);
const panels = results.map((r) => {
  const S: number[] = [];
  const argmin: number[] = [];
  for (const x of X) {
    r.model.energies(x, Y, E);
    let lo = 0;
    for (let j = 1; j < NY; j++) if (E[j]! < E[lo]!) lo = j;
    for (let j = 0; j < NY; j++) S.push(E[j]! - E[lo]!);
    argmin.push(Y[lo]!);
  }
  return { loss: r.loss, S, argmin, metrics: r.metrics };
});
void grid;
console.log(
  panels
    .map(
      (p) =>
        `${p.loss}: MSE ${p.metrics.mse.toExponential(2)}, spread on [0,1] ${p.metrics.spreadData.toFixed(3)}`,
    )
    .join("\n"),
  `\n(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);
const NAMES: Record<string, string> = {
  energy: "energy loss",
  "square-square": "square-square loss",
  nll: "NLL loss (β = 10)",
};
const VMAX = 2;
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${PAGE_STYLE}</style></head><body>
<div id="figure">
<h1>Implicit regression Y = X²: the energy surface E(X, Y) − min<sub>Y</sub> E(X, ·) after training</h1>
<p class="sub">E(X, Y) = ‖G₁(X) − G₂(Y)‖₁ with two small networks, 200 training pairs, ${DEFAULT_COLLAPSE.epochs} epochs of SGD.
The energy loss only pushes down E(Xⁱ, Yⁱ): the surface collapses (flat over the targets' range, every Y as good).
Square-square (margin ${DEFAULT_COLLAPSE.margin}, ε = ${DEFAULT_COLLAPSE.epsilon}) also pulls up the most offending Ȳ, NLL pulls up every Y: a valley stays along the curve.
Dashed white: the truth Y = X²; red dots: the prediction argmin<sub>Y</sub> E(X, Y).</p>
<canvas id="c" width="1200" height="490"></canvas>
</div>
<script>
${VIRIDIS_JS}
const panels = ${JSON.stringify(panels.map((p) => ({ ...p, S: p.S.map((v) => Math.round(v * 1e4) / 1e4) })))};
const names = ${JSON.stringify(NAMES)};
const NX = ${NX}, NY = ${NY}, VMAX = ${VMAX};
const c = document.getElementById("c");
const ctx = c.getContext("2d");
ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
const pw = 330, ph = 330, T0 = 40, gap = 62, left0 = 58;
panels.forEach((p, k) => {
  const L = left0 + k * (pw + gap);
  const img = ctx.createImageData(NX, NY);
  for (let i = 0; i < NX; i++) for (let j = 0; j < NY; j++) {
    const col = viridis(Math.min(1, p.S[i * NY + j] / VMAX));
    const o = ((NY - 1 - j) * NX + i) * 4;
    img.data[o] = col[0]; img.data[o + 1] = col[1]; img.data[o + 2] = col[2]; img.data[o + 3] = 255;
  }
  const off = document.createElement("canvas"); off.width = NX; off.height = NY;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, L, T0, pw, ph);
  const px = (x) => L + ((x + 1) / 2) * pw, py = (y) => T0 + ph - ((y + 1.5) / 3) * ph;
  ctx.strokeStyle = "#fff"; ctx.lineWidth = 2; ctx.setLineDash([6, 4]); ctx.beginPath();
  for (let q = 0; q <= 80; q++) { const x = -1 + q / 40; q ? ctx.lineTo(px(x), py(x * x)) : ctx.moveTo(px(x), py(x * x)); }
  ctx.stroke(); ctx.setLineDash([]);
  ctx.fillStyle = "#e4002b";
  for (let i = 0; i < NX; i += 4) { ctx.beginPath(); ctx.arc(px(-1 + (2 * i) / (NX - 1)), py(p.argmin[i]), 2.5, 0, 7); ctx.fill(); }
  ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.strokeRect(L, T0, pw, ph);
  ctx.fillStyle = "#1d2330"; ctx.font = "bold 15px DejaVu Sans, sans-serif"; ctx.textAlign = "center";
  ctx.fillText(names[p.loss], L + pw / 2, T0 - 14);
  ctx.font = "12px DejaVu Sans, sans-serif";
  for (const x of [-1, -0.5, 0, 0.5, 1]) { ctx.fillText(String(x), px(x), T0 + ph + 16); ctx.beginPath(); ctx.moveTo(px(x), T0 + ph); ctx.lineTo(px(x), T0 + ph + 4); ctx.stroke(); }
  ctx.fillText("X", L + pw / 2, T0 + ph + 32);
  ctx.textAlign = "right";
  for (const y of [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]) { ctx.fillText(String(y), L - 7, py(y) + 4); ctx.beginPath(); ctx.moveTo(L - 4, py(y)); ctx.lineTo(L, py(y)); ctx.stroke(); }
  ctx.save(); ctx.translate(L - 40, T0 + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center"; ctx.fillText("Y", 0, 0); ctx.restore();
  ctx.textAlign = "center"; ctx.font = "13px DejaVu Sans, sans-serif";
  ctx.fillText("test MSE " + (p.metrics.mse < 0.01 ? p.metrics.mse.toExponential(1) : p.metrics.mse.toFixed(3)) + " · spread on Y∈[0,1] " + p.metrics.spreadData.toFixed(3), L + pw / 2, T0 + ph + 52);
});
// colour bar
const bx = 300, by = 462, bw = 600;
for (let x = 0; x < bw; x++) { const col = viridis(x / (bw - 1)); ctx.fillStyle = "rgb(" + col + ")"; ctx.fillRect(bx + x, by, 1, 14); }
ctx.strokeStyle = "#333"; ctx.strokeRect(bx, by, bw, 14);
ctx.fillStyle = "#1d2330"; ctx.font = "12px DejaVu Sans, sans-serif"; ctx.textAlign = "right";
ctx.fillText("E(X, Y) − min_Y E(X, ·)", bx - 10, by + 12);
ctx.textAlign = "left";
for (let k = 0; k <= 4; k++) ctx.fillText((VMAX * k / 4).toFixed(1) + (k === 4 ? "+" : ""), bx + (bw * k) / 4 + 3, by - 3);
document.body.dataset.done = "1";
</script></body></html>`;
await renderPng(html, values.out!, 1240);
console.log(`wrote ${values.out}`);
