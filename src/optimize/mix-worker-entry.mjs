// Entry of the parameter-mixing worker threads when nadir runs from its
// TypeScript sources (tsx, vitest): registers tsx's loader for this thread,
// then imports the worker. Compiled builds load dist/optimize/mix-worker.js
// directly (src/core/threads.ts: workerUrl). A failure to start is reported
// through shared memory, never thrown: the parent may be blocked in Atomics.wait.
import { workerData } from "node:worker_threads";

const FAILED = 4;
try {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./mix-worker.ts");
} catch (e) {
  const msg = new TextEncoder().encode(String(e?.message ?? e).split("\n")[0]);
  workerData.failure.set(msg.subarray(0, workerData.failure.length - 1));
  Atomics.store(workerData.ctrl, FAILED, 1);
  Atomics.notify(workerData.ctrl, 1);
  Atomics.notify(workerData.ctrl, 2);
}
