#!/bin/bash
# errors.sh: every bad program of tests/errors/ fails with exit 1, the exact
# stderr of its .expected file, and no output file written, both under
# --check and when compiling to C.
# UPDATE=1 bash tests/e2e/errors.sh rewrites the .expected files from the
# current rnc (then review every diff by eye before committing).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

n=0
for src in tests/errors/*.rn; do
    want=${src%.rn}.expected
    n=$((n + 1))
    if [ "${UPDATE:-0}" = 1 ]; then
        "$RNC" --check "$src" 2>"$want"
    fi
    if [ ! -f "$want" ]; then
        bad "$src: no $want"
        continue
    fi

    "$RNC" --check "$src" >"$T/stdout" 2>"$T/stderr"
    rc=$?
    if [ $rc -eq 1 ]; then ok; else bad "$src --check: exit $rc, not 1"; fi
    same_file "$src --check: stderr" "$want" "$T/stderr"
    if [ -s "$T/stdout" ]; then bad "$src --check: wrote to stdout"; else ok; fi

    rm -f "$T/out.c" "$T/out.h"
    "$RNC" "$src" -o "$T/out.c" >"$T/stdout" 2>"$T/stderr"
    rc=$?
    if [ $rc -eq 1 ]; then ok; else bad "$src -o: exit $rc, not 1"; fi
    same_file "$src -o: stderr" "$want" "$T/stderr"
    if [ -e "$T/out.c" ] || [ -e "$T/out.h" ]; then
        bad "$src -o: an output file was written"
    else ok; fi
done
# the corpus itself must stay big enough to cover the front end
if [ "$n" -ge 35 ]; then ok; else bad "only $n programs in tests/errors"; fi
finish
