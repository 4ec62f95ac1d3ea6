#!/bin/sh
# bench_standalone.sh: the standalone file against the runtime-linked
# build (part of `make bench`). For each model: `rnc -o --main` built
# against librnrt.a, and `rnc -o --standalone --main` built alone, both
# with cc -O3 -march=native; Keras-initialized weights, a zero input. The
# machine is shared, so the two take turns: ROUNDS rounds (7), each
# running both (in alternating order) for RUNS runs (20) at 1 and 2
# threads. Per build and thread count, the median over rounds of its
# round medians; the ratio is the median over rounds of each round's
# linked / standalone (above 1: the standalone file is faster). Also each
# build's compile time. With BEST=1, each round's minimum rather than its
# median (when other work keeps the second core busy, 2-thread figures
# are bimodal). Figures only: nothing is asserted.
#
#   tools/bench_standalone.sh [model...]    (default: resnet34 small_residual)
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
RNC=${RNC:-$BUILD/rnc}
CC=${CC:-cc}
RUNS=${RUNS:-20}
ROUNDS=${ROUNDS:-7}
D=$BUILD/bench
mkdir -p "$D" || exit 1
models=${*:-resnet34 small_residual}

# seconds COMMAND...: runs it, prints its wall time in seconds.
seconds() {
    t0=$(date +%s.%N)
    "$@" || return 1
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'
}

printf '%-16s %7s %12s %12s %9s   %s\n' model threads "linked ms" "standalone" "ratio" "compile s (linked, standalone)"
for name in $models; do
    src=examples/$name.rn
    [ -f "$src" ] || { printf '%-16s (no %s)\n' "$name" "$src"; continue; }
    p=$D/sa_$name
    "$RNC" "$src" -o "$p.linked.c" --main &&
        "$RNC" "$src" -o "$p.alone.c" --standalone --main &&
        "$RNC" --init-weights "$p.safetensors" --seed 1 "$src" &&
        cl=$(seconds "$CC" -O3 -march=native -std=c11 "$p.linked.c" $("$RNC" --cflags) \
            $("$RNC" --libs) -o "$p.linked") &&
        cs=$(seconds "$CC" -O3 -march=native -std=c11 "$p.alone.c" -lm -lpthread \
            -o "$p.alone") || {
        printf '%-16s build failed\n' "$name"
        continue
    }
    dims=$(sed -n 's/^input [A-Za-z_0-9]*\[\([0-9]*\), *\([0-9]*\), *\([0-9]*\)\].*/\1 \2 \3/p' "$src" | head -n 1)
    # shellcheck disable=SC2086 # three numbers
    tools/npy_zeros.sh "$p.in.npy" $dims
    : >"$p.times"
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        for t in 1 2; do
            if [ $((r % 2)) -eq 0 ]; then order="linked alone"; else order="alone linked"; fi
            for b in $order; do
                "$p.$b" --threads $t --repeat "$RUNS" "$p.safetensors" "$p.in.npy" \
                    "$p.$b.out.npy" 2>"$p.err" || { cat "$p.err"; exit 1; }
                if [ "${BEST:-0}" = 1 ]; then ms=$(sed -n 's/.*min \([0-9.]*\) ms.*/\1/p' "$p.err")
                else ms=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$p.err"); fi
                echo "$r $t $b $ms" >>"$p.times"
            done
        done
        r=$((r + 1))
    done
    /usr/bin/python3 - "$p.times" "$name" "$cl" "$cs" <<'PY'
import statistics as st, sys
path, name, cl, cs = sys.argv[1:5]
rows = [l.split() for l in open(path) if l.strip()]
for t in ('1', '2'):
    ms = {b: {r: float(m) for r, tt, bb, m in rows if tt == t and bb == b}
          for b in ('linked', 'alone')}
    ratio = st.median(ms['linked'][r] / ms['alone'][r] for r in ms['linked'])
    print('%-16s %7s %12.2f %12.2f %9.3f   %s, %s' % (
        name, t, st.median(ms['linked'].values()), st.median(ms['alone'].values()),
        ratio, cl, cs))
PY
done
