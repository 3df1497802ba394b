import { NadirError } from "./errors.ts";
import { nodeBuiltin } from "./host.ts";

/** Is a process with this id running (or owned by another user)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove the temporary files an interrupted write of `path` left beside it
 * (`<name>.tmp-<pid>-<random>`) when their process is gone. Files of live
 * processes (a concurrent writer) and anything else are left alone; errors
 * are ignored (the write itself decides success).
 */
export function removeOrphans(path: string): string[] {
  const { readdirSync, unlinkSync } = nodeBuiltin("node:fs", "writing files");
  const { basename, dirname, join } = nodeBuiltin("node:path", "writing files");
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-z]+$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/**
 * Write a file atomically: the bytes go to a temporary file beside the target,
 * are flushed to disk, and the temporary file is renamed over the target.
 * A crash or an error leaves either the old file or the new one, never half.
 * Temporary files of earlier writes whose process died are removed first.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } = nodeBuiltin(
    "node:fs",
    `writing ${path}`,
  );
  removeOrphans(path);
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let fd = -1;
  try {
    fd = openSync(tmp, "w");
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
    throw new NadirError("E_IO", `cannot write file: ${(e as Error).message}`, { file: path });
  }
}
