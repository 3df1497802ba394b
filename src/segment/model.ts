import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { NadirError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/io.ts";
import type { BitImage, GrayImage } from "../data/image.ts";
import { GridCut, gridInstance, gridWeightCount, gridWeightNames } from "./grid.ts";
import { type GridSpec, parseGridSpec } from "./spec.ts";

export const GRID_MODEL_FORMAT = "nadir-grid-model";
export const GRID_MODEL_VERSION = 1;

/**
 * A trained grid energy: the spec and its weights. `segment` labels an image
 * by one minimum cut.
 *
 * File format: one JSON object
 * `{ format: "nadir-grid-model", version: 1, spec, weights: {name: value},
 *    info, checksum }`, where `checksum` is "sha256:" + the hex SHA-256 of the
 * JSON text of the same object without `checksum` (keys in the written
 * order). Written atomically; `load` checks the format, version, checksum,
 * the spec, the weight names and that every weight is finite with
 * w_potts, w_const ≥ 0.
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
    const r = this.cut.minimize(gridInstance(img, this.spec), this.W);
    return { mask: { width: img.width, height: img.height, data: r.labels }, energy: r.energy };
  }

  /** The weights by name. */
  weights(): Record<string, number> {
    const names = gridWeightNames(this.spec);
    return Object.fromEntries(names.map((n, k) => [n, this.W[k]!]));
  }

  save(path: string): void {
    const body = {
      format: GRID_MODEL_FORMAT,
      version: GRID_MODEL_VERSION,
      spec: this.spec.source,
      weights: this.weights(),
      info: this.info,
    };
    const text = JSON.stringify(body);
    const checksum = `sha256:${createHash("sha256").update(text).digest("hex")}`;
    writeFileAtomic(path, `${JSON.stringify({ ...body, checksum }, null, 1)}\n`);
  }

  static load(path: string): GridModel {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === "ENOENT" ? "no such file or directory" : err.message;
      throw new NadirError("E_MODEL", `cannot read grid model: ${why}`, { file: path });
    }
    const bad = (msg: string): never => {
      throw new NadirError("E_MODEL", `not a valid grid model: ${msg}`, { file: path });
    };
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text);
    } catch (e) {
      return bad(`${(e as Error).message} (truncated or corrupt file?)`);
    }
    if (typeof o !== "object" || o === null || Array.isArray(o))
      return bad("expected a JSON object");
    if (o.format !== GRID_MODEL_FORMAT)
      return bad(`expected format "${GRID_MODEL_FORMAT}", got ${JSON.stringify(o.format)}`);
    if (o.version !== GRID_MODEL_VERSION)
      return bad(`expected version ${GRID_MODEL_VERSION}, got ${JSON.stringify(o.version)}`);
    const { checksum, ...body } = o;
    const want = `sha256:${createHash("sha256").update(JSON.stringify(body)).digest("hex")}`;
    if (checksum !== want) return bad("checksum mismatch (the file was modified or corrupted)");
    let spec: GridSpec;
    try {
      spec = parseGridSpec(body.spec, "embedded spec");
    } catch (e) {
      return bad((e as Error).message);
    }
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
    const F = spec.features.length;
    if (W[2 * F]! < 0 || W[2 * F + 1]! < 0)
      return bad(`the pairwise weights must be ≥ 0 (potts ${W[2 * F]}, const ${W[2 * F + 1]})`);
    const info = body.info;
    return new GridModel(
      spec,
      W,
      typeof info === "object" && info !== null ? (info as Record<string, unknown>) : {},
    );
  }
}
