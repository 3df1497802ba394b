import { writeFailure } from "../core/threads.ts";

/** Indices of the control words a shared-memory worker uses (parallel.ts CTRL, mixing.ts MIX_CTRL). */
export interface WorkerControl {
  readonly GEN: number;
  readonly DONE: number;
  readonly READY: number;
  readonly STOP: number;
  readonly FAILED: number;
}

/**
 * The life of a shared-memory worker thread: `setup` rebuilds its state from
 * plain data and returns the work of one generation; READY is raised, then
 * the work runs each time the parent moves GEN (DONE raised after each) until
 * STOP. A failure is written to `failure` and FAILED raised — never rethrown,
 * so no uncaught exception reaches the parent (which may be blocked in
 * Atomics.wait) or a test runner.
 */
export function serveGenerations(
  ctrl: Int32Array,
  slots: WorkerControl,
  failure: Uint8Array,
  setup: () => () => void,
): void {
  try {
    const work = setup();
    Atomics.add(ctrl, slots.READY, 1);
    Atomics.notify(ctrl, slots.READY);
    // Generation 0 is "nothing asked yet". Reading the current generation here
    // instead would race with the parent: its first request may already have
    // moved GEN to 1 between our READY and this line, and we would wait for 2 forever.
    let seen = 0;
    for (;;) {
      Atomics.wait(ctrl, slots.GEN, seen);
      seen = Atomics.load(ctrl, slots.GEN);
      if (Atomics.load(ctrl, slots.STOP) !== 0) break;
      work();
      Atomics.add(ctrl, slots.DONE, 1);
      Atomics.notify(ctrl, slots.DONE);
    }
  } catch (e) {
    writeFailure(failure, e);
    Atomics.store(ctrl, slots.FAILED, 1);
    Atomics.notify(ctrl, slots.DONE);
    Atomics.notify(ctrl, slots.READY);
  }
}
