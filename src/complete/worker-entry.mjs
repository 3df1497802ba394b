// Entry of the completion trainer's worker threads: plain JavaScript, so it
// loads in any parent (tsx, vitest, plain node); it registers tsx's
// TypeScript loader for this thread and imports the worker.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
