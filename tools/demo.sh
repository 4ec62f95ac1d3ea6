#!/bin/bash
# demo.sh: what `make demo` runs. ResNet-34 ahead of time, end to end:
# compile examples/resnet34.rn to C, write Keras-initialized weights, build
# with cc -O3 -march=native, make a seeded input, run it a few times, and
# print the summary, the top-5 classes and the time per inference.
# Everything goes to build/demo/ (or $BUILD/demo).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RNC=${RNC:-$BUILD/rnc}
CC=${CC:-cc}
D=$BUILD/demo
MODEL=examples/resnet34.rn
REPEAT=${REPEAT:-10}
mkdir -p "$D"

echo "== rnc --summary $MODEL"
"$RNC" --summary "$MODEL"

echo
echo "== compile: rnc $MODEL -o $D/resnet34.c --main"
"$RNC" "$MODEL" -o "$D/resnet34.c" --main
wc -l "$D/resnet34.c" "$D/resnet34.h" | sed 's/^/   /'
"$RNC" --init-weights "$D/weights.safetensors" --seed 1 "$MODEL"
echo "   weights: $D/weights.safetensors ($(wc -c <"$D/weights.safetensors") bytes, Keras initializers, seed 1)"
start=$(date +%s.%N)
"$CC" -O3 -march=native -std=c11 "$D/resnet34.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$D/resnet34"
echo "   built with $CC -O3 -march=native in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

# A small helper against the runtime: writes a seeded input image, or prints
# the top 5 of an output vector.
cat >"$D/demo_io.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rnrt.h"
int main(int argc, char **argv) {
    char err[512];
    if (argc == 3 && !strcmp(argv[1], "input")) { /* [224, 224, 3] in [0, 1) */
        rn_i64 dims[3] = {224, 224, 3};
        float *x = malloc(224 * 224 * 3 * sizeof *x);
        rn_rng r;
        rn_rng_seed(&r, 1);
        for (int i = 0; i < 224 * 224 * 3; i++) x[i] = rn_rng_uniform(&r);
        if (rn_npy_write(argv[2], 3, dims, x, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        free(x);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "top5")) {
        rn_array y;
        if (rn_npy_read(argv[2], &y, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
        double sum = 0;
        for (rn_i64 i = 0; i < y.count; i++) sum += y.data[i];
        for (int k = 0; k < 5 && k < y.count; k++) {
            rn_i64 best = 0;
            for (rn_i64 i = 1; i < y.count; i++) if (y.data[i] > y.data[best]) best = i;
            printf("   class %3lld  p = %.6f\n", best, y.data[best]);
            y.data[best] = -1;
        }
        printf("   (probabilities sum to %.6f)\n", sum);
        rn_array_free(&y);
        return 0;
    }
    fprintf(stderr, "usage: demo_io input X.npy | top5 Y.npy\n");
    return 2;
}
EOF
"$CC" -O2 -std=c11 "$D/demo_io.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$D/demo_io"
"$D/demo_io" input "$D/input.npy"

threads=${RNC_THREADS:-$(nproc 2>/dev/null || echo 1)}
echo
echo "== run: $D/resnet34 --threads $threads --repeat $REPEAT weights input output"
"$D/resnet34" --threads "$threads" --repeat "$REPEAT" "$D/weights.safetensors" \
    "$D/input.npy" "$D/output.npy" 2>"$D/time.txt"
echo "   top 5 classes:"
"$D/demo_io" top5 "$D/output.npy"
macs=$("$RNC" --summary "$MODEL" | sed -n 's/^Multiply-accumulates: \([0-9,]*\).*/\1/p' | tr -d ,)
ms=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$D/time.txt")
echo
echo "== time per inference: $(sed 's/^.*: //' "$D/time.txt")"
if [ -n "$macs" ] && [ -n "$ms" ]; then
    awk -v m="$macs" -v t="$ms" 'BEGIN { printf "   %.1f GFLOP/s (2 x %s MACs / median time)\n", 2 * m / (t * 1e6), m }'
fi
