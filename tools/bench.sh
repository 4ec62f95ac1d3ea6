#!/bin/sh
# bench.sh: what `make bench` runs. Prints figures only; asserts nothing.
# Each stage's figures come from its own script (tools/bench_*.sh).
cd "$(dirname "$0")/.." || exit 2
status=0
for b in tools/bench_*.sh; do
    [ -f "$b" ] || continue
    echo "== $(basename "$b" .sh | sed 's/^bench_//')"
    sh "$b" || status=1
    echo
done
exit $status
