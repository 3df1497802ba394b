/**
 * Files a spec names (embeddings, lookup tables) are read only from the
 * directories the caller granted and from the package: absolute paths,
 * '..', home-relative and Windows-style names are refused with E_SPEC, and a
 * file under no granted directory is not found (the working directory is not
 * searched).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { shippedFile, specFile } from "../../src/core/shipped.ts";

describe("specFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "nadir-spec-file-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "vectors"));
  writeFileSync(join(dir, "vectors", "mine.txt"), "w 1\n");

  it("finds a plain relative name under a granted directory, then in the package", () => {
    expect(specFile("vectors/mine.txt", "embeddings", [dir])).toBe(
      join(dir, "vectors", "mine.txt"),
    );
    expect(specFile("embeddings/en-50d.txt.gz", "embeddings", [dir])).toBe(
      shippedFile("embeddings/en-50d.txt.gz"),
    );
  });

  it("refuses names that leave the granted directories, whatever exists", () => {
    for (const bad of [
      "/etc/passwd",
      join(dir, "vectors", "mine.txt"), // absolute, though it exists
      "../secret",
      "vectors/../../secret",
      "./vectors/mine.txt",
      "~/.ssh/id_rsa",
      "C:\\\\Users\\\\x",
      "vectors\\\\mine.txt",
      "file:///etc/passwd",
      "vectors//mine.txt",
      "",
    ]) {
      let err: unknown;
      try {
        specFile(bad, "lookup file", [dir]);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(NadirError);
      expect((err as NadirError).code, bad).toBe("E_SPEC");
    }
  });

  it("a name found nowhere is E_IO, naming where it looked and the fix", () => {
    expect(() => specFile("vectors/other.txt", "lookup file", [dir])).toThrow(
      /no such file under .* nor in the package \(grant a directory with --files DIR\)/,
    );
    expect(() => specFile("vectors/mine.txt", "lookup file")).toThrow(/--files DIR/);
  });
});
