// Entry of the parameter-mixing worker threads from the TypeScript sources (see source-worker.mjs).
import { startFromSource } from "./source-worker.mjs";

await startFromSource(() => import("./mix-worker.ts"));
