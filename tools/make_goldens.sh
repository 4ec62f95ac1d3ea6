#!/bin/bash
# make_goldens.sh [NAME...]: remakes the committed numerics goldens in
# tests/golden/ for every case of tests/golden/MANIFEST (or those named).
#
# For each case: rnc writes the graph (--graph-json) and the seeded random
# weights (--init-weights --random --seed), NumPy draws a seeded input in
# the case's range ([-1, 1] unless the manifest says), and
# tools/reference.py (PyTorch, float64) computes the expected outputs.
# rnc's compiled code is never run here: the goldens come from an
# independent implementation. Weights are not committed; tests regenerate
# them from the seed, so goldens must be remade when weights.c or rn_rng
# change how they draw.
#
#   RNC=build-numerics/rnc tools/make_goldens.sh [NAME...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RNC=${RNC:-$ROOT/build/rnc}
PY=/usr/bin/python3
G=$ROOT/tests/golden
. "$ROOT/tools/numerics_case.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

manifest_cases "$G/MANIFEST" "$@" >"$T/cases"
while read -r name model seed input range <&3; do
    if [ ! -f "$ROOT/$model" ]; then
        echo "make_goldens: $name: $model missing, skipped" >&2
        continue
    fi
    case_source "$ROOT" "$model" "$input" "$T/$name.rn"
    "$RNC" --graph-json "$T/$name.rn" >"$T/$name.json"
    "$RNC" --init-weights "$T/$name.safetensors" --random --seed "$seed" \
        "$T/$name.rn"
    rm -f "$G/$name".in[0-9]*.npy "$G/$name".out[0-9]*.npy
    # inputs: uniform in RANGE, batch of one, drawn from the case's seed
    "$PY" - "$T/$name.json" "$seed" "$G/$name" "$range" <<'PY'
import json, sys
import numpy as np
graph = json.load(open(sys.argv[1]))
shapes = {n["id"]: n["shape"] for n in graph["nodes"]}
rng = np.random.default_rng(int(sys.argv[2]))
lo, hi = map(float, sys.argv[4].split(":"))
for i, nid in enumerate(graph["inputs"]):
    x = rng.uniform(lo, hi, size=[1] + shapes[nid]).astype(np.float32)
    np.save(f"{sys.argv[3]}.in{i}.npy", x)
PY
    nout=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["outputs"]))' "$T/$name.json")
    outs=()
    for ((i = 0; i < nout; i++)); do outs+=("$G/$name.out$i.npy"); done
    mapfile -t ins < <(case_files "$G" "$name" in)
    "$PY" "$ROOT/tools/reference.py" "$T/$name.json" "$T/$name.safetensors" \
        "${ins[@]}" "${outs[@]}"
    echo "make_goldens: $name: ${#ins[@]} input(s), $nout output(s)"
done 3<"$T/cases"
du -sh "$G"
