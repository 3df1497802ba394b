/**
 * The browser entry's import graph (src/browser.ts and every module it
 * reaches through value imports, as a bundler follows them) holds no
 * `node:*` import — static, re-export or dynamic — and never names Buffer.
 * Type-only imports are erased by the compiler and do not count.
 */
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Source without comments; `strings` false also blanks string and template literals. */
function strip(src: string, strings: boolean): string {
  return src.replace(
    /("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`)|\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
    (_m, str: string | undefined) => (str === undefined ? "" : strings ? str : '""'),
  );
}

interface Found {
  files: string[];
  nodeImports: string[];
  buffers: string[];
  packages: Set<string>;
}

function browserGraph(entry = "src/browser.ts"): Found {
  const seen = new Set<string>();
  const found: Found = { files: [], nodeImports: [], buffers: [], packages: new Set() };
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    found.files.push(relative(root, file));
    const code = strip(readFileSync(file, "utf8"), true);
    const specs: string[] = [];
    for (const m of code.matchAll(
      /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?([^;"'`]*?\bfrom\s*)?["']([^"']+)["']/g,
    ))
      if (!m[2]) specs.push(m[4]!);
    for (const m of code.matchAll(/(typeof\s+)?\bimport\s*\(\s*["']([^"']+)["']/g))
      if (!m[1]) specs.push(m[2]!);
    for (const m of code.matchAll(/\brequire\s*\(\s*["']([^"']+)["']/g)) specs.push(m[1]!);
    for (const s of specs) {
      if (s.startsWith("node:") || /^(fs|path|url|zlib|os|crypto|worker_threads|stream)$/.test(s))
        found.nodeImports.push(`${relative(root, file)} imports ${s}`);
      else if (s.startsWith(".")) walk(resolve(dirname(file), s));
      else found.packages.add(s);
    }
    const bare = strip(readFileSync(file, "utf8"), false);
    if (/(?<![\w$.])Buffer\b/.test(bare)) found.buffers.push(relative(root, file));
  };
  walk(resolve(root, entry));
  return found;
}

describe("the browser entry's import graph", () => {
  const g = browserGraph();

  it("reaches the modules a page needs (tagger, completer, segmentation, training)", () => {
    for (const f of [
      "src/api/tagger.ts",
      "src/api/completer.ts",
      "src/tagger/model.ts",
      "src/core/container.ts",
      "src/complete/lbl.ts",
      "src/segment/model.ts",
      "src/tagger/train.ts",
    ])
      expect(g.files).toContain(f);
  });

  it("imports no node:* module", () => {
    expect(g.nodeImports).toEqual([]);
  });

  it("never uses Buffer", () => {
    expect(g.buffers).toEqual([]);
  });

  it("depends on no package but the pure ones (fflate, heap-js, ndarray)", () => {
    const pure = ["fflate", "heap-js", "ndarray"];
    expect([...g.packages].filter((p) => !pure.includes(p))).toEqual([]);
    expect(g.packages.has("fflate")).toBe(true);
  });

  it("the checker finds the node: imports of the Node entry (self-test)", () => {
    const node = browserGraph("src/index.ts");
    expect(node.nodeImports.length).toBeGreaterThan(0);
    expect(node.buffers.length).toBeGreaterThan(0);
  });

  it("comments and strings do not count (self-test)", () => {
    const src = strip(
      'import { x } from "node:fs"; // Buffer in a comment\nconst b = Buffer.from("a"); const s = "Buffer";',
      false,
    );
    expect(/(?<![\w$.])Buffer\b/.test(src)).toBe(true);
    expect(strip('/* Buffer */ const s = "Buffer";', false)).not.toMatch(/Buffer/);
  });
});
