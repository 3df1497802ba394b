// Entry of ParallelObjective's worker threads from the TypeScript sources (see source-worker.mjs).
import { startFromSource } from "./source-worker.mjs";

await startFromSource(() => import("./worker.ts"));
