#!/bin/bash
# bench_jit.sh: figures for `rnc --run` (prints, asserts nothing).
#  1. In-memory compile of ResNet-50 and ResNet-34: rnc's `compile` line,
#     best of 5, next to the time to emit the C and its size.
#  2. ResNet-34 inference, `rnc --run` against the same generated C built
#     by `gcc -O3 -march=native` (both call the same gcc-built kernels):
#     median ms per run and the ratio (goal: JIT >= 0.5x the speed of gcc).
# Usage: tools/bench_jit.sh [RNC] ; REPEAT (10), THREADS (1), SIZE (224).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RNC=${1:-${RNC:-$ROOT/build/rnc}}
REPEAT=${REPEAT:-10}
THREADS=${THREADS:-1}
SIZE=${SIZE:-224}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -x "$RNC" ] || { echo "bench_jit: no rnc at $RNC" >&2; exit 2; }

# model_at MODEL SIZE DEST: the example with its input set to SIZE x SIZE.
model_at() {
    sed "0,/^input /s/^input \([A-Za-z_][A-Za-z0-9_]*\)\[[^],]*,[^],]*,/input \1[$2, $2,/" \
        "$ROOT/examples/$1.rn" >"$3"
}

echo "== in-memory compile (tcc), best of 5"
for m in resnet50 resnet34; do
    [ -f "$ROOT/examples/$m.rn" ] || { echo "$m: examples/$m.rn missing"; continue; }
    model_at "$m" 32 "$T/$m.rn" # the compile does not depend on the size
    "$RNC" --init-weights "$T/$m.w" "$T/$m.rn" || continue
    best=
    for i in 1 2 3 4 5; do
        line=$("$RNC" --run "$T/$m.rn" --weights "$T/$m.w" 2>&1 >/dev/null |
            grep '^rnc: compile')
        ms=$(echo "$line" | sed -n 's/^rnc: compile \([0-9.]*\) ms.*/\1/p')
        if [ -z "$best" ] || awk "BEGIN { exit !($ms < $best) }"; then
            best=$ms
            bestline=$line
        fi
    done
    echo "$m: $best ms   [$bestline]"
done

echo "== ResNet-34 at ${SIZE}x${SIZE}, $THREADS thread(s), $REPEAT runs a round"
m=resnet34
[ -f "$ROOT/examples/$m.rn" ] || { echo "examples/$m.rn missing"; exit 0; }
model_at "$m" "$SIZE" "$T/r34.rn"
"$RNC" --init-weights "$T/r34.w" --random --seed 1 "$T/r34.rn" || exit 1
"$RNC" "$T/r34.rn" -o "$T/r34.c" --main || exit 1
t0=$(date +%s.%N)
gcc -O3 -march=native -std=c11 "$T/r34.c" $("$RNC" --cflags) $("$RNC" --libs) \
    -o "$T/r34" || exit 1
t1=$(date +%s.%N)
echo "gcc -O3 -march=native build: $(awk "BEGIN { printf \"%.0f\", ($t1 - $t0) * 1000 }") ms"
# The same input for both.
/usr/bin/python3 -c "
import numpy as np, sys
np.save(sys.argv[1], np.random.default_rng(1).uniform(-1, 1, ($SIZE, $SIZE, 3)).astype(np.float32))
" "$T/x.npy" 2>/dev/null || { echo "needs /usr/bin/python3 with numpy for the input"; exit 1; }
# Under load the minimum is the steadier figure: ROUNDS (3) alternating
# rounds of each, the best median and the best minimum.
ROUNDS=${ROUNDS:-3}
best() { # best CUR NEW: the smaller, CUR may be empty
    if [ -z "$1" ] || awk "BEGIN { exit !($2 < $1) }"; then echo "$2"; else echo "$1"; fi
}
am= an= jm= jn=
for r in $(seq "$ROUNDS"); do
    line=$("$T/r34" --threads "$THREADS" --repeat "$REPEAT" "$T/r34.w" "$T/x.npy" \
        "$T/aot.npy" 2>&1 | grep median)
    set -- $(echo "$line" | sed -n 's/.*median \([0-9.]*\) ms, min \([0-9.]*\) ms.*/\1 \2/p')
    [ $# -eq 2 ] || { echo "the gcc program printed no timing: $line"; exit 1; }
    am=$(best "$am" "$1"); an=$(best "$an" "$2")
    jitline=$("$RNC" --run "$T/r34.rn" --weights "$T/r34.w" --input "$T/x.npy" \
        --threads "$THREADS" --repeat "$REPEAT" --output "$T/jit.npy" 2>&1 >/dev/null |
        grep -E '^rnc: (run|compile)')
    set -- $(echo "$jitline" | sed -n 's/^rnc: run \([0-9.]*\) ms median, \([0-9.]*\) ms min.*/\1 \2/p')
    [ $# -eq 2 ] || { echo "rnc --run printed no timing: $jitline"; exit 1; }
    jm=$(best "$jm" "$1"); jn=$(best "$jn" "$2")
    echo "round $r: gcc $(echo "$line" | sed 's/^[^:]*: //')"
    echo "$jitline" | sed "s/^/round $r: /"
done
echo "gcc -O3 -march=native: median $am ms, min $an ms (best of $ROUNDS rounds)"
echo "rnc --run (tcc):       median $jm ms, min $jn ms"
awk "BEGIN { printf \"JIT speed / gcc speed: %.2fx by the median, %.2fx by the minimum (goal >= 0.5x)\n\", $am / $jm, $an / $jn }"
