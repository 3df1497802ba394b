import type { Architecture } from "../architecture/architecture.ts";
import type { Instance } from "../architecture/features.ts";
import { getBackend } from "../inference/registry.ts";
import type { Backend } from "../inference/types.ts";
import { viterbiBackend } from "../inference/viterbi.ts";
import { ChainStructure } from "./chain.ts";
import { Chain2Structure, chain2Refuses } from "./chain2.ts";
import { GraphStructure } from "./graph.ts";
import type { Structure, Structures } from "./types.ts";

export { ChainStructure, requireSupport } from "./chain.ts";
export { Chain2Structure } from "./chain2.ts";
export { GraphStructure } from "./graph.ts";
export {
  ArchStructure,
  type Example,
  type Sampling,
  Structure,
  type Structures,
} from "./types.ts";

/** The backend of an `--inference` choice: "auto" is Viterbi, the exact chain backend (BP on skip edges). */
export function chooseBackend(name: string): Backend {
  if (name === "auto" || name === "viterbi") return viterbiBackend;
  return getBackend(name);
}

/**
 * The structures of an architecture's examples, all answering through
 * `backend`: a first-order chain, a second-order chain, or — for a skip-chain
 * sentence with skip edges — its factor graph (a sentence without skip edges
 * is a chain). One instance of each is kept and rebound per example.
 */
export function structuresFor(arch: Architecture, backend: Backend): Structures {
  if (arch.order === 2) {
    const s2 = new Chain2Structure(arch, backend);
    const how =
      backend === viterbiBackend
        ? "second-order viterbi (exact)"
        : `${backend.name} on the second-order factor graph (${backend.exactness})`;
    return { of: () => s2, refuses: chain2Refuses, describe: () => how };
  }
  const chain = new ChainStructure(arch, backend);
  if (!arch.skip) {
    return {
      of: () => chain,
      refuses: () => null,
      describe: () => `${backend.name} (${backend.exactness})`,
    };
  }
  const graph = new GraphStructure(arch, backend);
  return {
    of: (x: Instance): Structure => (x.skips && x.skips.length > 0 ? graph : chain),
    refuses: () => null,
    describe: () =>
      `${backend.name} on sentences without skip edges, ${backend.name === "viterbi" ? "bp" : `${backend.name} (bp where it cannot)`} on the others (exact on trees, approximate on loopy graphs)`,
  };
}
