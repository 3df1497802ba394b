/**
 * Binary image segmentation as a library: a contrast-sensitive Potts grid
 * energy, trained with the structured hinge loss through graph cuts, applied
 * by one minimum cut.
 *
 * ```ts
 * const seg = Segmenter.train([{ image: "horse.pgm", mask: "horse-mask.pbm" }]);
 * const { mask, energy } = seg.segment("noisy.pgm");
 * ```
 */
import { readFileSync } from "node:fs";
import { NadirError } from "../core/errors.ts";
import {
  type BitImage,
  decodePng,
  type GrayImage,
  grayToMask,
  imageFormatOf,
  readGray,
  readMask,
} from "../data/image.ts";
import { gridInstance } from "../segment/grid.ts";
import { sameSize } from "../segment/images.ts";
import { GridModel } from "../segment/model.ts";
import {
  type GridSpec,
  type GridTrainOptions,
  loadGridSpec,
  parseGridSpec,
} from "../segment/spec.ts";
import { type GridEpochReport, trainGrid } from "../segment/train.ts";

/** An image: a path (PGM, PBM or PNG) or a grayscale image. */
export type ImageInput = string | GrayImage;
/** A mask: a path (PBM; PGM or PNG thresholded, dark = foreground) or a bit image (1 = foreground). */
export type MaskInput = string | BitImage;

export interface SegmenterTrainOptions extends Partial<GridTrainOptions> {
  /** The grid energy: a shipped name (`"grid"`), a path, or the spec object (default `"grid"`). */
  spec?: string | Readonly<Record<string, unknown>>;
  onEpoch?: (report: GridEpochReport) => void;
}

/** An image object: integer width × height and a typed array of width·height values. */
function isImage(x: unknown): x is { width: number; height: number; data: ArrayLike<number> } {
  if (x === null || typeof x !== "object") return false;
  const o = x as { width?: unknown; height?: unknown; data?: unknown };
  return (
    Number.isInteger(o.width) &&
    Number.isInteger(o.height) &&
    ArrayBuffer.isView(o.data) &&
    (o.data as Uint8Array).length === (o.width as number) * (o.height as number)
  );
}

function image(x: ImageInput, where: string): GrayImage {
  if (typeof x === "string")
    return imageFormatOf(x) === "png" ? decodePng(readFileSync(x), x) : readGray(x);
  if (isImage(x) && typeof (x as { maxval?: unknown }).maxval === "number") return x;
  throw new NadirError(
    "E_ARG",
    `${where}: expected a path or a GrayImage { width, height, maxval, data }`,
  );
}

function mask(x: MaskInput, where: string): BitImage {
  if (typeof x === "string")
    return imageFormatOf(x) === "png" ? grayToMask(decodePng(readFileSync(x), x)) : readMask(x);
  if (isImage(x)) return x;
  throw new NadirError("E_ARG", `${where}: expected a path or a BitImage { width, height, data }`);
}

export class Segmenter {
  /** The trained grid energy underneath. */
  readonly model: GridModel;

  constructor(model: GridModel) {
    this.model = model;
  }

  /** Train on images and their foreground masks. */
  static train(
    examples: readonly { image: ImageInput; mask: MaskInput }[],
    options: SegmenterTrainOptions = {},
  ): Segmenter {
    if (!Array.isArray(examples) || examples.length === 0)
      throw new NadirError(
        "E_ARG",
        "Segmenter.train: expected a non-empty array of { image, mask }",
      );
    const { spec: ref, onEpoch, ...rest } = options;
    const spec: GridSpec =
      ref === undefined || typeof ref === "string"
        ? loadGridSpec(ref ?? "grid")
        : parseGridSpec(ref, "options.spec");
    const data = examples.map((ex, i) => {
      const where = `example ${i}`;
      const img = image(ex.image, `${where}: image`);
      const m = mask(ex.mask, `${where}: mask`);
      sameSize(img, m, where);
      return { inst: gridInstance(img, spec), gold: m.data, name: where };
    });
    const r = trainGrid(spec, data, rest, onEpoch);
    const last = r.reports[r.reports.length - 1]!;
    return new Segmenter(
      new GridModel(spec, r.W, { options: r.options, loss: last.loss, trainError: last.error }),
    );
  }

  /** Read a grid model file. */
  static load(path: string): Segmenter {
    return new Segmenter(GridModel.load(path));
  }

  /** Write the model file atomically. */
  save(path: string): void {
    this.model.save(path);
  }

  /** The minimum-energy foreground mask of an image (one minimum cut) and its energy. */
  segment(x: ImageInput): { mask: BitImage; energy: number } {
    return this.model.segment(image(x, "segment"));
  }

  /** The weights of the grid energy by name. */
  weights(): Record<string, number> {
    return this.model.weights();
  }
}
