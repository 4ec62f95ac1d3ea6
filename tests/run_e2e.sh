#!/bin/bash
# run_e2e.sh: runs every tests/e2e/*.sh and prints the total in the plain
# form "e2e: N passed, N failed", each script's line with the seconds it
# took (and its CPU seconds), and under it what the script said on stderr
# (its failures). Exit 1
# if any script failed.
#
# E2E_JOBS (the number of cores) scripts run at once, the longest first;
# their lines are printed in the scripts' order. Scripts that time
# themselves against their own runs, or run make on the source tree, run
# alone (SOLO).
cd "$(dirname "$0")/.." || exit 2
JOBS=${E2E_JOBS:-$(nproc 2>/dev/null || echo 2)}
SOLO=" concurrency deb install limits "
# the longest first, so that the last to finish is a short one
FIRST="cross standalone differential fuzz inspect jit numerics import_onnx aot"
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT

# run NAME: the script's last line and stderr into $R, with its seconds
# and the CPU seconds it took (user + system of its processes, from
# `times` in the subshell run runs in).
run() (
    start=$SECONDS
    line=$(bash "tests/e2e/$1.sh" 2>"$R/$1.err" | tail -n 1)
    times >"$R/$1.times" # (in a pipe it would run in a child of its own)
    cpu=$(tail -n 1 "$R/$1.times" | awk '{ n = 0
        for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); n += t[1] * 60 + t[2] }
        printf "%.0f", n }')
    echo "$line ($((SECONDS - start)) s, CPU $cpu s)" >"$R/$1.line"
)

names=()
for t in tests/e2e/*.sh; do
    n=$(basename "$t" .sh)
    [ "$n" = lib ] || names+=("$n")
done
order=()
for n in $FIRST; do [ -f "tests/e2e/$n.sh" ] && order+=("$n"); done
for n in "${names[@]}"; do [[ " $FIRST " == *" $n "* ]] || order+=("$n"); done

for n in "${order[@]}"; do
    [[ $SOLO == *" $n "* ]] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    run "$n" &
done
wait
for n in "${order[@]}"; do
    [[ $SOLO == *" $n "* ]] && run "$n"
done

total_pass=0
total_fail=0
for n in "${names[@]}"; do
    line=$(cat "$R/$n.line" 2>/dev/null)
    echo "$line"
    sed "s/^/  /" "$R/$n.err" 2>/dev/null
    p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed (.*$/\1/p')
    f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed (.*$/\2/p')
    [ -n "$p" ] || { p=0; f=1; echo "  tests/e2e/$n.sh did not finish"; }
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "e2e: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
