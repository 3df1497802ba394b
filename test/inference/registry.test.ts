import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { exhaustive, exhaustiveBackend } from "../../src/inference/exhaustive.ts";
import {
  backendNames,
  getBackend,
  hasKBest,
  registerBackend,
} from "../../src/inference/registry.ts";
import type { Backend } from "../../src/inference/types.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";

describe("backend registry", () => {
  it("knows the built-in backends", () => {
    expect(backendNames().slice(0, 2)).toEqual(["exhaustive", "viterbi"]);
    expect(getBackend("viterbi")).toBe(viterbiBackend);
    expect(getBackend("exhaustive")).toBe(exhaustiveBackend);
    expect(hasKBest(viterbiBackend)).toBe(true);
  });

  it("names the known backends when asked for an unknown one", () => {
    try {
      getBackend("x");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NadirError);
      expect((e as NadirError).code).toBe("E_ARG");
      expect((e as NadirError).message).toBe(
        "unknown inference backend 'x'; expected one of: exhaustive, viterbi, bp, trws, mincut, expansion, swap, meanfield",
      );
    }
  });

  it("registers new backends, and replaces only when asked", () => {
    const toy: Backend = {
      name: "toy-test",
      exactness: "approximate",
      supports: () => "never",
      minimize: () => {
        throw new NadirError("E_UNSUPPORTED", "never");
      },
    };
    registerBackend(toy);
    expect(getBackend("toy-test")).toBe(toy);
    expect(hasKBest(toy)).toBe(false);
    expect(backendNames()).toContain("toy-test");
    expect(() => registerBackend(toy)).toThrow(/already registered/);
    const big = { ...exhaustive({ maxConfigurations: 10 }), name: "toy-test" };
    registerBackend(big, { replace: true });
    expect(getBackend("toy-test")).toBe(big);
  });
});

describe("the --inference option", () => {
  it("offers exactly the registered backends (and auto), read from the registry when asked", async () => {
    const { TRAIN_OPTIONS } = await import("../../src/optimize/options.ts");
    const { backendNames } = await import("../../src/inference/registry.ts");
    const { choicesOf } = await import("../../src/core/options.ts");
    const decl = TRAIN_OPTIONS.find((o) => o.name === "inference")!;
    // toy-test, registered above, is offered too: the option cannot drift from the registry
    expect(backendNames()).toContain("toy-test");
    expect([...choicesOf(decl)!].sort()).toEqual(["auto", ...backendNames()].sort());
  });
});
