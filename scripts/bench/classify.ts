/**
 * The loss table gives the classic linear learners: with a linear binary
 * energy E(y, x) = −y(w·x + b)/2, the hinge loss is a linear SVM and NLL is
 * logistic regression (softmax regression for K classes). Compared here with
 * scikit-learn's LinearSVC(loss="hinge") and LogisticRegression on the same
 * standardized data and regularization (C = 1/c2): accuracies and the largest
 * weight difference. Needs python3 with scikit-learn.
 *
 *   npx tsx scripts/bench/classify.ts [--C 1]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCsv } from "../../src/classify/data.ts";
import { type LinearModel, trainLinear } from "../../src/classify/linear.ts";
import { benchArgs } from "./args.ts";

const args = benchArgs({ C: "1" });
const C = Number(args.C);
const dir = mkdtempSync(join(tmpdir(), "nadir-classify-"));
try {
  const py = spawnSync(
    "python3",
    [join(import.meta.dirname, "classify-sklearn.py"), dir, String(C)],
    {
      encoding: "utf8",
    },
  );
  if (py.status !== 0) throw new Error(`scikit-learn reference failed: ${py.stderr}`);
  const ref = JSON.parse(py.stdout) as {
    datasets: Record<
      string,
      {
        classes: string[];
        logistic: { coef: number[][]; intercept: number[]; train_acc: number; test_acc: number };
        svm?: { coef: number[][]; intercept: number[]; train_acc: number; test_acc: number };
      }
    >;
  };
  const acc = (m: LinearModel, d: ReturnType<typeof parseCsv>) => {
    const p = m.predict(d);
    let ok = 0;
    for (let i = 0; i < d.n; i++) ok += p[i] === d.y[i] ? 1 : 0;
    return ok / d.n;
  };
  const rows: Record<string, unknown>[] = [];
  for (const [name, r] of Object.entries(ref.datasets)) {
    const read = (part: string) =>
      parseCsv(readFileSync(join(dir, `${name}-${part}.csv`), "utf8"), `${name}-${part}.csv`, {
        classes: r.classes,
      });
    const train = read("train");
    const test = read("test");
    const K = r.classes.length;
    // sklearn's weights in nadir's layout: binary w, b; multiclass rows then biases
    const flat = (coef: number[][], intercept: number[]) =>
      K === 2 ? [...coef[0]!, intercept[0]!] : [...coef.flat(), ...intercept];
    const cases: [string, string, "lbfgs" | "dcd", boolean, (typeof r)["svm"]][] = [
      ["logistic regression", "nll", "lbfgs", false, r.logistic],
    ];
    if (r.svm) cases.push(["linear SVM (hinge)", "hinge", "dcd", true, r.svm]);
    for (const [what, loss, optimizer, regularizeBias, refm] of cases) {
      const t0 = performance.now();
      const { model } = trainLinear(train, K, { loss, optimizer, c2: 1 / C, regularizeBias });
      const ms = performance.now() - t0;
      const want = flat(refm!.coef, refm!.intercept);
      let maxDiff = 0;
      let maxW = 0;
      for (let j = 0; j < want.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(model.W[j]! - want[j]!));
        maxW = Math.max(maxW, Math.abs(want[j]!));
      }
      const row = {
        dataset: name,
        learner: what,
        classes: K,
        train_acc: +acc(model, train).toFixed(4),
        sklearn_train_acc: +refm!.train_acc.toFixed(4),
        test_acc: +acc(model, test).toFixed(4),
        sklearn_test_acc: +refm!.test_acc.toFixed(4),
        max_weight_diff: +maxDiff.toExponential(2),
        max_abs_weight: +maxW.toFixed(3),
        ms: +ms.toFixed(1),
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
