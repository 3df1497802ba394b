import {
  type ContainerFormat,
  decodeContainer,
  encodeContainer,
  latin1,
  utf8Text,
} from "../core/container.ts";
import { NadirError } from "../core/errors.ts";
import { envVar, nodeBuiltin, readFileBytes } from "../core/host.ts";
import { writeFileAtomic } from "../core/io.ts";
import type { BitImage, GrayImage } from "../data/image.ts";
import { GridCut, gridInstance, gridWeightCount, gridWeightNames } from "./grid.ts";
import { type GridSpec, parseGridSpec } from "./spec.ts";

export const GRID_MODEL_FORMAT = "nadir-grid-model";
/** Version 2: the checksummed file container; version 1 (one JSON object) still loads. */
export const GRID_MODEL_VERSION = 2;
const CONTAINER: ContainerFormat = { magic: "NADIRGRD", version: GRID_MODEL_VERSION };

/**
 * A trained grid energy: the spec and its weights. `segment` labels an image
 * by one minimum cut.
 *
 * File format: the file container (core/container.ts, magic "NADIRGRD",
 * version 2) with header `{ format: "nadir-grid-model", spec, names, info }`
 * and one Float64 section W (the weights, in the order of `names`); one CRC
 * covers both. Version 1 files (one JSON object `{ format, version: 1, spec,
 * weights: {name: value}, info, checksum }`, `checksum` the SHA-256 of the
 * JSON text without it) still load. Written atomically; `load` checks the
 * format, version, checksum, the spec, the weight names and that every
 * weight is finite with w_potts, w_const ≥ 0.
 */
export class GridModel {
  readonly spec: GridSpec;
  readonly W: Float64Array;
  /** Free-form facts about training (images, epochs, final hinge), saved with the model. */
  readonly info: Record<string, unknown>;
  private readonly cut = new GridCut();

  constructor(spec: GridSpec, W: Float64Array, info: Record<string, unknown> = {}) {
    const K = gridWeightCount(spec);
    if (W.length !== K)
      throw new NadirError("E_MODEL", `grid model: expected ${K} weights, got ${W.length}`);
    this.spec = spec;
    this.W = W;
    this.info = info;
  }

  /** The minimum-energy mask of an image (1 = foreground) and its energy. */
  segment(img: GrayImage): { mask: BitImage; energy: number } {
    checkGridMemory(img.width, img.height, this.spec);
    const r = this.cut.minimize(gridInstance(img, this.spec), this.W);
    return { mask: { width: img.width, height: img.height, data: r.labels }, energy: r.energy };
  }

  /** The weights by name. */
  weights(): Record<string, number> {
    const names = gridWeightNames(this.spec);
    return Object.fromEntries(names.map((n, k) => [n, this.W[k]!]));
  }

  save(path: string): void {
    writeFileAtomic(path, this.toBytes());
  }

  /** The bytes of the model file (see the class comment). */
  toBytes(): Uint8Array {
    const header = {
      format: GRID_MODEL_FORMAT,
      spec: this.spec.source,
      names: gridWeightNames(this.spec),
      info: this.info,
    };
    return encodeContainer(CONTAINER, header, { W: this.W.slice() });
  }

  static load(path: string): GridModel {
    let bytes: Uint8Array;
    try {
      bytes = readFileBytes(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === "ENOENT" ? "no such file or directory" : err.message;
      throw new NadirError("E_MODEL", `cannot read grid model: ${why}`, { file: path });
    }
    return GridModel.fromBytes(bytes, path);
  }

  /** Check and decode a model file's bytes; `name` stands for the file in errors. */
  static fromBytes(bytes: Uint8Array, name = "<bytes>"): GridModel {
    const bad = (msg: string): never => {
      throw new NadirError("E_MODEL", `not a valid grid model: ${msg}`, { file: name });
    };
    const buf = bytes;
    if (latin1(buf, 0, 8) !== CONTAINER.magic) return fromJsonV1(buf, bad);
    const d = decodeContainer(buf, CONTAINER, bad);
    if (d.legacy) return bad("unexpected version");
    const h = d.header;
    if (h.format !== GRID_MODEL_FORMAT)
      return bad(`expected format "${GRID_MODEL_FORMAT}", got ${JSON.stringify(h.format)}`);
    const spec = specOf(h.spec, bad);
    const names = gridWeightNames(spec);
    if (
      !Array.isArray(h.names) ||
      h.names.length !== names.length ||
      h.names.some((n, k) => n !== names[k])
    )
      return bad(`expected the weights ${names.join(", ")} in this order`);
    const W = d.sections.W;
    if (!(W instanceof Float64Array) || W.length !== names.length)
      return bad(`expected ${names.length} weights`);
    W.forEach((v, k) => {
      if (!Number.isFinite(v)) bad(`weight '${names[k]}' expected a finite number, got ${v}`);
    });
    return finish(spec, W, h.info, bad);
  }
}

/**
 * Bytes a minimum cut of one image needs per pixel: measured 200 (4-connected)
 * and 314 (8-connected) on 1500² images (features, the flow graph with its
 * residual capacities, the search trees); estimated as 100 + 30·connectivity.
 */
export function gridBytesPerPixel(spec: GridSpec): number {
  return 100 + 30 * spec.connectivity;
}

/**
 * The memory budget of a segmentation, in MB: 4096 by default, or the
 * environment variable NADIR_MAX_MEMORY_MB.
 */
export function gridMemoryLimitMb(): number {
  const env = envVar("NADIR_MAX_MEMORY_MB");
  const n = env === undefined || env === "" ? Number.NaN : Number(env);
  return Number.isFinite(n) && n > 0 ? n : 4096;
}

/**
 * Refuse an image whose segmentation would need more memory than the budget
 * (E_TOO_LARGE with the estimate, the limit and how to raise it), before
 * anything is allocated.
 */
export function checkGridMemory(width: number, height: number, spec: GridSpec): void {
  const need = (width * height * gridBytesPerPixel(spec)) / 1e6;
  const limit = gridMemoryLimitMb();
  if (need > limit) {
    throw new NadirError(
      "E_TOO_LARGE",
      `segmenting a ${width}×${height} image needs about ${Math.ceil(need).toLocaleString("en")} MB (${gridBytesPerPixel(spec)} bytes per pixel, ${spec.connectivity}-connected), above the limit of ${limit.toLocaleString("en")} MB; split or downscale the image, or raise the limit with NADIR_MAX_MEMORY_MB=<MB>`,
    );
  }
}

function specOf(source: unknown, bad: (msg: string) => never): GridSpec {
  try {
    return parseGridSpec(source, "embedded spec");
  } catch (e) {
    return bad((e as Error).message);
  }
}

/** The checks both versions share (pairwise weights ≥ 0), and the model. */
function finish(
  spec: GridSpec,
  W: Float64Array,
  info: unknown,
  bad: (msg: string) => never,
): GridModel {
  const F = spec.features.length;
  if (W[2 * F]! < 0 || W[2 * F + 1]! < 0)
    return bad(`the pairwise weights must be ≥ 0 (potts ${W[2 * F]}, const ${W[2 * F + 1]})`);
  return new GridModel(
    spec,
    W,
    typeof info === "object" && info !== null ? (info as Record<string, unknown>) : {},
  );
}

/** Version 1: one JSON object with a SHA-256 of its own text. */
function fromJsonV1(buf: Uint8Array, bad: (msg: string) => never): GridModel {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(utf8Text(buf, 0, buf.length));
  } catch (e) {
    return bad(`${(e as Error).message} (truncated or corrupt file?)`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return bad("expected a JSON object");
  if (o.format !== GRID_MODEL_FORMAT)
    return bad(`expected format "${GRID_MODEL_FORMAT}", got ${JSON.stringify(o.format)}`);
  if (o.version !== 1)
    return bad(
      `expected version 1 (JSON) or a ${CONTAINER.magic} file, got version ${JSON.stringify(o.version)}`,
    );
  const { checksum, ...body } = o;
  const { createHash } = nodeBuiltin("node:crypto", "reading a version 1 grid model");
  const want = `sha256:${createHash("sha256").update(JSON.stringify(body)).digest("hex")}`;
  if (checksum !== want) return bad("checksum mismatch (the file was modified or corrupted)");
  const spec = specOf(body.spec, bad);
  const w = body.weights as Record<string, unknown> | undefined;
  if (typeof w !== "object" || w === null) return bad("no weights");
  const names = gridWeightNames(spec);
  const extra = Object.keys(w).filter((k) => !names.includes(k));
  if (extra.length > 0) return bad(`unknown weight '${extra[0]}'`);
  const W = new Float64Array(names.length);
  names.forEach((n, k) => {
    const v = w[n];
    if (typeof v !== "number" || !Number.isFinite(v))
      bad(`weight '${n}' expected a finite number, got ${JSON.stringify(v)}`);
    W[k] = v as number;
  });
  return finish(spec, W, body.info, bad);
}
