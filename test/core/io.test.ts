import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../src/core/io.ts";
import { tempDir } from "../fixtures/helpers.ts";

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe("writeFileAtomic", () => {
  it("removes the orphan temporary files of its target whose process is gone, and only those", () => {
    const target = join(tmp.dir, "m.model");
    const dead = "m.model.tmp-99999999-k3x9q1"; // beyond any pid_max: no such process
    const live = `m.model.tmp-${process.ppid}-a1b2c3`; // the test runner's parent is running
    const other = "other.model.tmp-99999999-k3x9q1"; // another target's
    const odd = "m.model.tmp-notapid"; // not the pattern
    for (const f of [dead, live, other, odd]) writeFileSync(join(tmp.dir, f), "x");
    writeFileAtomic(target, "new");
    expect(readFileSync(target, "utf8")).toBe("new");
    expect(readdirSync(tmp.dir).sort()).toEqual(["m.model", live, odd, other].sort());
  });
});
