import { NadirError } from "../core/errors.ts";
import { bpBackend } from "./bp.ts";
import { exhaustiveBackend } from "./exhaustive.ts";
import { meanFieldBackend } from "./mean-field.ts";
import { expansionBackend, mincutBackend, swapBackend } from "./mincut/index.ts";
import { trwsBackend } from "./trws.ts";
import type { Backend, KBestBackend } from "./types.ts";
import { viterbiBackend } from "./viterbi.ts";

/** Inference backends by name; exhaustive, viterbi, bp, trws, mincut, expansion, swap and meanfield are built in. */
const backends = new Map<string, Backend>([
  [exhaustiveBackend.name, exhaustiveBackend],
  [viterbiBackend.name, viterbiBackend],
  [bpBackend.name, bpBackend],
  [trwsBackend.name, trwsBackend],
  [mincutBackend.name, mincutBackend],
  [expansionBackend.name, expansionBackend],
  [swapBackend.name, swapBackend],
  [meanFieldBackend.name, meanFieldBackend],
]);

/**
 * Register a backend under its `name`. Registering a taken name throws
 * NadirError("E_ARG") unless `replace` is set.
 */
export function registerBackend(backend: Backend, options: { replace?: boolean } = {}): void {
  if (typeof backend.name !== "string" || backend.name === "") {
    throw new NadirError(
      "E_ARG",
      `registerBackend: expected a non-empty name, got '${backend.name}'`,
    );
  }
  if (backends.has(backend.name) && options.replace !== true) {
    throw new NadirError(
      "E_ARG",
      `registerBackend: a backend named '${backend.name}' is already registered (pass { replace: true })`,
    );
  }
  backends.set(backend.name, backend);
}

/** The backend registered as `name`; NadirError("E_ARG") listing the known names otherwise. */
export function getBackend(name: string): Backend {
  const b = backends.get(name);
  if (b === undefined) {
    throw new NadirError(
      "E_ARG",
      `unknown inference backend '${name}'; expected one of: ${backendNames().join(", ")}`,
    );
  }
  return b;
}

/** Registered names, in registration order. */
export function backendNames(): string[] {
  return [...backends.keys()];
}

/** Whether a backend can enumerate k-best labelings. */
export function hasKBest(b: Backend): b is KBestBackend {
  return typeof (b as Partial<KBestBackend>).kbest === "function";
}
