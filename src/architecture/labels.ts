import type { Constraints } from "../graph/constraints.ts";

export type Encoding = "iob2" | "iob1" | "bioes" | "none";

function split(label: string): { tag: string; type: string } {
  const m = /^([BIESL])-(.+)$/.exec(label);
  if (m) return { tag: m[1]!, type: m[2]! };
  return { tag: label === "O" ? "O" : "?", type: "" };
}

/** May label `b` follow label `a` under the encoding? (`a` null: sequence start.) */
export function transitionAllowed(encoding: Encoding, a: string | null, b: string): boolean {
  const B = split(b);
  const A = a === null ? { tag: "O", type: "" } : split(a);
  if (B.tag === "?" || A.tag === "?") return true;
  switch (encoding) {
    case "iob2":
      return B.tag !== "I" || ((A.tag === "B" || A.tag === "I") && A.type === B.type);
    case "iob1":
      return B.tag !== "B" || ((A.tag === "B" || A.tag === "I") && A.type === B.type);
    case "bioes": {
      const open = A.tag === "B" || A.tag === "I";
      if (open) return (B.tag === "I" || B.tag === "E") && A.type === B.type;
      return B.tag !== "I" && B.tag !== "E";
    }
    default:
      return true;
  }
}

/**
 * Does a word begin at a character labeled `label` after one labeled `prev`
 * (`prev` null: the first character)? B/M/E/S: at the first character, at a
 * B or S, and after an E or S — so that any label sequence, even an
 * ill-formed one, is a segmentation; B/I (binary): at the first character and
 * at every B, the same rule. Word segmentation's scorer and the word
 * dictionary of the derived columns both read words this way.
 */
export function beginsWord(prev: string | null, label: string): boolean {
  return prev === null || label === "B" || label === "S" || prev === "E" || prev === "S";
}

/** May a sequence end with this label? (BIOES: not inside an open chunk.) */
export function endAllowed(encoding: Encoding, label: string): boolean {
  if (encoding !== "bioes") return true;
  const { tag } = split(label);
  return tag !== "B" && tag !== "I";
}

/**
 * Hard constraints that keep decoded labelings well-formed under the
 * encoding: forbidden transitions (e.g. O → I-NP under IOB2) and starts.
 * Returns undefined when nothing is forbidden. Ends (BIOES) are forbidden
 * through `allowed` on the last position by `withEnd`.
 */
export function encodingConstraints(
  encoding: Encoding,
  labels: readonly string[],
): Constraints | undefined {
  if (encoding === "none") return undefined;
  const L = labels.length;
  const forbiddenTransitions = new Uint8Array(L * L);
  const forbiddenStart = new Uint8Array(L);
  let any = false;
  for (let i = 0; i < L; i++) {
    if (!transitionAllowed(encoding, null, labels[i]!)) {
      forbiddenStart[i] = 1;
      any = true;
    }
    for (let j = 0; j < L; j++) {
      if (!transitionAllowed(encoding, labels[i]!, labels[j]!)) {
        forbiddenTransitions[i * L + j] = 1;
        any = true;
      }
    }
  }
  return any ? { forbiddenTransitions, forbiddenStart } : undefined;
}

/** Add an end constraint for a sequence of length T (BIOES) to base constraints. */
export function withEnd(
  base: Constraints | undefined,
  encoding: Encoding,
  labels: readonly string[],
  T: number,
): Constraints | undefined {
  if (encoding !== "bioes" || T === 0) return base;
  const L = labels.length;
  const allowed = new Uint8Array(T * L).fill(1);
  for (let l = 0; l < L; l++) if (!endAllowed(encoding, labels[l]!)) allowed[(T - 1) * L + l] = 0;
  return { ...base, allowed };
}
