#!/bin/bash
# make_trace_goldens.sh [NAME...]: remakes the committed per-layer traces
# in tests/golden/trace/ for every case of tests/golden/trace/MANIFEST (or
# those named).
#
# For each case: rnc writes the graph (--graph-json) and the seeded random
# weights (--init-weights --random --seed), NumPy draws a seeded input in
# the case's range, and tools/reference.py --trace (PyTorch, float64)
# writes every layer's value to tests/golden/trace/NAME/. rnc's compiled
# code is never run here. Weights are not committed: tests regenerate them
# from the seed.
#
#   RNC=build/rnc tools/make_trace_goldens.sh [NAME...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RNC=${RNC:-$ROOT/build/rnc}
PY=/usr/bin/python3
G=$ROOT/tests/golden/trace
. "$ROOT/tools/numerics_case.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

manifest_cases "$G/MANIFEST" "$@" >"$T/cases"
while read -r name model seed input range <&3; do
    case_source "$ROOT" "$model" "$input" "$T/$name.rn"
    "$RNC" --graph-json "$T/$name.rn" >"$T/$name.json"
    "$RNC" --init-weights "$T/$name.safetensors" --random --seed "$seed" \
        "$T/$name.rn"
    # inputs: uniform in RANGE, batch of one, drawn from the case's seed;
    # outputs: written where nothing reads them (the trace has them)
    mapfile -t files < <("$PY" - "$T/$name.json" "$seed" "$T/$name" "$range" <<'PY'
import json, sys
import numpy as np
graph = json.load(open(sys.argv[1]))
shapes = {n["id"]: n["shape"] for n in graph["nodes"]}
rng = np.random.default_rng(int(sys.argv[2]))
lo, hi = map(float, sys.argv[4].split(":"))
for i, nid in enumerate(graph["inputs"]):
    x = rng.uniform(lo, hi, size=[1] + shapes[nid]).astype(np.float32)
    np.save(f"{sys.argv[3]}.in{i}.npy", x)
    print(f"{sys.argv[3]}.in{i}.npy")
for i in range(len(graph["outputs"])):
    print(f"{sys.argv[3]}.out{i}.npy")
PY
)
    rm -rf "${G:?}/$name"
    "$PY" "$ROOT/tools/reference.py" "$T/$name.json" "$T/$name.safetensors" \
        "${files[@]}" --trace "$G/$name"
    echo "make_trace_goldens: $name: $(ls "$G/$name" | wc -l) files"
done 3<"$T/cases"
du -sh "$G"
