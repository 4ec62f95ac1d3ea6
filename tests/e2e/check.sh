#!/bin/bash
# check.sh: `rnc --check` is silent with exit 0 on every example; usage
# errors exit 2 with the usage text; a missing file exits 1.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

count=0
for src in examples/*.rn; do
    count=$((count + 1))
    "$RNC" --check "$src" >"$T/stdout" 2>"$T/stderr"
    rc=$?
    if [ $rc -eq 0 ]; then ok; else
        bad "$src: exit $rc"; sed 's/^/    /' "$T/stderr" | head -10 >&2; fi
    if [ -s "$T/stdout" ] || [ -s "$T/stderr" ]; then
        bad "$src: --check printed something"; else ok; fi
done
if [ "$count" -ge 2 ]; then ok; else bad "only $count examples"; fi

# usage errors: exit 2 and the usage on stderr
usage_case() {
    local what=$1; shift
    "$RNC" "$@" >"$T/stdout" 2>"$T/stderr"
    local rc=$?
    if [ $rc -eq 2 ]; then ok; else bad "$what: exit $rc, not 2"; fi
    if grep -q '^usage: rnc' "$T/stderr"; then ok; else bad "$what: no usage"; fi
}
usage_case "no arguments"
usage_case "no file" --check
usage_case "unknown option" --chekc examples/resnet34.rn
usage_case "two files" --check examples/resnet34.rn examples/small_residual.rn
usage_case "nothing to do" examples/resnet34.rn
usage_case "-o without a value" examples/resnet34.rn -o

# a file that cannot be read is an ordinary error (exit 1)
"$RNC" --check "$T/missing.rn" >"$T/stdout" 2>"$T/stderr"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "missing file: exit $rc, not 1"; fi
if grep -q "missing.rn" "$T/stderr"; then ok; else bad "missing file: not named"; fi

# the model name and the summary follow the source: a program with no
# `model` statement is named after its file
printf 'input x[4]\noutput dense(x, 2)\n' >"$T/my-net.rn"
check "--check of a nameless model" "$RNC" --check "$T/my-net.rn"
"$RNC" --summary "$T/my-net.rn" >"$T/summary" 2>&1
if head -n 1 "$T/summary" | grep -qx 'Model: "my_net"'; then ok; else
    bad "a nameless model is not named after its file"; fi
finish
