/**
 * The playground's build (`npm run build:web` → web/dist, `npm run web`
 * serves it). The page and its Web Worker import the library from
 * src/browser.ts; the shipped models and a small EWT sample for live
 * training are emitted beside the page (models/, data/).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

const web = dirname(fileURLToPath(import.meta.url));
const root = join(web, "..");

/** The first n sentences of a CoNLL-U file as { tokens (FORM), labels (UPOS) }. */
function conlluSample(path: string, n: number): { tokens: string[]; labels: string[] }[] {
  const out: { tokens: string[]; labels: string[] }[] = [];
  let cur = { tokens: [] as string[], labels: [] as string[] };
  for (const line of gunzipSync(readFileSync(path)).toString("utf8").split("\n")) {
    if (line.trim() === "") {
      if (cur.tokens.length > 0) out.push(cur);
      if (out.length >= n) break;
      cur = { tokens: [], labels: [] };
    } else if (!line.startsWith("#")) {
      const f = line.split("\t");
      if (/^\d+$/.test(f[0]!)) {
        cur.tokens.push(f[1]!);
        cur.labels.push(f[3]!);
      }
    }
  }
  return out;
}

/** Emit the models and the training sample into the build. */
function nadirAssets(): Plugin {
  return {
    name: "nadir-assets",
    generateBundle() {
      for (const m of ["ewt-upos-small.nadir", "completion.lbl"])
        this.emitFile({
          type: "asset",
          fileName: `models/${m}`,
          source: readFileSync(join(root, "models", m)),
        });
      const ewt = join(root, "corpora/ud-english-ewt");
      const sample = {
        source: "UD English EWT (CC BY-SA 4.0): the first sentences of train and dev",
        train: conlluSample(join(ewt, "en_ewt-ud-train.conllu.gz"), 600),
        dev: conlluSample(join(ewt, "en_ewt-ud-dev.conllu.gz"), 300),
      };
      this.emitFile({
        type: "asset",
        fileName: "data/ewt-sample.json",
        source: JSON.stringify(sample),
      });
    },
  };
}

export default defineConfig({
  root: web,
  base: "./",
  plugins: [nadirAssets()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", reportCompressedSize: false },
  worker: { format: "es" },
  preview: { host: "127.0.0.1", port: 4173, strictPort: true },
  server: { fs: { allow: [root] } },
});
