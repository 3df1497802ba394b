/**
 * Files shipped with the package (graphs/, models/), found from this module's
 * own location — two levels below the package root both as src/core/x.ts and
 * as dist/core/x.js — so they resolve from any working directory.
 */
import { NadirError } from "./errors.ts";
import { hasNodeHost, nodeBuiltin } from "./host.ts";

/** Absolute path of a file in the package, e.g. `shippedFile("models/completion.lbl")`. */
export function shippedFile(relative: string): string {
  const base = import.meta.url; // (a variable: bundlers leave the URL alone)
  const url = new URL(`../../${relative}`, base);
  // Without Node (a browser) there is no package directory: the URL stands in.
  if (!hasNodeHost()) return url.href;
  return nodeBuiltin("node:url").fileURLToPath(url);
}

/** Names of the shipped graph specs (graphs/NAME.json). */
export function shippedSpecNames(): string[] {
  try {
    return nodeBuiltin("node:fs", "listing shipped specs")
      .readdirSync(shippedFile("graphs"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Where a spec reference points: an existing file as given; otherwise a bare
 * name (no slash, no .json) is a shipped spec, `chunk` → graphs/chunk.json.
 */
export function resolveSpecPath(ref: string): string {
  if (ref === "") throw new NadirError("E_ARG", "expected a spec: a path or a shipped name");
  if (
    nodeBuiltin("node:fs", `reading spec ${ref}`).existsSync(ref) ||
    /[\\/]/.test(ref) ||
    ref.endsWith(".json")
  )
    return ref;
  const names = shippedSpecNames();
  if (names.includes(ref)) return shippedFile(`graphs/${ref}.json`);
  throw new NadirError(
    "E_ARG",
    `unknown spec '${ref}': expected a path to a JSON spec or a shipped name (${names.join(", ")})`,
  );
}
