/**
 * The playground page: UI only. Every model call goes to the Web Worker
 * (worker.ts), so typing, sliders and drawing stay responsive while the
 * worker tags, trains or cuts.
 */
import "./style.css";

// ---------------------------------------------------------------- worker client
type Msg = {
  id: number;
  kind: "done" | "progress" | "error";
  result?: unknown;
  message?: string;
} & Record<string, unknown>;

function makeClient(worker: Worker) {
  let next = 1;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (p: Msg) => void }
  >();
  worker.onmessage = (ev: MessageEvent<Msg>) => {
    const m = ev.data;
    const p = pending.get(m.id);
    if (!p) return;
    if (m.kind === "progress") p.progress?.(m);
    else {
      pending.delete(m.id);
      if (m.kind === "done") p.resolve(m.result);
      else p.reject(new Error(m.message));
    }
  };
  return <T>(
    type: string,
    args: Record<string, unknown> = {},
    progress?: (p: Msg) => void,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      worker.postMessage({ id, type, ...args });
    });
}

const newWorker = () => new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const call = makeClient(newWorker());
const base = new URL("./", location.href).href;

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $("status");
const setStatus = (s: string) => {
  status.textContent = s;
};
const fail = (e: unknown) => {
  setStatus(`error: ${(e as Error).message}`);
  console.error(e);
};
const h = (tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
};
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

// ---------------------------------------------------------------- colour
/** viridis, 9 stops */
const VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];
function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + f * (b[k]! - a[k]!))) as [number, number, number];
}
const rgb = (c: [number, number, number]) => `rgb(${c[0]},${c[1]},${c[2]})`;

/** A horizontal colour bar with tick labels. */
function colorbar(canvas: HTMLCanvasElement, lo: number, hi: number, title: string) {
  const ctx = canvas.getContext("2d")!;
  const W = canvas.width;
  ctx.clearRect(0, 0, W, canvas.height);
  ctx.font = "12px system-ui, sans-serif";
  const left = Math.ceil(ctx.measureText(title).width) + 16;
  const width = W - left - 30;
  for (let x = 0; x < width; x++) {
    ctx.fillStyle = rgb(viridis(x / (width - 1)));
    ctx.fillRect(x + left, 4, 1, 14);
  }
  ctx.fillStyle = "#222";
  ctx.textAlign = "center";
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    ctx.fillText(fmt(v, Math.abs(hi - lo) < 5 ? 2 : 1), left + (width * k) / 4, 32);
  }
  ctx.textAlign = "left";
  ctx.fillText(title, 0, 15);
}

// ---------------------------------------------------------------- tabs
for (const b of document.querySelectorAll<HTMLButtonElement>("#tabs button")) {
  b.onclick = () => {
    for (const x of document.querySelectorAll("#tabs button")) x.classList.remove("active");
    for (const x of document.querySelectorAll(".view")) x.classList.remove("active");
    b.classList.add("active");
    $(b.dataset.view!).classList.add("active");
    location.hash = b.dataset.view!;
  };
}
if (location.hash)
  document
    .querySelector<HTMLButtonElement>(`#tabs button[data-view="${location.hash.slice(1)}"]`)
    ?.click();

// ---------------------------------------------------------------- tagging
interface TagResult {
  tags: string[];
  trellis: {
    labels: string[];
    unary: Float64Array;
    T: number;
    L: number;
    viterbi: { labels: string[]; energy: number };
    offending?: { labels: string[]; energy: number };
  };
  kbest: { labels: string[]; energy: number }[];
  marginals: Record<string, number>[];
  tagMs: number;
  fbMs: number;
}

let words: string[] = [];
const betaOf = () => 10 ** Number($<HTMLInputElement>("beta").value);

function drawTags(ws: string[], tags: string[]) {
  const el = $("tags");
  el.replaceChildren(
    ...ws.map((w, i) => {
      const s = h("span", { class: "tag", "data-testid": "tag" });
      s.append(h("span", { class: "w" }, w), h("b", {}, tags[i]!));
      return s;
    }),
  );
  el.dataset.tags = JSON.stringify(tags);
}

function drawTrellis(ws: string[], tr: TagResult["trellis"]) {
  const { T, L, labels, unary } = tr;
  const cw = Math.max(64, Math.min(96, 900 / T));
  const ch = 22;
  const left = 56;
  const top = 28;
  const W = left + T * cw + 10;
  const Hh = top + L * ch + 8;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of unary) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" font-family="system-ui, sans-serif" font-size="12">`,
  ];
  for (let t = 0; t < T; t++)
    parts.push(
      `<text x="${left + t * cw + cw / 2}" y="${top - 10}" text-anchor="middle" font-weight="600">${escapeXml(ws[t]!)}</text>`,
    );
  for (let l = 0; l < L; l++) {
    parts.push(
      `<text x="${left - 6}" y="${top + l * ch + 15}" text-anchor="end">${labels[l]}</text>`,
    );
    for (let t = 0; t < T; t++) {
      const e = unary[t * L + l]!;
      // low energy (good) is bright
      const c = viridis(1 - (e - lo) / (hi - lo || 1));
      parts.push(
        `<rect x="${left + t * cw + 1}" y="${top + l * ch + 1}" width="${cw - 2}" height="${ch - 2}" fill="${rgb(c)}"><title>${labels[l]} at ${escapeXml(ws[t]!)}: unary energy ${fmt(e, 3)}</title></rect>`,
      );
    }
  }
  const path = (ys: string[], cls: string, dy: number) => {
    const pts = ys.map(
      (y, t) => `${left + t * cw + cw / 2},${top + labels.indexOf(y) * ch + ch / 2 + dy}`,
    );
    return `<polyline class="${cls}" points="${pts.join(" ")}" fill="none" />${ys
      .map(
        (y, t) =>
          `<circle class="${cls}" cx="${left + t * cw + cw / 2}" cy="${top + labels.indexOf(y) * ch + ch / 2 + dy}" r="4" />`,
      )
      .join("")}`;
  };
  if (tr.offending) parts.push(path(tr.offending.labels, "off", 3));
  parts.push(path(tr.viterbi.labels, "vit", 0));
  parts.push("</svg>");
  const box = $("trellis");
  box.innerHTML = parts.join("");
  box.dataset.viterbi = JSON.stringify(tr.viterbi.labels);
  const legend = h("div", { class: "legend" });
  legend.innerHTML = `<span class="vit">━ Viterbi ŷ: E = ${fmt(tr.viterbi.energy, 3)}</span> &nbsp; ${
    tr.offending
      ? `<span class="off">┅ most offending ȳ: E = ${fmt(tr.offending.energy, 3)} (margin ${fmt(tr.offending.energy - tr.viterbi.energy, 3)})</span>`
      : ""
  }`;
  const bar = h("canvas", { width: "520", height: "40" }) as HTMLCanvasElement;
  colorbar(bar, hi, lo, "unary energy");
  box.append(legend, bar);
}

function escapeXml(s: string) {
  return s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function drawKbest(k: TagResult["kbest"], best: string[]) {
  $("kbest").replaceChildren(
    ...k.map((r) => {
      const li = h("li");
      li.append(h("span", { class: "energy" }, `E = ${fmt(r.energy, 3)}`), " ");
      r.labels.forEach((l, t) => {
        li.append(h("span", { class: l === best[t] ? "same" : "diff" }, l), " ");
      });
      return li;
    }),
  );
}

function drawMarginals(ws: string[], m: Record<string, number>[], labels: string[], beta: number) {
  const table = h("table", { class: "heat" });
  const head = h("tr");
  head.append(h("th"));
  for (const w of ws) head.append(h("th", {}, w));
  table.append(head);
  for (const l of labels) {
    const tr = h("tr");
    tr.append(h("th", {}, l));
    m.forEach((row) => {
      const p = row[l] ?? 0;
      const td = h(
        "td",
        { title: `P(${l}) = ${p.toExponential(3)}` },
        p >= 0.005 ? p.toFixed(2) : "",
      );
      td.style.background = rgb(viridis(p));
      td.style.color = p > 0.6 ? "#111" : "#eee";
      tr.append(td);
    });
    table.append(tr);
  }
  const argmax = m.map((row) => labels.reduce((a, b) => ((row[b] ?? 0) > (row[a] ?? 0) ? b : a)));
  const box = $("marginals");
  box.replaceChildren(table);
  box.dataset.argmax = JSON.stringify(argmax);
  box.dataset.beta = String(beta);
  box.dataset.values = JSON.stringify(m.map((row) => labels.map((l) => row[l] ?? 0)));
}

let labels: string[] = [];
async function runTag() {
  words = $<HTMLInputElement>("tag-input").value.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return;
  const beta = betaOf();
  const r = await call<TagResult>("tag", {
    words,
    beta,
    k: Number($<HTMLInputElement>("tag-k").value),
  });
  labels = r.trellis.labels;
  drawTags(words, r.tags);
  drawTrellis(words, r.trellis);
  drawKbest(r.kbest, r.tags);
  drawMarginals(words, r.marginals, labels, beta);
  setStatus(
    `tagged ${words.length} tokens in ${fmt(r.tagMs, 1)} ms; marginals in ${fmt(r.fbMs, 1)} ms`,
  );
}
$("tag-form").onsubmit = (e) => {
  e.preventDefault();
  runTag().catch(fail);
};
let betaBusy = false;
let betaAgain = false;
async function updateBeta() {
  const beta = betaOf();
  $("beta-out").textContent = beta >= 10 ? beta.toFixed(1) : beta.toFixed(2);
  if (words.length === 0) return;
  if (betaBusy) {
    betaAgain = true;
    return;
  }
  betaBusy = true;
  try {
    const r = await call<{ marginals: Record<string, number>[] }>("marginals", { words, beta });
    drawMarginals(words, r.marginals, labels, beta);
  } finally {
    betaBusy = false;
    if (betaAgain) {
      betaAgain = false;
      updateBeta().catch(fail);
    }
  }
}
$("beta").oninput = () => {
  updateBeta().catch(fail);
};

// ---------------------------------------------------------------- training
function linePlot(
  canvas: HTMLCanvasElement,
  series: { name: string; color: string; points: [number, number][] }[],
  o: { title: string; xlabel: string; ylabel: string },
) {
  const ctx = canvas.getContext("2d")!;
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const L = 56;
  const R = 12;
  const T = 30;
  const B = 40;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 1;
    y1 += 1;
  }
  const pad = (y1 - y0) * 0.08;
  y0 -= pad;
  y1 += pad;
  const X = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  ctx.strokeStyle = "#ccc";
  ctx.fillStyle = "#333";
  ctx.font = "12px system-ui, sans-serif";
  ctx.textAlign = "right";
  for (let k = 0; k <= 4; k++) {
    const v = y0 + ((y1 - y0) * k) / 4;
    ctx.beginPath();
    ctx.moveTo(L, Y(v));
    ctx.lineTo(W - R, Y(v));
    ctx.stroke();
    ctx.fillText(fmt(v, Math.abs(y1 - y0) < 2 ? 3 : 1), L - 6, Y(v) + 4);
  }
  ctx.textAlign = "center";
  const xs = [...new Set(all.map((p) => p[0]))];
  const stepX = Math.max(1, Math.ceil(xs.length / 10));
  xs.forEach((x, i) => {
    if (i % stepX === 0) ctx.fillText(String(x), X(x), H - B + 16);
  });
  ctx.fillText(o.xlabel, (L + W - R) / 2, H - 6);
  ctx.font = "bold 13px system-ui, sans-serif";
  ctx.fillText(o.title, (L + W - R) / 2, 18);
  ctx.save();
  ctx.translate(14, (T + H - B) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillText(o.ylabel, 0, 0);
  ctx.restore();
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach(([x, y], i) => {
      if (i === 0) ctx.moveTo(X(x), Y(y));
      else ctx.lineTo(X(x), Y(y));
    });
    ctx.stroke();
    for (const [x, y] of s.points) {
      ctx.beginPath();
      ctx.arc(X(x), Y(y), 3, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.lineWidth = 1;
  }
}

async function initTraining() {
  const t = await call<{ losses: string[]; optimizers: string[]; inference: string[] }>("tables");
  const fill = (id: string, values: string[], dflt: string) => {
    $(id).replaceChildren(...values.map((v) => h("option", v === dflt ? { selected: "" } : {}, v)));
  };
  fill("train-loss", t.losses, "perceptron");
  fill("train-optimizer", t.optimizers, "perceptron");
  fill("train-inference", t.inference, "auto");
}

$("train-form").onsubmit = (e) => {
  e.preventDefault();
  const dev: [number, number][] = [];
  const loss: [number, number][] = [];
  const log = $("train-log");
  log.textContent = "";
  log.dataset.devs = "[]";
  const args = {
    loss: $<HTMLSelectElement>("train-loss").value,
    optimizer: $<HTMLSelectElement>("train-optimizer").value,
    inference: $<HTMLSelectElement>("train-inference").value,
    epochs: Number($<HTMLInputElement>("train-epochs").value),
    sentences: Number($<HTMLInputElement>("train-n").value),
  };
  setStatus(
    `training (${args.loss}, ${args.optimizer}, ${args.inference}) on ${args.sentences} sentences…`,
  );
  log.dataset.state = "running";
  call<{ accuracy: number; bestEpoch: number; ms: number }>("train", args, (p) => {
    const ep = p.epoch as number;
    if (typeof p.dev === "number") dev.push([ep, p.dev]);
    loss.push([ep, p.loss as number]);
    log.textContent += `epoch ${ep}: dev accuracy ${fmt(p.dev as number)}%, loss ${fmt(p.loss as number, 4)}, ${p.mistakes} sentences wrong (${fmt((p.ms as number) / 1000, 1)} s)\n`;
    log.dataset.devs = JSON.stringify(dev.map((d) => d[1]));
    linePlot($<HTMLCanvasElement>("train-dev"), [{ name: "dev", color: "#1f77b4", points: dev }], {
      title: "dev accuracy per epoch (%)",
      xlabel: "epoch",
      ylabel: "accuracy (%)",
    });
    linePlot(
      $<HTMLCanvasElement>("train-loss-plot"),
      [{ name: "loss", color: "#d62728", points: loss }],
      {
        title: `training loss (${args.loss})`,
        xlabel: "epoch",
        ylabel: "mean loss",
      },
    );
  })
    .then((r) => {
      log.textContent += `kept epoch ${r.bestEpoch}: dev accuracy ${fmt(r.accuracy)}% in ${fmt(r.ms / 1000, 1)} s\n`;
      log.dataset.state = "done";
      setStatus("training done");
    })
    .catch((err) => {
      log.dataset.state = "error";
      fail(err);
    });
};

// ---------------------------------------------------------------- loss playground
const LOSSES = ["energy", "square-square", "nll"] as const;
let lossWorkers: Worker[] = [];
function drawSurface(
  canvas: HTMLCanvasElement,
  S: Float64Array,
  NX: number,
  NY: number,
  vmax: number,
) {
  const ctx = canvas.getContext("2d")!;
  const W = canvas.width;
  const H = canvas.height;
  const L = 40;
  const B = 34;
  const pw = W - L - 8;
  const ph = H - B - 8;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const img = ctx.createImageData(NX, NY);
  for (let i = 0; i < NX; i++)
    for (let j = 0; j < NY; j++) {
      const c = viridis(Math.min(1, S[i * NY + j]! / vmax));
      const o = ((NY - 1 - j) * NX + i) * 4;
      img.data[o] = c[0];
      img.data[o + 1] = c[1];
      img.data[o + 2] = c[2];
      img.data[o + 3] = 255;
    }
  const off = new OffscreenCanvas(NX, NY);
  off.getContext("2d")!.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, L, 8, pw, ph);
  // the true curve Y = X²
  ctx.strokeStyle = "#fff";
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  for (let k = 0; k <= 50; k++) {
    const x = -1 + (2 * k) / 50;
    const px = L + ((x + 1) / 2) * pw;
    const py = 8 + ph - ((x * x + 1.5) / 3) * ph;
    if (k === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = "#333";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "center";
  for (const x of [-1, -0.5, 0, 0.5, 1])
    ctx.fillText(String(x), L + ((x + 1) / 2) * pw, H - B + 14);
  ctx.fillText("X", L + pw / 2, H - 4);
  ctx.textAlign = "right";
  for (const y of [-1.5, -1, -0.5, 0, 0.5, 1, 1.5])
    ctx.fillText(String(y), L - 4, 8 + ph - ((y + 1.5) / 3) * ph + 4);
  ctx.save();
  ctx.translate(10, 8 + ph / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = "center";
  ctx.fillText("Y", 0, 0);
  ctx.restore();
}

$("loss-run").onclick = () => {
  for (const w of lossWorkers) w.terminate();
  lossWorkers = [];
  const epochs = Number($<HTMLInputElement>("loss-epochs").value);
  const VMAX = 2;
  colorbar($<HTMLCanvasElement>("surf-scale"), 0, VMAX, "E(X, Y) − min_Y E(X, ·)");
  const done: string[] = [];
  for (const loss of LOSSES) {
    const w = newWorker();
    lossWorkers.push(w);
    const c = makeClient(w);
    const cap = $(`cap-${loss}`);
    c<{ mse: number }>(
      "collapse",
      { loss, epochs, every: Math.max(1, Math.round(epochs / 30)) },
      (p) => {
        drawSurface(
          $<HTMLCanvasElement>(`surf-${loss}`),
          p.surface as Float64Array,
          p.NX as number,
          p.NY as number,
          VMAX,
        );
        cap.textContent = `${loss} — epoch ${p.epoch}: test MSE ${fmt(p.mse as number, 4)}, spread on [0,1] ${fmt(p.spread as number, 3)}`;
        cap.dataset.spread = String(p.spread);
        cap.dataset.epoch = String(p.epoch);
      },
    )
      .then(() => {
        done.push(loss);
        cap.dataset.done = "1";
        if (done.length === LOSSES.length) setStatus("loss playground: done");
        w.terminate();
      })
      .catch(fail);
  }
  setStatus("training the three losses in three workers…");
};

// ---------------------------------------------------------------- segmentation
interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}
let customImage: Mask | undefined;
function drawMask(canvas: HTMLCanvasElement, m: Mask) {
  canvas.width = m.width;
  canvas.height = m.height;
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(m.width, m.height);
  for (let p = 0; p < m.data.length; p++) {
    const v = m.data[p] ? 20 : 245;
    img.data[4 * p] = v;
    img.data[4 * p + 1] = v;
    img.data[4 * p + 2] = v;
    img.data[4 * p + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
async function runSegment() {
  const p = Number($<HTMLInputElement>("seg-p").value);
  const lambda = Number($<HTMLInputElement>("seg-lambda").value);
  $("seg-p-out").textContent = p.toFixed(2);
  $("seg-lambda-out").textContent = lambda.toFixed(2);
  const r = await call<{
    clean: Mask;
    noisy: Mask;
    restored: Mask;
    energy: number;
    ms: number;
    noisyIou: number;
    restoredIou: number;
  }>("denoise", {
    p,
    lambda,
    seed: Number($<HTMLInputElement>("seg-seed").value),
    image: customImage,
  });
  drawMask($<HTMLCanvasElement>("seg-clean"), r.clean);
  drawMask($<HTMLCanvasElement>("seg-noisy"), r.noisy);
  drawMask($<HTMLCanvasElement>("seg-restored"), r.restored);
  $("seg-noisy-cap").textContent = `noisy (p = ${p.toFixed(2)}): IoU ${fmt(r.noisyIou, 3)}`;
  $("seg-restored-cap").textContent =
    `restored (λ = ${lambda.toFixed(2)}): IoU ${fmt(r.restoredIou, 3)}`;
  const st = $("seg-stats");
  st.textContent = `${r.clean.width}×${r.clean.height} pixels · minimum energy E = ${fmt(r.energy, 1)} · one minimum cut in ${fmt(r.ms, 1)} ms · IoU noisy ${fmt(r.noisyIou, 4)} → restored ${fmt(r.restoredIou, 4)}`;
  st.dataset.iou = String(r.restoredIou);
  st.dataset.noisyIou = String(r.noisyIou);
  st.dataset.ms = String(r.ms);
}
let segTimer = 0;
const segSoon = () => {
  clearTimeout(segTimer);
  segTimer = window.setTimeout(() => runSegment().catch(fail), 60);
};
$("seg-p").oninput = segSoon;
$("seg-lambda").oninput = segSoon;
$("seg-run").onclick = () => runSegment().catch(fail);
$<HTMLInputElement>("seg-file").onchange = async (e) => {
  const f = (e.target as HTMLInputElement).files?.[0];
  if (!f) return;
  try {
    if (/\.png$/i.test(f.name) || f.type === "image/png") {
      const bmp = await createImageBitmap(f);
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = c.getContext("2d")!;
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, bmp.width, bmp.height);
      ctx.drawImage(bmp, 0, 0);
      const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
      const data = new Uint8Array(bmp.width * bmp.height);
      for (let p = 0; p < data.length; p++)
        data[p] =
          0.2126 * d[4 * p]! + 0.7152 * d[4 * p + 1]! + 0.0722 * d[4 * p + 2]! < 128 ? 1 : 0;
      customImage = { width: bmp.width, height: bmp.height, data };
    } else {
      customImage = await call<Mask>("netpbm", { bytes: new Uint8Array(await f.arrayBuffer()) });
    }
    await runSegment();
  } catch (err) {
    fail(err);
  }
};

// ---------------------------------------------------------------- completion
$("comp-form").onsubmit = (e) => {
  e.preventDefault();
  const choices = $<HTMLInputElement>("comp-choices")
    .value.split(/[,\s]+/)
    .filter(Boolean);
  setStatus("completing (the first time, the 3.8 MB model is fetched)…");
  call<{
    completions: { word: string; energy: number; probability: number }[];
    ms: number;
    vocabulary: number;
  }>("complete", {
    text: $<HTMLInputElement>("comp-input").value,
    k: Number($<HTMLInputElement>("comp-k").value),
    choices,
  })
    .then((r) => {
      const out = $("comp-out");
      const pmax = Math.max(...r.completions.map((c) => c.probability));
      const rows = r.completions.map((c) => {
        const row = h("div", { class: "comp", "data-testid": "comp-word", "data-word": c.word });
        const bar = h("span", { class: "bar" });
        bar.style.width = `${(300 * c.probability) / (pmax || 1)}px`;
        row.append(
          h("span", { class: "word" }, c.word),
          bar,
          h("span", { class: "p" }, `P = ${fmt(100 * c.probability, 1)}%`),
          h("span", { class: "energy" }, `E = ${fmt(c.energy, 3)}`),
        );
        return row;
      });
      out.replaceChildren(...rows);
      setStatus(`${r.completions.length} words of ${r.vocabulary} in ${fmt(r.ms, 1)} ms`);
    })
    .catch(fail);
};

// ---------------------------------------------------------------- speed
$("speed-run").onclick = () => {
  setStatus("measuring…");
  call<Record<string, unknown>>("bench")
    .then((r) => {
      const out = $("speed-out");
      out.textContent = [
        `tagging: ${Number(r.taggingTokensPerSecond).toLocaleString("en")} tokens/s (${r.sentences} EWT dev sentences, ${r.tokens} tokens)`,
        `forward-backward marginals: ${fmt(r.marginalsMsPerSentence as number, 3)} ms per sentence`,
        `graph cut, horse ${r.horse}: ${fmt(r.graphCutMs as number, 1)} ms`,
        `completion (k = 10 of ${r.vocabulary} words): ${fmt(r.completionMs as number, 2)} ms`,
        `${r.userAgent}`,
      ].join("\n");
      out.dataset.json = JSON.stringify(r);
      setStatus("measured");
    })
    .catch(fail);
};

// ---------------------------------------------------------------- start
call<{ labels: string[]; loadMs: number }>("init", { base })
  .then(async (r) => {
    labels = r.labels;
    setStatus(`ready: ${r.labels.length} UPOS labels, model loaded in ${fmt(r.loadMs, 0)} ms`);
    await initTraining();
    await runTag();
    await runSegment();
    document.body.dataset.ready = "1";
  })
  .catch(fail);
