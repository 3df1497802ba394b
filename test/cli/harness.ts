/** Shared by the CLI tests: a tiny CoNLL-2000-style corpus and an in-process runner of `main`. */
import { expect, vi } from "vitest";
import { main } from "../../src/cli/main.ts";

export const TRAIN = `He PRP B-NP
reckons VBZ B-VP
the DT B-NP
current JJ I-NP
account NN I-NP
deficit NN I-NP
will MD B-VP
narrow VB I-VP
. . O

Rockwell NNP B-NP
said VBD B-VP
the DT B-NP
agreement NN I-NP
calls VBZ B-VP
for IN B-PP
it PRP B-NP
to TO B-VP
supply VB I-VP
200 CD B-NP
additional JJ I-NP
shipsets NNS I-NP
. . O

Confidence NN B-NP
in IN B-PP
the DT B-NP
pound NN I-NP
is VBZ B-VP
widely RB I-VP
expected VBN I-VP
to TO I-VP
take VB I-VP
another DT B-NP
sharp JJ I-NP
dive NN I-NP
. . O
`;

export const TEST = `The DT B-NP
deficit NN I-NP
will MD B-VP
narrow VB I-VP
. . O

Rockwell NNP B-NP
said VBD B-VP
it PRP B-NP
will MD B-VP
supply VB I-VP
shipsets NNS B-NP
`;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const text = (chunk: unknown) =>
  typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");

/** Run `main(argv)` in-process, capturing stdout and stderr. */
export async function run(argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: unknown) => {
    stdout += text(chunk);
    return true;
  }) as never);
  const e = vi.spyOn(process.stderr, "write").mockImplementation(((chunk: unknown) => {
    stderr += text(chunk);
    return true;
  }) as never);
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** The CLI failed with exactly one `ERROR:` line (no stack trace) mentioning every part. */
export function expectOneError(r: Run, ...parts: string[]): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.startsWith("ERROR: "), r.stderr).toBe(true);
  expect(r.stderr.endsWith("\n")).toBe(true);
  expect(r.stderr.trimEnd().split("\n"), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain("internal error");
  for (const p of parts) expect(r.stderr).toContain(p);
}
