/**
 * Linear classification as a library, on the loss table: the hinge loss gives
 * a linear SVM, NLL logistic (softmax) regression, and any other loss of the
 * table trains too (see src/classify/linear.ts).
 *
 * ```ts
 * const clf = Classifier.train("train.csv", { loss: "hinge", c2: 1 });
 * clf.predict([[0.3, 1.2, …]]);           // class names
 * clf.probabilities([[0.3, 1.2, …]]);     // { class: P_β(class | x) } per row
 * ```
 */
import { readFileSync } from "node:fs";
import { type LabeledData, parseCsv, parseLibsvm } from "../classify/data.ts";
import { LinearModel, type LinearTrainOptions, trainLinear } from "../classify/linear.ts";
import { decodeContainer, encodeContainer } from "../core/container.ts";
import { NadirError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/io.ts";

const FORMAT = { magic: "NADIRCLS", version: 1 };

/** Training data: a CSV or libsvm file path, parsed data, or rows and labels. */
export type ClassificationData =
  | string
  | LabeledData
  | { readonly X: readonly (readonly number[])[]; readonly y: readonly string[] };

/** Read a CSV (label in the last column, or `label`) or libsvm file (by extension: .svm, .libsvm, .txt). */
export function readClassificationData(
  path: string,
  options: { label?: string; classes?: readonly string[]; d?: number } = {},
): LabeledData {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new NadirError("E_IO", `cannot read data: ${(e as Error).message}`, { file: path });
  }
  return /\.(csv)$/i.test(path) ? parseCsv(text, path, options) : parseLibsvm(text, path, options);
}

function toData(x: ClassificationData, classes?: readonly string[], d?: number): LabeledData {
  if (typeof x === "string")
    return readClassificationData(x, { ...(classes ? { classes } : {}), ...(d ? { d } : {}) });
  if ("n" in x) return x;
  if (!Array.isArray(x.X) || !Array.isArray(x.y) || x.X.length !== x.y.length)
    throw new NadirError("E_ARG", "expected { X: number[][], y: string[] } with one label per row");
  const width = d ?? x.X[0]?.length ?? 0;
  const X = new Float64Array(x.X.length * width);
  x.X.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== width)
      throw new NadirError(
        "E_ARG",
        `row ${i}: expected ${width} numbers, got ${Array.isArray(row) ? row.length : typeof row}`,
      );
    row.forEach((v, j) => {
      if (typeof v !== "number" || !Number.isFinite(v))
        throw new NadirError(
          "E_ARG",
          `row ${i}, feature ${j}: expected a finite number, got ${String(v)}`,
        );
      X[i * width + j] = v;
    });
  });
  const names = classes ? [...classes] : [...new Set(x.y.map(String))];
  const index = new Map(names.map((c, i) => [c, i]));
  const y = Int32Array.from(x.y, (l, i) => {
    const id = index.get(String(l));
    if (id === undefined) throw new NadirError("E_ARG", `row ${i}: unknown label '${l}'`);
    return id;
  });
  return {
    n: x.X.length,
    d: width,
    X,
    y,
    classes: names,
    features: Array.from({ length: width }, (_, j) => `f${j + 1}`),
  };
}

export class Classifier {
  readonly model: LinearModel;
  readonly classes: readonly string[];
  readonly features: readonly string[];

  constructor(model: LinearModel, classes: readonly string[], features: readonly string[]) {
    this.model = model;
    this.classes = classes;
    this.features = features;
  }

  /** Train on a file or in-memory data with a loss of the table (default nll: logistic regression). */
  static train(data: ClassificationData, options: Partial<LinearTrainOptions> = {}): Classifier {
    const d = toData(data);
    const { model } = trainLinear(d, Math.max(2, d.classes.length), options);
    return new Classifier(model, d.classes, d.features);
  }

  private rows(x: ClassificationData | readonly (readonly number[])[]): LabeledData {
    if (Array.isArray(x))
      return toData(
        { X: x as number[][], y: x.map(() => this.classes[0]!) },
        this.classes,
        this.model.d,
      );
    return toData(x as ClassificationData, this.classes, this.model.d);
  }

  /** The class of lowest energy for each row. */
  predict(x: ClassificationData | readonly (readonly number[])[]): string[] {
    return Array.from(this.model.predict(this.rows(x)), (k) => this.classes[k]!);
  }

  /** P_β(class | x) = exp(−β E(class, x)) / Z for each row. */
  probabilities(
    x: ClassificationData | readonly (readonly number[])[],
    options: { beta?: number } = {},
  ): Record<string, number>[] {
    const d = this.rows(x);
    const p = this.model.probabilities(d, options.beta ?? 1);
    const K = this.model.K;
    return Array.from({ length: d.n }, (_, i) =>
      Object.fromEntries(this.classes.map((c, k) => [c, p[i * K + k]!])),
    );
  }

  /** Accuracy on labeled data (a file or parsed data). */
  accuracy(data: ClassificationData): number {
    const d = toData(data, this.classes, this.model.d);
    const p = this.model.predict(d);
    let ok = 0;
    for (let i = 0; i < d.n; i++) ok += p[i] === d.y[i] ? 1 : 0;
    return d.n === 0 ? 0 : ok / d.n;
  }

  toBytes(): Uint8Array {
    return encodeContainer(
      FORMAT,
      { classes: this.classes, features: this.features, K: this.model.K, d: this.model.d },
      { W: this.model.W },
    );
  }

  static fromBytes(bytes: Uint8Array, name = "<bytes>"): Classifier {
    const bad = (msg: string): never => {
      throw new NadirError("E_MODEL", `not a valid nadir classifier: ${msg}`, { file: name });
    };
    const r = decodeContainer(bytes, FORMAT, bad);
    if (r.legacy) return bad("unsupported version");
    const h = r.header as { classes?: unknown; features?: unknown; K?: unknown; d?: unknown };
    const W = r.sections.W;
    if (
      !Array.isArray(h.classes) ||
      !Array.isArray(h.features) ||
      !Number.isInteger(h.K) ||
      !Number.isInteger(h.d)
    )
      return bad("header lacks classes, features, K or d");
    if (!(W instanceof Float64Array)) return bad("missing the weights");
    for (let j = 0; j < W.length; j++)
      if (!Number.isFinite(W[j]!)) return bad(`weight ${j} is ${W[j]}`);
    let model: LinearModel;
    try {
      model = new LinearModel(h.K as number, h.d as number, W);
    } catch (e) {
      return bad((e as Error).message);
    }
    return new Classifier(model, h.classes as string[], h.features as string[]);
  }

  save(path: string): void {
    writeFileAtomic(path, this.toBytes());
  }

  static load(path: string): Classifier {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new NadirError("E_MODEL", `cannot read classifier: ${(e as Error).message}`, {
        file: path,
      });
    }
    return Classifier.fromBytes(bytes, path);
  }
}
