// Build the package: tsc compiles src/ to ESM JavaScript, .d.ts declarations
// and source maps in dist/; esbuild bundles the CLI into dist/cli/nadir.js. TypeScript rewrites the sources' relative `.ts`
// import paths to `.js` in the JavaScript it emits but not in declarations,
// so this script does it for the .d.ts files (a consumer's tsc would
// otherwise refuse them: TS5097). Plain JavaScript: runs on a fresh clone
// before anything else is built.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const final = join(root, "dist");
// Build beside dist/ and swap it in at the end, so a running `nadir` (or a
// test using it) never sees a half-written dist/.
const dist = join(root, `dist.tmp-${process.pid}`);
rmSync(dist, { recursive: true, force: true });
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
try {
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", dist], {
    stdio: "inherit",
  });
} catch {
  rmSync(dist, { recursive: true, force: true });
  console.error("build: tsc failed");
  process.exit(1);
}

/** Relative specifiers ending in .ts (in `from "…"`, `import("…")`), rewritten to .js. */
const RELATIVE_TS = /((?:from\s+|import\s*\(\s*)["'])(\.{1,2}\/[^"']*?)\.(m?)ts(["'])/g;
let files = 0;
let rewritten = 0;
function walk(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".d.ts")) {
      const src = readFileSync(p, "utf8");
      const out = src.replace(RELATIVE_TS, (_, pre, path, m, q) => {
        rewritten++;
        return `${pre}${path}.${m}js${q}`;
      });
      if (out !== src) writeFileSync(p, out);
      files++;
    }
  }
}
walk(dist);

// The command line as one module (dist/cli/nadir.js, what bin/nadir.js runs):
// Node then resolves, reads and compiles one file instead of ~80 (and no
// CommonJS dependency through its lexer), about 50 ms of every `nadir`
// command. The library (dist/index.js) stays unbundled. Worker threads and
// shipped files are found by URLs relative to the module that asks, written so
// that they resolve the same from dist/<folder>/ and from dist/cli/.
const esbuild = await import("esbuild");
await esbuild.build({
  entryPoints: [join(dist, "cli", "bin.js")],
  outfile: join(dist, "cli", "nadir.js"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  // CommonJS dependencies bundled into an ES module may call require (of Node builtins)
  banner: {
    js: 'import { createRequire as __nadirRequire } from "node:module"; const require = __nadirRequire(import.meta.url);',
  },
});
const old = join(root, `dist.old-${process.pid}`);
if (existsSync(final)) renameSync(final, old);
renameSync(dist, final);
rmSync(old, { recursive: true, force: true });
console.log(
  `build: dist/ written (${files} declaration files, ${rewritten} import paths rewritten, the CLI bundled)`,
);
