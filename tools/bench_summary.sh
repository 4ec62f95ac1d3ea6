#!/bin/sh
# bench_summary.sh: wall time of `rnc --summary` on the examples, median
# and minimum of N runs (default 21) each. The target: resnet50 under
# 20 ms. Not a test: timings depend on the machine.
#   tools/bench_summary.sh [RNC] [N]
RNC=${1:-build/rnc}
N=${2:-21}
cd "$(dirname "$0")/.." || exit 2
[ -x "$RNC" ] || { echo "no $RNC: build first (make)" >&2; exit 2; }
for src in examples/resnet50.rn examples/resnet34.rn examples/vgg16.rn \
           examples/mobilenet_v1.rn; do
    i=0
    while [ $i -lt "$N" ]; do
        t0=$(date +%s%N)
        "$RNC" --summary "$src" >/dev/null || exit 1
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000))
        i=$((i + 1))
    done | sort -n | awk -v src="$src" '
        { t[NR] = $1 }
        END { printf "%-24s median %6.2f ms  min %6.2f ms  (%d runs)\n",
                     src, t[int((NR + 1) / 2)] / 1000, t[1] / 1000, NR }'
done
