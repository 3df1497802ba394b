/**
 * Typed errors. Every error nadir raises on purpose is a NadirError with a
 * stable `code`; input errors carry `file` and `line` (1-based) where known.
 * The CLI prints `ERROR: <message>` for these and exits 1 without a stack.
 */
export type ErrorCode =
  | "E_ARG" // bad command-line argument or option value
  | "E_PARSE" // malformed input file (corpus, spec, image)
  | "E_SPEC" // graph spec fails its schema
  | "E_GRAPH" // factor graph fails validation (scope, table size, NaN)
  | "E_MODEL" // model file missing, truncated, corrupt or wrong version
  | "E_UNSUPPORTED" // a backend refuses a problem (and says why)
  | "E_TOO_LARGE" // a problem exceeds a configured limit
  | "E_IO"; // file system error

export class NadirError extends Error {
  override readonly name = "NadirError";
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(code: ErrorCode, message: string, where?: { file?: string; line?: number }) {
    const loc =
      where?.file !== undefined
        ? `${where.file}${where.line !== undefined ? `:${where.line}` : ""}: `
        : "";
    super(loc + message);
    this.code = code;
    this.file = where?.file;
    this.line = where?.line;
  }
}

/** Reject NaN and ±Infinity at the boundary. */
export function assertFinite(x: number, what: string): void {
  if (!Number.isFinite(x))
    throw new NadirError("E_GRAPH", `${what}: expected a finite number, got ${x}`);
}
