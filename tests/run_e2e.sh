#!/bin/sh
# run_e2e.sh: runs every tests/e2e/*.sh and prints the total in the plain
# form "e2e: N passed, N failed", each script's line with the seconds it
# took. Exit 1 if any script failed.
cd "$(dirname "$0")/.." || exit 2
total_pass=0
total_fail=0
for t in tests/e2e/*.sh; do
    [ "$(basename "$t")" = lib.sh ] && continue
    start=$(date +%s)
    line=$(bash "$t" | tail -n 1)
    echo "$line ($(($(date +%s) - start)) s)"
    p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    [ -n "$p" ] || { p=0; f=1; echo "  $t did not finish"; }
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "e2e: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
