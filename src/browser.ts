/**
 * nadir in a browser (`import … from "nadir/browser"`): the same energies,
 * inference and training as the Node entry, with models and specs taken from
 * bytes or URLs instead of paths. Nothing in this module's import graph
 * imports a `node:*` module or uses Buffer (test/browser/import-graph.test.ts
 * checks); gzip is fflate's, the CRC-32 plain TypeScript.
 *
 * ```ts
 * import { loadTagger } from "nadir/browser";
 * const tagger = await loadTagger("/models/ewt-upos.nadir");
 * tagger.predict(["The", "dog", "barks"]);
 * ```
 *
 * `Tagger.load/save` and `Completer.load` (paths) exist here too but raise
 * E_UNSUPPORTED: there is no file system; use `fromBytes`, `toBytes` and the
 * fetch helpers below.
 */
import { Completer } from "./api/completer.ts";
import { Tagger } from "./api/tagger.ts";
import { NadirError } from "./core/errors.ts";
import { Model } from "./tagger/model.ts";

export { type CompleteOptions, Completer, type Completion } from "./api/completer.ts";
export type { TokenSentence, TrainingSentence } from "./api/sentences.ts";
export {
  type LabelingScore,
  type ScoredLabeling,
  Tagger,
  type TaggerScores,
  type TaggerTrainOptions,
} from "./api/tagger.ts";
export { type GraphSpec, parseSpec } from "./architecture/spec.ts";
export { type DenoiseOptions, decodeNetpbm, denoiseMask, maskAsGray } from "./browser/segmenter.ts";
export { type Trellis, trellis } from "./browser/trellis.ts";
export { crc32 } from "./core/crc32.ts";
export { NadirError } from "./core/errors.ts";
export { gunzip, gzip, isGzip } from "./core/gzip.ts";
export { choicesOf } from "./core/options.ts";
export { Rng } from "./core/rng.ts";
export type { BitImage, GrayImage } from "./data/image.ts";
export { LOSS_NAMES, LOSS_TABLE } from "./loss/index.ts";
export { OPTIMIZERS, TRAIN_OPTIONS } from "./optimize/options.ts";
export type { EpochReport } from "./optimize/perceptron.ts";
export * as collapse from "./regress/collapse.ts";
export { flipNoise, gaussianNoise, iou, pixelError } from "./segment/images.ts";
export { GridModel } from "./segment/model.ts";
export { type GridSpec, parseGridSpec } from "./segment/spec.ts";
export { type GridEpochReport, trainGrid } from "./segment/train.ts";
export { Model } from "./tagger/model.ts";

/** The bytes at a URL (fetch; E_IO with the status when the answer is not 2xx). */
export async function fetchBytes(url: string | URL, init?: RequestInit): Promise<Uint8Array> {
  const res = await fetch(url, init);
  if (!res.ok)
    throw new NadirError("E_IO", `cannot fetch ${String(url)}: HTTP ${res.status}`, {
      file: String(url),
    });
  return new Uint8Array(await res.arrayBuffer());
}

/** A tagger from a model file's URL (a nadir or CRFsuite model, gzipped or not). */
export async function loadTagger(url: string | URL, init?: RequestInit): Promise<Tagger> {
  return Tagger.fromModel(Model.fromBytes(await fetchBytes(url, init), String(url)));
}

/** A completer from a completion model's URL (e.g. the package's models/completion.lbl). */
export async function loadCompleter(url: string | URL, init?: RequestInit): Promise<Completer> {
  return Completer.fromBytes(await fetchBytes(url, init));
}
