// Entry of ParallelObjective's worker threads: plain JavaScript, so it loads
// in any parent (tsx, vitest, plain node); it registers tsx's TypeScript
// loader for this thread and imports the worker. A failure to start is
// reported through the shared control block instead of hanging the parent.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

const FAILED = 4;
try {
  register();
  await import("./worker.ts");
} catch (e) {
  Atomics.store(workerData.ctrl, FAILED, 1);
  Atomics.notify(workerData.ctrl, 1);
  Atomics.notify(workerData.ctrl, 2);
  throw e;
}
