#!/bin/sh
# bench_run.sh: ahead-of-time inference speed (part of `make bench`).
# For each model: rnc -o --main, cc -O3 -march=native, Keras-initialized
# weights, a zero input; then the median (and minimum) ms per inference over
# RUNS runs after one warm-up, at 1 and 2 threads, and GFLOP/s = 2 * MACs /
# median. Figures only: nothing is asserted.
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
RNC=${RNC:-$BUILD/rnc}
CC=${CC:-cc}
RUNS=${RUNS:-20}
D=$BUILD/bench
mkdir -p "$D" || exit 1

printf '%-16s %8s %12s %12s %10s\n' model threads "median ms" "min ms" GFLOP/s
for name in resnet34 resnet50 mobilenet_v1 small_residual; do
    src=examples/$name.rn
    if [ ! -f "$src" ]; then
        printf '%-16s (no %s)\n' "$name" "$src"
        continue
    fi
    "$RNC" "$src" -o "$D/$name.c" --main &&
        "$CC" -O3 -march=native -std=c11 "$D/$name.c" $("$RNC" --cflags) \
            $("$RNC" --libs) -o "$D/$name" &&
        "$RNC" --init-weights "$D/$name.safetensors" --seed 1 "$src" || {
        printf '%-16s build failed\n' "$name"
        continue
    }
    dims=$(sed -n 's/^input [A-Za-z_0-9]*\[\([0-9]*\), *\([0-9]*\), *\([0-9]*\)\].*/\1 \2 \3/p' "$src" | head -n 1)
    # shellcheck disable=SC2086 # three numbers
    tools/npy_zeros.sh "$D/$name.in.npy" $dims
    macs=$("$RNC" --summary "$src" | sed -n 's/^Multiply-accumulates: \([0-9,]*\).*/\1/p' | tr -d ,)
    for t in 1 2; do
        "$D/$name" --threads $t --repeat "$RUNS" "$D/$name.safetensors" \
            "$D/$name.in.npy" "$D/$name.out.npy" 2>"$D/$name.time" || {
            printf '%-16s %8s run failed: %s\n' "$name" $t "$(cat "$D/$name.time")"
            continue
        }
        med=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$D/$name.time")
        min=$(sed -n 's/.*min \([0-9.]*\) ms.*/\1/p' "$D/$name.time")
        awk -v n="$name" -v t=$t -v med="$med" -v min="$min" -v m="${macs:-0}" \
            'BEGIN { printf "%-16s %8d %12.2f %12.2f %10.1f\n", n, t, med, min, 2 * m / (med * 1e6) }'
    done
done
