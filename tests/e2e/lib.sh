# lib.sh: sourced by every end-to-end script in tests/e2e/.
# The runner sets RNC (the binary under test), BUILD (its build folder) and
# SAN (1 under sanitizers). Each check counts; `finish` prints the tally as
# "NAME: P passed, F failed" and exits non-zero on any failure.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

BUILD=${BUILD:-$ROOT/build}
# Generated C is built with the sanitizers too when the suite runs under them.
SANFLAGS=
if [ "${SAN:-0}" = 1 ]; then
    SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"
fi

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "  FAIL: $*" >&2; }

# check DESCRIPTION COMMAND...: passes when the command exits 0.
check() {
    local what=$1; shift
    if "$@" >"$T/out" 2>"$T/err"; then ok; else
        bad "$what"; sed 's/^/    /' "$T/err" | head -20 >&2; fi
}

# same_file DESCRIPTION EXPECTED ACTUAL: passes when the files are equal.
same_file() {
    if cmp -s "$2" "$3"; then ok; else
        bad "$1"; diff -u "$2" "$3" | head -30 | sed 's/^/    /' >&2; fi
}

# need_npycmp: sets NPYCMP to the golden comparison tool (make builds it
# into $BUILD; otherwise it is built here), or fails the script.
need_npycmp() {
    NPYCMP=$BUILD/npycmp
    [ -x "$NPYCMP" ] && return 0
    NPYCMP=$T/npycmp
    cc -O1 -std=c11 -I"$ROOT/runtime" "$ROOT/tests/tools/npycmp.c" \
        "$BUILD/librnrt.a" -lm -o "$NPYCMP" || { bad "build npycmp"; finish; exit; }
}

finish() {
    echo "$(basename "$0" .sh): $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
