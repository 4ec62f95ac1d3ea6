#!/bin/bash
# differential.sh: the code generator against a plain reference evaluator.
#
# DIFF_COUNT (30; 10 in the SAN=1 pass) random valid programs from tests/tools/gen_rn.c, seeds
# DIFF_SEED (1) onwards, each: `rnc --init-weights --random`, inputs and
# the reference outputs from tests/tools/refeval.c (naive double loops over
# rnc's graph IR), then the ahead-of-time program (`rnc -o --main`, cc -O1,
# run; sanitized under SAN=1), the standalone one (`rnc -o --standalone
# --main`, cc -O1 -lm -lpthread alone) and the JIT (`rnc --run --output`),
# each output within |got - ref| <= 1e-4 * max|ref| + 1e-5 (npycmp). A failure
# prints the program. DIFF_JOBS (2) programs run at once. The programs of
# tests/differential/*.rn (reproducers of bugs found this way) run first,
# every time; one named in tests/differential/KNOWN (a bug reported but not
# yet fixed) prints a line instead of failing until it passes.
# First, refeval itself is checked against PyTorch: it must reproduce every
# golden of tests/golden/MANIFEST (but DIFF_GOLDEN_SKIP, resnet34 by
# default: 12 s of naive loops).
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-$ROOT/build}
# a third of them in the sanitizer pass: each program is built and run
# three ways under the sanitizers there (its share of the pass was 5 of
# 25 minutes); the random programs' coverage is the plain pass's
COUNT=${DIFF_COUNT:-30}
[ "${SAN:-0}" = 1 ] && COUNT=${DIFF_COUNT:-10}
SEED=${DIFF_SEED:-1}
JOBS=${DIFF_JOBS:-2}
for tool in gen_rn refeval npycmp; do
    [ -x "$BUILD/$tool" ] || { bad "$BUILD/$tool is not built (make BUILD=... check-once)"; finish; exit; }
done

# refeval against the goldens of tools/reference.py (PyTorch).
. "$ROOT/tools/numerics_case.sh"
skip=" ${DIFF_GOLDEN_SKIP-resnet34} "
while read -r name model seed input range; do
    [[ $skip == *" $name "* ]] && continue
    d=$T/golden_$name
    mkdir -p "$d"
    case_source "$ROOT" "$model" "$input" "$d/model.rn"
    i=0
    for f in $(case_files "$ROOT/tests/golden" "$name" in); do cp "$f" "$d/in$i.npy"; i=$((i + 1)); done
    if ! "$RNC" --init-weights "$d/w.safetensors" --random --seed "$seed" "$d/model.rn" 2>"$d/err" ||
        ! "$BUILD/refeval" "$d/model.rn" "$d/w.safetensors" "$d" >/dev/null 2>>"$d/err"; then
        bad "refeval on golden case $name: $(head -3 "$d/err")"; continue
    fi
    i=0
    for f in $(case_files "$ROOT/tests/golden" "$name" out); do
        if "$BUILD/npycmp" "$d/ref$i.npy" "$f" >"$d/cmp" 2>&1; then ok; else
            bad "refeval disagrees with PyTorch on $name output $i: $(cat "$d/cmp")"; fi
        i=$((i + 1))
    done
done < <(manifest_cases "$ROOT/tests/golden/MANIFEST")

# one SEED|FILE.rn: "pass|fail ID ..." lines on stdout, details in
# $T/ID.log, the program in $T/pID/model.rn.
one() {
    local s=$1 seed=$1 d nin nout i args=() outs=() souts=()
    case $s in
    *.rn) s=$(basename "$1" .rn); seed=1; d=$T/p$s; mkdir -p "$d"; cp "$1" "$d/model.rn" ;;
    *) d=$T/p$s; mkdir -p "$d"
       "$BUILD/gen_rn" "$s" >"$d/model.rn" || { echo "fail $s: gen_rn"; return; } ;;
    esac
    exec 2>"$T/$s.log"
    if ! "$RNC" --init-weights "$d/w.safetensors" --random --seed "$seed" "$d/model.rn"; then
        echo "fail $s: --init-weights"; return
    fi
    read -r nin nout < <("$BUILD/refeval" --make-inputs "$seed" "$d/model.rn" "$d/w.safetensors" "$d") ||
        { echo "fail $s: refeval"; return; }
    [ -n "$nout" ] || { echo "fail $s: refeval"; return; }
    for ((i = 0; i < nin; i++)); do args+=(--input "$d/in$i.npy"); outs+=("$d/in$i.npy"); done
    for ((i = 0; i < nout; i++)); do args+=(--output "$d/jit$i.npy"); done
    for ((i = 0; i < nout; i++)); do outs+=("$d/aot$i.npy"); done
    for ((i = 0; i < nin; i++)); do souts+=("$d/in$i.npy"); done
    for ((i = 0; i < nout; i++)); do souts+=("$d/sa$i.npy"); done
    if ! "$RNC" "$d/model.rn" -o "$d/model.c" --main ||
        ! cc -O1 -std=c11 $SANFLAGS "$d/model.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$d/model" ||
        ! timeout 60 "$d/model" "$d/w.safetensors" "${outs[@]}" >/dev/null; then
        echo "fail $s: the ahead-of-time program did not build or run"
    fi
    if ! "$RNC" "$d/model.rn" -o "$d/sa.c" --standalone --main ||
        ! cc -O1 -std=c11 $SANFLAGS "$d/sa.c" -lm -lpthread -o "$d/sa" ||
        ! timeout 60 "$d/sa" "$d/w.safetensors" "${souts[@]}" >/dev/null; then
        echo "fail $s: the standalone program did not build or run"
    fi
    if ! timeout 60 "$RNC" --run "$d/model.rn" --weights "$d/w.safetensors" "${args[@]}" >/dev/null; then
        echo "fail $s: rnc --run failed"
    fi
    for ((i = 0; i < nout; i++)); do
        for k in aot sa jit; do
            if [ -f "$d/$k$i.npy" ] && "$BUILD/npycmp" "$d/$k$i.npy" "$d/ref$i.npy" >"$d/cmp" 2>&1; then
                echo "pass $s $k output $i"
            else
                echo "fail $s: $k output $i differs from the reference: $(cat "$d/cmp" 2>/dev/null)"
            fi
        done
    done
}

export -f one
export RNC BUILD T SANFLAGS
{ ls "$ROOT"/tests/differential/*.rn 2>/dev/null; seq "$SEED" $((SEED + COUNT - 1)); } |
    xargs -P "$JOBS" -I{} bash -c 'one {}' >"$T/results"
known=" $(grep -v '^#' "$ROOT/tests/differential/KNOWN" 2>/dev/null | tr '\n' ' ') "
while read -r verdict rest; do
    s=${rest%%[: ]*}
    if [ "$verdict" = pass ]; then ok
    elif [[ $known == *" $s "* ]]; then
        echo "differential: known bug, reported, not yet fixed: tests/differential/$s.rn: ${rest#*: }" >&2
    else
        bad "$rest"
        { if [ -f "$ROOT/tests/differential/$s.rn" ]; then echo "    program (tests/differential/$s.rn):"
          else echo "    program (tests/tools/gen_rn $s):"; fi; sed 's/^/      /' "$T/p$s/model.rn"
          sed 's/^/    /' "$T/$s.log" | head -20; } >&2
    fi
done <"$T/results"
finish
