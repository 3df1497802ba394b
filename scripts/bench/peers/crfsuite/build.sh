#!/bin/sh
# Build the CRFsuite command-line peer for scripts/bench/vs-crfsuite.ts: our
# small front end driver.c (learn / tag, as `crfsuite learn` / `crfsuite tag`
# do: a whole process reading the data file) against CRFsuite's C library and
# liblbfgs from the npm package `crfsuite` (the sources it carries; installed
# by `npm ci --ignore-scripts` in scripts/bench/peers, no Node binding built).
# Flags as that package builds them (-O3, SSE2). The binary goes OUTSIDE the
# repository (default /tmp/crfsuite-cli); never commit it.
#
#   sh scripts/bench/peers/crfsuite/build.sh [OUT=/tmp/crfsuite-cli]
#   /tmp/crfsuite-cli learn -a ap -p max_iterations=10 -m /tmp/ap.crfsuite train.crfsuite.txt
#   /tmp/crfsuite-cli tag -m /tmp/ap.crfsuite test.crfsuite.txt > predictions
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS=$(cd "$HERE/.." && pwd)
OUT=${1:-/tmp/crfsuite-cli}
PKG=$PEERS/node_modules/crfsuite
if [ ! -f "$PKG/crfsuite/include/crfsuite.h" ]; then
  (cd "$PEERS" && npm ci --ignore-scripts >/dev/null)
fi
if [ ! -f "$PKG/crfsuite/include/crfsuite.h" ]; then
  echo "ERROR: $PKG/crfsuite/include/crfsuite.h not found (cd scripts/bench/peers && npm ci --ignore-scripts)" >&2
  exit 1
fi
cd "$PKG"
gcc -O3 -DUSE_SSE -DUSE_SSE2 -DHAVE_EMMINTRIN_H=1 -w -o "$OUT" "$HERE/driver.c" \
  liblbfgs/lib/lbfgs.c crfsuite/lib/crf/src/*.c \
  crfsuite/lib/cqdb/src/cqdb.c crfsuite/lib/cqdb/src/lookup3.c \
  -Iliblbfgs/include -Icrfsuite/include -Icrfsuite/lib/cqdb/include -lm
echo "built $OUT"
