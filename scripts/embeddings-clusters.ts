/**
 * Word clusters from learned vectors (Turian et al. 2010, as attributes of
 * the linear models): spherical k-means of the unit vectors of
 * scripts/embeddings.ts at two granularities. Output: gzip TSV
 * `word<TAB>coarse<TAB>fine` (cluster ids as `c12`, `f345`).
 *
 *   npx tsx scripts/embeddings-clusters.ts [--in embeddings/en-50d.txt.gz --out embeddings/en-clusters.txt.gz --coarse 64 --fine 512]
 */
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { readPretrained } from "../src/architecture/network.ts";
import { benchArgs } from "./bench/args.ts";

const args = benchArgs({
  in: "embeddings/en-50d.txt.gz",
  out: "embeddings/en-clusters.txt.gz",
  coarse: "64",
  fine: "512",
  iterations: "12",
});

const { dim, words, vectors } = await readPretrained(args.in);
const V = words.length;
// unit rows
for (let i = 0; i < V; i++) {
  let n = 0;
  for (let d = 0; d < dim; d++) n += vectors[i * dim + d]! ** 2;
  n = Math.sqrt(n) || 1;
  for (let d = 0; d < dim; d++) vectors[i * dim + d] = vectors[i * dim + d]! / n;
}

function kmeans(k: number, iterations: number): Int32Array {
  const C = new Float64Array(k * dim);
  // init: every (V/k)-th word by frequency rank (frequent words spread over clusters)
  for (let c = 0; c < k; c++) {
    const w = Math.floor((c * V) / k);
    for (let d = 0; d < dim; d++) C[c * dim + d] = vectors[w * dim + d]!;
  }
  const assign = new Int32Array(V);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < V; i++) {
      let best = -Infinity;
      let arg = 0;
      for (let c = 0; c < k; c++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += vectors[i * dim + d]! * C[c * dim + d]!;
        if (s > best) {
          best = s;
          arg = c;
        }
      }
      assign[i] = arg;
    }
    C.fill(0);
    for (let i = 0; i < V; i++) {
      const c = assign[i]!;
      for (let d = 0; d < dim; d++) C[c * dim + d] = C[c * dim + d]! + vectors[i * dim + d]!;
    }
    for (let c = 0; c < k; c++) {
      let n = 0;
      for (let d = 0; d < dim; d++) n += C[c * dim + d]! ** 2;
      n = Math.sqrt(n) || 1;
      for (let d = 0; d < dim; d++) C[c * dim + d] = C[c * dim + d]! / n;
    }
  }
  return assign;
}

const it = Number(args.iterations);
const coarse = kmeans(Number(args.coarse), it);
const fine = kmeans(Number(args.fine), it);
const lines: string[] = [];
for (let i = 0; i < V; i++) lines.push(`${words[i]}\tc${coarse[i]}\tf${fine[i]}`);
const bytes = gzipSync(Buffer.from(`${lines.join("\n")}\n`), { level: 9 });
writeFileSync(args.out, bytes);
process.stderr.write(`wrote ${args.out}: ${V} words, ${(bytes.length / 1e6).toFixed(2)} MB\n`);
