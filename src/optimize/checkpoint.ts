import { type ContainerFormat, decodeContainer, encodeContainer } from "../core/container.ts";
import { NadirError } from "../core/errors.ts";
import { readFileBytes } from "../core/host.ts";
import { writeFileAtomic } from "../core/io.ts";

/** Version 2: the checksummed container (version 1 checkpoints are refused). */
const FORMAT: ContainerFormat = { magic: "NADIRCKP", version: 2 };

/** What a training checkpoint holds: named Float64 arrays and a JSON-able header. */
export interface Checkpoint {
  header: Record<string, unknown>;
  arrays: Record<string, Float64Array>;
}

/** The bytes of a checkpoint: the file container with one Float64 section per array. */
export function checkpointBytes(ck: Checkpoint): Uint8Array {
  return encodeContainer(FORMAT, ck.header, ck.arrays);
}

/** Write a checkpoint atomically (see `checkpointBytes`). */
export function saveCheckpoint(path: string, ck: Checkpoint): void {
  writeFileAtomic(path, checkpointBytes(ck));
}

/** Read a checkpoint and check its magic, version, CRC (header and arrays) and sizes. */
export function loadCheckpoint(path: string): Checkpoint {
  let buf: Uint8Array;
  try {
    buf = readFileBytes(path);
  } catch (e) {
    throw new NadirError("E_MODEL", `cannot read checkpoint: ${(e as Error).message}`, {
      file: path,
    });
  }
  return checkpointFromBytes(buf, path);
}

/** Decode checkpoint bytes; `name` stands for the file in error messages. */
export function checkpointFromBytes(bytes: Uint8Array, name = "<bytes>"): Checkpoint {
  const bad = (msg: string): never => {
    throw new NadirError("E_MODEL", `not a valid nadir checkpoint: ${msg}`, { file: name });
  };
  const d = decodeContainer(bytes, FORMAT, bad, [1]);
  if (d.legacy) {
    return bad(
      "version 1 checkpoints (before the checksummed container) cannot be resumed; start the run again",
    );
  }
  const arrays: Record<string, Float64Array> = {};
  for (const [k, a] of Object.entries(d.sections)) {
    if (!(a instanceof Float64Array)) return bad(`array ${k} is not Float64`);
    arrays[k] = a;
  }
  return { header: d.header, arrays };
}

/** Refuse a checkpoint of another trainer or another parameter count. */
export function checkResume(ck: Checkpoint, kind: string, K: number, path: string): void {
  if (ck.header.kind !== kind || ck.header.K !== K) {
    throw new NadirError(
      "E_MODEL",
      `checkpoint is for ${String(ck.header.kind)} with K = ${String(ck.header.K)}; this run is ${kind} with K = ${K} (same data, spec and optimizer needed)`,
      { file: path },
    );
  }
}

/** A named array of a checkpoint, checked for its length. */
export function checkpointArray(
  ck: Checkpoint,
  name: string,
  n: number,
  path: string,
): Float64Array {
  const a = ck.arrays[name];
  if (!a || a.length !== n) {
    throw new NadirError(
      "E_MODEL",
      `checkpoint lacks the array ${name} of ${n} values (got ${a ? a.length : "none"})`,
      { file: path },
    );
  }
  return a;
}

/** A finite number of a checkpoint's header (JSON has no ±Infinity: null reads as `ifNull`). */
export function checkpointNumber(
  ck: Checkpoint,
  name: string,
  path: string,
  ifNull?: number,
): number {
  const v = ck.header[name];
  if (v === null && ifNull !== undefined) return ifNull;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new NadirError("E_MODEL", `checkpoint lacks the number ${name}`, { file: path });
  }
  return v;
}
