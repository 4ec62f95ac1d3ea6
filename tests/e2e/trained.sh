#!/bin/bash
# trained.sh: the digits network trained for real (tools/train_digits.py;
# its files are committed in examples/digits/, so no PyTorch is needed).
#
# 1. rnc --import of its ONNX file, compiled ahead of time, runs the 400
#    held-out digits (tools/digits_eval.c): every prediction equals
#    PyTorch's, and so does the accuracy.
# 2. The held-out digits saved as PNG files, classified with --image and
#    --labels: the top 5 named as PyTorch ranks them (probabilities within
#    1e-5 of its), through `rnc --run` and a --main program alike.
. "$(dirname "$0")/lib.sh"
E=$ROOT/examples/digits
D=$T/digits
mkdir -p "$D"

if ! check "import digits.onnx" "$RNC" --import "$E/digits.onnx" -o "$D/digits.rn" \
    --weights "$D/digits.safetensors"; then
    finish
    exit
fi
check "compile" "$RNC" "$D/digits.rn" -o "$D/digits.c"
check "build the evaluation" cc -O2 -std=c11 $SANFLAGS -DMODEL=digits \
    -DMODEL_H='"digits.h"' -I"$D" "$ROOT/tools/digits_eval.c" "$D/digits.c" \
    $("$RNC" --cflags) $("$RNC" --libs) -o "$D/eval"
check "400 held-out digits, as PyTorch predicts them" "$D/eval" \
    "$D/digits.safetensors" "$E/heldout_x.npy" "$E/heldout_y.npy" "$E/torch_probs.npy"
sed 's/^/  /' "$T/out" >&2
if grep -q "^predictions that differ from PyTorch's: 0 of 400$" "$T/out" &&
    grep -q "^accuracy: rnc 99.25% (397 of 400), PyTorch 99.25% (397 of 400)$" "$T/out"; then
    ok
else
    bad "the accuracy and agreement lines"
fi

# The PNGs: --run, then the --main program, each against PyTorch.
check "compile with --main" "$RNC" "$D/digits.rn" -o "$D/digits_main.c" --main
check "build with --main" cc -O2 -std=c11 $SANFLAGS "$D/digits_main.c" \
    $("$RNC" --cflags) $("$RNC" --libs) -o "$D/digits"
i=0
while read -r png; do
    check "--run $png" "$RNC" --run "$D/digits.rn" --weights "$D/digits.safetensors" \
        --image "$E/$png" --labels "$E/digits.txt"
    sed 1d "$T/out" >"$D/run$i.txt"
    check "$png: the top 5 as PyTorch's" /usr/bin/python3 -c '
import sys, numpy as np
p = np.load(sys.argv[1])[int(sys.argv[2])]
names = open(sys.argv[3]).read().split()
rows = [l.split() for l in open(sys.argv[4]) if l.startswith("  #")]
want = np.argsort(-p, kind="stable")[:5]
assert [r[1] for r in rows] == [names[c] for c in want], (rows, want)
assert all(abs(float(r[2]) - p[c]) <= 1e-5 for r, c in zip(rows, want)), (rows, p)
' "$E/png_probs.npy" "$i" "$E/digits.txt" "$D/run$i.txt"
    check "$png: --main" "$D/digits" --labels "$E/digits.txt" \
        "$D/digits.safetensors" "$E/$png"
    same_file "$png: --main prints what --run prints" "$D/run$i.txt" "$T/out"
    i=$((i + 1))
done <"$E/png_files.txt"
[ "$i" -eq 5 ] && ok || bad "five PNG files listed, $i read"
finish
