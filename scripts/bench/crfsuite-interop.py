#!/usr/bin/env python3
"""CRFsuite side of the model-interop benchmark (scripts/bench/crfsuite-interop.ts runs it).

Trains a CRFsuite model with python-crfsuite on a CRFsuite data file (CoNLL-2000 train as
../shared/tools/conll2crfsuite.py writes it), tags a test file with it and dumps, per
sentence, the labels CRFsuite predicts and every label's marginal, so that nadir can load
the same model file and be compared token for token.

usage: crfsuite-interop.py --train TRAIN --test TEST --out DIR [--algorithm ap] [--iterations N] [--repeat 5]
       crfsuite-interop.py --model MODEL --test TEST --out DIR      (tag with an existing model)
writes DIR/model.crfsuite (when training), DIR/predictions.jsonl (one {"labels", "marginals"}
object per sentence; marginals[t][l] in the order of DIR/meta.json "labels") and
DIR/meta.json (labels, token count, training and tagging seconds).
"""

import argparse
import json
import os
import sys
import time

import pycrfsuite

from crfsuite_data import read_data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train")
    ap.add_argument("--model")
    ap.add_argument("--test", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--algorithm", default="ap")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    meta = {"pycrfsuite": getattr(pycrfsuite, "__version__", "?")}
    model = a.model
    if model is None:
        if a.train is None:
            sys.exit("give --train (to train a model) or --model")
        model = os.path.join(a.out, "model.crfsuite")
        train = list(read_data(a.train))
        t0 = time.perf_counter()
        trainer = pycrfsuite.Trainer(algorithm=a.algorithm, verbose=False)
        for xs, ys in train:
            trainer.append(xs, ys)
        trainer.set_params({"max_iterations": a.iterations})
        trainer.train(model)
        meta["train_seconds"] = time.perf_counter() - t0
        meta["algorithm"] = a.algorithm
        meta["iterations"] = a.iterations
    test = list(read_data(a.test))
    tagger = pycrfsuite.Tagger()
    tagger.open(model)
    labels = tagger.labels()
    # tagging throughput: the input already parsed into Python lists, as nadir's side times it;
    # the best of --repeat runs (the machine may be shared)
    runs = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        predicted = [tagger.tag(xs) for xs, _ in test]
        runs.append(time.perf_counter() - t0)
    meta["tag_seconds"] = min(runs)
    meta["tag_runs"] = runs
    t0 = time.perf_counter()
    with open(os.path.join(a.out, "predictions.jsonl"), "w", encoding="utf-8") as w:
        for (xs, _), ys in zip(test, predicted):
            tagger.set(xs)
            marg = [[tagger.marginal(l, t) for l in labels] for t in range(len(xs))]
            w.write(json.dumps({"labels": ys, "marginals": marg}) + "\n")
    meta["marginal_seconds"] = time.perf_counter() - t0
    meta["labels"] = labels
    meta["sentences"] = len(test)
    meta["tokens"] = sum(len(xs) for xs, _ in test)
    meta["model"] = os.path.abspath(model)
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as w:
        json.dump(meta, w, indent=1)
    print(json.dumps({k: v for k, v in meta.items() if k != "labels"}))


if __name__ == "__main__":
    main()
