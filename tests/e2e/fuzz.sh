#!/bin/bash
# fuzz.sh: the fuzz harnesses of tests/fuzz/ in the suite.
#
# 1. Replay, without libFuzzer, every reproducer kept in
#    tests/fuzz/regressions/NAME/, the inputs of known bugs reported
#    elsewhere (tests/fuzz/known/) and every seed (examples/, tests/errors/,
#    tests/numerics/, tests/data/, tests/images/, tests/fuzz/onnx/,
#    tests/import/onnx/) through the harness binaries of $BUILD
#    (built by `make check-once`; sanitized in the SAN=1 pass): each must
#    run to the end.
# 2. Outside the SAN=1 pass (the libFuzzer build has ASan+UBSan anyway), a
#    short libFuzzer run of each harness (FUZZ_CI_SECONDS, default 5) by
#    tools/fuzz.sh: no crash, leak, hang or sanitizer report. Skipped with
#    a line saying so when clang's libFuzzer runtime is missing.
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-$ROOT/build}
cd "$ROOT" || exit 2

# replay NAME FILE...: the harness NAME over the files, in one process.
replay() {
    local h=$1; shift
    if [ ! -x "$BUILD/fuzz/fuzz_$h" ]; then
        bad "$BUILD/fuzz/fuzz_$h is not built (make BUILD=... check-once builds it)"
        return
    fi
    [ $# -eq 0 ] && { ok; return; }
    check "replay $h over $# file(s)" timeout 300 "$BUILD/fuzz/fuzz_$h" "$@"
}

shopt -s nullglob
replay frontend tests/fuzz/regressions/frontend/*
replay safetensors tests/fuzz/regressions/safetensors/*
replay npy tests/fuzz/regressions/npy/*
replay image tests/fuzz/regressions/image/*
replay onnx tests/fuzz/regressions/onnx/*
replay keras tests/fuzz/regressions/keras/*
/usr/bin/python3 tests/fuzz/keras_seeds.py "$T/keras_seeds" >/dev/null
replay keras "$T"/keras_seeds/*
replay frontend examples/*.rn tests/errors/*.rn tests/numerics/*.rn tests/fuzz/*.rn tests/fuzz/known/*.rn
replay safetensors tests/data/*/*.safetensors
replay npy tests/data/*/*.npy
replay image tests/images/*.png tests/images/*.jpg tests/images/bad/*
replay onnx tests/fuzz/onnx/*.onnx tests/import/onnx/*.onnx tests/import/onnx/bad/*.onnx

# The replay harnesses refuse what they should: an input that makes the
# front end fail silently would abort, so a good and a bad program pass.
printf 'input x[4, 4, 1]\noutput conv2d(x, 2, 3)\n' >"$T/good.rn"
printf 'input x[4, 4, 1]\noutput conv2d(x, 2, 9)\n' >"$T/bad.rn"
replay frontend "$T/good.rn" "$T/bad.rn"

if [ "${SAN:-0}" = 1 ]; then
    echo "fuzz: libFuzzer run skipped in the SAN=1 pass (the plain pass runs it, with ASan+UBSan)" >&2
else
    FUZZ_SECONDS=${FUZZ_CI_SECONDS:-5} FUZZ_FRESH=1 DIFF_COUNT=0 tools/fuzz.sh >"$T/fuzz.out" 2>&1
    rc=$?
    sed 's/^/  /' "$T/fuzz.out" >&2
    if [ $rc -eq 77 ]; then
        ok
    elif [ $rc -eq 0 ]; then
        ok
    else
        bad "tools/fuzz.sh found a problem (see above and build-fuzz/)"
    fi
fi
finish
