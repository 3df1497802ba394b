/**
 * The package as a user gets it: `npm pack`, installed into a fresh project
 * from the tarball (offline, from the local npm cache), then used with plain
 * `node` (every example in examples/), type-checked by a strict TypeScript
 * consumer, and run as the `nadir` command. Needs dist/ (`npm test` builds
 * it first; `npm run build` otherwise).
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const work = mkdtempSync(join(tmpdir(), "nadir-consumer-"));
const app = join(work, "app");
let tarball = "";
let packed: {
  filename: string;
  integrity: string;
  size: number;
  entryCount: number;
  files: { path: string }[];
};

/**
 * A lock file for a project that depends on the tarball: nadir's runtime
 * dependencies pinned as in our own lock file, so `npm ci --offline` installs
 * from the local npm cache (which our own `npm ci` filled) with no network.
 */
function consumerLock(spec: string) {
  const root = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8"));
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const packages: Record<string, unknown> = {
    "": { name: "consumer", version: "1.0.0", dependencies: { nadir: spec } },
    "node_modules/nadir": {
      version: pkg.version,
      resolved: spec,
      integrity: packed.integrity,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  const todo = Object.keys(pkg.dependencies);
  while (todo.length > 0) {
    const name = todo.pop()!;
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const entry = root.packages[key];
    if (!entry) throw new Error(`package-lock.json has no ${key}`);
    packages[key] = entry;
    todo.push(...Object.keys(entry.dependencies ?? {}));
  }
  return { name: "consumer", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

/** Run a command, returning its output; a failure shows its stderr. */
function run(cmd: string, args: string[], cwd: string, timeout = 120_000): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout,
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist", "index.js")))
    throw new Error("dist/ is missing: run `npm run build` (npm test does)");
  // --ignore-scripts: pack the dist/ that `npm test` just built (no rebuild
  // while other test files run the compiled CLI).
  const out = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT);
  packed = JSON.parse(out)[0];
  tarball = join(work, packed.filename);
  execFileSync("mkdir", ["-p", app]);
  const spec = `file:../${packed.filename}`;
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "consumer",
      version: "1.0.0",
      private: true,
      type: "module",
      dependencies: { nadir: spec },
    }),
  );
  writeFileSync(join(app, "package-lock.json"), JSON.stringify(consumerLock(spec)));
  run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], app, 180_000);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed package", () => {
  it("is small and holds what a user needs, and no tests or corpora", () => {
    const files = packed.files.map((f) => f.path);
    expect(packed.size).toBeLessThan(12 * 1024 * 1024); // models/completion.lbl may be up to 10 MB
    for (const f of [
      "package.json",
      "README.md",
      "LICENSE",
      "bin/nadir.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/cli/bin.js",
      "dist/cli/nadir.js",
      "dist/optimize/worker.js",
      "graphs/pos.json",
      "graphs/chunk.json",
      "models/completion.lbl",
    ])
      expect(files).toContain(f);
    expect(files.filter((f) => /^(test|corpora|scripts|examples|docs)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".mjs") || f.includes(".test."))).toEqual([]);
  });

  it("emits no .ts import paths (JavaScript and declarations)", () => {
    const bad: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(js|d\.ts)$/.test(e.name)) {
          const text = readFileSync(p, "utf8");
          if (/(from\s+|import\s*\(\s*)["']\.{1,2}\/[^"']*\.ts["']/.test(text)) bad.push(p);
        }
      }
    };
    walk(join(app, "node_modules", "nadir", "dist"));
    expect(bad).toEqual([]);
  });

  it("installs without a TypeScript loader: tsx, esbuild and typescript stay out", () => {
    const mods = readdirSync(join(app, "node_modules"));
    expect(mods).toContain("nadir");
    for (const m of ["tsx", "esbuild", "typescript", "vitest"]) expect(mods).not.toContain(m);
  });

  it("answers `npx nadir --version` and `--help` from the installed package", () => {
    const version = run("npx", ["--offline", "nadir", "--version"], app).trim();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(run("npx", ["--offline", "nadir", "--help"], app)).toContain("commands:");
  });

  it("a strict TypeScript consumer compiles with 0 errors", () => {
    copyFileSync(join(ROOT, "examples", "typed.ts"), join(app, "typed.ts"));
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "es2022",
          module: "nodenext",
          moduleResolution: "nodenext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noPropertyAccessFromIndexSignature: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
          typeRoots: [join(ROOT, "node_modules", "@types")],
        },
        files: ["typed.ts"],
      }),
    );
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", app],
      {
        cwd: app,
        encoding: "utf8",
      },
    );
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("publint and are-the-types-wrong find no problem", () => {
    expect(run(bin("publint"), [join(app, "node_modules", "nadir")], ROOT)).toContain("All good");
    // esm-only: nadir is an ES module package, so `require` from CommonJS is
    // not a supported way in (a dynamic import is); every other problem fails.
    const attw = spawnSync(bin("attw"), [tarball, "--profile", "esm-only"], { encoding: "utf8" });
    expect(attw.stdout).toContain("node16 (from ESM)");
    expect(attw.status, attw.stdout + attw.stderr).toBe(0);
  });
});

/** What each example must print (every file in examples/ must be listed). */
const EXAMPLES: Record<string, (out: string) => void> = {
  "tag-in-5-lines.mjs": (out) => expect(out.trim()).toBe("DET NOUN VERB"),
  "marginals-kbest.mjs": (out) => {
    expect(out).toContain("predict: DET NOUN VERB");
    expect(out.match(/^kbest: /gm)).toHaveLength(3);
    const p = [...out.matchAll(/P\(token 1 = NOUN\) = ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(p).toHaveLength(3);
    expect(p[2]!).toBeGreaterThan(p[0]!); // sharper at β = 10 than at β = 0.1
    expect(out).toContain("reloaded: DET NOUN VERB | DET NOUN VERB");
  },
  "conll-files.mjs": (out) => {
    const acc = Number(/UPOS accuracy ([\d.]+)%/.exec(out)?.[1]);
    expect(acc).toBeGreaterThan(85);
  },
  "custom-spec.mjs": (out) => {
    expect(out.split("\n")[0]).toBe("B-NP I-NP B-VP");
    expect(out).toContain("chunk F1 on the training data: 100.0");
  },
  "segmentation.mjs": (out) => {
    const [, before, after] = /IoU noisy ([\d.]+) → restored ([\d.]+)/.exec(out) ?? [];
    expect(Number(after)).toBeGreaterThan(0.9);
    expect(Number(after)).toBeGreaterThan(Number(before) + 0.2);
  },
  "completion.mjs": (out) => {
    expect(out.split("\n")[0]).toMatch(/^holmes\t/);
    expect(out).toContain("best choice: pardon");
  },
  "typed.ts": () => {}, // type-checked above
};

describe("examples/ run against the installed package", () => {
  const files = readdirSync(join(ROOT, "examples")).sort();
  it("every example has an expectation", () => {
    expect(files).toEqual(Object.keys(EXAMPLES).sort());
  });
  for (const f of files.filter((x) => x.endsWith(".mjs"))) {
    it(f, () => {
      copyFileSync(join(ROOT, "examples", f), join(app, f));
      const args =
        f === "conll-files.mjs"
          ? [
              join(ROOT, "corpora/ud-english-ewt/en_ewt-ud-dev.conllu.gz"),
              join(ROOT, "corpora/ud-english-ewt/en_ewt-ud-test.conllu.gz"),
            ]
          : [];
      EXAMPLES[f]!(run(process.execPath, [f, ...args], app));
    });
  }
});
