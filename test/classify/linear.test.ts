/**
 * Linear energies on the loss table: gradients against finite differences,
 * the hinge/NLL objectives equal the SVM/logistic ones, the dual coordinate
 * descent solution is optimal, parsers report file:line (and survive a seeded
 * fuzzer), classifiers travel as bytes; and, when python3 has scikit-learn,
 * the same weights as LinearSVC(loss="hinge") and LogisticRegression.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Classifier } from "../../src/api/classifier.ts";
import { parseCsv, parseLibsvm } from "../../src/classify/data.ts";
import {
  type Dataset,
  LinearModel,
  linearObjective,
  trainLinear,
} from "../../src/classify/linear.ts";
import { NadirError } from "../../src/core/errors.ts";
import { Rng } from "../../src/core/rng.ts";
import { makeLoss } from "../../src/loss/index.ts";

function blobs(n: number, d: number, K: number, seed: number, spread = 1): Dataset {
  const rng = new Rng(seed);
  const centers = Array.from({ length: K }, () =>
    Array.from({ length: d }, () => 2 * rng.normal()),
  );
  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % K;
    y[i] = k;
    for (let j = 0; j < d; j++) X[i * d + j] = centers[k]![j]! + spread * rng.normal();
  }
  return { n, d, X, y };
}

describe("linear energies on the loss table", () => {
  it("the objective's gradient matches central differences (binary and multiclass, smooth losses)", () => {
    for (const K of [2, 3]) {
      const data = blobs(12, 4, K, 3 + K);
      for (const name of ["nll", "log", "mce", "energy"]) {
        const loss = makeLoss(name, { beta: 1.3 });
        const m = new LinearModel(K, 4);
        const rng = new Rng(9);
        for (let j = 0; j < m.W.length; j++) m.W[j] = 0.4 * rng.normal();
        const g = new Float64Array(m.W.length);
        linearObjective(m, data, loss, 0.7, false, g);
        const h = 1e-6;
        for (let j = 0; j < m.W.length; j++) {
          const w0 = m.W[j]!;
          m.W[j] = w0 + h;
          const fp = linearObjective(m, data, loss, 0.7, false, new Float64Array(m.W.length));
          m.W[j] = w0 - h;
          const fm = linearObjective(m, data, loss, 0.7, false, new Float64Array(m.W.length));
          m.W[j] = w0;
          const fd = (fp - fm) / (2 * h);
          expect(Math.abs(fd - g[j]!)).toBeLessThan(1e-5 * (1 + Math.abs(fd)));
        }
      }
    }
  });

  it("binary hinge is the SVM objective and binary NLL the logistic one", () => {
    const data = blobs(30, 3, 2, 1, 2);
    const m = new LinearModel(2, 3, Float64Array.from([0.5, -0.3, 0.2, 0.1]));
    const { w, b } = m.binary;
    let svm = 0;
    let logistic = 0;
    for (let i = 0; i < data.n; i++) {
      let f = b;
      for (let j = 0; j < 3; j++) f += w[j]! * data.X[i * 3 + j]!;
      const y = data.y[i] === 1 ? 1 : -1;
      svm += Math.max(0, 1 - y * f);
      logistic += Math.log1p(Math.exp(-y * f));
    }
    const reg = 0.5 * 2 * (0.25 + 0.09 + 0.04);
    const g = new Float64Array(4);
    expect(linearObjective(m, data, makeLoss("hinge"), 2, false, g)).toBeCloseTo(svm + reg, 10);
    expect(linearObjective(m, data, makeLoss("nll"), 2, false, g)).toBeCloseTo(logistic + reg, 10);
  });

  it("dual coordinate descent reaches the SVM optimum (no perturbation lowers the primal)", () => {
    const data = blobs(60, 3, 2, 7, 1.5);
    const { model, objective } = trainLinear(data, 2, { loss: "hinge", c2: 0.5 });
    const hinge = makeLoss("hinge");
    const rng = new Rng(2);
    const probe = new LinearModel(2, 3);
    for (let t = 0; t < 200; t++) {
      for (let j = 0; j < 4; j++) probe.W[j] = model.W[j]! + 1e-3 * rng.normal();
      expect(
        linearObjective(probe, data, hinge, 0.5, true, new Float64Array(4)),
      ).toBeGreaterThanOrEqual(objective - 1e-9);
    }
    // the averaged subgradient method on the same loss gets close to it
    const sgd = trainLinear(data, 2, {
      loss: "hinge",
      optimizer: "sgd",
      c2: 0.5,
      regularizeBias: true,
      epochs: 200,
    });
    expect(sgd.objective).toBeLessThan(objective * 1.02 + 1e-6);
  });

  it("multiclass hinge (most offending class) and NLL separate well-separated blobs", () => {
    const data = blobs(90, 2, 3, 11, 0.3);
    for (const loss of ["hinge", "nll", "perceptron"]) {
      const { model } = trainLinear(data, 3, { loss, c2: 0.01 });
      const p = model.predict(data);
      let ok = 0;
      for (let i = 0; i < data.n; i++) ok += p[i] === data.y[i] ? 1 : 0;
      expect(ok / data.n).toBeGreaterThan(0.95);
    }
  });
});

describe("classification data and the Classifier", () => {
  it("CSV and libsvm parse, and errors name file:line and what was expected", () => {
    const csv = parseCsv("a,b,label\n1,2,x\n3,4,y\n", "t.csv");
    expect([csv.n, csv.d, csv.classes]).toEqual([2, 2, ["x", "y"]]);
    expect(Array.from(csv.X)).toEqual([1, 2, 3, 4]);
    const svm = parseLibsvm("+1 1:0.5 3:2 # c\n-1 2:1\n", "t.svm");
    expect([svm.n, svm.d, svm.classes]).toEqual([2, 3, ["+1", "-1"]]);
    expect(Array.from(svm.X)).toEqual([0.5, 0, 2, 0, 1, 0]);
    expect(() => parseCsv("a,b,label\n1,x,y\n", "t.csv")).toThrow(
      "t.csv:2: column 'b': expected a finite number, got 'x'",
    );
    expect(() => parseCsv("a,b,label\n1,2\n", "t.csv")).toThrow(
      "t.csv:2: expected 3 comma-separated values, got 2",
    );
    expect(() => parseLibsvm("1 2:1 1:3\n", "t.svm")).toThrow(
      "t.svm:1: expected increasing feature indices, got 1 after 2",
    );
    expect(() => parseLibsvm("1 0:1\n", "t.svm")).toThrow(
      /t.svm:1: expected index:value with a 1-based index/,
    );
  });

  it("a seeded fuzzer: any text parses or fails with E_PARSE, never another error", () => {
    const alphabet = fc.constantFrom(
      "1",
      "0",
      ":",
      ",",
      " ",
      "\n",
      "-",
      ".",
      "e",
      "x",
      "#",
      "\r",
      "9",
    );
    const text = fc.array(alphabet, { maxLength: 80 }).map((a) => a.join(""));
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ maxLength: 60 })), (t) => {
        for (const parse of [
          () => parseCsv(`a,b,label\n${t}`, "f.csv"),
          () => parseLibsvm(t, "f.svm"),
        ]) {
          try {
            const d = parse();
            expect(d.X.length).toBe(d.n * d.d);
            for (const v of d.X) expect(Number.isFinite(v)).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(NadirError);
            expect(["E_PARSE", "E_ARG"]).toContain((e as NadirError).code);
          }
        }
      }),
      { seed: 4242, numRuns: 1000 },
    );
  });

  it("trains from rows, predicts names with probabilities, travels as bytes; corrupt bytes are refused", () => {
    const d = blobs(40, 2, 2, 5, 0.5);
    const X = Array.from({ length: d.n }, (_, i) => [d.X[2 * i]!, d.X[2 * i + 1]!]);
    const y = Array.from(d.y, (k) => (k === 1 ? "spam" : "ham"));
    const clf = Classifier.train({ X, y }, { loss: "hinge", c2: 0.1 });
    expect(clf.accuracy({ X, y })).toBeGreaterThan(0.95);
    const p = clf.probabilities(X.slice(0, 3));
    for (const r of p) expect(r.spam! + r.ham!).toBeCloseTo(1, 12);
    const bytes = clf.toBytes();
    const back = Classifier.fromBytes(bytes);
    expect(back.predict(X)).toEqual(clf.predict(X));
    for (let i = 0; i < bytes.length; i += 7) {
      const bad = bytes.slice();
      bad[i] = bad[i]! ^ 0x55;
      expect(() => Classifier.fromBytes(bad)).toThrow(NadirError);
    }
    expect(() => Classifier.train({ X: [[1, 2], [3]], y: ["a", "b"] })).toThrow(
      "row 1: expected 2 numbers, got 1",
    );
  });
});

const sklearn = spawnSync("python3", ["-c", "import sklearn"], { encoding: "utf8" }).status === 0;
if (!sklearn)
  console.log("skipping the scikit-learn comparison: python3 with scikit-learn is not available");

describe.skipIf(!sklearn)("the same learners as scikit-learn", () => {
  it("hinge = LinearSVC(loss='hinge'), NLL = LogisticRegression: same accuracy, weights within 1e-5", () => {
    const dir = mkdtempSync(join(tmpdir(), "nadir-sk-"));
    try {
      const py = spawnSync("python3", ["scripts/bench/classify-sklearn.py", dir, "1"], {
        encoding: "utf8",
      });
      expect(py.status, py.stderr).toBe(0);
      const ref = JSON.parse(py.stdout).datasets;
      for (const [name, r] of Object.entries(ref) as [
        string,
        {
          classes: string[];
          logistic: { coef: number[][]; intercept: number[]; train_acc: number };
          svm?: { coef: number[][]; intercept: number[]; train_acc: number };
        },
      ][]) {
        const train = parseCsv(readFileSync(join(dir, `${name}-train.csv`), "utf8"), name, {
          classes: r.classes,
        });
        const K = r.classes.length;
        const cases: [string, boolean, typeof r.logistic][] = [["nll", false, r.logistic]];
        if (r.svm) cases.push(["hinge", true, r.svm]);
        for (const [loss, regularizeBias, refm] of cases) {
          const { model } = trainLinear(train, K, { loss, c2: 1, regularizeBias });
          const want =
            K === 2
              ? [...refm.coef[0]!, refm.intercept[0]!]
              : [...refm.coef.flat(), ...refm.intercept];
          for (let j = 0; j < want.length; j++)
            expect(Math.abs(model.W[j]! - want[j]!)).toBeLessThan(1e-5);
          const p = model.predict(train);
          let ok = 0;
          for (let i = 0; i < train.n; i++) ok += p[i] === train.y[i] ? 1 : 0;
          expect(ok / train.n).toBeCloseTo(refm.train_acc, 10);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
