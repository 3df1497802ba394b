/**
 * docs/horse.png: the horse experiment of scripts/segment-horse.ts (run here
 * as it is: trained grid models, graph cuts) laid out with titles, pixel
 * axes, the IoU of every panel and the colour scales (masks: black = horse;
 * the noisy photograph: gray levels 0–255). 1240 px wide.
 *
 *   npx tsx scripts/figures/horse.ts [--images ../shared/images] [--out docs/horse.png]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PAGE_STYLE, renderPng } from "./render.ts";

const { values } = parseArgs({
  options: {
    images: { type: "string", default: "../shared/images" },
    out: { type: "string", default: "docs/horse.png" },
    montage: { type: "string", default: "out/horse-montage.png" },
  },
});
const json = execFileSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "scripts/segment-horse.ts",
    "--images",
    values.images!,
    "--out",
    values.montage!,
  ],
  { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
);
const r = JSON.parse(json.trim().split("\n").pop()!) as Record<string, number>;
const png = readFileSync(values.montage!).toString("base64");
const W = 400;
const H = 328;
const panels = [
  [0, 0, "clean mask (horse.pbm)", "IoU 1"],
  [1, 0, "flip noise p = 0.2", `IoU ${r.noisy_iou!.toFixed(3)}`],
  [2, 0, "restored: one minimum cut", `IoU ${r.restored_iou!.toFixed(3)}`],
  [0, 1, "horse.pgm + Gaussian noise σ = 0.5", "gray input"],
  [1, 1, "segmented: one minimum cut", `IoU ${r.segmentation_iou!.toFixed(3)}`],
  [2, 1, "threshold at half range", `IoU ${r.threshold_iou!.toFixed(3)}`],
];
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${PAGE_STYLE}</style></head><body>
<div id="figure">
<h1>Binary denoising and segmentation of the horse by graph cuts</h1>
<p class="sub">Top: the clean mask through a binary symmetric channel (every pixel flips with p = 0.2), restored by one minimum cut of a
contrast-sensitive Potts grid energy (graphs/grid.json) trained with the structured hinge loss on other images' masks — never the horse.
Bottom: the grayscale horse plus Gaussian noise, segmented by a second grid model with intensity unaries, against a plain threshold.
IoU against the clean mask; 400 × 328 pixels each.</p>
<canvas id="c" width="1220" height="830"></canvas>
</div>
<script>
const panels = ${JSON.stringify(panels)};
const img = new Image();
img.onload = () => {
  const c = document.getElementById("c"), ctx = c.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, c.width, c.height);
  const s = 0.9, pw = ${W} * s, ph = ${H} * s, L0 = 50, T0 = 40, gx = 28, gy = 88;
  for (const [col, row, title, sub] of panels) {
    const L = L0 + col * (pw + gx), T = T0 + row * (ph + gy);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(img, col * (${W} + 8), row * (${H} + 8), ${W}, ${H}, L, T, pw, ph);
    ctx.strokeStyle = "#333"; ctx.lineWidth = 1; ctx.strokeRect(L, T, pw, ph);
    ctx.fillStyle = "#1d2330"; ctx.font = "bold 14px DejaVu Sans, sans-serif"; ctx.textAlign = "center";
    ctx.fillText(title, L + pw / 2, T - 10);
    ctx.font = "13px DejaVu Sans, sans-serif";
    ctx.fillText(sub, L + pw / 2, T + ph + 36);
    ctx.font = "11px DejaVu Sans, sans-serif";
    for (const x of [0, 100, 200, 300, 400]) { const X = L + x * s; ctx.fillText(String(x), X, T + ph + 14); ctx.beginPath(); ctx.moveTo(X, T + ph); ctx.lineTo(X, T + ph + 3); ctx.stroke(); }
    if (col === 0) {
      ctx.textAlign = "right";
      for (const y of [0, 100, 200, 300]) { const Y = T + y * s; ctx.fillText(String(y), L - 5, Y + 4); ctx.beginPath(); ctx.moveTo(L - 3, Y); ctx.lineTo(L, Y); ctx.stroke(); }
      ctx.save(); ctx.translate(L - 36, T + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center"; ctx.fillText("y (pixels)", 0, 0); ctx.restore();
    }
  }
  // scales: mask legend and gray bar
  const by = T0 + 2 * (ph + gy) - 20;
  ctx.font = "12px DejaVu Sans, sans-serif"; ctx.textAlign = "left"; ctx.fillStyle = "#1d2330";
  ctx.fillRect(L0, by, 16, 16); ctx.strokeRect(L0, by, 16, 16);
  ctx.fillText("mask 1: horse (foreground)", L0 + 22, by + 13);
  ctx.fillStyle = "#fff"; ctx.fillRect(L0 + 230, by, 16, 16); ctx.strokeRect(L0 + 230, by, 16, 16);
  ctx.fillStyle = "#1d2330"; ctx.fillText("mask 0: background", L0 + 252, by + 13);
  const gx0 = L0 + 520, gw = 300;
  for (let x = 0; x < gw; x++) { const v = Math.round(255 * x / (gw - 1)); ctx.fillStyle = "rgb(" + v + "," + v + "," + v + ")"; ctx.fillRect(gx0 + x, by, 1, 16); }
  ctx.strokeRect(gx0, by, gw, 16);
  ctx.fillStyle = "#1d2330"; ctx.textAlign = "right"; ctx.fillText("gray input", gx0 - 8, by + 13);
  ctx.textAlign = "center";
  for (const v of [0, 64, 128, 192, 255]) ctx.fillText(String(v), gx0 + gw * v / 255, by + 30);
  ctx.textAlign = "left"; ctx.fillText("x (pixels) under each panel", gx0 + gw + 30, by + 13);
  document.body.dataset.done = "1";
};
img.src = "data:image/png;base64,${png}";
</script></body></html>`;
await renderPng(html, values.out!, 1260, { gray: true });
console.log(`${JSON.stringify(r)}\nwrote ${values.out}`);
