import { defineConfig } from "vitest/config";

// With NADIR_VITEST_JSON set (by .ci/run), vitest also writes its JSON report
// there, so CI can print the runner's own pass/fail counts.
const json = process.env.NADIR_VITEST_JSON;

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // dist/ rebuilt when a source is newer (the real-binary and package tests run it)
    globalSetup: ["test/setup/build.ts"],
    testTimeout: 60_000,
    pool: "forks",
    reporters: json ? ["default", "json"] : ["default"],
    outputFile: json ? { json } : undefined,
  },
});
