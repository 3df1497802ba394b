#!/bin/bash
# kill -9 / resume against an uninterrupted run, for one trainer:
#   scripts/bench/kill-resume.sh NAME "TRAIN OPTIONS"
# e.g. scripts/bench/kill-resume.sh perceptron "--epochs 5"
#      scripts/bench/kill-resume.sh pa "--loss hinge --optimizer pa --epochs 5"
#      scripts/bench/kill-resume.sh lbfgs "--loss nll --optimizer lbfgs --iterations 12 --eval-every 1"
# Trains POS on EWT train straight; then again with --checkpoint, killed with
# SIGKILL during the epoch after the second report, and resumed with --resume;
# prints whether the two model files are byte-identical.
set -u
cd "$(dirname "$0")/../.."
D=${TMPDIR:-/tmp}/nadir-kill-resume-$1
rm -rf "$D"
mkdir -p "$D"
TRAIN=corpora/ud-english-ewt/en_ewt-ud-train.conllu.gz
N="npx tsx src/cli/bin.ts train --graph graphs/pos.json --train $TRAIN"
$N $2 --model "$D/straight.model" >"$D/straight.log" 2>&1
$N $2 --checkpoint "$D/ck" --model "$D/resumed.model" >"$D/first.log" 2>&1 &
PID=$!
while [ "$(grep -c '^epoch\|^iteration' "$D/first.log" 2>/dev/null)" -lt 2 ]; do sleep 0.2; done
sleep 0.3
pkill -9 -P $PID 2>/dev/null
kill -9 $PID 2>/dev/null
wait $PID 2>/dev/null
echo "killed after: $(grep '^epoch\|^iteration' "$D/first.log" | tail -1)"
$N $2 --resume "$D/ck" --model "$D/resumed.model" >"$D/resume.log" 2>&1
echo "resume exit $?; first report after resuming: $(grep '^epoch\|^iteration' "$D/resume.log" | head -1)"
sha256sum "$D/straight.model" "$D/resumed.model"
cmp -s "$D/straight.model" "$D/resumed.model" && echo "IDENTICAL" || echo "DIFFERENT"
