// Entry of the completion trainer's worker threads when nadir runs from its
// TypeScript sources (tsx, vitest): registers tsx's loader for this thread,
// then imports the worker. Compiled builds load dist/complete/worker.js
// directly (src/core/threads.ts: workerUrl).
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
