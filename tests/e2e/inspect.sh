#!/bin/bash
# inspect.sh: seeing inside a model (docs/inspect.md).
#
# - --trace: every layer of the committed cases of tests/golden/trace/
#   (tools/reference.py, PyTorch float64; and tfjs_small, TensorFlow.js)
#   against `rnc --run --trace`, file by file with npycmp; the trace has
#   a file for every node and `layer` instance, named by its path; where
#   PyTorch is installed, every example network too, against reference.py
#   run here, and tools/trace_torch.py against rnc on a PyTorch model (in
#   the plain pass).
# - a --main program's --trace of a fused build: what it writes is right,
#   and the fused layers are left out; with --no-fuse, every layer.
# - --compare: a fault planted in one layer (RNC_TRACE_PERTURB, or one
#   value changed in one file) is pointed at, and only that layer; shapes,
#   one-sided layers, folders without an index, bad usage.
# - --profile: the layers add up to the measured run (a few percent).
# - --memory: the arena of the table is the summary's and model.h's; the
#   peak is the arena; --max-arena / --max-weights fail there, naming the
#   layer at the peak, and write nothing.
# - --line-directives: model.c compiles warning-free, and addr2line maps
#   each layer's function to its line of the .rn.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/numerics_case.sh"
GT=$ROOT/tests/golden/trace
PY=/usr/bin/python3

need_npycmp

# index_files DIR: the files of DIR/trace.json, in order (rows with one).
index_files() {
    "$PY" -c 'import json, sys
for l in json.load(open(sys.argv[1] + "/trace.json"))["layers"]:
    if l["file"]: print(l["file"])' "$1"
}

# index_inputs DIR: the files of the input rows of DIR/trace.json.
index_inputs() {
    "$PY" -c 'import json, sys
for l in json.load(open(sys.argv[1] + "/trace.json"))["layers"]:
    if l["type"] in ("input", "InputLayer"): print(sys.argv[1] + "/" + l["file"])' "$1"
}

# trace_matches GOT REF: every file of REF's index is in GOT and within
# tolerance (npycmp); prints the layers that are not.
trace_matches() {
    local f n=0 bad=0
    while read -r f; do
        n=$((n + 1))
        if [ ! -f "$1/$f" ]; then echo "missing $f"; bad=1; continue; fi
        "$NPYCMP" "$1/$f" "$2/$f" >/dev/null 2>&1 || { echo "differs: $f"; bad=1; }
    done < <(index_files "$2")
    [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

# rows_of MODEL.rn: nodes plus `layer` instances, the rows of --summary --expand.
rows_of() {
    "$RNC" --graph-json "$1" | "$PY" -c 'import json, sys
g = json.load(sys.stdin); print(len(g["nodes"]) + len(g["groups"]))'
}

# ------------------------------------------------ --trace against goldens

manifest_cases "$GT/MANIFEST" >"$T/cases"
while read -r name model seed input range <&3; do
    d=$T/$name
    mkdir -p "$d"
    case_source "$ROOT" "$model" "$input" "$d/model.rn"
    "$RNC" --init-weights "$d/w.safetensors" --random --seed "$seed" "$d/model.rn"
    args=()
    while read -r f; do args+=(--input "$f"); done < <(index_inputs "$GT/$name")
    check "$name: --run --trace" "$RNC" --run "$d/model.rn" --weights "$d/w.safetensors" \
        "${args[@]}" --trace "$d/trace"
    check "$name: every layer within tolerance of reference.py" trace_matches "$d/trace" "$GT/$name"
    check "$name: one file per row, and the index" test \
        "$(ls "$d/trace" | grep -c '\.npy$')" = "$(rows_of "$d/model.rn")" -a \
        "$(index_files "$d/trace" | wc -l)" = "$(rows_of "$d/model.rn")"
    check "$name: --compare passes" "$RNC" --compare "$GT/$name" "$d/trace"
done 3<"$T/cases"

# TensorFlow.js, layer by layer (tools/make_tfjs_trace_golden.js)
d=$T/tfjs
check "tfjs_small: --run --trace" "$RNC" --run "$ROOT/tests/inspect/tfjs_small.rn" \
    --weights "$ROOT/tests/inspect/tfjs_small.safetensors" \
    --input "$GT/tfjs_small/image.npy" --trace "$d"
check "tfjs_small: every layer within tolerance of TensorFlow.js" trace_matches "$d" "$GT/tfjs_small"

# `layer` instances are rows too: their value is their result's
d=$T/r34
sed 's/^input image\[224, 224, 3\]/input image[32, 32, 3]/' "$ROOT/examples/resnet34.rn" >"$T/r34.rn"
check "resnet34: --trace with random weights" "$RNC" --run "$T/r34.rn" --trace "$d"
check "resnet34: an instance's row is its result's value" cmp -s \
    "$d/residual_unit_3.npy" "$d/residual_unit_3.activation_1.npy"
check "resnet34: a row per node and instance" test \
    "$(ls "$d" | grep -c '\.npy$')" = "$(rows_of "$T/r34.rn")"

# a trace folder is made with its parents; '/' in a name becomes "__"
# (once the language takes such names: the ops' names)
printf 'input x[2, 2, 1]\noutput relu(x, name="r")\n' >"$T/r.rn"
check "a trace in a new folder and its parents" bash -c \
    '"$1" --run "$2" --trace "$3/new/dir" >/dev/null 2>&1 && [ -f "$3/new/dir/r.npy" ]' \
    _ "$RNC" "$T/r.rn" "$T"
printf 'input x[2, 2, 1]\noutput relu(x, name="a/b")\n' >"$T/slash.rn"
if "$RNC" --check "$T/slash.rn" 2>/dev/null; then
    check "a/b traced as a__b.npy" bash -c \
        '"$1" --run "$2" --trace "$3/sl" >/dev/null 2>&1 && [ -f "$3/sl/a__b.npy" ]' \
        _ "$RNC" "$T/slash.rn" "$T"
fi
touch "$T/plainfile"
check "--trace into a file: exit 1, no output written" bash -c \
    '"$1" --run "$2" --trace "$3/plainfile/x" --output "$3/o.npy" 2>"$3/e"; [ $? -eq 1 ] &&
     grep -q "error" "$3/e" && [ ! -e "$3/o.npy" ]' _ "$RNC" "$T/r.rn" "$T"
check "--trace without --run: usage error" bash -c \
    '"$1" --summary --trace "$2/t" "$3" >/dev/null 2>&1; [ $? -eq 2 ] && [ ! -e "$2/t" ]' \
    _ "$RNC" "$T" "$T/r.rn"

# ---------------------------------- a --main program's trace and profile

for name in fusion merge; do
    d=$T/$name
    "$RNC" "$d/model.rn" -o "$d/fused.c" --main &&
        cc -O1 -std=c11 $SANFLAGS "$d/fused.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$d/fused"
    "$RNC" "$d/model.rn" -o "$d/unfused.c" --main --no-fuse &&
        cc -O1 -std=c11 $SANFLAGS "$d/unfused.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$d/unfused"
    mapfile -t ins < <(index_inputs "$GT/$name")
    outs=()
    for ((i = 0; i < 8; i++)); do outs+=("$d/o$i.npy"); done
    nout=$("$RNC" --graph-json "$d/model.rn" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["outputs"]))')
    check "$name: fused --main --trace runs" bash -c '"$@" 2>"$0"' "$d/mt.err" \
        "$d/fused" --trace "$d/mt" "$d/w.safetensors" "${ins[@]}" "${outs[@]:0:$nout}"
    check "$name: fused --main leaves fused layers out, says so" bash -c \
        'grep -q "fused into others" "$1" && grep -q "\"file\": null" "$2/trace.json"' \
        _ "$d/mt.err" "$d/mt"
    # every file it wrote is that layer's own value
    check "$name: fused --main trace within tolerance, layer by layer" bash -c '
        n=0; for f in "$1"/*.npy; do n=$((n + 1))
            "$2" "$f" "$3/$(basename "$f")" >/dev/null || { echo "differs: $f"; exit 1; }; done
        [ "$n" -gt 3 ]' _ "$d/mt" "$NPYCMP" "$GT/$name"
    check "$name: --no-fuse --main traces every layer" "$d/unfused" --trace "$d/ut" \
        "$d/w.safetensors" "${ins[@]}" "${outs[@]:0:$nout}"
    check "$name: --no-fuse trace within tolerance" trace_matches "$d/ut" "$GT/$name"
done
mapfile -t ins < <(index_inputs "$GT/fusion")
check "--main --profile prints the table" bash -c \
    '"$1" --profile --repeat 3 "$2/w.safetensors" "$3" "$2"/o{0,1,2,3,4,5}.npy |
     grep -q "^ Total (sum of the layers)"' _ "$T/fusion/fused" "$T/fusion" "${ins[0]}"

# ---------------------------------------------------- --compare, planted

d=$T/small_residual
mapfile -t ins < <(index_inputs "$GT/small_residual")
for layer in conv2d_3 add max_pooling2d_1; do
    RNC_TRACE_PERTURB=$layer "$RNC" --run "$d/model.rn" --weights "$d/w.safetensors" \
        --input "${ins[0]}" --trace "$d/p_$layer" >/dev/null 2>&1
    "$RNC" --compare "$GT/small_residual" "$d/p_$layer" >"$d/cmp" 2>&1
    check "perturbed $layer: --compare exits 1" test $? -eq 1
    check "perturbed $layer: the first out of tolerance is $layer, marked once" bash -c \
        '[ "$(grep -c "^>> " "$1")" -eq 1 ] && grep -q "^>> $2 .*<- first out of tolerance" "$1" &&
         grep -q "the first is $2$" "$1"' _ "$d/cmp" "$layer"
done
# one wrong value in one file: that layer, and no other, is out
cp -r "$d/trace" "$d/planted"
"$PY" -c 'import sys, numpy as np
a = np.load(sys.argv[1]); a.flat[7] += 3e-4 * np.abs(a).max() + 1e-4; np.save(sys.argv[1], a)' \
    "$d/planted/conv2d_4.npy"
"$RNC" --compare "$GT/small_residual" "$d/planted" >"$d/cmp" 2>&1
check "planted value: exit 1" test $? -eq 1
check "planted value: conv2d_4 alone is out of tolerance" bash -c \
    'grep -q "^>> conv2d_4 " "$1" && ! grep -q "^ x " "$1" &&
     grep -q "^1 of 18 layers out of tolerance; the first is conv2d_4$" "$1"' _ "$d/cmp"
check "--tol 1e-2 lets it pass" "$RNC" --compare "$GT/small_residual" "$d/planted" --tol 1e-2
# folders without an index: their *.npy by name; layers on one side; shapes
mkdir -p "$d/noindex"
cp "$d/trace/"*.npy "$d/noindex/"
rm "$d/noindex/dense.npy"
"$PY" -c 'import sys, numpy as np
np.save(sys.argv[1] + "/extra.npy", np.zeros((1, 3), np.float32))
a = np.load(sys.argv[1] + "/conv2d.npy"); np.save(sys.argv[1] + "/conv2d.npy", a.transpose(0, 3, 1, 2))' \
    "$d/noindex"
"$RNC" --compare "$d/noindex" "$d/trace" >"$d/cmp" 2>&1
check "a transposed reference: exit 1" test $? -eq 1
check "a transposed reference: shapes differ, NCHW named" \
    grep -q "^>> conv2d .*NCHW" "$d/cmp"
check "one-sided layers listed apart" bash -c \
    'grep -q "^Only in .*/trace: dense$" "$1" && grep -q "^Only in .*/noindex: extra$" "$1"' _ "$d/cmp"
check "without an index: layers in name order" bash -c \
    '"$1" --compare "$2/trace" "$2/noindex" | grep "^   [a-z]" | awk "{print \$1}" | sort -c' _ "$RNC" "$d"
check "nothing in common: exit 1" bash -c \
    'mkdir -p "$1/empty"; "$2" --compare "$1/empty" "$1/trace" >/dev/null; [ $? -eq 1 ]' _ "$d" "$RNC"
check "a missing folder: exit 1 with a message" bash -c \
    '"$1" --compare "$2/none" "$2/trace" 2>"$2/e" >/dev/null; [ $? -eq 1 ] && grep -q "cannot read" "$2/e"' \
    _ "$RNC" "$d"
check "--tol 0: usage error" bash -c \
    '"$1" --compare "$2" "$2" --tol 0 2>/dev/null; [ $? -eq 2 ]' _ "$RNC" "$d/trace"

# ------------------------------------------------------------ --profile

# The layers' figures (their means over the middle third of the runs)
# add up to those runs as measured around each: within a few percent
# (what the hook cannot see: the run's entry, the outputs' copy). Three
# tries on a busy machine.
profile_adds_up() {
    local k out sum
    for k in 1 2 3; do
        out=$("$RNC" --run "$ROOT/examples/small_residual.rn" --profile --repeat 100 2>/dev/null)
        sum=$(echo "$out" | sed -n "s/.*the layers add up to \([0-9.]*\)% of it$/\1/p")
        echo "try $k: the layers add up to $sum%"
        awk -v s="$sum" 'BEGIN { exit !(s >= 97 && s <= 101) }' && return 0
    done
    return 1
}
check "--profile: the layers add up to the measured run" profile_adds_up
"$RNC" --run "$ROOT/examples/small_residual.rn" --profile --repeat 5 >"$T/prof" 2>/dev/null
check "--profile: a row per layer with code, fused ones under it, slowest first" bash -c '
    rows=$(sed -n "/^====/,/^====/p" "$1" | grep -c "^ [a-z].*(.*)  *[0-9]")
    [ "$rows" -eq 14 ] && grep -q "^   + add (Add), fused into it" "$1" &&
    sed -n "/^====/,/^====/p" "$1" | grep "^ [a-z]" | awk "{print \$(NF-3)}" |
        sort -c -r -g' _ "$T/prof"
check "--profile: shares add up to 100%" bash -c '
    sed -n "/^====/,/^====/p" "$1" | grep "^ [a-z]" | tr -d % |
        awk "{ s += \$NF } END { exit !(s > 99 && s < 101) }"' _ "$T/prof"
check "--profile: RNC_PEAK_GFLOPS is the peak" bash -c \
    'RNC_PEAK_GFLOPS=12.5 "$1" --run "$2" --profile | grep -q "peak 12.5 GFLOP/s (RNC_PEAK_GFLOPS"' \
    _ "$RNC" "$ROOT/examples/small_residual.rn"

# -------------------------------------------------------------- --memory

for src in examples/small_residual.rn examples/resnet50.rn examples/mobilenet_v1.rn \
           tests/numerics/fusion.rn tests/numerics/merge.rn; do
    m=$(basename "$src" .rn)
    "$RNC" --memory "$ROOT/$src" >"$T/$m.mem"
    "$RNC" "$ROOT/$src" -o "$T/$m.c"
    floats=$(sed -n "s/^#define ${m}_ARENA_FLOATS \([0-9]*\)$/\1/p" "$T/$m.h")
    arena=$(sed -n 's/^Activation arena: \([0-9,]*\) bytes.*/\1/p' "$T/$m.mem" | tr -d ,)
    check "$m: --memory's arena is model.h's ($floats floats)" test "$arena" = "$((4 * floats))"
    check "$m: --memory's arena is the summary's" bash -c \
        '[ "$(grep "^Activation arena" "$1")" = "$("$2" --summary "$3" | grep "^Activation arena")" ]' \
        _ "$T/$m.mem" "$RNC" "$ROOT/$src"
    check "$m: the highest top is the arena, at the one peak row" bash -c '
        top=$(sed -n "/^====/,/^====/p" "$1" | awk "NF > 4 && \$1 != \"====\"" | tr -d , |
              awk "{ for (i = 1; i <= NF; i++) if (\$i ~ /^[0-9]+$/) last[NR] = i }
                   { print \$(last[NR]) }" | sort -n | tail -1)
        [ "$top" = "$2" ] && [ "$(grep -c "^\*" "$1")" -eq 1 ]' _ "$T/$m.mem" "$arena"
done
check "--summary --memory: the summary, then the table" bash -c \
    '"$1" --summary --memory "$2" >"$3/sm" && grep -q "^Total params" "$3/sm" &&
     grep -q "^Memory plan of" "$3/sm"' _ "$RNC" "$ROOT/examples/small_residual.rn" "$T"
# the limits: the arena is 274,432 bytes, its peak at conv2d_1
sr=$ROOT/examples/small_residual.rn
check "--max-arena at the arena: fine" "$RNC" --check --max-arena 274432 "$sr"
check "--max-arena 267K: exit 1 at conv2d_1, what is alive, nothing written" bash -c \
    '"$1" "$2" -o "$3/lim.c" --max-arena 267K 2>"$3/e"; [ $? -eq 1 ] &&
     grep -q "small_residual.rn:[0-9]*:[0-9]*: error: the activation arena needs 274,432 bytes, over --max-arena 273,408; its peak is at layer conv2d_1 (Conv2D)" "$3/e" &&
     grep -q "note: alive while conv2d_1 runs: rescaling (12,288 bytes at 0), conv2d (131,072 bytes" "$3/e" &&
     [ ! -e "$3/lim.c" ] && [ ! -e "$3/lim.h" ]' _ "$RNC" "$sr" "$T"
check "--max-weights 1M: exit 1, the heaviest layer named" bash -c \
    '"$1" --summary --max-weights 1M "$2" >"$3/o" 2>"$3/e"; [ $? -eq 1 ] && [ ! -s "$3/o" ] &&
     grep -q "error: the weights need 1,190,788 bytes, over --max-weights 1,048,576; the largest are conv2d_7" "$3/e"' \
    _ "$RNC" "$sr" "$T"
check "--max-weights 2M: fine" "$RNC" --check --max-weights 2M "$sr"
check "--max-arena 12X: usage error" bash -c \
    '"$1" --check --max-arena 12X "$2" 2>/dev/null; [ $? -eq 2 ]' _ "$RNC" "$sr"
check "--max-arena applies to --run too" bash -c \
    '"$1" --run --max-arena 1K "$2" >/dev/null 2>&1; [ $? -eq 1 ]' _ "$RNC" "$sr"

# ---------------------------------------------------------- #line

for cc in gcc clang; do
    command -v $cc >/dev/null || continue
    check "--line-directives: $cc -Werror builds it" bash -c \
        '"$1" "$2" -o "$3/ld.c" --line-directives --main &&
         $4 -std=c11 -Wall -Wextra -pedantic -Werror -g -O0 -c $("$1" --cflags) "$3/ld.c" -o "$3/ld.$4.o"' \
        _ "$RNC" "$sr" "$T" "$cc"
done
# every layer's function, by address, is its line of the .rn: the line
# its header comment names ("small_residual.rn:LINE:COL")
line_map() {
    local fn line addr got n=0
    while read -r fn line; do
        addr=$(nm "$T/ld.gcc.o" | awk -v f="$fn" '$3 == f { print $1 }')
        got=$(addr2line -e "$T/ld.gcc.o" "0x$addr")
        [ "$got" = "$sr:$line" ] || { echo "$fn: $got, want $sr:$line"; return 1; }
        n=$((n + 1))
    done < <(awk 'match($0, /small_residual\.rn:[0-9]+:/) {
                      line = substr($0, RSTART + 18, RLENGTH - 19) }
                  /^static void L[0-9]+_[A-Za-z0-9_]*\(small_residual \*m\) \{/ {
                      fn = $3; sub(/\(.*/, "", fn); print fn, line }' "$T/ld.c")
    [ "$n" -ge 10 ]
}
if command -v addr2line >/dev/null && [ -f "$T/ld.gcc.o" ]; then
    check "--line-directives: addr2line maps each layer to its .rn line" line_map
fi
"$PY" -c 'import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(1).uniform(0, 255, (32, 32, 3)).astype(np.float32))' "$T/x32.npy"
check "--line-directives: the program computes the same" bash -c \
    '"$1" "$2" -o "$3/ld.c" --line-directives --main && "$1" "$2" -o "$3/nl.c" --main &&
     cc -O1 -std=c11 $4 "$3/ld.c" $("$1" --cflags) $("$1" --libs) -o "$3/ld" &&
     cc -O1 -std=c11 $4 "$3/nl.c" $("$1" --cflags) $("$1" --libs) -o "$3/nl" &&
     "$1" --init-weights "$3/w" --random "$2" &&
     "$3/ld" "$3/w" "$5" "$3/a.npy" && "$3/nl" "$3/w" "$5" "$3/b.npy" && cmp -s "$3/a.npy" "$3/b.npy"' \
    _ "$RNC" "$sr" "$T" "$SANFLAGS" "$T/x32.npy"

# ------------------------------- with PyTorch: every example, and torch

# (the plain pass: PyTorch's side is the same in the sanitizer pass, and
# the sanitized --trace runs on the committed cases above)
if [ "${SAN:-0}" = 1 ]; then
    echo "inspect: the examples against PyTorch are the plain pass's" >&2
elif "$PY" -c 'import torch' 2>/dev/null; then
    for src in examples/*.rn; do
        m=$(basename "$src" .rn)
        d=$T/ex_$m
        mkdir -p "$d"
        # 48x48 for the large ones: every stage of every example, small
        # enough to be quick (a small example keeps its own size: its
        # shapes may need it)
        if grep -q '^input [A-Za-z_][A-Za-z0-9_]*\[\([0-9]\|[1-4][0-9]\), ' "$ROOT/$src"; then
            cp "$ROOT/$src" "$d/model.rn"
        else
            sed '0,/^input /s/^input \([A-Za-z_][A-Za-z0-9_]*\)\[[^]]*\]/input \1[48, 48, 3]/' \
                "$ROOT/$src" >"$d/model.rn"
        fi
        h=$(sed -n 's/^input [A-Za-z_][A-Za-z0-9_]*\[\([0-9]*\), \([0-9]*\), \([0-9]*\)\].*/1 \1 \2 \3/p' "$d/model.rn" | head -1)
        "$RNC" --graph-json "$d/model.rn" >"$d/g.json"
        "$RNC" --init-weights "$d/w.safetensors" --random --seed 7 "$d/model.rn"
        "$PY" -c 'import sys, numpy as np
np.save(sys.argv[1], np.random.default_rng(7).uniform(-1, 1, [int(v) for v in sys.argv[2].split()]).astype(np.float32))' "$d/x.npy" "$h"
        check "$m: reference.py --trace" "$PY" "$ROOT/tools/reference.py" "$d/g.json" \
            "$d/w.safetensors" "$d/x.npy" "$d/y.npy" --trace "$d/ref"
        check "$m: --run --trace" "$RNC" --run "$d/model.rn" --weights "$d/w.safetensors" \
            --input "$d/x.npy" --trace "$d/rnc"
        check "$m: every layer within tolerance of reference.py" trace_matches "$d/rnc" "$d/ref"
    done
    # a PyTorch model traced by tools/trace_torch.py, and the same network
    # as .rn: apart (--no-fold-bn), and as the ONNX export folds it
    d=$T/torch
    mkdir -p "$d"
    cp "$ROOT/tests/inspect/tnet_model.py" "$ROOT/tests/inspect/tnet.rn" \
       "$ROOT/tests/inspect/tnet_folded.rn" "$d/"
    check "tnet: weights from PyTorch" bash -c 'cd "$1" && "$2" "$3"' _ "$d" "$PY" \
        "$ROOT/tests/inspect/make_tnet.py"
    (cd "$d" && "$PY" "$ROOT/tools/trace_torch.py" tnet_model:TNet x.npy pt \
        --state-dict tnet.pt --no-fold-bn --input-name x >/dev/null &&
        "$PY" "$ROOT/tools/trace_torch.py" tnet_model:TNet x.npy ptf --state-dict tnet.pt >/dev/null)
    check "tnet: rnc --trace" "$RNC" --run "$d/tnet.rn" --weights "$d/tnet.safetensors" \
        --input "$d/x.npy" --trace "$d/rt"
    check "tnet: rnc --trace, folded" "$RNC" --run "$d/tnet_folded.rn" \
        --weights "$d/tnet_folded.safetensors" --input "$d/x.npy" --trace "$d/rtf"
    check "tnet: trace_torch --no-fold-bn: all 10 layers within tolerance" bash -c \
        '"$1" --compare "$2/pt" "$2/rt" | grep -q "^All 10 layers within tolerance"' _ "$RNC" "$d"
    check "tnet: trace_torch (bn folded): all 7 layers within tolerance, relu_1 named" bash -c \
        '"$1" --compare "$2/ptf" "$2/rtf" >"$2/c" && grep -q "^All 7 layers within tolerance" "$2/c" &&
         grep -q "^   relu_1 " "$2/c"' _ "$RNC" "$d"
fi

finish
