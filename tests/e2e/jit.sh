#!/bin/bash
# jit.sh: `rnc --run`, the model compiled in memory by libtcc.
#
# Every case of tests/golden/MANIFEST through `rnc --run --output`: within
# |got - want| <= 1e-4 * max|want| + 1e-5 of PyTorch's golden
# (tests/tools/npycmp.c), and equal to what the ahead-of-time program
# computes from the same weights and input. Then what the user sees: the
# compile and timing lines, random weights and inputs, the softmax top 5,
# bad data refused with the runtime's own messages and no output written,
# and many compilations in one process without a leak.
# JIT_CASES="a b" picks some cases; JIT_JOBS (2) runs them in parallel.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/numerics_case.sh"
G=$ROOT/tests/golden
JOBS=${JIT_JOBS:-2}

need_npycmp

# aot_build DIR [STEM]: the ahead-of-time program of DIR/STEM.rn (STEM
# "model" by default) as DIR/STEM.
aot_build() {
    local m=$1/${2:-model}
    "$RNC" "$m.rn" -o "$m.c" --main &&
        cc -O1 -std=c11 $SANFLAGS "$m.c" $("$RNC" --cflags) \
            $("$RNC" --libs) -o "$m"
}

# run_case NAME MODEL SEED INPUT: "pass|fail WHAT" lines in $T/NAME.res.
run_case() {
    local name=$1 model=$2 seed=$3 input=$4 i args=() aot=() jit=()
    local d=$T/$name
    mkdir -p "$d"
    exec >"$T/$name.res" 2>"$T/$name.log"
    mapfile -t ins < <(case_files "$G" "$name" in)
    mapfile -t wants < <(case_files "$G" "$name" out)
    case_source "$ROOT" "$model" "$input" "$d/model.rn"
    if ! "$RNC" --init-weights "$d/w.safetensors" --random --seed "$seed" \
        "$d/model.rn"; then
        echo "fail $name: --init-weights"; return
    fi
    for i in "${ins[@]}"; do args+=(--input "$i"); done
    for ((i = 0; i < ${#wants[@]}; i++)); do
        aot+=("$d/aot.out$i.npy")
        jit+=("$d/jit.out$i.npy")
        args+=(--output "$d/jit.out$i.npy")
    done
    if ! timeout 300 "$RNC" --run "$d/model.rn" --weights "$d/w.safetensors" \
        "${args[@]}" >"$d/stdout" 2>"$d/stderr"; then
        echo "fail $name: rnc --run failed"; cat "$d/stderr" >&2; return
    fi
    if grep -q '^rnc: compile [0-9.]* ms' "$d/stderr"; then
        echo "pass $name: compile line"
    else
        echo "fail $name: no compile line on stderr"; cat "$d/stderr" >&2
    fi
    for ((i = 0; i < ${#wants[@]}; i++)); do
        if "$NPYCMP" "${jit[$i]}" "${wants[$i]}" >"$d/cmp" 2>&1; then
            echo "pass $name output $i against the golden"
        else
            echo "fail $name output $i against the golden: $(cat "$d/cmp")"
        fi
    done
    if ! aot_build "$d" || ! timeout 300 "$d/model" "$d/w.safetensors" \
        "${ins[@]}" "${aot[@]}"; then
        echo "fail $name: the ahead-of-time program did not run"; return
    fi
    for ((i = 0; i < ${#wants[@]}; i++)); do
        if "$NPYCMP" "${jit[$i]}" "${aot[$i]}" 0 0 >"$d/cmp" 2>&1; then
            echo "pass $name output $i equal to the ahead-of-time one"
        else
            echo "fail $name output $i differs from ahead of time: $(cat "$d/cmp")"
        fi
    done
}

manifest_cases "$G/MANIFEST" ${JIT_CASES:-} >"$T/cases"
running=0
while read -r name model seed input range <&3; do
    if [ ! -f "$G/$name.in0.npy" ] || [ ! -f "$ROOT/$model" ]; then
        echo "  jit: $name has no goldens or model yet" >&2
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
        if [ "$verdict" = pass ]; then ok; else
            bad "$what"
            sed 's/^/    /' "$T/$name.log" | head -20 >&2
        fi
    done <"$T/$name.res"
done 3<"$T/cases"

# ---- what the user sees, on small models written here ----
M=$T/u
mkdir -p "$M"
cat >"$M/cls.rn" <<'EOF'
model cls
input image[8, 8, 3]
x = conv2d(image, 4, 3, padding=same, activation=relu)
x = global_avgpool(x)
output dense(x, 7, activation=softmax)
EOF
cat >"$M/two.rn" <<'EOF'
model two
input a[6]
input b[4, 4, 2]
output dense(a, 3)
output flatten(maxpool(b, 2))
EOF

# npy_zeros PATH SHAPE COUNT: a float32 .npy of zeros; SHAPE as Python
# writes it ("8, 8, 3"). The header is padded to 64 bytes with spaces.
npy_zeros() {
    local h="{'descr': '<f4', 'fortran_order': False, 'shape': ($2), }"
    while [ $(((10 + ${#h} + 1) % 64)) -ne 0 ]; do h="$h "; done
    { printf '\223NUMPY\001\000'
      printf "\\x$(printf %02x $(((${#h} + 1) % 256)))\\x$(printf %02x $(((${#h} + 1) / 256)))"
      printf '%s\n' "$h"
      head -c $(($3 * 4)) /dev/zero; } >"$1"
}

# expect_fail DESCRIPTION PATTERN COMMAND...: exit 1 and PATTERN on stderr.
expect_fail() {
    local what=$1 pattern=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" -eq 1 ] && grep -q -- "$pattern" "$T/err"; then ok; else
        bad "$what (exit $rc)"; sed 's/^/    /' "$T/err" | head -10 >&2; fi
}

check "--init-weights for cls" "$RNC" --init-weights "$M/w.safetensors" \
    --random --seed 3 "$M/cls.rn"

# Random weights and input, seeded: reproducible, said on stdout, and the
# temporary weights file is gone afterwards.
mkdir -p "$M/tmp"
check "--run with random weights" env TMPDIR="$M/tmp" "$RNC" --run \
    "$M/cls.rn" --seed 5 --repeat 3 --output "$M/r1.npy"
cp "$T/out" "$M/r.stdout"
cp "$T/err" "$M/r.stderr"
if grep -q 'random weights (seed 5)' "$M/r.stdout"; then ok; else
    bad "stdout names the random weights"; cat "$M/r.stdout" >&2; fi
if grep -q '^rnc: compile [0-9.]* ms' "$M/r.stderr" &&
    grep -q 'median' "$M/r.stderr" && grep -q 'min' "$M/r.stderr"; then ok; else
    bad "stderr: compile, median and min"; cat "$M/r.stderr" >&2; fi
if [ -z "$(ls -A "$M/tmp")" ]; then ok; else
    bad "temporary weights left in TMPDIR: $(ls "$M/tmp")"; fi
check "--run again, same seed" env TMPDIR="$M/tmp" "$RNC" --run \
    "$M/cls.rn" --seed 5 --output "$M/r2.npy"
same_file "same seed, same output" "$M/r1.npy" "$M/r2.npy"
check "--run, another seed" "$RNC" --run "$M/cls.rn" --seed 6 \
    --output "$M/r3.npy"
if ! cmp -s "$M/r1.npy" "$M/r3.npy"; then ok; else
    bad "another seed gives the same output"; fi

# Softmax: five lines "  #k  class N  P", probabilities falling; with
# NumPy at hand, they are the five largest of the array written.
awk '/^  #[1-5]  class [0-9]+  [0-9.]+$/ { n++; p = $4 + 0
        if (n > 1 && p > last + 1e-9) bad = 1
        if (p < 0 || p > 1) bad = 1
        last = p }
     END { exit !(n == 5 && !bad) }' "$M/r.stdout" && ok ||
    { bad "softmax top 5 lines"; cat "$M/r.stdout" >&2; }
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check "softmax top 5 are the array's" /usr/bin/python3 -c '
import sys, numpy as np
y = np.load(sys.argv[1]).ravel()
rows = [l.split() for l in open(sys.argv[2]) if l.startswith("  #")]
got = [(int(r[2]), float(r[3])) for r in rows]
want = sorted(range(len(y)), key=lambda i: -y[i])[:5]
assert [c for c, _ in got] == want, (got, want)
assert all(abs(p - y[c]) <= 1e-6 for c, p in got), (got, y)
' "$M/r1.npy" "$M/r.stdout"
fi

# Threads change nothing in the result.
check "--run 1 thread" "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors" \
    --threads 1 --output "$M/t1.npy"
check "--run 2 threads" "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors" \
    --threads 2 --output "$M/t2.npy"
check "threads: same result" "$NPYCMP" "$M/t2.npy" "$M/t1.npy"

# Two inputs and two outputs, in order; a flat output printed in full.
check "--init-weights for two" "$RNC" --init-weights "$M/w2.safetensors" \
    --random --seed 4 "$M/two.rn"
check "--run two inputs" "$RNC" --run "$M/two.rn" --weights "$M/w2.safetensors" \
    --output "$M/o0.npy" --output "$M/o1.npy"
if grep -q '^output dense (None, 3):' "$T/out" &&
    [ "$(sed -n '/^output dense/{n;p}' "$T/out" | wc -w)" -eq 3 ]; then ok; else
    bad "two: the dense output printed in full"; cat "$T/out" >&2; fi
if [ "$(grep '^output' "$T/out" | cut -d' ' -f2 | tr '\n' ' ')" = "dense flatten " ]; then
    ok; else bad "two: outputs in the model's order"; cat "$T/out" >&2; fi
npy_zeros "$M/a1.npy" "1, 6" 6
npy_zeros "$M/b1.npy" "1, 4, 4, 2" 32
npy_zeros "$M/a61.npy" "6, 1" 6
check "[1, N] and [1, H, W, C] inputs taken" "$RNC" --run "$M/two.rn" \
    --weights "$M/w2.safetensors" --input "$M/a1.npy" --input "$M/b1.npy"
expect_fail "[6, 1] refused for a flat [6]" "a61.npy.*expected \[6\] or \[1, 6\]" \
    "$RNC" --run "$M/two.rn" --weights "$M/w2.safetensors" \
    --input "$M/a61.npy" --input "$M/b1.npy"

# Bad data: exit 1, the runtime's message, nothing written or overwritten.
check "aot build of cls" aot_build "$M" cls
echo keep >"$M/keep.npy"
head -c 200 "$M/w.safetensors" >"$M/trunc.safetensors"
npy_zeros "$M/x.npy" "8, 8, 3" 192
npy_zeros "$M/x4.npy" "2, 8, 8, 3" 384
check "a hand-made .npy input" "$RNC" --run "$M/cls.rn" \
    --weights "$M/w.safetensors" --input "$M/x.npy"

# same_refusal DESCRIPTION WEIGHTS [INPUT]: --run refuses the data with exit
# 1 and word for word the message of the ahead-of-time program, writing
# nothing.
same_refusal() {
    local what=$1 w=$2 x=${3:-$M/x.npy} msg rc
    rm -f "$M/new.npy"
    "$M/cls" "$w" "$x" "$M/y.npy" 2>"$M/aot.err" >/dev/null
    msg=$(head -1 "$M/aot.err" | sed "s|^$M/cls: ||")
    "$RNC" --run "$M/cls.rn" --weights "$w" --input "$x" \
        --output "$M/new.npy" >/dev/null 2>"$M/jit.err"
    rc=$?
    if [ "$rc" -eq 1 ] && [ -n "$msg" ] && [ ! -e "$M/new.npy" ] &&
        grep -qxF "rnc: error: $msg" "$M/jit.err"; then ok; else
        bad "$what refused as ahead of time (exit $rc)"
        sed 's/^/    aot: /' "$M/aot.err" | head -3 >&2
        sed 's/^/    jit: /' "$M/jit.err" | head -5 >&2
    fi
}
wsize=$(wc -c <"$M/w.safetensors")
same_refusal "truncated weights" "$M/trunc.safetensors"
head -c $((wsize - 4)) "$M/w.safetensors" >"$M/short.safetensors"
same_refusal "weights 4 bytes short" "$M/short.safetensors"
cp "$M/w.safetensors" "$M/json.safetensors"
printf 'x' | dd of="$M/json.safetensors" bs=1 seek=8 conv=notrunc 2>/dev/null
same_refusal "damaged header" "$M/json.safetensors"
: >"$M/empty.safetensors"
same_refusal "empty weights file" "$M/empty.safetensors"
same_refusal "another model's weights" "$M/w2.safetensors"
if grep -q 'conv2d\|dense' "$M/jit.err"; then ok; else
    bad "another model's weights: the message names no tensor"; fi
"$RNC" --run "$M/cls.rn" --weights "$M/trunc.safetensors" --output "$M/keep.npy" \
    >/dev/null 2>&1
same_file "--output kept on failure" <(echo keep) "$M/keep.npy"
expect_fail "missing weights file" "nowhere.safetensors" \
    "$RNC" --run "$M/cls.rn" --weights "$M/nowhere.safetensors"
if [ ! -e "$M/new.npy" ]; then ok; else bad "--output written on failure"; fi

printf '\223NUMPY\001\000v\000{' >"$M/bad.npy"
same_refusal "damaged .npy" "$M/w.safetensors" "$M/bad.npy"
head -c 300 "$M/x.npy" >"$M/short.npy"
same_refusal "truncated .npy" "$M/w.safetensors" "$M/short.npy"
expect_fail "wrong-shaped input refused, naming the shape" "\[8, 8, 3\]" \
    "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors" \
    --input "$M/x4.npy" --output "$M/new.npy"
if [ ! -e "$M/new.npy" ]; then ok; else bad "--output written on failure"; fi
npy_zeros "$M/xc.npy" "1, 3, 8, 8" 192
expect_fail "an NCHW input refused, saying it is NCHW" \
    "\[1, 3, 8, 8\].*NCHW.*transpose(0, 2, 3, 1)" \
    "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors" --input "$M/xc.npy"
if "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors" \
    --input "$M/x4.npy" 2>&1 | grep -q NCHW; then
    bad "[2, 8, 8, 3] called NCHW"; else ok; fi
expect_fail "unwritable --output" "nodir" \
    "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors" --output "$M/nodir/y.npy"
expect_fail "second --output unwritable" "nodir" \
    "$RNC" --run "$M/two.rn" --weights "$M/w2.safetensors" \
    --output "$M/first.npy" --output "$M/nodir/y.npy"
if [ ! -e "$M/first.npy" ]; then ok; else
    bad "first --output written though the second could not be"; fi

# Many compilations in one process, all freed: RNC_JIT_RECOMPILE compiles
# the model again N times. Under SAN=1 LeakSanitizer checks at exit;
# otherwise valgrind, when it can read the binary (gcc's DWARF).
if [ "${SAN:-0}" = 1 ]; then
    check "30 compilations, LeakSanitizer" env RNC_JIT_RECOMPILE=30 \
        "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors"
elif command -v valgrind >/dev/null &&
    valgrind -q --error-exitcode=3 "$RNC" --version >/dev/null 2>&1; then
    check "30 compilations, valgrind" env RNC_JIT_RECOMPILE=30 valgrind -q \
        --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=3 "$RNC" --run "$M/cls.rn" --weights "$M/w.safetensors"
else
    echo "  jit: no leak checker for this build (valgrind missing or unreadable binary)" >&2
fi
finish
