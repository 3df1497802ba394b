export {
  type BinaryCutOptions,
  binaryGraphCut,
  binaryRefusal,
  mincutBackend,
} from "./construct.ts";
export {
  alphaBetaSwap,
  alphaExpansion,
  expansion,
  expansionBackend,
  type MoveOptions,
  type MoveResult,
  moveRefusal,
  swap,
  swapBackend,
} from "./expansion.ts";
export { MaxflowGraph, type Segment, SINK, SOURCE } from "./maxflow.ts";
