#!/bin/bash
# fuzz.sh: builds the libFuzzer harnesses of tests/fuzz/ with clang into
# build-fuzz/ (compiler and runtime instrumented, ASan+UBSan) and runs each
# for FUZZ_SECONDS (default 60), then DIFF_COUNT (default 500) random
# programs through tests/e2e/differential.sh (skipped when DIFF_COUNT=0).
#
# FUZZ_ONLY="npy frontend" picks harnesses. Each run grows the corpus in
# build-fuzz/corpus/NAME (FUZZ_FRESH=1: a temporary one instead, as the
# suite's short runs use; seeded from examples/, tests/errors/,
# tests/numerics/, tests/data/, tests/images/, tests/fuzz/onnx/,
# tests/import/onnx/ and tests/fuzz/regressions/), logs to
# build-fuzz/NAME.log (the last run's), and leaves any crash, leak or timeout as
# build-fuzz/artifacts/NAME-*: copy it into tests/fuzz/regressions/NAME/
# once fixed. Prints "fuzz NAME: N executions in S s" per harness; exit 1
# on any finding. Exit 77 when clang's libFuzzer runtime is missing.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
FB=build-fuzz
SECONDS_EACH=${FUZZ_SECONDS:-60}
DIFF=${DIFF_COUNT:-500}
ONLY=${FUZZ_ONLY:-frontend safetensors npy onnx keras image}
mkdir -p "$FB/artifacts"
# Seeds and logs of this run apart from any other run at the same time.
RUN=$FB/run.$$
mkdir -p "$RUN"
trap 'rm -rf "$RUN"' EXIT

# clang with its fuzzer runtime (Debian: clang and libclang-rt-14-dev)?
probe=$RUN/probe
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" \
    >/dev/null 2>&1; then
    echo "fuzz: skipped: clang's libFuzzer runtime is missing (Debian: apt-get install clang libclang-rt-14-dev)"
    exit 77
fi

# One build at a time: test runs and `make fuzz` may start together.
# RN_NO_SIMD: the harnesses feed the parsers; the runtime's vector copies
# (the grouped kernel: ~1 minute a copy under clang's ASan) are not theirs.
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DRN_NO_SIMD"
if ! flock "$FB/.lock" make --no-print-directory -j"$(nproc)" BUILD=$FB CC=clang OPT=-O1 \
    SANFLAGS="$SAN" FUZZ_MAIN= FUZZ_LINK=-fsanitize=fuzzer fuzz-bins \
    >"$RUN/build.log" 2>&1; then
    cp "$RUN/build.log" "$FB/build.log"; echo "fuzz: build failed (see $FB/build.log)"
    tail -20 "$FB/build.log"
    exit 1
fi

# seeds NAME DIR: a fresh copy of NAME's seed files in DIR, each named
# after its folder (tests/errors/x.rn -> errors_x.rn) as names repeat.
put() {
    local dir=$1 f; shift
    for f in "$@"; do
        [ -f "$f" ] && cp "$f" "$dir/$(basename "$(dirname "$f")")_$(basename "$f")"
    done
}
seeds() {
    rm -rf "$2"
    mkdir -p "$2"
    case $1 in
    frontend)
        put "$2" examples/*.rn tests/errors/*.rn tests/numerics/*.rn tests/fuzz/*.rn ;;
    safetensors)
        put "$2" tests/data/ok/*.safetensors tests/data/bad/*.safetensors
        "$FB/rnc" --init-weights "$2/fixed.safetensors" --random \
            tests/fuzz/fixed.rn ;;
    npy)
        put "$2" tests/data/ok/*.npy tests/data/bad/*.npy ;;
    keras)
        python3 tests/fuzz/keras_seeds.py "$2" ;;
    onnx)
        put "$2" tests/fuzz/onnx/*.onnx tests/import/onnx/*.onnx \
            tests/import/onnx/bad/*.onnx ;;
    image)
        put "$2" tests/images/*.png tests/images/*.jpg tests/images/bad/* ;;
    esac
    put "$2" tests/fuzz/regressions/"$1"/*
    return 0
}

status=0
for h in $ONLY; do
    bin=$FB/fuzz/fuzz_$h
    corpus=$FB/corpus/$h
    [ "${FUZZ_FRESH:-0}" = 1 ] && corpus=$RUN/corpus/$h
    mkdir -p "$corpus"
    seeds "$h" "$RUN/seeds/$h"
    dict= maxlen=4096
    [ "$h" = frontend ] && dict=-dict=tests/fuzz/rn.dict
    [ "$h" = onnx ] && dict=-dict=tests/fuzz/onnx.dict
    # inputs of the importers are whole files: ONNX's run to 44 KB,
    # model.json and its shard to 64 KiB
    [ "$h" = onnx ] && maxlen=65536
    [ "$h" = keras ] && dict=-dict=tests/fuzz/keras.dict maxlen=65536
    start=$(date +%s)
    # -timeout: one input over 10 s is a hang; -rss_limit_mb: 2 GiB is OOM
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -max_len=$maxlen -print_final_stats=1 $dict \
        -artifact_prefix="$FB/artifacts/$h-" \
        "$corpus" "$RUN/seeds/$h" >"$RUN/$h.log" 2>&1
    rc=$?
    cp "$RUN/$h.log" "$FB/$h.log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$FB/$h.log" | tail -1)
    echo "fuzz $h: ${runs:-?} executions in $(( $(date +%s) - start )) s, corpus $(ls "$corpus" | wc -l) files"
    if [ $rc -ne 0 ]; then
        status=1
        echo "fuzz $h: FOUND a problem (exit $rc); the report:"
        grep -m1 -A25 '^==[0-9]*==ERROR\|runtime error\|ALARM\|deadly signal' "$FB/$h.log" | head -40
        ls "$FB"/artifacts/"$h"-* 2>/dev/null
    fi
done

if [ "$DIFF" -gt 0 ]; then
    flock "$FB/.lock" make --no-print-directory BUILD=build-fuzz-diff \
        all build-fuzz-diff/gen_rn build-fuzz-diff/refeval build-fuzz-diff/npycmp >"$FB/diff-build.log" 2>&1 ||
        { echo "fuzz: differential build failed (see $FB/diff-build.log)"; exit 1; }
    seed=${DIFF_SEED:-$(date +%s)}
    echo "differential: $DIFF programs, seeds $seed to $((seed + DIFF - 1))"
    RNC=$ROOT/build-fuzz-diff/rnc BUILD=$ROOT/build-fuzz-diff DIFF_COUNT=$DIFF \
        DIFF_SEED=$seed bash tests/e2e/differential.sh || status=1
fi
exit $status
