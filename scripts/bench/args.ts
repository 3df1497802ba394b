import { parseArgs } from "node:util";

/** Parse `--name value` flags of a benchmark script, with defaults; ERROR line and exit 1 on a bad flag. */
export function benchArgs<T extends Record<string, string>>(defaults: T): T {
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      options: Object.fromEntries(
        Object.keys(defaults).map((k) => [k, { type: "string" as const }]),
      ),
      strict: true,
    });
    return { ...defaults, ...values } as T;
  } catch (e) {
    process.stderr.write(`ERROR: ${(e as Error).message.split("\n")[0]}\n`);
    process.exit(1);
  }
}

/** Resident set size in MB. */
export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1e6);
}
