import { NadirError } from "../core/errors.ts";

/**
 * Potentials of a linear chain over T positions with L labels each:
 *
 *   E(y) = start[y₀] + Σₜ unary[t·L + yₜ] + Σₜ₌₁ transition[yₜ₋₁·L + yₜ] + end[y_{T−1}]
 *
 * Flat row-major Float64Arrays; `unary` is T×L, `transition` L×L (from × to).
 * The arrays may be longer than needed (reused workspaces): only the first
 * T·L entries of `unary` are read.
 */
export interface ChainPotentials {
  readonly kind: "chain";
  readonly T: number;
  readonly L: number;
  readonly unary: Float64Array;
  readonly transition: Float64Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
}

/** Build chain potentials, checking sizes and finiteness once (the boundary). */
export function chainPotentials(
  T: number,
  L: number,
  unary: Float64Array,
  transition: Float64Array,
  start: Float64Array = new Float64Array(L),
  end: Float64Array = new Float64Array(L),
): ChainPotentials {
  if (!Number.isInteger(T) || T < 0)
    throw new NadirError("E_GRAPH", `chain: expected T ≥ 0, got ${T}`);
  if (!Number.isInteger(L) || L < 1)
    throw new NadirError("E_GRAPH", `chain: expected L ≥ 1, got ${L}`);
  const check = (name: string, a: Float64Array, n: number) => {
    if (a.length < n)
      throw new NadirError("E_GRAPH", `chain: ${name} expected ${n} entries, got ${a.length}`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(a[i]!)) {
        throw new NadirError(
          "E_GRAPH",
          `chain: ${name}[${i}] expected a finite energy, got ${a[i]}`,
        );
      }
    }
  };
  check("unary", unary, T * L);
  check("transition", transition, L * L);
  check("start", start, L);
  check("end", end, L);
  return { kind: "chain", T, L, unary, transition, start, end };
}

/** E(y) of a labeling under chain potentials. */
export function chainEnergy(p: ChainPotentials, y: ArrayLike<number>): number {
  const { T, L, unary, transition, start, end } = p;
  if (T === 0) return 0;
  let e = start[y[0]!]! + end[y[T - 1]!]!;
  let prev = -1;
  for (let t = 0; t < T; t++) {
    const yt = y[t]!;
    e += unary[t * L + yt]!;
    if (prev >= 0) e += transition[prev * L + yt]!;
    prev = yt;
  }
  return e;
}
