#!/bin/bash
# demo_trained.sh: what `make demo-trained` runs. A network trained for
# real, end to end, with PyTorch's own figures beside rnc's:
#   1. train a small residual CNN on scikit-learn's handwritten digits
#      (tools/train_digits.py: PyTorch, 1,397 digits, ~10 s), export ONNX;
#   2. rnc --import it to .rn and safetensors;
#   3. compile it ahead of time (cc -O3 -march=native) and run the 400
#      held-out digits through it (tools/digits_eval.c, the generated API);
#   4. print the accuracy and how many predictions differ from PyTorch's
#      (exit 1 unless none does);
#   5. classify a few held-out digits saved as PNG files, by name, with
#      `rnc --run --image --labels` and with a --main program.
# DIGITS=examples/digits skips step 1 and uses the committed model.
# Everything goes to $BUILD/demo-trained.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RNC=${RNC:-$BUILD/rnc}
CC=${CC:-cc}
D=$BUILD/demo-trained
mkdir -p "$D"
say() { printf '\n== %s\n' "$*"; }

if [ -n "${DIGITS:-}" ]; then
    say "the committed model of $DIGITS (no training)"
    cp "$DIGITS"/* "$D"/
else
    say "train: /usr/bin/python3 tools/train_digits.py $D"
    /usr/bin/python3 tools/train_digits.py "$D"
fi

say "import: rnc --import $D/digits.onnx -o $D/digits.rn --weights $D/digits.safetensors"
"$RNC" --import "$D/digits.onnx" -o "$D/digits.rn" --weights "$D/digits.safetensors"
sed 's/^/   /' "$D/digits.rn"

say "compile ahead of time: rnc $D/digits.rn -o $D/digits.c; $CC -O3 -march=native"
"$RNC" "$D/digits.rn" -o "$D/digits.c"
"$CC" -O3 -march=native -std=c11 -DMODEL=digits -DMODEL_H='"digits.h"' -I"$D" \
    tools/digits_eval.c "$D/digits.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$D/digits_eval"

say "the 400 held-out digits through rnc's build, against PyTorch"
"$D/digits_eval" "$D/digits.safetensors" "$D/heldout_x.npy" "$D/heldout_y.npy" \
    "$D/torch_probs.npy" | sed 's/^/   /'

say "a few held-out digits as PNG files (8 x 8 grey as scanned; the 4 drawn 32 x 32 in RGB)"
while read -r png; do
    echo "\$ rnc --run $D/digits.rn --weights $D/digits.safetensors --image $D/$png --labels $D/digits.txt"
    "$RNC" --run "$D/digits.rn" --weights "$D/digits.safetensors" --image "$D/$png" \
        --labels "$D/digits.txt" 2>/dev/null | sed -n '3,4p'
done <"$D/png_files.txt"

say "the same with a --main program: rnc $D/digits.rn -o $D/digits_main.c --main"
"$RNC" "$D/digits.rn" -o "$D/digits_main.c" --main
"$CC" -O3 -march=native -std=c11 "$D/digits_main.c" $("$RNC" --cflags) $("$RNC" --libs) \
    -o "$D/digits"
png=$(sed -n 5p "$D/png_files.txt")
echo "\$ $D/digits --labels $D/digits.txt $D/digits.safetensors $D/$png"
"$D/digits" --labels "$D/digits.txt" "$D/digits.safetensors" "$D/$png"
