import { NadirError } from "../core/errors.ts";
import type { Architecture, ArchitectureDescription } from "./architecture.ts";
import { LinearChain } from "./linear-chain.ts";

type ArchitectureFactory = (d: ArchitectureDescription) => Architecture;

/** How to rebuild each kind of architecture from its description; the built-in ones, then registered ones. */
const factories = new Map<string, ArchitectureFactory>([
  ["linear-chain", (d) => LinearChain.fromDescription(d)],
]);

/** Register how to rebuild an architecture of `kind` from its description. */
export function registerArchitecture(kind: string, from: ArchitectureFactory): void {
  factories.set(kind, from);
}

/** The architecture a description describes (E_ARG naming the known kinds otherwise). */
export function architectureFrom(d: ArchitectureDescription): Architecture {
  const from = factories.get(d.kind);
  if (from === undefined) {
    throw new NadirError(
      "E_ARG",
      `unknown architecture '${d.kind}'; known: ${[...factories.keys()].join(", ")}`,
    );
  }
  return from(d);
}
