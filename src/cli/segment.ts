import { NadirError } from "../core/errors.ts";
import { imageFormatOf, readGray, readMask, writeMask } from "../data/image.ts";
import { gridInstance } from "../segment/grid.ts";
import { iou, pixelError, sameSize } from "../segment/images.ts";
import { GridModel } from "../segment/model.ts";
import { GRID_TRAIN_OPTIONS, loadGridSpec } from "../segment/spec.ts";
import { type GridExample, trainGrid } from "../segment/train.ts";
import { type Command, flag } from "./args.ts";

const ACTIONS = ["train", "apply"] as const;

function list(v: unknown): string[] {
  return typeof v === "string" && v !== ""
    ? v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
    : [];
}

export const segmentCommand: Command = {
  name: "segment",
  summary:
    "binary image segmentation / denoising by graph cuts: `train` a grid energy on images and masks, `apply` it to an image",
  usage: [
    "nadir segment train --images A.pgm,B.pgm --masks A.pbm,B.pbm --model MODEL [--graph grid] [--epochs N] …",
    "       nadir segment apply --model MODEL IMAGE.pgm --output MASK.pbm|.pgm|.png [--truth MASK.pbm]",
    "",
    "Images are PGM (P2/P5) or PBM (P1/P4; a bitmap is read as black = 0, white = 1, for denoising).",
    "Masks are PBM with 1 = black = foreground (or PGM: dark = foreground). The energy",
    "  E(W, y, x) = Σ_p Σ_f W_f[y_p]·φ_f(x_p) + Σ_{p~q} [y_p ≠ y_q]·g_pq·(w_potts·exp(−(x_p − x_q)²/2σ²) + w_const)",
    "(features, connectivity, σ: the grid spec) is minimized exactly by one minimum cut; `train` fits W",
    "with the structured hinge loss (loss-augmented answers by min-cut, SGD with averaging, w_potts,",
    "w_const projected to ≥ 0) and prints the hinge per epoch on stderr; the model is a checksummed",
    "JSON file written atomically. `apply` writes the mask (.pbm: 1 = foreground; .pgm/.png: foreground",
    "black) and prints a JSON summary (with --truth: IoU and pixel error). Training options left out",
    "come from the spec's `train` section, then from the defaults shown below.",
  ].join("\n"),
  options: [
    flag("images", "train: comma-separated training images (PGM or PBM)"),
    flag("masks", "train: comma-separated gold masks, one per image, same sizes"),
    flag("model", "train: model file to write; apply: model file to read"),
    {
      name: "graph",
      type: "string",
      default: "grid",
      help: "train: grid spec, a path or a shipped name",
    },
    ...GRID_TRAIN_OPTIONS.map((d) => ({
      ...d,
      help: `train: ${d.help}`,
    })),
    flag("output", "apply: output mask, .pbm, .pgm or .png (written atomically)"),
    flag("truth", "apply: a gold mask to score the output against (IoU, pixel error)"),
  ],
  run(v, positionals) {
    const [action, ...rest] = positionals;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      throw new NadirError(
        "E_ARG",
        `segment: expected an action, train or apply, got ${action === undefined ? "none" : `'${action}'`} (see nadir segment --help)`,
      );
    }
    if (!v.model)
      throw new NadirError("E_ARG", "segment: --model is required (see nadir segment --help)");
    const model = v.model as string;
    if (action === "train") {
      if (rest.length > 0)
        throw new NadirError(
          "E_ARG",
          `segment train: unexpected argument '${rest[0]}'; images go in --images`,
        );
      const images = list(v.images);
      const masks = list(v.masks);
      if (images.length === 0) throw new NadirError("E_ARG", "segment train: --images is required");
      if (masks.length !== images.length) {
        throw new NadirError(
          "E_ARG",
          `segment train: expected one mask per image (${images.length}), got ${masks.length} in --masks`,
        );
      }
      const spec = loadGridSpec((v.graph as string | undefined) || "grid");
      const examples: GridExample[] = images.map((path, i) => {
        const img = readGray(path);
        const mask = readMask(masks[i]!);
        try {
          sameSize(img, mask, "segment train");
        } catch (e) {
          throw new NadirError("E_ARG", `${(e as Error).message.replace(/^segment train: /, "")}`, {
            file: masks[i]!,
          });
        }
        return { inst: gridInstance(img, spec), gold: mask.data, name: path };
      });
      const options: Record<string, unknown> = {};
      for (const d of GRID_TRAIN_OPTIONS) if (v[d.name] !== undefined) options[d.name] = v[d.name];
      const r = trainGrid(spec, examples, options, (e) =>
        process.stderr.write(
          `epoch ${e.epoch}: ${e.lossName} ${e.loss.toFixed(5)} (online ${e.onlineLoss.toFixed(5)}), objective ${e.objective.toFixed(5)}, train pixel error ${(100 * e.error).toFixed(2)}% (${e.seconds.toFixed(1)} s)\n`,
        ),
      );
      const last = r.reports[r.reports.length - 1]!;
      const m = new GridModel(spec, r.W, {
        images,
        masks,
        options: r.options,
        loss: last.loss,
        trainError: last.error,
      });
      m.save(model);
      process.stdout.write(
        `${JSON.stringify({ model, images: images.length, epochs: r.reports.length, loss: r.options.loss, final_loss: last.loss, train_error: last.error, weights: m.weights() })}\n`,
      );
      return;
    }
    if (rest.length !== 1) {
      throw new NadirError(
        "E_ARG",
        `segment apply: expected one input image, got ${rest.length} (see nadir segment --help)`,
      );
    }
    const output = v.output as string | undefined;
    if (!output)
      throw new NadirError("E_ARG", "segment apply: --output is required (.pbm, .pgm or .png)");
    if (imageFormatOf(output) === null)
      throw new NadirError(
        "E_ARG",
        `segment apply: --output expected a path ending in .pbm, .pgm or .png, got ${output}`,
      );
    const m = GridModel.load(model);
    const img = readGray(rest[0]!);
    const truth = v.truth ? readMask(v.truth as string) : undefined;
    if (truth) {
      try {
        sameSize(img, truth, "segment apply");
      } catch (e) {
        throw new NadirError("E_ARG", (e as Error).message.replace(/^segment apply: /, ""), {
          file: v.truth as string,
        });
      }
    }
    const { mask, energy } = m.segment(img);
    writeMask(output, mask);
    let fg = 0;
    for (let i = 0; i < mask.data.length; i++) fg += mask.data[i]!;
    const summary: Record<string, unknown> = {
      output,
      width: mask.width,
      height: mask.height,
      foreground: fg,
      energy,
    };
    if (truth) {
      summary.iou = iou(mask.data, truth.data);
      summary.pixel_error = pixelError(mask.data, truth.data);
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
};
