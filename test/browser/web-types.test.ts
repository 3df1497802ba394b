/**
 * The playground's sources (web/src: the page and its worker; its build and
 * model scripts) type-check against the browser entry with the DOM library
 * (web/tsconfig.json): vite only strips types, so a library change that
 * breaks the page shows here.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

it("web/src type-checks (tsc -p web/tsconfig.json)", () => {
  let out = "";
  try {
    execFileSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", "web/tsconfig.json"],
      { cwd: root, encoding: "utf8", stdio: "pipe" },
    );
  } catch (e) {
    out = `${(e as { stdout?: string }).stdout ?? ""}${(e as { stderr?: string }).stderr ?? ""}`;
  }
  expect(out).toBe("");
});
