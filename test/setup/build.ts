/**
 * vitest global setup: the tests that run the real `nadir` command (bin/nadir.js)
 * and the package consumer test use the compiled dist/. `npm test` builds it
 * first; when vitest runs alone, rebuild it here if any source is newer, so a
 * stale dist/ can never pass or fail a test in place of the sources.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  // NADIR_SKIP_BUILD=1: run the source-level tests while dist/ cannot be rebuilt (CLI tests then use the old dist/)
  if (process.env.NADIR_SKIP_BUILD === "1") return;
  const root = join(import.meta.dirname, "../..");
  let built = 0;
  try {
    built = statSync(join(root, "dist", "index.js")).mtimeMs;
  } catch {
    built = 0;
  }
  if (built === 0 || newest(join(root, "src")) > built)
    execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { stdio: "inherit" });
}
