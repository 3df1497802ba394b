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

/**
 * Where a file that a spec names (a network field's embeddings, a lookup
 * table) is read from. A spec may come from anywhere (a download), so it
 * decides no path of its own: the name must be relative and plain (segments
 * without '..', '.', '\\' or ':'; no leading '/' or '~'), and it is looked
 * for only under the directories the caller granted (the command line's
 * `--files DIR`, the library's `files` option), in that order, then in the
 * package (`embeddings/…`) — never relative to the working directory.
 */
export function specFile(name: string, what: string, dirs: readonly string[] = []): string {
  const segments = name.split("/");
  const plain =
    name !== "" &&
    !name.startsWith("~") &&
    segments.every((s) => s !== "" && s !== "." && s !== ".." && !/[\\:]/.test(s));
  if (!plain)
    throw new NadirError(
      "E_SPEC",
      `${what} '${name}': a spec names files by a plain relative path (no absolute path, no '..'); they are read from the --files directories or the package`,
    );
  if (!hasNodeHost()) return shippedFile(name); // a browser: the package's URL
  const fs = nodeBuiltin("node:fs", `reading ${what}`);
  const path = nodeBuiltin("node:path", `reading ${what}`);
  for (const d of dirs) {
    const p = path.join(d, name);
    if (fs.existsSync(p)) return p;
  }
  const shipped = shippedFile(name);
  if (fs.existsSync(shipped)) return shipped;
  const where = dirs.length > 0 ? `under ${dirs.join(", ")} nor ` : "";
  throw new NadirError(
    "E_IO",
    `${what} '${name}': no such file ${where}in the package (grant a directory with --files DIR)`,
  );
}
