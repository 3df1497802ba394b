export { type ChainPotentials, chainEnergy, chainPotentials } from "./chain.ts";
export { chainToFactorGraph } from "./convert.ts";
export { domainSize, labelingEnergy, labelStride, variableCount } from "./energy.ts";
export { Factor, FactorGraph, FactorGraphBuilder, type TableView } from "./factor-graph.ts";
export {
  chainPaths,
  components,
  type Topology,
  topology,
  treeSchedule,
  variableNeighbors,
} from "./topology.ts";
