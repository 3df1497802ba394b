/**
 * Word representations from unlabeled text (issue 15 item 2): PPMI of
 * directional contexts (the word 2 and 1 to the left and right among the
 * `--contexts` most frequent words), reduced to `--dim` dimensions by a
 * randomized SVD (Levy & Goldberg 2015: U·Σ^½ of the shifted PPMI matrix).
 * `--window N` makes the vectors topical instead of syntactic: the contexts
 * are every word within ±N positions (undirected) among the `--contexts`
 * words that follow the `--skip` most frequent ones (function words left
 * out) — words close in this space occur in the same passages, which is what
 * the completion model's topic expert needs (embeddings/SOURCE.md).
 * Streams the Gutenberg etexts (gzip) and adds the word column of the
 * labeled training files as unlabeled text (`--extra FILE:COL`, weighted
 * `--extra-weight` times). Words are lowercased with digits mapped to 0 —
 * the `lower` + `digits` normalisation of a network field.
 *
 * Output: a gzip text file, first line `n dim scale`, then `word q1 … qdim`
 * with int8 quantised components (value = q · scale); rows have unit norm.
 *
 *   npx tsx scripts/embeddings.ts --out embeddings/en-50d.txt.gz \
 *     [--corpus ../shared/corpora/gutenberg-full --vocab 40000 --contexts 1000 --dim 50]
 *     [--extra ../shared/corpora/ud-english-ewt/en_ewt-ud-train.conllu:1]
 *     [--window 10 --skip 150 --contexts 5000]     (topical vectors)
 */
import { createReadStream, readdirSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip, gzipSync } from "node:zlib";
import { benchArgs } from "./bench/args.ts";

const args = benchArgs({
  corpus: "../shared/corpora/gutenberg-full",
  out: "embeddings/en-50d.txt.gz",
  vocab: "40000",
  contexts: "1000",
  dim: "50",
  extra: "",
  "extra-weight": "3",
  "max-files": "100000",
  seed: "7",
  window: "0",
  skip: "0",
});

const TOKEN = /[a-z]+(?:'[a-z]+)?|[0-9]+(?:[.,][0-9]+)*|[^\sa-z0-9]/g;

export function normalise(w: string): string {
  return w.toLowerCase().replace(/[0-9]/g, "0");
}

async function* lines(path: string): AsyncGenerator<string> {
  const stream = createReadStream(path);
  const input = path.endsWith(".gz") ? stream.pipe(createGunzip()) : stream;
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) yield line;
}

/** Sentences (token arrays) of a Gutenberg etext, header stripped; paragraphs as units. */
async function* gutenbergUnits(path: string): AsyncGenerator<string[]> {
  let body = false;
  let seenEnd = false;
  let cur: string[] = [];
  for await (const line of lines(path)) {
    if (!body) {
      if (line.includes("*END*THE SMALL PRINT") || line.includes("*** START OF")) {
        body = true;
        seenEnd = true;
      }
      continue;
    }
    if (line.includes("*** END OF") || line.startsWith("End of the Project Gutenberg")) break;
    if (line.trim() === "") {
      if (cur.length > 0) yield cur;
      cur = [];
      continue;
    }
    const m = normalise(line).match(TOKEN);
    if (m) for (const w of m) cur.push(w);
  }
  if (cur.length > 0) yield cur;
  if (!seenEnd) return;
}

/** Sentences of a CoNLL / CoNLL-U file: the word column `col`. */
async function* conllUnits(path: string, col: number): AsyncGenerator<string[]> {
  let cur: string[] = [];
  for await (const line of lines(path)) {
    if (line.startsWith("#")) continue;
    if (line.trim() === "") {
      if (cur.length > 0) yield cur;
      cur = [];
      continue;
    }
    const f = line.split(/\t| /);
    if (f[0]!.includes("-") || f[0]!.includes(".")) {
      if (/^\d+[-.]\d+$/.test(f[0]!)) continue;
    }
    cur.push(normalise(f[col]!));
  }
  if (cur.length > 0) yield cur;
}

async function* allUnits(): AsyncGenerator<{ units: string[]; weight: number }> {
  const files = readdirSync(args.corpus)
    .filter((f) => /\.txt(\.gz)?$/i.test(f))
    .sort()
    .slice(0, Number(args["max-files"]));
  for (const f of files) {
    for await (const u of gutenbergUnits(`${args.corpus}/${f}`)) yield { units: u, weight: 1 };
  }
  const w = Number(args["extra-weight"]);
  for (const spec of args.extra.split(",").filter((s) => s !== "")) {
    const i = spec.lastIndexOf(":");
    for await (const u of conllUnits(spec.slice(0, i), Number(spec.slice(i + 1))))
      yield { units: u, weight: w };
  }
}

const t0 = performance.now();
const log = (s: string) =>
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}\n`);

// pass 1: word counts
const counts = new Map<string, number>();
let nTokens = 0;
for await (const { units, weight } of allUnits()) {
  for (const w of units) counts.set(w, (counts.get(w) ?? 0) + weight);
  nTokens += units.length * weight;
}
log(`${nTokens} tokens, ${counts.size} types`);
const byFreq = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
const V = Math.min(Number(args.vocab), byFreq.length);
const C = Math.min(Number(args.contexts), byFreq.length);
const vocab = byFreq.slice(0, V).map((e) => e[0]);
const id = new Map<string, number>();
for (let i = 0; i < vocab.length; i++) id.set(vocab[i]!, i);
const WIN = Number(args.window);
const SKIP = Number(args.skip);
const OFFS = WIN > 0 ? [0] : [-2, -1, 1, 2];
const NC = C * OFFS.length;
// pass 2: co-occurrence counts (float32, V × NC)
const M = new Float32Array(V * NC);
const ids = new Int32Array(1 << 16);
for await (const { units, weight } of allUnits()) {
  const T = Math.min(units.length, ids.length);
  for (let t = 0; t < T; t++) ids[t] = id.get(units[t]!) ?? -1;
  for (let t = 0; t < T; t++) {
    const w = ids[t]!;
    if (w < 0) continue;
    const row = w * NC;
    if (WIN > 0) {
      // topical contexts: the words ranked SKIP … SKIP + C − 1 within ±WIN (undirected)
      const hi = Math.min(T, t + WIN + 1);
      for (let p = Math.max(0, t - WIN); p < hi; p++) {
        const c = ids[p]! - SKIP;
        if (p === t || c < 0 || c >= C) continue;
        M[row + c] = M[row + c]! + weight;
      }
      continue;
    }
    for (let k = 0; k < OFFS.length; k++) {
      const p = t + OFFS[k]!;
      if (p < 0 || p >= T) continue;
      const c = ids[p]!;
      if (c < 0 || c >= C) continue;
      const i = row + k * C + c;
      M[i] = M[i]! + weight;
    }
  }
}
log("counted co-occurrences");
// shifted PPMI with context distribution smoothing (α = 0.75)
const rowSum = new Float64Array(V);
const colSum = new Float64Array(NC);
let total = 0;
for (let w = 0; w < V; w++) {
  for (let j = 0; j < NC; j++) {
    const v = M[w * NC + j]!;
    rowSum[w] = rowSum[w]! + v;
    colSum[j] = colSum[j]! + v;
    total += v;
  }
}
let colTotal = 0;
const colP = new Float64Array(NC);
for (let j = 0; j < NC; j++) {
  colP[j] = colSum[j]! ** 0.75;
  colTotal += colP[j]!;
}
for (let j = 0; j < NC; j++) colP[j] = colP[j]! / colTotal;
for (let w = 0; w < V; w++) {
  const pw = rowSum[w]! / total;
  for (let j = 0; j < NC; j++) {
    const i = w * NC + j;
    const v = M[i]!;
    if (v === 0 || pw === 0) {
      M[i] = 0;
      continue;
    }
    const pmi = Math.log(v / total / (pw * colP[j]!));
    M[i] = Math.max(pmi, 0);
  }
}
log("PPMI");

// randomized SVD: Q spans M·Ω (with one power iteration), B = QᵀM, eig(B·Bᵀ)
const dim = Number(args.dim);
const P = dim + 20;
let seed = Number(args.seed) >>> 0;
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

/** out (rows × P) = A (rows × cols) · X (cols × P), all row-major. */
function mulAX(A: Float32Array, rows: number, cols: number, X: Float64Array, out: Float64Array) {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * P;
    for (let c = 0; c < cols; c++) {
      const a = A[r * cols + c]!;
      if (a === 0) continue;
      const x = c * P;
      for (let k = 0; k < P; k++) out[o + k] = out[o + k]! + a * X[x + k]!;
    }
  }
}
/** out (cols × P) = Aᵀ · Y (rows × P). */
function mulAtY(A: Float32Array, rows: number, cols: number, Y: Float64Array, out: Float64Array) {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const y = r * P;
    for (let c = 0; c < cols; c++) {
      const a = A[r * cols + c]!;
      if (a === 0) continue;
      const o = c * P;
      for (let k = 0; k < P; k++) out[o + k] = out[o + k]! + a * Y[y + k]!;
    }
  }
}
/** Orthonormalize the P columns of X (n × P) in place (modified Gram-Schmidt). */
function orthonormalize(X: Float64Array, n: number) {
  for (let k = 0; k < P; k++) {
    for (let j = 0; j < k; j++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += X[i * P + k]! * X[i * P + j]!;
      for (let i = 0; i < n; i++) X[i * P + k] = X[i * P + k]! - d * X[i * P + j]!;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += X[i * P + k]! ** 2;
    s = Math.sqrt(s) || 1;
    for (let i = 0; i < n; i++) X[i * P + k] = X[i * P + k]! / s;
  }
}
const Omega = new Float64Array(NC * P);
for (let i = 0; i < Omega.length; i++) Omega[i] = gauss();
const Q = new Float64Array(V * P);
const Z = new Float64Array(NC * P);
mulAX(M, V, NC, Omega, Q);
orthonormalize(Q, V);
for (let it = 0; it < 2; it++) {
  mulAtY(M, V, NC, Q, Z);
  orthonormalize(Z, NC);
  mulAX(M, V, NC, Z, Q);
  orthonormalize(Q, V);
}
// Bᵀ = MᵀQ (NC × P); G = B·Bᵀ (P × P)
mulAtY(M, V, NC, Q, Z);
const G = new Float64Array(P * P);
for (let c = 0; c < NC; c++) {
  for (let a = 0; a < P; a++) {
    const za = Z[c * P + a]!;
    if (za === 0) continue;
    for (let b = 0; b < P; b++) G[a * P + b] = G[a * P + b]! + za * Z[c * P + b]!;
  }
}
log("randomized range");
// Jacobi eigen-decomposition of the symmetric G
const E = new Float64Array(P * P);
for (let i = 0; i < P; i++) E[i * P + i] = 1;
for (let sweep = 0; sweep < 60; sweep++) {
  let off = 0;
  for (let p = 0; p < P; p++) for (let q = p + 1; q < P; q++) off += G[p * P + q]! ** 2;
  if (off < 1e-18) break;
  for (let p = 0; p < P; p++) {
    for (let q = p + 1; q < P; q++) {
      const apq = G[p * P + q]!;
      if (Math.abs(apq) < 1e-30) continue;
      const theta = (G[q * P + q]! - G[p * P + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < P; k++) {
        const gkp = G[k * P + p]!;
        const gkq = G[k * P + q]!;
        G[k * P + p] = c * gkp - s * gkq;
        G[k * P + q] = s * gkp + c * gkq;
      }
      for (let k = 0; k < P; k++) {
        const gpk = G[p * P + k]!;
        const gqk = G[q * P + k]!;
        G[p * P + k] = c * gpk - s * gqk;
        G[q * P + k] = s * gpk + c * gqk;
      }
      for (let k = 0; k < P; k++) {
        const ekp = E[k * P + p]!;
        const ekq = E[k * P + q]!;
        E[k * P + p] = c * ekp - s * ekq;
        E[k * P + q] = s * ekp + c * ekq;
      }
    }
  }
}
const order = Array.from({ length: P }, (_, i) => i).sort((a, b) => G[b * P + b]! - G[a * P + a]!);
// embedding = Q · U_B · Σ^½, Σ = sqrt(λ): weight λ^¼
const emb = new Float64Array(V * dim);
for (let d = 0; d < dim; d++) {
  const k = order[d]!;
  const w = Math.max(G[k * P + k]!, 0) ** 0.25;
  for (let i = 0; i < V; i++) {
    let s = 0;
    for (let j = 0; j < P; j++) s += Q[i * P + j]! * E[j * P + k]!;
    emb[i * dim + d] = s * w;
  }
}
let maxAbs = 0;
for (let i = 0; i < V; i++) {
  let n = 0;
  for (let d = 0; d < dim; d++) n += emb[i * dim + d]! ** 2;
  n = Math.sqrt(n) || 1;
  for (let d = 0; d < dim; d++) {
    const v = emb[i * dim + d]! / n;
    emb[i * dim + d] = v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
}
const scale = maxAbs / 127;
const out: string[] = [`${V} ${dim} ${scale.toPrecision(6)}`];
for (let i = 0; i < V; i++) {
  const q: number[] = [];
  for (let d = 0; d < dim; d++) q.push(Math.round(emb[i * dim + d]! / scale));
  out.push(`${vocab[i]} ${q.join(" ")}`);
}
const bytes = gzipSync(Buffer.from(`${out.join("\n")}\n`), { level: 9 });
writeFileSync(args.out, bytes);
log(`wrote ${args.out}: ${V} words × ${dim}, ${(bytes.length / 1e6).toFixed(2)} MB`);
// a sanity look: nearest neighbours of a few words
for (const w of ["tuesday", "john", "quickly", "walked", "the", "0"]) {
  const i = id.get(w);
  if (i === undefined) continue;
  const sims: [number, string][] = [];
  for (let j = 0; j < V; j++) {
    if (j === i) continue;
    let s = 0;
    for (let d = 0; d < dim; d++) s += emb[i * dim + d]! * emb[j * dim + d]!;
    sims.push([s, vocab[j]!]);
  }
  sims.sort((a, b) => b[0] - a[0]);
  log(
    `${w}: ${sims
      .slice(0, 6)
      .map((s) => s[1])
      .join(" ")}`,
  );
}
