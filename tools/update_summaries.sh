#!/bin/sh
# update_summaries.sh: rewrites the golden summaries tests/summary/*.txt
# from `rnc --summary` of the examples (and resnet34 --expand), then runs
# the independent TF.js cross-check on them. Commit the goldens only when
# the check agrees and every diff has been read.
#   tools/update_summaries.sh [RNC]
RNC=${1:-build/rnc}
cd "$(dirname "$0")/.." || exit 2
[ -x "$RNC" ] || { echo "no $RNC: build first (make)" >&2; exit 2; }
mkdir -p tests/summary
for m in small_residual resnet18 resnet34 resnet50 mobilenet_v1 vgg16; do
    "$RNC" --summary "examples/$m.rn" >"tests/summary/$m.txt" || exit 1
done
"$RNC" --summary --expand examples/resnet34.rn \
    >tests/summary/resnet34_expand.txt || exit 1
cd tools/keras_check || exit 2
[ -d node_modules/@tensorflow/tfjs ] || npm install --no-audit --no-fund
node check.js
