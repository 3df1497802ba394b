/**
 * The layer rules (.dependency-cruiser.cjs, run by `npm run lint:deps`) can
 * fail: dependency-cruiser runs with them on a small fixture tree with one
 * deliberate violation per rule, and reports exactly those — and none of the
 * allowed imports placed beside them.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const depcruise = join(root, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** path → source; `import type` lines count as imports (swc does not tell them apart). */
const FIXTURE: Record<string, string> = {
  "package.json": JSON.stringify({
    name: "fixture",
    type: "module",
    dependencies: { ndarray: "1" },
  }),
  "node_modules/ndarray/package.json": JSON.stringify({ name: "ndarray", main: "ndarray.js" }),
  "node_modules/ndarray/ndarray.js": "module.exports = {};\n",
  "src/core/errors.ts": "export class NadirError extends Error {}\n",
  // allowed: the one module that imports ndarray
  "src/core/ndarray.ts": 'import ndarray from "ndarray";\nexport { ndarray };\n',
  // upward: core → tagger
  "src/core/up.ts": 'import { tag } from "../tagger/model.ts";\nexport const f = tag;\n',
  // a type-only module cycle inside graph/
  "src/graph/a.ts": 'import type { B } from "./b.ts";\nexport interface A { b?: B }\n',
  "src/graph/b.ts": 'import type { A } from "./a.ts";\nexport interface B { a?: A }\n',
  // peers: inference → architecture
  "src/inference/viterbi.ts":
    'import { Arch } from "../architecture/arch.ts";\nimport type { A } from "../graph/a.ts";\nexport const v = (a?: A) => [Arch, a];\n',
  "src/architecture/arch.ts": 'import "../core/errors.ts";\nexport class Arch {}\n',
  // ndarray outside core/ndarray.ts
  "src/data/reader.ts": 'import ndarray from "ndarray";\nexport const r = ndarray;\n',
  // allowed: structure → loss; upward: loss → structure
  "src/loss/losses.ts":
    'import type { S } from "../structure/chain.ts";\nexport const hinge = (s: S) => s;\n',
  "src/structure/chain.ts": 'import "../loss/losses.ts";\nexport interface S { n: number }\n',
  // upward: optimize → api
  "src/optimize/trainer.ts":
    'import { Tagger } from "../api/tagger.ts";\nexport const t = Tagger;\n',
  // allowed: tagger → optimize, tagger → eval, tagger → tagger; peers: tagger → segment
  "src/tagger/model.ts":
    'import "../optimize/trainer.ts";\nimport "../eval/accuracy.ts";\nimport "./train.ts";\nimport { seg } from "../segment/model.ts";\nexport const tag = seg;\n',
  "src/tagger/train.ts": "export const train = 1;\n",
  "src/segment/model.ts": "export const seg = 1;\n",
  // upward: eval → tagger (and so a folder cycle eval ↔ tagger)
  "src/eval/accuracy.ts":
    'import { train } from "../tagger/train.ts";\nexport const acc = train;\n',
  // allowed: api → tagger; upward: api → cli
  "src/api/tagger.ts":
    'import { tag } from "../tagger/model.ts";\nimport { main } from "../cli/main.ts";\nexport class Tagger { f = [tag, main]; }\n',
  "src/cli/main.ts": 'import "../api/tagger.ts";\nexport const main = 1;\n',
  // an orphan: imports nothing, imported by nothing (a warning)
  "src/core/lonely.ts": "export const lonely = 1;\n",
  // a folder in no layer
  "src/misc/thing.ts": 'import "../core/errors.ts";\nexport const thing = 1;\n',
};

/** rule  from → to: every violation of a layer or package rule the fixture holds, and no other. */
const EXPECTED = [
  "layer-core  src/core/up.ts → src/tagger/model.ts",
  "layer-inference  src/inference/viterbi.ts → src/architecture/arch.ts",
  "layer-loss  src/loss/losses.ts → src/structure/chain.ts",
  "layer-optimize  src/optimize/trainer.ts → src/api/tagger.ts",
  "layer-applications  src/tagger/model.ts → src/segment/model.ts",
  "layer-eval  src/eval/accuracy.ts → src/tagger/train.ts",
  "layer-api  src/api/tagger.ts → src/cli/main.ts",
  "layer-cli-only-from-cli  src/api/tagger.ts → src/cli/main.ts",
  "layer-unknown-folder  src/misc/thing.ts → src/core/errors.ts",
  "ndarray-only-in-core  src/data/reader.ts → node_modules/ndarray/ndarray.js",
];

/** The module cycles of the fixture (each reported once), the type-only one included. */
const CYCLES = [
  ["src/graph/a.ts", "src/graph/b.ts"],
  ["src/loss/losses.ts", "src/structure/chain.ts"],
  ["src/api/tagger.ts", "src/cli/main.ts"],
  ["src/api/tagger.ts", "src/optimize/trainer.ts", "src/tagger/model.ts"],
];

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

let dir = "";
let violations: Violation[] = [];
let errStatus: number | null = null;
let errOutput = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nadir-layers-"));
  for (const [path, text] of Object.entries(FIXTURE)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const cruise = (outputType: string) =>
    spawnSync(
      process.execPath,
      [
        depcruise,
        "src",
        "--config",
        join(root, ".dependency-cruiser.cjs"),
        "--output-type",
        outputType,
      ],
      { cwd: dir, encoding: "utf8" },
    );
  const json = cruise("json");
  if (!json.stdout.startsWith("{")) throw new Error(`depcruise failed: ${json.stderr}`);
  violations = (JSON.parse(json.stdout) as { summary: { violations: Violation[] } }).summary
    .violations;
  // what `npm run lint:deps` runs
  const err = cruise("err");
  errStatus = err.status;
  errOutput = err.stdout;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the layer rules", () => {
  it("report every deliberate violation of the fixture and no allowed import", () => {
    const got = violations
      .filter((v) => v.rule.name.startsWith("layer-") || v.rule.name.startsWith("ndarray"))
      .map((v) => `${v.rule.name}  ${v.from} → ${v.to}`);
    expect(got.sort()).toEqual([...EXPECTED].sort());
  });

  it("report every module cycle, type-only imports included", () => {
    const got = violations
      .filter((v) => v.rule.name === "no-circular")
      .map((v) =>
        [v.from, ...(v.cycle ?? []).map((c) => c.name)]
          .filter((m, i, a) => a.indexOf(m) === i)
          .sort(),
      );
    expect(got.sort()).toEqual(CYCLES.map((c) => [...c].sort()).sort());
  });

  it("report a cycle between folders", () => {
    const folders = violations
      .filter((v) => v.rule.name === "no-folder-cycle")
      .map((v) => `${v.from} → ${v.to}`);
    expect(folders).toContain("src/eval → src/tagger");
    expect(folders).toContain("src/tagger → src/eval");
  });

  it("warn of an orphan module", () => {
    expect(violations.filter((v) => v.rule.name === "no-orphans").map((v) => v.from)).toEqual([
      "src/core/lonely.ts",
    ]);
  });

  it("fail the command `npm run lint:deps` runs, naming the rule and the import", () => {
    expect(errStatus).not.toBe(0);
    expect(errOutput).toContain("error layer-core: src/core/up.ts → src/tagger/model.ts");
  });
});
