"""Reference solutions for scripts/bench/classify.ts: scikit-learn's
LinearSVC (hinge loss) and LogisticRegression on real datasets that ship with
scikit-learn (breast cancer: binary; iris and wine: multiclass), standardized.
Writes each dataset as CSV into OUTDIR and prints one JSON object with the
reference weights, intercepts and training/test accuracies.

    python3 scripts/bench/classify-sklearn.py OUTDIR [C]
"""
import json
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

out = sys.argv[1]
C = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
result = {"C": C, "datasets": {}}
for name, loader in [("breast_cancer", load_breast_cancer), ("iris", load_iris), ("wine", load_wine)]:
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    sc = StandardScaler().fit(Xtr)
    Xtr, Xte = sc.transform(Xtr), sc.transform(Xte)
    for part, A, b in [("train", Xtr, ytr), ("test", Xte, yte)]:
        cols = [f"x{j}" for j in range(A.shape[1])] + ["label"]
        with open(f"{out}/{name}-{part}.csv", "w") as f:
            f.write(",".join(cols) + "\n")
            for row, lab in zip(A, b):
                f.write(",".join(repr(float(v)) for v in row) + f",c{lab}\n")
    entry = {"classes": [f"c{k}" for k in sorted(set(ytr))]}
    lr = LogisticRegression(C=C, tol=1e-12, max_iter=100000).fit(Xtr, ytr)
    entry["logistic"] = {
        "coef": lr.coef_.tolist(),
        "intercept": lr.intercept_.tolist(),
        "train_acc": float(lr.score(Xtr, ytr)),
        "test_acc": float(lr.score(Xte, yte)),
    }
    if len(set(ytr)) == 2:
        svm = LinearSVC(C=C, loss="hinge", dual=True, tol=1e-10, max_iter=10_000_000).fit(Xtr, ytr)
        entry["svm"] = {
            "coef": svm.coef_.tolist(),
            "intercept": svm.intercept_.tolist(),
            "train_acc": float(svm.score(Xtr, ytr)),
            "test_acc": float(svm.score(Xte, yte)),
        }
    result["datasets"][name] = entry
print(json.dumps(result))
