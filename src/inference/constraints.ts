import { NadirError } from "../core/errors.ts";
import { chainToFactorGraph } from "../graph/convert.ts";
import type { FactorGraph } from "../graph/factor-graph.ts";
import type { Constraints, Potentials } from "./types.ts";

/**
 * Check the sizes of constraints against the potentials (O(1), the boundary of
 * every backend). Arrays may be longer than needed (reused workspaces).
 *
 * For a factor graph, `allowed` is flat nVars × maxDomain (row stride = the
 * largest domain; entries past a variable's domain are ignored), and the
 * chain-only constraints are refused.
 */
export function checkConstraints(who: string, p: Potentials, c: Constraints | undefined): void {
  if (c === undefined) return;
  if (p.kind === "chain") {
    const { T, L } = p;
    if (c.allowed !== undefined && c.allowed.length < T * L) {
      throw new NadirError(
        "E_ARG",
        `${who}: constraints.allowed expected ${T * L} entries (T×L = ${T}×${L}), got ${c.allowed.length}`,
      );
    }
    if (c.forbiddenTransitions !== undefined && c.forbiddenTransitions.length < L * L) {
      throw new NadirError(
        "E_ARG",
        `${who}: constraints.forbiddenTransitions expected ${L * L} entries (L×L = ${L}×${L}), got ${c.forbiddenTransitions.length}`,
      );
    }
    if (c.forbiddenStart !== undefined && c.forbiddenStart.length < L) {
      throw new NadirError(
        "E_ARG",
        `${who}: constraints.forbiddenStart expected ${L} entries (L), got ${c.forbiddenStart.length}`,
      );
    }
    return;
  }
  const n = p.nVars * p.maxDomain;
  if (c.allowed !== undefined && c.allowed.length < n) {
    throw new NadirError(
      "E_ARG",
      `${who}: constraints.allowed expected ${n} entries (nVars×maxDomain = ${p.nVars}×${p.maxDomain}), got ${c.allowed.length}`,
    );
  }
  if (c.forbiddenTransitions !== undefined || c.forbiddenStart !== undefined) {
    throw new NadirError(
      "E_UNSUPPORTED",
      `${who}: forbiddenTransitions and forbiddenStart apply to chains only; got a factor graph`,
    );
  }
}

/**
 * For a backend that honors `constraints.allowed` only: check the constraints
 * against p, refuse the chain-only ones (NadirError("E_UNSUPPORTED") naming
 * `instead`, a backend that honors them), and give p as a factor graph
 * (chain potentials through `chainToFactorGraph`).
 */
export function allowedOnlyGraph(
  who: string,
  p: Potentials,
  c: Constraints | undefined,
  instead: string,
): FactorGraph {
  checkConstraints(who, p, c);
  if (c?.forbiddenTransitions !== undefined || c?.forbiddenStart !== undefined) {
    throw new NadirError(
      "E_UNSUPPORTED",
      `${who}: honors constraints.allowed only; got forbiddenTransitions or forbiddenStart (use ${instead})`,
    );
  }
  return p.kind === "chain" ? chainToFactorGraph(p) : p;
}

/** The error every backend throws when no labeling satisfies the constraints. */
export function infeasible(who: string): NadirError {
  return new NadirError("E_UNSUPPORTED", `${who}: no labeling satisfies the constraints`);
}

/** Throw NadirError("E_ARG") unless k is an integer ≥ 0. */
export function checkK(who: string, k: number): void {
  if (!Number.isInteger(k) || k < 0) {
    throw new NadirError("E_ARG", `${who}: expected k to be an integer ≥ 0, got ${k}`);
  }
}
