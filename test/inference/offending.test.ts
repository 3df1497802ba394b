import { describe, expect, it } from "vitest";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { type ChainPotentials, chainEnergy, chainPotentials } from "../../src/graph/chain.ts";
import { chainToFactorGraph } from "../../src/graph/convert.ts";
import { FactorGraphBuilder } from "../../src/graph/factor-graph.ts";
import { exhaustiveBackend } from "../../src/inference/exhaustive.ts";
import {
  hamming,
  lossAugmented,
  mostOffending,
  mostOffendingChain,
  mostOffendingChainInto,
  mostOffendingClamped,
} from "../../src/inference/offending.ts";
import type {
  Backend,
  Constraints,
  InferenceResult,
  Potentials,
} from "../../src/inference/types.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";

function randomChain(rng: Rng, T: number, L: number): ChainPotentials {
  const r = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
  return chainPotentials(T, L, r(T * L), r(L * L), r(L), r(L));
}

function randomGold(rng: Rng, T: number, L: number): Int32Array {
  return Int32Array.from({ length: T }, () => rng.int(L));
}

function nadirError(f: () => unknown): NadirError {
  try {
    f();
  } catch (e) {
    if (e instanceof NadirError) return e;
    throw e;
  }
  throw new Error("expected a NadirError");
}

const labels = (r: InferenceResult | null) => (r === null ? null : Array.from(r.labels));

/** T = 2, L = 2: E(00) = 0, E(01) = 7, E(10) = 6, E(11) = 3. */
const two = chainPotentials(
  2,
  2,
  Float64Array.of(0, 1, 0, 2),
  Float64Array.of(0, 5, 5, 0),
  Float64Array.of(0, 0),
  Float64Array.of(0, 0),
);

/** T = 1, L = 3: E(0) = 3, E(1) = 6, E(2) = 1.5. */
const one = chainPotentials(
  1,
  3,
  Float64Array.of(3, 1, 2),
  new Float64Array(9),
  Float64Array.of(0, 5, 0),
  Float64Array.of(0, 0, -0.5),
);

const empty = chainPotentials(0, 3, new Float64Array(0), new Float64Array(9));
const single = chainPotentials(
  4,
  1,
  Float64Array.of(1, 2, 3, 4),
  Float64Array.of(0.5),
  Float64Array.of(1),
  Float64Array.of(2),
);

describe("hamming", () => {
  it("counts differing positions and refuses different lengths", () => {
    expect(hamming(Int32Array.of(0, 1, 2), Int32Array.of(0, 2, 1))).toBe(2);
    expect(hamming(new Int32Array(0), new Int32Array(0))).toBe(0);
    expect(hamming([1, 1], Int32Array.of(1, 1))).toBe(0);
    expect(nadirError(() => hamming(Int32Array.of(0), Int32Array.of(0, 1))).code).toBe("E_ARG");
  });
});

describe("mostOffendingChain", () => {
  it("hand example: the best labeling ≠ gold, differing at several positions if need be", () => {
    const r = mostOffendingChain(two, Int32Array.of(0, 0));
    expect(labels(r)).toEqual([1, 1]);
    expect(r!.energy).toBe(3);
    expect(r!.exact).toBe(true);
    expect(labels(mostOffendingChain(two, Int32Array.of(1, 1)))).toEqual([0, 0]);
    expect(labels(mostOffendingChain(two, Int32Array.of(0, 1)))).toEqual([0, 0]);
    const r2 = mostOffendingChain(two, Int32Array.of(1, 0));
    expect(labels(r2)).toEqual([0, 0]);
    expect(r2!.energy).toBe(0);
  });

  it("ties: the earliest first difference from gold, then the smallest labels", () => {
    const flat = chainPotentials(2, 2, new Float64Array(4), new Float64Array(4));
    // All four labelings cost 0: [1,0] (differs at 0) beats [0,1] (differs at 1).
    expect(labels(mostOffendingChain(flat, Int32Array.of(0, 0)))).toEqual([1, 0]);
    expect(labels(mostOffendingChain(flat, Int32Array.of(1, 1)))).toEqual([0, 0]);
    expect(labels(mostOffendingClamped(viterbiBackend, flat, Int32Array.of(0, 0)))).toEqual([1, 0]);
    expect(labels(mostOffendingClamped(exhaustiveBackend, flat, Int32Array.of(0, 0)))).toEqual([
      1, 0,
    ]);
  });

  it("T = 0 and L = 1: no incorrect answer exists (null, Infinity, out untouched)", () => {
    expect(mostOffendingChain(empty, new Int32Array(0))).toBeNull();
    expect(mostOffendingChain(single, Int32Array.of(0, 0, 0, 0))).toBeNull();
    const out = new Int32Array(4).fill(9);
    expect(mostOffendingChainInto(single, Int32Array.of(0, 0, 0, 0), out)).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(Array.from(out)).toEqual([9, 9, 9, 9]);
    for (const b of [viterbiBackend, exhaustiveBackend]) {
      expect(mostOffendingClamped(b, empty, new Int32Array(0))).toBeNull();
      expect(mostOffendingClamped(b, single, Int32Array.of(0, 0, 0, 0))).toBeNull();
    }
    expect(mostOffending(viterbiBackend, empty, new Int32Array(0), "exact")).toBeNull();
  });

  it("T = 1: the best other label", () => {
    const r = mostOffendingChain(one, Int32Array.of(2));
    expect(labels(r)).toEqual([0]);
    expect(r!.energy).toBe(3);
    expect(labels(mostOffendingChain(one, Int32Array.of(0)))).toEqual([2]);
    expect(mostOffendingChain(one, Int32Array.of(0))!.energy).toBe(1.5);
    expect(labels(mostOffendingClamped(viterbiBackend, one, Int32Array.of(2)))).toEqual([0]);
  });

  it("gold violating the constraints is still the correct answer; the search is over allowed Y", () => {
    // Gold [2] is not allowed: the best allowed labeling is [0].
    const c1: Constraints = { allowed: Uint8Array.of(1, 1, 0) };
    expect(labels(mostOffendingChain(one, Int32Array.of(2), c1))).toEqual([0]);
    // forbiddenStart rules out gold's first label: every allowed Y starts with 1.
    const c2: Constraints = { forbiddenStart: Uint8Array.of(1, 0) };
    const r = mostOffendingChain(two, Int32Array.of(0, 0), c2);
    expect(labels(r)).toEqual([1, 1]);
    expect(r!.energy).toBe(3);
    // A forbidden gold transition 0→1: the prefix [0] stays usable, [0,1] is gold itself.
    const c3: Constraints = { forbiddenTransitions: Uint8Array.of(0, 1, 0, 0) };
    expect(labels(mostOffendingChain(two, Int32Array.of(0, 1), c3))).toEqual([0, 0]);
    // Gold violates the mask at position 1; Y = [0, 0] is allowed and best.
    const c4: Constraints = { allowed: Uint8Array.of(1, 1, 1, 0) };
    expect(labels(mostOffendingChain(two, Int32Array.of(1, 1), c4))).toEqual([0, 0]);
    for (const b of [viterbiBackend, exhaustiveBackend]) {
      expect(labels(mostOffendingClamped(b, one, Int32Array.of(2), c1))).toEqual([0]);
      expect(labels(mostOffendingClamped(b, two, Int32Array.of(0, 0), c2))).toEqual([1, 1]);
      expect(labels(mostOffendingClamped(b, two, Int32Array.of(0, 1), c3))).toEqual([0, 0]);
      expect(labels(mostOffendingClamped(b, two, Int32Array.of(1, 1), c4))).toEqual([0, 0]);
    }
  });

  it("null when the constraints allow only gold, or nothing at all", () => {
    const onlyGold: Constraints = { allowed: Uint8Array.of(1, 0, 0, 1) };
    const nothing: Constraints = { allowed: Uint8Array.of(1, 1, 0, 0) };
    const startMask: Constraints = { forbiddenStart: Uint8Array.of(0, 1) };
    for (const c of [onlyGold, nothing]) {
      expect(mostOffendingChain(two, Int32Array.of(0, 1), c)).toBeNull();
      expect(mostOffendingClamped(viterbiBackend, two, Int32Array.of(0, 1), c)).toBeNull();
      expect(mostOffendingClamped(exhaustiveBackend, two, Int32Array.of(0, 1), c)).toBeNull();
    }
    // Start label 1 forbidden, gold [0,0]: [0,1] remains.
    expect(labels(mostOffendingChain(two, Int32Array.of(0, 0), startMask))).toEqual([0, 1]);
  });

  it("reuses its workspaces and an out buffer across calls of different sizes", () => {
    const rng = new Rng(42);
    const out = new Int32Array(64).fill(-1);
    const sizes: [number, number][] = [
      [25, 23],
      [3, 2],
      [40, 9],
      [1, 5],
      [0, 3],
      [60, 4],
      [25, 23],
      [2, 30],
    ];
    for (const [T, L] of sizes) {
      const p = randomChain(rng, T, L);
      const gold = randomGold(rng, T, L);
      const e = mostOffendingChainInto(p, gold, out);
      const ref = mostOffendingClamped(viterbiBackend, p, gold);
      if (ref === null) {
        expect(T).toBe(0);
        expect(e).toBe(Number.POSITIVE_INFINITY);
        continue;
      }
      const y = out.subarray(0, T);
      expect(e).toBe(chainEnergy(p, y));
      expect(Math.abs(e - ref.energy)).toBeLessThan(1e-9 * (1 + Math.abs(e)));
      expect(Array.from(y)).toEqual(Array.from(ref.labels));
      expect(hamming(y, gold)).toBeGreaterThan(0);
      const r = mostOffendingChain(p, gold, undefined, out);
      expect(r!.labels.buffer).toBe(out.buffer);
      expect(r!.labels.length).toBe(T);
      // Ȳ is never worse than any single-label change of gold.
      for (let t = 0; t < T; t++) {
        const z = gold.slice();
        z[t] = (z[t]! + 1) % L;
        expect(e).toBeLessThanOrEqual(chainEnergy(p, z) + 1e-9);
      }
    }
  });

  it("refuses bad gold, out and constraints at the boundary", () => {
    expect(nadirError(() => mostOffendingChain(two, Int32Array.of(0))).code).toBe("E_ARG");
    expect(nadirError(() => mostOffendingChain(two, Int32Array.of(0, 2))).code).toBe("E_ARG");
    expect(nadirError(() => mostOffendingChain(two, [0, 0.5])).code).toBe("E_ARG");
    expect(
      nadirError(() => mostOffendingChain(two, Int32Array.of(0, 0), undefined, new Int32Array(1)))
        .code,
    ).toBe("E_ARG");
    expect(
      nadirError(() => mostOffendingChain(two, Int32Array.of(0, 0), { allowed: new Uint8Array(3) }))
        .code,
    ).toBe("E_ARG");
    expect(
      nadirError(() => mostOffendingClamped(viterbiBackend, two, Int32Array.of(0, 5))).code,
    ).toBe("E_ARG");
  });
});

describe("mostOffendingClamped", () => {
  const g = (() => {
    // A triangle (loopy) with domains 2, 3, 2.
    const b = new FactorGraphBuilder();
    b.addVariable(2);
    b.addVariable(3);
    b.addVariable(2);
    b.addFactor([0], [0, 1]);
    b.addFactor([1], [2, 0, 1]);
    b.addFactor([0, 1], [0, 1, 2, 1, 0, 3]);
    b.addFactor([1, 2], [1, 0, 0, 2, 3, 0]);
    b.addFactor([0, 2], [0, 4, 4, 0]);
    return b.build();
  })();

  it("on a loopy factor graph equals the best of exhaustive k-best that is not gold", () => {
    const all = exhaustiveBackend.kbest(g, 12);
    for (let i = 0; i < 12; i++) {
      const gold = all[i]!.labels;
      const want = all.find((r) => hamming(r.labels, gold) > 0)!;
      const r = mostOffendingClamped(exhaustiveBackend, g, gold);
      expect(r!.energy).toBe(want.energy);
      expect(r!.energy).toBe(g.energy(r!.labels));
      expect(hamming(r!.labels, gold)).toBeGreaterThan(0);
      expect(mostOffending(exhaustiveBackend, g, gold, "exact")!.energy).toBe(want.energy);
    }
  });

  it("allowed rows have stride maxDomain on graphs; entries past a domain are ignored", () => {
    // Variable 0 and 2 have domain 2 < maxDomain 3: junk 1s in column 2 must not matter.
    const allowed = Uint8Array.of(1, 0, 1, 1, 1, 1, 1, 1, 1);
    const gold = Int32Array.of(0, 1, 0);
    const r = mostOffendingClamped(exhaustiveBackend, g, gold, { allowed });
    const want = exhaustiveBackend
      .kbest(g, 12, { allowed })
      .find((x) => hamming(x.labels, gold) > 0)!;
    expect(r!.labels[0]).toBe(0);
    expect(r!.energy).toBe(want.energy);
  });

  it("refuses a backend that refuses the potentials, with its reason", () => {
    const e = nadirError(() => mostOffendingClamped(viterbiBackend, g, Int32Array.of(0, 0, 0)));
    expect(e.code).toBe("E_UNSUPPORTED");
    expect(e.message).toMatch(/viterbi needs chain potentials/);
  });

  it("propagates exact = false and errors other than infeasibility", () => {
    const inexact: Backend = {
      name: "inexact",
      exactness: "approximate",
      supports: () => null,
      minimize: (p: Potentials, c?: Constraints) => ({
        ...exhaustiveBackend.minimize(p, c),
        exact: false,
      }),
    };
    const r = mostOffendingClamped(inexact, g, Int32Array.of(0, 0, 0));
    expect(r!.exact).toBe(false);
    const broken: Backend = {
      name: "broken",
      exactness: "always",
      supports: () => null,
      minimize: () => {
        throw new NadirError("E_TOO_LARGE", "broken: too large");
      },
    };
    expect(nadirError(() => mostOffendingClamped(broken, g, Int32Array.of(0, 0, 0))).code).toBe(
      "E_TOO_LARGE",
    );
  });

  it("detects a backend that ignores clamping", () => {
    const ignoring: Backend = {
      name: "ignoring",
      exactness: "always",
      supports: () => null,
      minimize: (p: Potentials) => exhaustiveBackend.minimize(p),
    };
    const gold = exhaustiveBackend.minimize(g).labels;
    const e = nadirError(() => mostOffendingClamped(ignoring, g, gold));
    expect(e.code).toBe("E_UNSUPPORTED");
  });

  it("on a chain's factor graph agrees with mostOffendingChain", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 20; i++) {
      const p = randomChain(rng, 1 + rng.int(5), 1 + rng.int(3));
      const gold = randomGold(rng, p.T, p.L);
      const a = mostOffendingChain(p, gold);
      const b = mostOffendingClamped(exhaustiveBackend, chainToFactorGraph(p), gold);
      if (a === null) {
        expect(b).toBeNull();
        continue;
      }
      expect(Array.from(b!.labels)).toEqual(Array.from(a.labels));
      expect(b!.energy).toBe(a.energy);
    }
  });
});

describe("lossAugmented", () => {
  it("hand example: folds −scale·Δ into the unaries; reports the true energy too", () => {
    // E − 1·Δ with gold [0,0]: 00 → 0, 01 → 6, 10 → 5, 11 → 1.
    const r = lossAugmented(viterbiBackend, two, Int32Array.of(0, 0), 1);
    expect(Array.from(r.labels)).toEqual([0, 0]);
    expect(r.energy).toBe(0);
    expect(r.augmentedEnergy).toBe(0);
    // scale 2: 00 → 0, 01 → 5, 10 → 4, 11 → −1: the violator [1,1].
    const r2 = lossAugmented(viterbiBackend, two, Int32Array.of(0, 0), 2);
    expect(Array.from(r2.labels)).toEqual([1, 1]);
    expect(r2.energy).toBe(3);
    expect(r2.augmentedEnergy).toBe(-1);
    const r3 = lossAugmented(exhaustiveBackend, chainToFactorGraph(two), Int32Array.of(0, 0), 2);
    expect(Array.from(r3.labels)).toEqual([1, 1]);
    expect(r3.energy).toBe(3);
    expect(r3.augmentedEnergy).toBe(-1);
  });

  it("may return gold itself (the hinge then sees a non-positive loss)", () => {
    const gold = Int32Array.of(0, 0);
    const r = mostOffending(viterbiBackend, two, gold, "hamming", { scale: 0.5 });
    expect(Array.from(r!.labels)).toEqual([0, 0]);
    expect((r as InferenceResult & { augmentedEnergy: number }).augmentedEnergy).toBe(0);
    // Default scale 1.
    expect(Array.from(mostOffending(viterbiBackend, two, gold, "hamming")!.labels)).toEqual([0, 0]);
  });

  it("T = 0, L = 1, and constraints", () => {
    const r0 = lossAugmented(viterbiBackend, empty, new Int32Array(0), 3);
    expect(r0.labels.length).toBe(0);
    expect(r0.energy).toBe(0);
    expect(r0.augmentedEnergy).toBe(0);
    const r1 = lossAugmented(viterbiBackend, single, Int32Array.of(0, 0, 0, 0), 3);
    expect(r1.energy).toBe(chainEnergy(single, Int32Array.of(0, 0, 0, 0)));
    expect(r1.augmentedEnergy).toBe(r1.energy);
    // Constraints restrict Y: gold [0,0] excluded by the start mask.
    const r2 = lossAugmented(viterbiBackend, two, Int32Array.of(0, 0), 1, {
      forbiddenStart: Uint8Array.of(1, 0),
    });
    expect(Array.from(r2.labels)).toEqual([1, 1]);
    expect(r2.augmentedEnergy).toBe(1);
    // Infeasible constraints: the backend's error propagates.
    const e = nadirError(() =>
      lossAugmented(viterbiBackend, two, Int32Array.of(0, 0), 1, {
        allowed: Uint8Array.of(0, 0, 1, 1),
      }),
    );
    expect(e.code).toBe("E_UNSUPPORTED");
  });

  it("leaves the potentials untouched and reuses its workspace across sizes", () => {
    const rng = new Rng(3);
    for (const [T, L] of [
      [20, 6],
      [2, 3],
      [35, 4],
      [1, 1],
      [20, 6],
    ] as [number, number][]) {
      const p = randomChain(rng, T, L);
      const before = p.unary.slice();
      const gold = randomGold(rng, T, L);
      const scale = rng.next() * 3;
      const r = lossAugmented(viterbiBackend, p, gold, scale);
      expect(Array.from(p.unary)).toEqual(Array.from(before));
      // Same answer as an explicit augmented copy.
      const u = p.unary.slice();
      for (let t = 0; t < T; t++)
        for (let l = 0; l < L; l++) if (l !== gold[t]) u[t * L + l]! -= scale;
      const q = chainPotentials(T, L, u, p.transition, p.start, p.end);
      const ref = viterbiBackend.minimize(q);
      expect(Array.from(r.labels)).toEqual(Array.from(ref.labels));
      expect(Math.abs(r.augmentedEnergy - ref.energy)).toBeLessThan(
        1e-9 * (1 + Math.abs(ref.energy)),
      );
      expect(r.energy).toBe(chainEnergy(p, r.labels));
    }
  });

  it("refuses a non-finite scale and bad gold", () => {
    expect(
      nadirError(() => lossAugmented(viterbiBackend, two, Int32Array.of(0, 0), Number.NaN)).code,
    ).toBe("E_ARG");
    expect(nadirError(() => lossAugmented(viterbiBackend, two, Int32Array.of(0, 3))).code).toBe(
      "E_ARG",
    );
  });
});

describe("mostOffending dispatch", () => {
  it("exact on chains ignores the backend; hamming uses it; unknown modes are refused", () => {
    const gold = Int32Array.of(0, 0);
    // The exhaustive backend is not even needed for chains in exact mode.
    const never: Backend = {
      name: "never",
      exactness: "always",
      supports: () => "never",
      minimize: () => {
        throw new Error("must not be called");
      },
    };
    expect(labels(mostOffending(never, two, gold, "exact"))).toEqual([1, 1]);
    expect(
      labels(
        mostOffending(viterbiBackend, two, gold, "exact", {
          constraints: { forbiddenStart: Uint8Array.of(0, 1) },
        }),
      ),
    ).toEqual([0, 1]);
    expect(labels(mostOffending(viterbiBackend, two, gold, "hamming", { scale: 2 }))).toEqual([
      1, 1,
    ]);
    expect(
      nadirError(() => mostOffending(viterbiBackend, two, gold, "bogus" as "exact")).code,
    ).toBe("E_ARG");
  });
});
