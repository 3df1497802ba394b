/**
 * Hard constraints on the labelings a backend may return (constrained decoding,
 * clamping). A forbidden choice is simply never taken; it is not an energy.
 *
 * - `allowed`: per position (variable) a mask of allowed labels, flat T×L
 *   (1 = allowed). Clamping yₜ = l is the mask with only l set. For a factor
 *   graph the rows have stride `maxDomain` (nVars × maxDomain; entries past a
 *   variable's domain are ignored).
 * - `forbiddenTransitions`: chains only, L×L (from × to), 1 = forbidden.
 * - `forbiddenStart`: chains only, length L, 1 = label may not start a sequence.
 */
export interface Constraints {
  allowed?: Uint8Array;
  forbiddenTransitions?: Uint8Array;
  forbiddenStart?: Uint8Array;
}
