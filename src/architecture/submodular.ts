import { NadirError } from "../core/errors.ts";
import type { LinearChain } from "./linear-chain.ts";

/**
 * The projection that keeps a binary chain's pairwise energies submodular,
 * so that graph cuts stay exact while it trains: the transition table
 * [[a, b], [c, d]] (from × to) must satisfy b + c ≥ a + d. When it is
 * violated by δ = (a + d) − (b + c) > 0, the Euclidean projection onto that
 * half-space moves a and d down and b and c up by δ/4 each. Skip factors of a
 * skip-chain get the same treatment.
 *
 * `w(k)` reads the current weight k. Returns the changes as (index, delta) pairs so an optimizer can apply them
 * through its own bookkeeping (averaging sums); empty when nothing changes.
 */
export function submodularProjection(
  arch: LinearChain,
  w: (k: number) => number,
): [number, number][] {
  if (arch.L !== 2) throw new NadirError("E_SPEC", `submodular: expected 2 labels, got ${arch.L}`);
  const out: [number, number][] = [];
  const fix = (o: number) => {
    const delta = w(o) + w(o + 3) - w(o + 1) - w(o + 2);
    if (delta > 0) {
      const q = delta / 4;
      out.push([o, -q], [o + 3, -q], [o + 1, q], [o + 2, q]);
    }
  };
  fix(arch.transOffset);
  if (arch.skip) fix(arch.skipOffset);
  return out;
}
