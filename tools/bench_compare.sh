#!/bin/sh
# bench_compare.sh: rnc against ONNX Runtime and PyTorch on the same
# networks (part of `make bench`). Figures only: asserts nothing, except
# that the exported ONNX and TorchScript models compute what
# tools/reference.py computes (else that system is skipped for the net).
#
# For each network and thread count, one line per system: median and
# minimum ms per inference (after warm-up), GFLOP/s (2 * the MACs of
# `rnc --summary` / median), peak RSS of the timing process, and the time
# from process start to first result (a cold process that loads the model,
# runs it once, prints and exits; the file cache is warm).
#   ONNX Runtime: npm onnxruntime-node 1.30.0 (tools/compare/ort_bench.js),
#     intra-op threads N, inter-op 1, graph optimization 'all', sequential.
#   PyTorch: Debian's python3-torch, TorchScript traced, frozen and
#     optimize_for_inference'd (tools/compare/torch_bench.py), N threads.
#   Both take NCHW input, torch's native layout; rnc takes NHWC.
# Two kinds of network, both cached under $BUILD/compare/NAME:
#   examples/NAME.rn (resnet34, small_residual = the seed-000 net, ...):
#     exported by tools/compare/to_torch.py from `rnc --graph-json` and
#     `rnc --init-weights --random --seed 1`; rnc compiles the .rn.
#   torchvision's networks ($TV_NETS; these names mean torchvision's, not
#     an example's): exported by tools/compare/export_torchvision.py
#     (weights=None, seeded, eval, torch.onnx.export at opset 13, batch 1,
#     224x224); ORT loads the .onnx, rnc imports that same file
#     (rnc --import) and compiles the .rn it writes. Every system's output
#     is checked against PyTorch's float64 output: within
#     1e-4 max|ref| + 1e-5, same argmax.
#
# Environment: BUILD (build), RNC ($BUILD/rnc), CC (cc), NETS, THREADS
# ("1 2"), REPEAT (20 timed runs a process; x10 for networks under 0.2
# GMAC), ROUNDS (5: processes per system, interleaved), PEAK (GFLOP/s
# per core; default: measured by the first rnc program's --profile, an
# FMA loop on the widest vectors rnc's kernels use here).
# Ends with a summary: per network and threads, the median ms of each
# system and the ratios ORT/rnc and PyTorch/rnc (> 1: rnc is faster), and
# the geometric mean of ORT/rnc over the torchvision networks' pairs.
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
RNC=${RNC:-$BUILD/rnc}
CC=${CC:-cc}
TV_NETS="resnet50 mobilenet_v2 mobilenet_v3_large efficientnet_b0 densenet121 regnet_y_400mf"
NETS=${NETS:-"resnet34 small_residual $TV_NETS"}
THREADS=${THREADS:-"1 2"}
REPEAT=${REPEAT:-20}
ROUNDS=${ROUNDS:-5}
# GFLOP/s of one core at its peak (e.g. AVX-512: 2 FMA ports x 16 lanes x
# 2 flops x the clock); %peak is against PEAK x threads. GFLOP/s count the
# network's direct-convolution FLOPs (2 x MACs) for every system alike:
# rnc's Winograd layers do fewer, so its figure may pass 100%.
PEAK=${PEAK:-}
PY=/usr/bin/python3
CMP=tools/compare
OUT=$BUILD/compare
mkdir -p "$OUT" || exit 1
case $RNC in /*) ;; *) RNC=$PWD/$RNC ;; esac

# ---------------------------------------------------------------------
# rnc's side: the contract of the two functions below:
#   rnc_prepare NAME SRC DIR   build what rnc_time needs, once per network;
#                              SRC is examples/NAME.rn, with the weights
#                              the exports use in DIR/w.safetensors, or
#                              DIR/model.onnx (a torchvision network: rnc
#                              imports it, writing DIR/net.rn and
#                              DIR/w.safetensors); DIR has input0.npy
#                              (NHWC) and ref0.npy; return non-zero if rnc
#                              cannot do this network
#   rnc_time OUT NAME THREADS  set R_MEDIAN and R_MIN (ms per inference)
#                              and R_RSS (peak KiB, or empty); return
#                              non-zero if unavailable
# rnc: the `--main` program of `rnc X.rn -o x.c --main`, built with
# cc -O3 -march=native, run with --threads N --repeat $REP.
# ---------------------------------------------------------------------
rnc_prepare() {
    _src=$2 _d=$3
    : >"$_d/rnc.err"
    case $_src in
    *.onnx)
        "$RNC" --import "$_src" -o "$_d/net.rn" --weights "$_d/w.safetensors" \
            2>>"$_d/rnc.err" || return 1
        _src=$_d/net.rn ;;
    esac
    # shellcheck disable=SC2046 # --cflags/--libs are several words
    "$RNC" "$_src" -o "$_d/rnc_model.c" --main 2>>"$_d/rnc.err" &&
        "$CC" -O3 -march=native -std=c11 "$_d/rnc_model.c" \
            $("$RNC" --cflags) $("$RNC" --libs) -o "$_d/rnc_model" \
            2>>"$_d/rnc.err" &&
        "$_d/rnc_model" "$_d/w.safetensors" "$_d/input0.npy" \
            "$_d/rnc_out.npy" 2>>"$_d/rnc.err" || return 1
    # a wrong rnc is still timed, but the table says so
    "$PY" -c '
import sys, numpy as np
a = np.load(sys.argv[1]).astype(np.float64).ravel()
b = np.load(sys.argv[2]).astype(np.float64).ravel()
if a.size != b.size:
    sys.exit(1)
if sys.argv[3] == "max":  # a torchvision network: the import tests rule
    e = np.abs(a - b).max()
    t = 1e-4 * np.abs(b).max() + 1e-5
    same = "agrees" if a.argmax() == b.argmax() else "DIFFERS"
    print(f"  rnc: max error {e:.2e} (tolerance {t:.2e}), argmax {same}")
    sys.exit(0 if e <= t and a.argmax() == b.argmax() else 1)
f = max(0.01 * np.abs(b).max(), 1e-30)
e = (np.abs(a - b) / np.maximum(np.abs(b), f)).max()
sys.exit(0 if e <= 1e-4 else 1)' "$_d/rnc_out.npy" "$_d/ref0.npy" \
        "$(case $2 in *.onnx) echo max ;; *) echo rel ;; esac)" ||
        echo "  warning: rnc's output differs from the reference"
    return 0
}

rnc_time() {
    _d=$1/$2 _t=$3
    R_MEDIAN='' R_MIN='' R_RSS=''
    timed "$_d/rnc_model" --threads "$_t" --repeat "$REP" \
        "$_d/w.safetensors" "$_d/input0.npy" "$_d/rnc_out.npy" || return 1
    # the --main program says "median X ms, min Y ms per run" on stderr
    R_MEDIAN=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' "$T_ERR" | head -1)
    R_MIN=$(sed -n 's/.*min \([0-9.]*\) ms.*/\1/p' "$T_ERR" | head -1)
    R_RSS=$T_RSS
    [ -n "$R_MEDIAN" ]
}
# ---------------------------------------------------------------------

# timed CMD...: runs CMD (under /usr/bin/time -v when there is one), its
# stdout in $T_OUT, stderr in $T_ERR, peak RSS in KiB in T_RSS.
T_OUT=$OUT/last.out T_ERR=$OUT/last.err
timed() {
    T_RSS=
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$OUT/last.time" "$@" >"$T_OUT" 2>"$T_ERR" ||
            return 1
        T_RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' \
            "$OUT/last.time")
    else
        "$@" >"$T_OUT" 2>"$T_ERR" || return 1
    fi
}

# first_ms CMD...: ms of wall clock from starting CMD until it exits; the
# programs given here exit as soon as they have their first result.
first_ms() {
    _t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || return 1
    _t1=$(date +%s%N)
    echo $(( (_t1 - _t0) / 1000000 ))
}

# field LINE KEY: the value of KEY=... in a bench program's result line.
field() {
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# row THREADS SYSTEM MEDIAN MIN RSS_KIB FIRST_MS [NOTE]
row() {
    awk -v t="$1" -v s="$2" -v med="$3" -v mn="$4" -v rss="$5" \
        -v first="$6" -v macs="$MACS" -v note="$7" -v peak="$PEAK" 'BEGIN {
        g = (macs > 0 && med > 0) ? 2 * macs / (med * 1e6) : 0
        gf = g > 0 ? sprintf("%.1f", g) : "-"
        pk = g > 0 && peak > 0 ? sprintf("%.0f%%", 100 * g / (peak * t)) : "-"
        r = rss != "" ? sprintf("%.0f", rss / 1024) : "-"
        f = first != "" ? first : "-"
        printf "  %-2s %-13s %10.2f %10.2f %8s %6s %9s %11s  %s\n", t, s, med, mn, gf, pk, r, f, note
    }'
    echo "$NAME $1 $2 $3" >>"$SUMMARY"
}

# newer A B: whether file A was modified after file B.
newer() {
    [ -n "$(find "$1" -newer "$2" 2>/dev/null)" ]
}

# ratio A B: A / B to two decimals.
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# is_tv NAME: whether NAME is one of torchvision's networks.
is_tv() {
    case " $TV_NETS " in *" $1 "*) return 0 ;; esac
    return 1
}

# prepare_tv NAME: torchvision's network exported in $OUT/NAME (model.onnx,
# model.pt, input0.npy, ref0.npy, meta.json) and checked; sets HAVE_EXPORT.
# Re-exported when the export script changed.
prepare_tv() {
    _d=$OUT/$1
    HAVE_EXPORT=
    mkdir -p "$_d" || return 1
    if [ -f "$_d/exported.ok" ] &&
        ! newer "$CMP/export_torchvision.py" "$_d/exported.ok"; then
        HAVE_EXPORT=1
        echo "  exports cached in $_d (checked against float64 PyTorch when made)"
        return 0
    fi
    rm -f "$_d/exported.ok" "$_d/ort.ok"
    if ! "$PY" "$CMP/export_torchvision.py" "$1" "$_d" >"$_d/export.log" 2>&1; then
        echo "  skipped: export failed: $(grep -i error "$_d/export.log" | tail -1)"
        return 1
    fi
    sed -n 's/^export_torchvision: /  /p' "$_d/export.log"
    touch "$_d/exported.ok"
    HAVE_EXPORT=1
}

# prepare NAME SRC: the graph, weights, exports and their checks in
# $OUT/NAME; sets HAVE_EXPORT. Re-exported when the graph or the
# converter changed.
prepare() {
    _d=$OUT/$1
    HAVE_EXPORT=
    mkdir -p "$_d" || return 1
    "$RNC" --graph-json "$2" >"$_d/graph.new" 2>"$_d/prepare.err" || {
        echo "  skipped: rnc --graph-json failed: $(head -1 "$_d/prepare.err")"
        return 1
    }
    if [ -f "$_d/exported.ok" ] && cmp -s "$_d/graph.new" "$_d/graph.json" &&
        ! newer "$CMP/to_torch.py" "$_d/exported.ok" &&
        ! newer "$RNC" "$_d/exported.ok"; then
        HAVE_EXPORT=1
        rm -f "$_d/graph.new"
        echo "  exports cached in $_d (checked against reference.py when made)"
        return 0
    fi
    rm -f "$_d/exported.ok" "$_d/ort.ok"
    mv "$_d/graph.new" "$_d/graph.json"
    "$RNC" --init-weights "$_d/w.safetensors" --random --seed 1 "$2" \
        2>"$_d/prepare.err" || {
        echo "  skipped: rnc --init-weights failed: $(head -1 "$_d/prepare.err")"
        return 1
    }
    if ! "$PY" "$CMP/to_torch.py" "$_d/graph.json" "$_d/w.safetensors" \
        "$_d" >"$_d/export.log" 2>&1; then
        echo "  skipped: export failed: $(grep -i error "$_d/export.log" | tail -1)"
        return 1
    fi
    sed -n 's/^to_torch: /  /p' "$_d/export.log"
    touch "$_d/exported.ok"
    HAVE_EXPORT=1
}

# time_one SYSTEM NAME THREADS: one timed process of SYSTEM; sets S_MEDIAN,
# S_MIN (ms) and S_RSS (KiB, or empty); non-zero if it failed (S_WHY).
time_one() {
    S_MEDIAN='' S_MIN='' S_RSS='' S_WHY=''
    _d=$OUT/$2
    case $1 in
    rnc)
        rnc_time "$OUT" "$2" "$3" || { S_WHY="failed: $(tail -1 "$T_ERR")"; return 1; }
        S_MEDIAN=$R_MEDIAN S_MIN=$R_MIN S_RSS=$R_RSS
        return 0 ;;
    onnxruntime) set -- node "$CMP/ort_bench.js" "$_d" --threads "$3" --repeat "$REP" ;;
    pytorch) set -- "$PY" "$CMP/torch_bench.py" "$_d" --threads "$3" --repeat "$REP" ;;
    esac
    timed "$@" || { S_WHY="failed: $(tail -1 "$T_ERR")"; return 1; }
    _line=$(tail -1 "$T_OUT")
    S_MEDIAN=$(field "$_line" median_ms) S_MIN=$(field "$_line" min_ms)
    S_RSS=${T_RSS:-$(field "$_line" maxrss_kb)}
    [ -n "$S_MEDIAN" ]
}

# first_one SYSTEM NAME THREADS: ms from process start to first result.
first_one() {
    _d=$OUT/$2
    case $1 in
    rnc) first_ms "$_d/rnc_model" --threads "$3" "$_d/w.safetensors" \
            "$_d/input0.npy" "$_d/rnc_out.npy" ;;
    onnxruntime) first_ms node "$CMP/ort_bench.js" "$_d" --threads "$3" --first ;;
    pytorch) first_ms "$PY" "$CMP/torch_bench.py" "$_d" --threads "$3" --first ;;
    esac
}

# rounds NAME THREADS SYSTEM...: ROUNDS rounds, each timing every system
# once (REP runs in one process), the order rotated from round to round,
# so that a burst of other work on the machine falls on every system
# alike. A system's figure is the median of its round medians (and the
# minimum of its minima); "vs rnc" is the median over rounds of the ratio
# of the two medians taken in the same round.
rounds() {
    _name=$1 _t=$2
    shift 2
    _log=$OUT/rounds.txt
    : >"$_log"
    _n=$#
    [ "$_n" -gt 0 ] || return 0
    _r=0
    while [ "$_r" -lt "$ROUNDS" ]; do
        _i=0
        while [ "$_i" -lt "$_n" ]; do
            # system (i + r) mod n of the list
            _k=$(( (_i + _r) % _n + 1 ))
            eval "_s=\${$_k}"
            if time_one "$_s" "$_name" "$_t"; then
                echo "$_r $_s $S_MEDIAN $S_MIN ${S_RSS:-0}" >>"$_log"
            else
                echo "  $_t  $_s: $S_WHY"
            fi
            _i=$((_i + 1))
        done
        _r=$((_r + 1))
    done
    for _s in "$@"; do
        _agg=$(awk -v s="$_s" '
            function median(a, n,   i, j, x) {
                for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
                return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
            }
            { med[$1, $2] = $3 }
            $2 == s { m[++n] = $3; if (min == "" || $4 < min) min = $4; if ($5 > rss) rss = $5; r[n] = $1 }
            END {
                if (!n) exit
                for (i = 1; i <= n; i++) if ((r[i], "rnc") in med && med[r[i], "rnc"] > 0) q[++nq] = med[r[i], s] / med[r[i], "rnc"]
                printf "%s %s %s %s\n", median(m, n), min, rss, nq ? sprintf("%.2f", median(q, nq)) : "-"
            }' "$_log")
        [ -n "$_agg" ] || continue
        read -r _med _min _rss _q <<EOF
$_agg
EOF
        [ "$_q" = - ] && _q=
        _note=
        case $_s in
        onnxruntime) [ -n "$_q" ] && _note="ORT/rnc $_q" ;;
        pytorch) [ -n "$_q" ] && _note="PyTorch/rnc $_q" ;;
        esac
        [ "$_rss" = 0 ] && _rss=
        row "$_t" "$_s" "$_med" "$_min" "$_rss" "$(first_one "$_s" "$_name" "$_t")" "$_note"
        [ -n "$_q" ] && [ "$_s" != rnc ] && echo "$_name $_t $_s/rnc $_q" >>"$RATIOS"
    done
}

# ONNX Runtime, installed from npm once; ORT_SKIP says why it cannot run.
ORT_SKIP=
if ! command -v node >/dev/null 2>&1; then
    ORT_SKIP="node is not installed"
elif [ ! -d "$CMP/node_modules/onnxruntime-node" ]; then
    echo "installing onnxruntime-node 1.30.0 in $CMP (npm install --ignore-scripts)"
    npm_log=$PWD/$OUT/npm.log
    (cd "$CMP" && timeout 600 npm install --ignore-scripts --no-audit \
        --no-fund >"$npm_log" 2>&1) ||
        ORT_SKIP="npm install onnxruntime-node@1.30.0 failed (see $OUT/npm.log)"
fi
if [ -z "$ORT_SKIP" ] && ! (cd "$CMP" && node -e \
    "require('onnxruntime-node')" >/dev/null 2>&1); then
    ORT_SKIP="onnxruntime-node does not load"
fi
TORCH_SKIP=
"$PY" -c "import torch, numpy" 2>/dev/null ||
    TORCH_SKIP="$PY has no torch or numpy"

ort_version=$(node -p "require('./$CMP/node_modules/onnxruntime-node/package.json').version" 2>/dev/null)
echo "rnc vs ONNX Runtime ${ort_version:-(none)} vs PyTorch $("$PY" -c 'import torch; print(torch.__version__)' 2>/dev/null)"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); ms per inference: $ROUNDS rounds, each timing every system in turn"
echo "  ($REPEAT runs after warm-up, x10 under 0.2 GMAC); median of the rounds' medians, min of their minima"
echo "  'vs rnc': the median over rounds of the ratio of the two medians of one round"
echo "ORT/PyTorch take NCHW input, rnc NHWC; ratios > 1: rnc is faster"
echo "GFLOP/s: direct convolution's FLOPs per second for all (rnc's Winograd layers multiply less)"
SUMMARY=$OUT/summary.txt RATIOS=$OUT/ratios.txt
: >"$SUMMARY"
: >"$RATIOS"
for name in $NETS; do
    NAME=$name
    src=examples/$name.rn
    d=$OUT/$name
    is_tv "$name" && src=$d/model.onnx
    echo
    if ! is_tv "$name" && [ ! -f "$src" ]; then
        echo "== $name: skipped: no $src"
        continue
    fi
    # the load says how much other work shared the cores: 2-thread figures
    # suffer most from it
    echo "== $name$(is_tv "$name" && echo " (torchvision, through rnc --import)") (load average now $(cut -d' ' -f1 /proc/loadavg))"
    if [ -n "$TORCH_SKIP" ]; then
        echo "  onnxruntime: skipped: $TORCH_SKIP (needed to export)"
        echo "  pytorch: skipped: $TORCH_SKIP"
        HAVE_EXPORT=
        mkdir -p "$d"
    elif is_tv "$name"; then
        prepare_tv "$name"
    else
        prepare "$name" "$src"
    fi
    ort_ok=$HAVE_EXPORT torch_ok=$HAVE_EXPORT
    ort_why=${ORT_SKIP:-export failed}
    [ -n "$ORT_SKIP" ] && ort_ok=
    if [ -n "$ort_ok" ] && [ ! -f "$d/ort.ok" ]; then
        if node "$CMP/ort_bench.js" "$d" --check >"$d/ort_check.log" 2>&1
        then
            sed 's/^ort_bench: /  /' "$d/ort_check.log"
            touch "$d/ort.ok"
        else
            ort_ok='' ort_why="output check failed: $(tail -1 "$d/ort_check.log")"
        fi
    fi
    rnc_ok=
    if [ -n "$HAVE_EXPORT" ] && rnc_prepare "$name" "$src" "$d"; then
        rnc_ok=1
        if [ -z "$PEAK" ]; then # "peak X GFLOP/s (measured: ...)"
            PEAK=$("$d/rnc_model" --profile --repeat 1 "$d/w.safetensors" \
                "$d/input0.npy" "$d/rnc_out.npy" 2>&1 |
                sed -n 's/.*peak \([0-9.]*\) GFLOP\/s.*/\1/p' | head -1)
            [ -n "$PEAK" ] && echo "  peak: $PEAK GFLOP/s a core (rnc --profile's FMA loop)"
        fi
    fi
    # the MACs of the .rn rnc runs (a torchvision network's import)
    summary_src=$src
    is_tv "$name" && summary_src=$d/net.rn
    MACS=$("$RNC" --summary "$summary_src" 2>/dev/null |
        sed -n 's/^Multiply-accumulates: \([0-9,]*\).*/\1/p' | tr -d ,)
    MACS=${MACS:-0}
    echo "  $(awk -v m="$MACS" 'BEGIN { printf "%.3f", m / 1e9 }') GMAC"
    # a millisecond network's median needs more runs to settle (every
    # system gets the same count)
    REP=$REPEAT
    [ "$MACS" -gt 0 ] && [ "$MACS" -lt 200000000 ] && REP=$((REPEAT * 10))
    printf '  %-2s %-13s %10s %10s %8s %6s %9s %11s  %s\n' N system "median ms" \
        "min ms" GFLOP/s "%peak" "RSS MiB" "first ms" "vs rnc"
    for t in $THREADS; do
        systems=
        [ -n "$rnc_ok" ] || echo "  $t  rnc: not available$([ -s "$d/rnc.err" ] && echo ": $(head -1 "$d/rnc.err")")"
        [ -n "$ort_ok" ] || echo "  $t  onnxruntime: skipped: $ort_why"
        [ -n "$torch_ok" ] || echo "  $t  pytorch: skipped: ${TORCH_SKIP:-export failed}"
        for s in ${rnc_ok:+rnc} ${ort_ok:+onnxruntime} ${torch_ok:+pytorch}; do
            systems="$systems $s"
        done
        rounds "$name" "$t" $systems
    done
done

# the summary: one line per network and thread count from the rows above
echo
echo "summary (median ms; ratios as above, > 1: rnc is faster; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
awk 'FILENAME == ratios { q[$1 " " $2, $3] = $4; next }
{ ms[$1 " " $2, $3] = $4; if (!(($1 " " $2) in seen)) { seen[$1 " " $2] = 1; order[n++] = $1 " " $2 } }
END {
    printf "  %-16s %2s %9s %9s %9s %8s %12s\n", "network", "N", "rnc", "ORT", "PyTorch", "ORT/rnc", "PyTorch/rnc"
    for (i = 0; i < n; i++) {
        k = order[i]; split(k, f, " ")
        r = ms[k, "rnc"]; o = ms[k, "onnxruntime"]; p = ms[k, "pytorch"]
        qo = q[k, "onnxruntime/rnc"]; qp = q[k, "pytorch/rnc"]
        printf "  %-16s %2s %9s %9s %9s %8s %12s\n", f[1], f[2], r != "" ? r : "-", o != "" ? o : "-", p != "" ? p : "-",
            qo != "" ? qo : "-", qp != "" ? qp : "-"
    }
}' ratios="$RATIOS" "$RATIOS" "$SUMMARY"
# the target of issue 12: ORT/rnc over the torchvision networks' pairs
awk -v tv=" $TV_NETS " '$3 == "onnxruntime/rnc" && index(tv, " " $1 " ") {
    n++; s += log($4); if (min == "" || $4 < min) { min = $4; at = $1 " at " $2 } }
END {
    if (n) printf "ORT/rnc over the %d torchvision pairs: geometric mean %.2f, lowest %.2f (%s)\n", n, exp(s / n), min, at
}' "$RATIOS"
exit 0
