// Shared by the worker entries (`name-entry.mjs`) used when nadir runs from
// its TypeScript sources (tsx, vitest): register tsx's loader for this
// thread, then import the worker. Compiled builds load dist/optimize/name.js
// directly (src/core/threads.ts: workerUrl). A failure to start is reported
// through shared memory, never thrown: the parent may be blocked in Atomics.wait.
import { workerData } from "node:worker_threads";

// control words (src/optimize/parallel.ts CTRL, mixing.ts MIX_CTRL)
const DONE = 1;
const READY = 2;
const FAILED = 4;

/** Register tsx, then run `load` (the worker's import); report a failure to the parent. */
export async function startFromSource(load) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
    await load();
  } catch (e) {
    const msg = new TextEncoder().encode(String(e?.message ?? e).split("\n")[0]);
    workerData.failure.set(msg.subarray(0, workerData.failure.length - 1));
    Atomics.store(workerData.ctrl, FAILED, 1);
    Atomics.notify(workerData.ctrl, DONE);
    Atomics.notify(workerData.ctrl, READY);
  }
}
