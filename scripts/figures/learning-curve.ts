/**
 * docs/learning-curve.png: the averaged perceptron on UD English EWT (the
 * playground's model, web/scripts/train-ewt-model.ts → docs/data/
 * ewt-upos-curve.json): UPOS dev accuracy per epoch, and training sentences
 * the perceptron got wrong per epoch (its updates). 1100 px wide.
 *
 *   npx tsx scripts/figures/learning-curve.ts [--out docs/learning-curve.png]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PAGE_STYLE, renderPng } from "./render.ts";

const { values } = parseArgs({
  options: {
    data: { type: "string", default: "docs/data/ewt-upos-curve.json" },
    out: { type: "string", default: "docs/learning-curve.png" },
  },
});
const d = JSON.parse(readFileSync(values.data!, "utf8")) as {
  bestEpoch: number;
  test: number;
  bytes: number;
  curve: { epoch: number; dev: number; mistakes: number; seconds: number }[];
};

/** An SVG line chart with axes, ticks, grid and labels. */
function chart(
  pts: [number, number][],
  o: {
    title: string;
    x: string;
    y: string;
    color: string;
    mark?: number;
    fmt: (v: number) => string;
  },
): string {
  const W = 520;
  const H = 340;
  const L = 70;
  const R = 16;
  const T = 34;
  const B = 50;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const pad = (y1 - y0) * 0.1 || 1;
  y0 -= pad;
  y1 += pad;
  const X = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const Y = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
  ];
  parts.push(
    `<text x="${(L + W - R) / 2}" y="18" text-anchor="middle" font-weight="bold" font-size="14">${o.title}</text>`,
  );
  for (let k = 0; k <= 5; k++) {
    const v = y0 + ((y1 - y0) * k) / 5;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end">${o.fmt(v)}</text>`);
  }
  for (const x of xs) {
    parts.push(`<line x1="${X(x)}" x2="${X(x)}" y1="${H - B}" y2="${H - B + 4}" stroke="#333"/>`);
    parts.push(`<text x="${X(x)}" y="${H - B + 18}" text-anchor="middle">${x}</text>`);
  }
  parts.push(
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`,
  );
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${o.x}</text>`);
  parts.push(
    `<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${o.y}</text>`,
  );
  if (o.mark !== undefined)
    parts.push(
      `<line x1="${X(o.mark)}" x2="${X(o.mark)}" y1="${T}" y2="${H - B}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
  parts.push(
    `<polyline fill="none" stroke="${o.color}" stroke-width="2.5" points="${pts.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ")}"/>`,
  );
  for (const [x, y] of pts)
    parts.push(`<circle cx="${X(x)}" cy="${Y(y)}" r="4" fill="${o.color}"/>`);
  parts.push("</svg>");
  return parts.join("");
}

const dev = chart(
  d.curve.map((c) => [c.epoch, c.dev]),
  {
    title: "UPOS accuracy on EWT dev (%)",
    x: "epoch",
    y: "dev accuracy (%)",
    color: "#1f77b4",
    mark: d.bestEpoch,
    fmt: (v) => v.toFixed(2),
  },
);
const wrong = chart(
  d.curve.map((c) => [c.epoch, c.mistakes]),
  {
    title: "training sentences decoded wrong per epoch",
    x: "epoch",
    y: "sentences (of 12,544)",
    color: "#d62728",
    fmt: (v) => Math.round(v).toLocaleString("en"),
  },
);
const html = `<!doctype html><html><head><meta charset="utf-8"><style>${PAGE_STYLE}</style></head><body>
<div id="figure">
<h1>Learning curve: the averaged structured perceptron on UD English EWT (UPOS)</h1>
<p class="sub">The shipped pos spec (words, lower case, affixes, shapes in a ±2 window), attributes seen at least 3 times, first-order chain,
Viterbi inference. Dashed: the epoch kept (best on dev, ${d.bestEpoch}); its test accuracy is ${d.test.toFixed(2)}%, and the compacted model file
(models/ewt-upos-small.nadir, the playground's) is ${(d.bytes / 1e6).toFixed(2)} MB. ${d.curve.reduce((s, c) => s + c.seconds, 0).toFixed(1)} s of training in Node.</p>
<div style="display:flex;gap:24px">${dev}${wrong}</div>
</div><script>document.body.dataset.done = "1";</script></body></html>`;
await renderPng(html, values.out!, 1120);
console.log(`wrote ${values.out}`);
