/**
 * Worker-thread plumbing shared by the batch objective and the completion
 * trainer: where a worker module lives (compiled or from sources), and how a
 * worker reports a failure to a parent that may be blocked in Atomics.wait —
 * through shared memory, never as an uncaught exception.
 */

/**
 * URL of the worker module `path` (e.g. `../optimize/worker`: relative to the
 * caller's folder, written from one folder up so that it resolves the same
 * from dist/<folder>/x.js and from the CLI bundle dist/cli/nadir.js), from
 * `base`, the caller's import.meta.url. Compiled: `path.js`, plain
 * JavaScript. From TypeScript sources (tsx, vitest): `path-entry.mjs`, which
 * registers tsx's loader in the thread and then imports `path.ts`.
 */
export function workerUrl(base: string, path: string): URL {
  if (!path.startsWith("../"))
    throw new Error(`workerUrl: expected a path from one folder up, got ${path}`);
  return base.endsWith(".ts") ? new URL(`${path}-entry.mjs`, base) : new URL(`${path}.js`, base);
}

/** Bytes of shared memory for a failure message. */
export const FAILURE_BYTES = 1024;

/** A shared buffer for a worker's failure message. */
export function failureBuffer(): Uint8Array {
  // (no SharedArrayBuffer in a page without cross-origin isolation: one thread, plain memory)
  return new Uint8Array(
    typeof SharedArrayBuffer === "function"
      ? new SharedArrayBuffer(FAILURE_BYTES)
      : new ArrayBuffer(FAILURE_BYTES),
  );
}

/** Write the first line of an error's message into `buf` (UTF-8, zero-terminated, truncated). */
export function writeFailure(buf: Uint8Array, e: unknown): void {
  const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "";
  const bytes = new TextEncoder().encode(msg).subarray(0, buf.length - 1);
  buf.set(bytes);
  buf[bytes.length] = 0;
}

/** Read a failure message written by `writeFailure` ("" when none). */
export function readFailure(buf: Uint8Array): string {
  let n = buf.indexOf(0);
  if (n < 0) n = buf.length;
  return new TextDecoder().decode(buf.slice(0, n));
}
