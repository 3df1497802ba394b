/**
 * The reliability suite's pieces (not a test file): byte and text mutations as
 * fast-check arbitraries, an in-process runner of `main` that also checks what
 * a failed command left behind, and the per-target tally the suite prints.
 */
import { existsSync, readdirSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { expect } from "vitest";
import { run as runMain } from "../cli/harness.ts";

/** One corruption of a byte string; positions are taken modulo the length. */
export type Mutation =
  | { k: "flip"; at: number; bit: number }
  | { k: "set"; at: number; v: number }
  | { k: "flips"; at: number[] }
  | { k: "truncate"; at: number }
  | { k: "insert"; at: number; bytes: Uint8Array }
  | { k: "delete"; at: number; n: number }
  | { k: "duplicate"; at: number; n: number }
  | { k: "zero"; at: number; n: number };

const pos = fc.nat({ max: 0x7fffffff });

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({ k: fc.constant("flip" as const), at: pos, bit: fc.nat({ max: 7 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ k: fc.constant("set" as const), at: pos, v: fc.nat({ max: 255 }) }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("flips" as const),
      at: fc.array(pos, { minLength: 2, maxLength: 8 }),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ k: fc.constant("truncate" as const), at: pos }), weight: 2 },
  {
    arbitrary: fc.record({
      k: fc.constant("insert" as const),
      at: pos,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("delete" as const),
      at: pos,
      n: fc.integer({ min: 1, max: 64 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("duplicate" as const),
      at: pos,
      n: fc.integer({ min: 1, max: 64 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      k: fc.constant("zero" as const),
      at: pos,
      n: fc.integer({ min: 1, max: 32 }),
    }),
    weight: 1,
  },
);

/** Apply a mutation; the result always differs from `b` (a no-op set becomes a flip). */
export function mutate(b: Uint8Array, m: Mutation): Uint8Array {
  const n = b.length;
  const at = "at" in m && typeof m.at === "number" ? m.at % n : 0;
  const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
  let out: Uint8Array;
  switch (m.k) {
    case "flip":
      out = b.slice();
      out[at] = out[at]! ^ (1 << m.bit);
      return out;
    case "set":
      out = b.slice();
      out[at] = m.v === b[at] ? m.v ^ 0x20 : m.v;
      return out;
    case "flips": {
      out = b.slice();
      const seen = new Set<number>();
      for (const p of m.at) seen.add(p % n);
      for (const p of seen) out[p] = out[p]! ^ 0x01;
      return out;
    }
    case "truncate":
      return b.slice(0, at);
    case "insert":
      return cat(b.subarray(0, at), m.bytes, b.subarray(at));
    case "delete":
      return cat(b.subarray(0, at), b.subarray(Math.min(n, at + m.n)));
    case "duplicate":
      return cat(b.subarray(0, Math.min(n, at + m.n)), b.subarray(at));
    case "zero": {
      out = b.slice();
      out.fill(0, at, Math.min(n, at + m.n));
      if (Buffer.compare(out, b) === 0) out[at] = out[at]! ^ 0xff;
      return out;
    }
  }
}

/** Mutate the content of a gzipped file and gzip it again (gzip's own CRC is then valid). */
export function mutateInner(gz: Uint8Array, m: Mutation): Uint8Array {
  return new Uint8Array(gzipSync(mutate(new Uint8Array(gunzipSync(gz)), m)));
}

/** Whether gzipped bytes decompress to `inner` (a gzip-header-only change: same content). */
export function sameContent(gz: Uint8Array, inner: Uint8Array): boolean {
  try {
    return Buffer.compare(gunzipSync(gz), inner) === 0;
  } catch {
    return false;
  }
}

/** Per target: cases, clean errors, accepted inputs (valid after mutation), silent loads, benign. */
export interface Tally {
  cases: number;
  clean: number;
  accepted: number;
  silent: number;
  benign: number;
}

export const TALLY = new Map<string, Tally>();

export function tally(target: string): Tally {
  let t = TALLY.get(target);
  if (!t) {
    t = { cases: 0, clean: 0, accepted: 0, silent: 0, benign: 0 };
    TALLY.set(target, t);
  }
  return t;
}

/** The tally as a table (printed by the suite, quoted in the README). */
export function tallyTable(): string {
  const rows = [...TALLY.entries()];
  const total = rows.reduce((s, [, t]) => s + t.cases, 0);
  const lines = [
    "target                         cases  clean-errors  accepted  benign  silent-loads",
    ...rows.map(
      ([k, t]) =>
        `${k.padEnd(30)} ${String(t.cases).padStart(5)}  ${String(t.clean).padStart(12)}  ${String(t.accepted).padStart(8)}  ${String(t.benign).padStart(6)}  ${String(t.silent).padStart(12)}`,
    ),
    `total ${total}`,
  ];
  return lines.join("\n");
}

/** Files a command left in `dir` that look like temporary files of an atomic write. */
export function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes(".tmp-"));
}

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `main(argv)` in-process. A failure must be one `ERROR:` line (exit 1, no
 * stack trace, no internal error) and leave nothing under `out` nor a temporary
 * file in `dir`; a success must have exit code 0 (and `out` written when given).
 */
export async function runChecked(
  argv: string[],
  out: string | null,
  dir: string,
): Promise<Outcome> {
  const r = await runMain(argv);
  const ctx = `${argv.join(" ")}\n${r.stderr}`;
  if (r.code !== 0) {
    expect(r.code, ctx).toBe(1);
    // progress lines may come first; the error is one line, the last
    const lines = r.stderr.trimEnd().split("\n");
    expect(
      lines.filter((l) => l.includes("ERROR")),
      ctx,
    ).toHaveLength(1);
    expect(lines.at(-1)!.startsWith("ERROR: "), ctx).toBe(true);
    expect(r.stderr, ctx).not.toMatch(/\n\s+at |^\s+at /m);
    expect(r.stderr, ctx).not.toContain("internal error");
    if (out !== null) expect(existsSync(out), `${ctx}: ${out} was written`).toBe(false);
  } else if (out !== null) {
    expect(existsSync(out), ctx).toBe(true);
  }
  expect(tempFiles(dir), ctx).toEqual([]);
  return r;
}

/** Run a loader on bytes: "refused" (a NadirError), "loaded", or the test fails (another error). */
export function load(f: () => unknown): "refused" | "loaded" {
  try {
    f();
    return "loaded";
  } catch (e) {
    if (e instanceof Error && e.name === "NadirError" && "code" in e) return "refused";
    throw e;
  }
}
