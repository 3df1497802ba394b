/**
 * The backends under conformance test. Adding a backend is one line here;
 * every suite in test/conformance picks it up.
 */
import { bp } from "../../src/inference/bp.ts";
import { exhaustiveBackend } from "../../src/inference/exhaustive.ts";
import type { Backend } from "../../src/inference/types.ts";
import { viterbiBackend } from "../../src/inference/viterbi.ts";
import { backwardViterbiBackend } from "../fixtures/backward-viterbi.ts";

export interface ConformanceEntry {
  backend: Backend;
  /** Honors Constraints (allowed / forbiddenTransitions / forbiddenStart). */
  constraints: boolean;
  /** Among equal energies returns the lexicographically smallest labeling (checked in exact modes). */
  lexTies: boolean;
  /** Which factor graphs it must solve exactly: none, forests, or all. */
  graphs: "none" | "tree" | "all";
}

export const BACKENDS: ConformanceEntry[] = [
  { backend: exhaustiveBackend, constraints: true, lexTies: true, graphs: "all" },
  { backend: viterbiBackend, constraints: true, lexTies: true, graphs: "none" },
  // bpBackend itself accepts loopy graphs (approximately); this suite wants "tree" backends to refuse them.
  { backend: bp({ exactOnly: true }), constraints: true, lexTies: false, graphs: "tree" },
  // the contributor's example (test/fixtures/backward-viterbi.ts, CONTRIBUTING.md): one line
  { backend: backwardViterbiBackend, constraints: true, lexTies: true, graphs: "none" },
];
