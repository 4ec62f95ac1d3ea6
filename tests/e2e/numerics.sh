#!/bin/bash
# numerics.sh: every case of tests/golden/MANIFEST, compiled by rnc and run
# on its committed input, must match the output that tools/reference.py
# (PyTorch, float64) computed: |got - want| <= 1e-4 * max|want| + 1e-5 for
# every element (tests/tools/npycmp.c).
#
# Each case regenerates its weights from its seed, then goes through every
# runner of NUMERICS_RUNNERS (default "aot aot2": the program on 1 thread,
# then on 2, where some convs take another algorithm; "jit" adds
# `rnc --run`).
# A runner is a function run_NAME that reads $d/model.rn, $d/w.safetensors,
# the inputs in ins[] and writes the outputs named in gots[].
# Cases run NUMERICS_JOBS (2) at a time; NUMERICS_CASES="a b" picks some.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/numerics_case.sh"
G=$ROOT/tests/golden
RUNNERS=${NUMERICS_RUNNERS:-aot aot2}
JOBS=${NUMERICS_JOBS:-2}

need_npycmp

# Ahead of time: rnc -o model.c --main, one cc -O1, run the program.
run_aot() {
    "$RNC" "$d/model.rn" -o "$d/model.c" --main &&
        cc -O1 -std=c11 $SANFLAGS "$d/model.c" $("$RNC" --cflags) \
            $("$RNC" --libs) -o "$d/model" &&
        timeout 300 "$d/model" "$d/w.safetensors" "${ins[@]}" "${gots[@]}"
}

# The same program on 2 threads (after run_aot).
run_aot2() {
    timeout 300 "$d/model" --threads 2 "$d/w.safetensors" "${ins[@]}" "${gots[@]}"
}

# In memory: rnc --run with libtcc.
run_jit() {
    local args=() f
    for f in "${ins[@]}"; do args+=(--input "$f"); done
    for f in "${gots[@]}"; do args+=(--output "$f"); done
    timeout 300 "$RNC" --run "$d/model.rn" --weights "$d/w.safetensors" \
        "${args[@]}" >/dev/null
}

# run_case NAME MODEL SEED INPUT: writes "pass|fail WHAT" lines to
# $T/NAME.res and the details of failures to $T/NAME.log.
run_case() {
    local name=$1 model=$2 seed=$3 input=$4 runner i
    d=$T/$name
    mkdir -p "$d"
    exec >"$T/$name.res" 2>"$T/$name.log"
    mapfile -t ins < <(case_files "$G" "$name" in)
    mapfile -t wants < <(case_files "$G" "$name" out)
    if [ ! -f "$ROOT/$model" ]; then
        echo "fail $name: $model missing"; return
    fi
    case_source "$ROOT" "$model" "$input" "$d/model.rn"
    if ! "$RNC" --init-weights "$d/w.safetensors" --random --seed "$seed" \
        "$d/model.rn"; then
        echo "fail $name: --init-weights"; return
    fi
    for runner in $RUNNERS; do
        gots=()
        for ((i = 0; i < ${#wants[@]}; i++)); do gots+=("$d/$runner.out$i.npy"); done
        if ! "run_$runner" >>"$T/$name.log" 2>&1; then
            echo "fail $name ($runner): did not run"; continue
        fi
        for ((i = 0; i < ${#wants[@]}; i++)); do
            if "$NPYCMP" "${gots[$i]}" "${wants[$i]}" >"$d/cmp" 2>&1; then
                echo "pass $name ($runner) output $i"
            else
                echo "fail $name ($runner) output $i: $(cat "$d/cmp")"
            fi
        done
    done
}

manifest_cases "$G/MANIFEST" ${NUMERICS_CASES:-} >"$T/cases"
running=0
while read -r name model seed input range <&3; do
    if [ ! -f "$G/$name.in0.npy" ] || [ ! -f "$G/$name.out0.npy" ]; then
        echo "fail $name: no goldens (tools/make_goldens.sh $name)" >"$T/$name.res"
        continue
    fi
    (run_case "$name" "$model" "$seed" "$input") &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done 3<"$T/cases"
wait

while read -r name model seed input range <&3; do
    [ -f "$T/$name.res" ] || continue
    [ -s "$T/$name.res" ] || echo "fail $name: no result" >"$T/$name.res"
    while read -r verdict what; do
        if [ "$verdict" = pass ]; then ok; else bad "$what"; fi
    done <"$T/$name.res"
    if grep -q '^fail' "$T/$name.res"; then
        sed 's/^/    /' "$T/$name.log" 2>/dev/null | head -20 >&2
    fi
done 3<"$T/cases"

# --init-weights: deterministic per seed; failures write nothing.
net=$ROOT/tests/numerics/dense.rn
check "init-weights seed 5" "$RNC" --init-weights "$T/w5a" --seed 5 --random "$net"
check "init-weights seed 5 again" "$RNC" --init-weights "$T/w5b" --seed 5 --random "$net"
check "init-weights seed 6" "$RNC" --init-weights "$T/w6" --seed 6 --random "$net"
check "same seed, same file" cmp -s "$T/w5a" "$T/w5b"
check "another seed, another file" bash -c '! cmp -s "$1" "$2"' _ "$T/w5a" "$T/w6"
check "without --random, other statistics" bash -c \
    '"$1" --init-weights "$2" --seed 5 "$3" && ! cmp -s "$2" "$4"' _ \
    "$RNC" "$T/w5k" "$net" "$T/w5a"
check "unwritable weights path refused" bash -c \
    '"$1" --init-weights "$2/no/such/dir/w" "$3" 2>"$2/e"; [ $? -eq 1 ] &&
     grep -q "error" "$2/e" && [ ! -e "$2/no" ]' _ "$RNC" "$T" "$net"
printf 'input x[4, 4, 3]\noutput conv2d(x, 2, 9)\n' >"$T/bad.rn"
echo keep >"$T/wkeep"
check "bad model: exit 1, weights untouched" bash -c \
    '"$1" --init-weights "$2/wkeep" "$2/bad.rn" 2>/dev/null; [ $? -eq 1 ] &&
     [ "$(cat "$2/wkeep")" = keep ]' _ "$RNC" "$T"
check "bad model: --graph-json exits 1, prints nothing" bash -c \
    '"$1" --graph-json "$2/bad.rn" >"$2/j" 2>/dev/null; [ $? -eq 1 ] &&
     [ ! -s "$2/j" ]' _ "$RNC" "$T"
printf 'input v[20000]\noutput dense(v, 20000)\noutput dense(v, 20000)\noutput dense(v, 20000)\n' >"$T/huge.rn"
check "weights over 4 GiB refused up front" bash -c \
    '"$1" --init-weights "$2/wh" "$2/huge.rn" 2>"$2/e"; [ $? -eq 1 ] &&
     grep -q "4 GiB" "$2/e" && [ ! -e "$2/wh" ]' _ "$RNC" "$T"
printf 'model q\ninput x[3]\noutput dense(x, 2, name="first")\n' >"$T/q.rn"
check "--graph-json is JSON with the weights" bash -c \
    '"$1" --graph-json "$2" | /usr/bin/python3 -c "
import json, sys
g = json.load(sys.stdin)
assert g[\"model\"] == \"q\" and g[\"outputs\"] == [1], g
n = g[\"nodes\"][1]
assert n[\"attrs\"] == {\"units\": 2, \"bias\": True, \"act\": \"none\"}, n
assert [w[\"name\"] for w in n[\"weights\"]] == [\"first.kernel\", \"first.bias\"]
assert n[\"weights\"][0][\"shape\"] == [3, 2], n"' _ "$RNC" "$T/q.rn"

# The comparison itself: one element off by twice the tolerance fails.
check "npycmp passes a golden against itself" \
    "$NPYCMP" "$G/pooling.out0.npy" "$G/pooling.out0.npy"
/usr/bin/python3 -c '
import sys, numpy as np
a = np.load(sys.argv[1]); b = a.copy()
b.flat[5] += 2 * (1e-4 * np.abs(a).max() + 1e-5)
np.save(sys.argv[2], b[0])' "$G/pooling.out0.npy" "$T/off.npy"
check "npycmp fails one element off" bash -c '! "$1" "$2" "$3" >/dev/null' _ \
    "$NPYCMP" "$T/off.npy" "$G/pooling.out0.npy"

# The reference itself, against element-by-element loops (needs torch).
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    check "reference.py agrees with plain loops" \
        /usr/bin/python3 "$ROOT/tests/numerics/reference_selftest.py"
fi
finish
