import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { NadirError } from "../core/errors.ts";
import { onceDrain } from "../data/lines.ts";

const FILE_BUFFER = 1 << 16;
const SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * Where a command writes its text, streamed with flat memory:
 * - stdout (`-` or no path): every `write` goes out at once (so a pipeline
 *   downstream sees each sentence as soon as it is done), and a full pipe is
 *   waited for ('drain') before the next write;
 * - a file: written to a temporary file beside it in 64 KiB pieces, renamed
 *   over the target by `close`; `abort` (on any error) removes it, so a
 *   failure half-way never leaves a partial file under the final name.
 */
export class Output {
  private readonly tmp: string | undefined;
  private fd = -1;
  private parts: (string | Uint8Array)[] = [];
  private size = 0;

  private readonly path: string | undefined;

  constructor(path: string | undefined) {
    this.path = path;
    if (this.toStdout) return;
    this.tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    // Interrupted (Ctrl-C, a killed pipeline stage): remove the temporary file,
    // then die of the signal. Installed before the file exists: a signal that
    // came between the two would otherwise kill us with the default action
    // and leave the file behind.
    for (const sig of SIGNALS) process.once(sig, this.onSignal);
    try {
      this.fd = openSync(this.tmp, "w");
    } catch (e) {
      for (const sig of SIGNALS) process.off(sig, this.onSignal);
      throw new NadirError("E_IO", `cannot write file: ${(e as Error).message}`, { file: path });
    }
  }

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.abort();
    process.kill(process.pid, sig);
  };

  private get toStdout(): boolean {
    return this.path === undefined || this.path === "" || this.path === "-";
  }

  /** Write text or bytes; resolves when the sink can take more. */
  async write(s: string | Uint8Array): Promise<void> {
    if (this.toStdout) {
      if (!process.stdout.write(s)) await onceDrain(process.stdout);
      return;
    }
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= FILE_BUFFER) this.flushFile();
  }

  private flushFile(): void {
    if (this.parts.length === 0) return;
    const bytes = Buffer.concat(
      this.parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : p)),
    );
    this.parts = [];
    this.size = 0;
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    } catch (e) {
      throw new NadirError("E_IO", `cannot write file: ${(e as Error).message}`, {
        file: this.path,
      });
    }
  }

  /** Finish: a file is flushed to disk and renamed to its final name. */
  async close(): Promise<void> {
    if (this.toStdout) return;
    try {
      this.flushFile();
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tmp!, this.path!);
      for (const sig of SIGNALS) process.off(sig, this.onSignal);
    } catch (e) {
      this.abort();
      if (e instanceof NadirError) throw e;
      throw new NadirError("E_IO", `cannot write file: ${(e as Error).message}`, {
        file: this.path,
      });
    }
  }

  /** Give up: close and remove the temporary file (nothing appears under the final name). */
  abort(): void {
    if (this.toStdout || this.tmp === undefined) return;
    for (const sig of SIGNALS) process.off(sig, this.onSignal);
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.fd = -1;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // already renamed or removed
    }
  }
}
