#!/bin/sh
# selftest.sh: checks the comparison harness's converter on every op it
# handles (tools/compare/ops.rn) and on the small residual example: the
# float32 torch module, the TorchScript export and the ONNX export (run by
# ONNX Runtime, when installed) must each equal tools/reference.py's float64
# output within 1e-4 relative. Exit 0 when all pass.
#   BUILD=build-X sh tools/compare/selftest.sh
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
RNC=${RNC:-$BUILD/rnc}
PY=/usr/bin/python3
CMP=tools/compare
status=0
for src in $CMP/ops.rn examples/small_residual.rn; do
    name=$(basename "$src" .rn)
    d=$BUILD/compare-selftest/$name
    mkdir -p "$d" || exit 1
    if ! { "$RNC" --graph-json "$src" >"$d/graph.json" &&
        "$RNC" --init-weights "$d/w.safetensors" --random --seed 1 "$src" &&
        "$PY" $CMP/to_torch.py "$d/graph.json" "$d/w.safetensors" "$d" \
            2>"$d/export.err" &&
        "$PY" $CMP/torch_bench.py "$d" --check; }; then
        echo "FAIL: $name: $(grep -i error "$d/export.err" | tail -1)"
        status=1
        continue
    fi
    if [ -d $CMP/node_modules/onnxruntime-node ]; then
        node $CMP/ort_bench.js "$d" --check || status=1
    else
        echo "skipped: ONNX Runtime check of $name (no $CMP/node_modules)"
    fi
done
[ $status = 0 ] && echo "selftest: all passed"
exit $status
