#!/bin/sh
# Build the Boykov–Kolmogorov peer for scripts/bench/maxflow.ts: the DIMACS
# driver bk_dimacs.cpp (from the shared maxflow tools) against Debian's
# libmaxflow-dev (apt-get install -y libmaxflow-dev). The binary goes OUTSIDE
# the repository (default /tmp/bk_dimacs); never commit it.
#
#   sh scripts/bench/peers/bk/build.sh [SRC=../shared/tools/maxflow/bk_dimacs.cpp] [OUT=/tmp/bk_dimacs]
#   /tmp/bk_dimacs /tmp/grid512.max 5      # prints "FLOW SECONDS" (best of 5 maxflow() runs)
set -eu
# default: the shared tools beside the checkout (../shared, relative to the repository root)
ROOT=$(cd "$(dirname "$0")/../../../.." && pwd)
SRC=${1:-$ROOT/../shared/tools/maxflow/bk_dimacs.cpp}
OUT=${2:-/tmp/bk_dimacs}
INC=/usr/include/maxflow-3.0
if [ ! -f "$INC/maxflow.h" ]; then
  echo "ERROR: $INC/maxflow.h not found (apt-get install -y libmaxflow-dev)" >&2
  exit 1
fi
g++ -O2 -o "$OUT" "$SRC" -I"$INC" -lmaxflow
echo "built $OUT"
