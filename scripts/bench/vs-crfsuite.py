#!/usr/bin/env python3
"""The CRFsuite side of scripts/bench/vs-crfsuite.ts (python-crfsuite: CRFsuite's C library).

usage:
  vs-crfsuite.py train --train DATA --model OUT --algorithm ap|pa|lbfgs [--iterations N] [--c2 C]
      reads a CRFsuite data file, appends it to a pycrfsuite.Trainer and trains; prints one JSON
      line: {"read_s", "train_s", "items"} (train_s = Trainer.train() alone: CRFsuite's feature
      generation, training and model writing, all in C)
  vs-crfsuite.py tag --model M --test DATA --out PRED
      the whole tagging job as a process would do it: import, open the model, read the data
      file, tag every sequence, write one predicted label per line (blank line between
      sequences); prints {"load_s", "tag_s", "items"}
"""

import argparse
import json
import sys
import time

T0 = time.perf_counter()

import pycrfsuite  # noqa: E402

from crfsuite_data import read_data  # noqa: E402


def train(a):
    t = time.perf_counter()
    trainer = pycrfsuite.Trainer(algorithm=a.algorithm, verbose=False)
    items = 0
    for xs, ys in read_data(a.train):
        trainer.append(xs, ys)
        items += len(ys)
    read_s = time.perf_counter() - t
    params = {"max_iterations": a.iterations}
    if a.algorithm == "lbfgs":
        params.update({"c1": 0.0, "c2": a.c2})
    trainer.set_params(params)
    t = time.perf_counter()
    trainer.train(a.model)
    train_s = time.perf_counter() - t
    print(json.dumps({"read_s": read_s, "train_s": train_s, "items": items}))


def tag(a):
    tagger = pycrfsuite.Tagger()
    tagger.open(a.model)
    load_s = time.perf_counter() - T0
    t = time.perf_counter()
    items = 0
    with open(a.out, "w", encoding="utf-8") as out:
        for xs, _ in read_data(a.test):
            labels = tagger.tag(xs)
            items += len(labels)
            out.write("\n".join(labels))
            out.write("\n\n")
    print(json.dumps({"load_s": load_s, "tag_s": time.perf_counter() - t, "items": items}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["train", "tag"])
    ap.add_argument("--train")
    ap.add_argument("--test")
    ap.add_argument("--model", required=True)
    ap.add_argument("--out")
    ap.add_argument("--algorithm", default="ap")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--c2", type=float, default=1.0)
    a = ap.parse_args()
    train(a) if a.command == "train" else tag(a)


if __name__ == "__main__":
    sys.exit(main())
