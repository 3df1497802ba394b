/**
 * The host's file system, reached without importing it. Modules that can
 * read or write files (Model.load/save, specs by path, checkpoints, worker
 * threads) ask here at call time instead of importing `node:*` at the top,
 * so their import graph stays pure and the same modules load in a browser
 * (see src/browser.ts). In Node (≥ 20.16) this is `process.getBuiltinModule`;
 * elsewhere asking is an E_UNSUPPORTED error that says to use bytes instead.
 */
import { NadirError } from "./errors.ts";

interface Builtins {
  "node:fs": typeof import("node:fs");
  "node:path": typeof import("node:path");
  "node:url": typeof import("node:url");
  "node:os": typeof import("node:os");
  "node:crypto": typeof import("node:crypto");
  "node:worker_threads": typeof import("node:worker_threads");
  "node:zlib": typeof import("node:zlib");
}

type GetBuiltin = (id: string) => unknown;

function getter(): GetBuiltin | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process;
  return typeof p?.getBuiltinModule === "function" ? p.getBuiltinModule.bind(p) : undefined;
}

/** Is there a Node host (files, threads)? False in a browser or a Web Worker. */
export function hasNodeHost(): boolean {
  return getter() !== undefined;
}

/** One of Node's built-in modules, or undefined where there is none (a browser): for optional native speed-ups. */
export function optionalBuiltin<K extends keyof Builtins>(id: K): Builtins[K] | undefined {
  return getter()?.(id) as Builtins[K] | undefined;
}

/**
 * One of Node's built-in modules; `what` names the operation for the error
 * raised where there is none (a browser: load models from bytes or URLs).
 */
export function nodeBuiltin<K extends keyof Builtins>(id: K, what = "this operation"): Builtins[K] {
  const get = getter();
  const m = get?.(id);
  if (m === undefined)
    throw new NadirError(
      "E_UNSUPPORTED",
      `${what} needs Node's ${id.slice(5)} (Node ≥ 20.16); in a browser, use bytes (fromBytes, fetch) instead`,
    );
  return m as Builtins[K];
}

/** The bytes of a file (Node only). */
export function readFileBytes(path: string): Uint8Array {
  return nodeBuiltin("node:fs", `reading ${path}`).readFileSync(path);
}

/** The text of a file (Node only), UTF-8 unless told. */
export function readFileText(path: string, encoding: "utf8" | "latin1" = "utf8"): string {
  return nodeBuiltin("node:fs", `reading ${path}`).readFileSync(path, encoding);
}

/** An environment variable, or undefined where there is no process (a browser). */
export function envVar(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ];
}
