/**
 * Bundle sizes for the README: the library entry nadir/browser bundled alone
 * (Vite library mode, minified, every dependency inlined) and the playground
 * (web/dist after `npm run build:web`: page, worker, CSS; models and data
 * listed apart), raw and gzip (level 9), plus the shipped model files.
 * Writes docs/data/bundle-sizes.json.
 *
 *   npm run build:web && npx tsx scripts/figures/bundle-sizes.ts
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";

const root = new URL("../..", import.meta.url).pathname;
const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

const out = "/tmp/nadir-browser-lib";
rmSync(out, { recursive: true, force: true });
await build({
  configFile: false,
  logLevel: "warn",
  build: {
    outDir: out,
    lib: { entry: join(root, "src/browser.ts"), formats: ["es"], fileName: "nadir-browser" },
    minify: true,
    target: "es2022",
    reportCompressedSize: false,
  },
});
const lib = files(out).filter((f) => f.endsWith(".js"));
const libBytes = lib.map((f) => readFileSync(f));
const entry = {
  files: lib.map((f) => relative(out, f)),
  bytes: libBytes.reduce((n, b) => n + b.length, 0),
  gzip: libBytes.reduce((n, b) => n + gz(b), 0),
};

const dist = join(root, "web/dist");
const page = files(dist).filter((f) => /\.(js|css|html)$/.test(f));
const playground = {
  files: page.map((f) => [relative(dist, f), statSync(f).size, gz(readFileSync(f))]),
  bytes: page.reduce((n, f) => n + statSync(f).size, 0),
  gzip: page.reduce((n, f) => n + gz(readFileSync(f)), 0),
};
const assets = files(dist)
  .filter((f) => !/\.(js|css|html)$/.test(f))
  .map((f) => ({ file: relative(dist, f), bytes: statSync(f).size, gzip: gz(readFileSync(f)) }));
const result = { library: entry, playground, assets };
mkdirSync(join(root, "docs/data"), { recursive: true });
writeFileSync(join(root, "docs/data/bundle-sizes.json"), `${JSON.stringify(result, null, 2)}\n`);
// the repository's JSON style (biome check runs in npm test)
execFileSync(
  process.execPath,
  [
    join(root, "node_modules/@biomejs/biome/bin/biome"),
    "format",
    "--write",
    "docs/data/bundle-sizes.json",
  ],
  { cwd: root },
);
console.log(JSON.stringify(result, null, 1));
