#!/bin/bash
# aot.sh: ahead-of-time compilation end to end. For every example and small
# test net: `rnc X.rn -o x.c --main` writes x.c and x.h, which compile with
# gcc and clang under -Werror and with tcc. Small models are built against
# librnrt.a and run: exit status, output shapes, threads giving the same
# bits, two instances at once, --repeat timings; damaged weights and inputs
# are refused naming the tensor or file, and leave no output file.
# (Numerical agreement with PyTorch is tests/e2e/numerics.sh's job.)
. "$(dirname "$0")/lib.sh"
BUILD=${BUILD:-$ROOT/build}
PY=/usr/bin/python3
STRICT="-std=c11 -Wall -Wextra -pedantic -Werror"
SANFLAGS=
[ "${SAN:-0}" = 1 ] && SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS_RT=$("$RNC" --cflags)
LIBS_RT=$("$RNC" --libs)

# Small nets of our own for what the examples lack: grouped and dilated
# convolutions, a flat input, several inputs and outputs.
mkdir -p "$T/nets"
cat >"$T/nets/grouped.rn" <<'EOF'
model grouped
input img[9, 7, 8]
x = conv2d(img, 16, 3, groups=4, padding=same, activation=relu6, dilation=2)
x = depthwise_conv2d(x, 3, stride=2, padding=same, multiplier=2, activation=tanh)
x = avgpool(x, 2, padding=same)
x = batchnorm(x)
output global_maxpool(x)
output flatten(x)
EOF
cat >"$T/nets/flat.rn" <<'EOF'
model flat
input v[20]
input img[4, 4, 2]
x = dense(v, 33, activation=sigmoid)
x = dropout(batchnorm(x), 0.5)
y = flatten(conv2d(img, 3, 2, name="my_conv"))
output dense(concat(x, y), 5, activation=softmax, bias=false)
EOF
nets=("$ROOT"/examples/*.rn "$ROOT"/tests/numerics/*.rn "$T"/nets/*.rn)

# build_only NAME X.rn: emit, then compile with every compiler (no link).
build_only() {
    local n=$1 src=$2 d=$T/$1
    mkdir -p "$d"
    check "$n: rnc -o --main" "$RNC" "$src" -o "$d/$n.c" --main || return
    check "$n: x.c and x.h written" test -s "$d/$n.c" -a -s "$d/$n.h"
    check "$n: gcc -Werror" gcc $STRICT -fsyntax-only -I"$d" $CFLAGS_RT "$d/$n.c"
    check "$n: clang -Werror" clang $STRICT -fsyntax-only -I"$d" $CFLAGS_RT "$d/$n.c"
    check "$n: tcc -c" tcc -c -I"$d" $CFLAGS_RT "$d/$n.c" -o "$d/$n.tcc.o"
}

for f in "${nets[@]}"; do
    [ -f "$f" ] || continue
    build_only "$(basename "$f" .rn)" "$f"
done

# ---- build and run the small ones
# make_inputs DIR X.rn: seeded inputs in0.npy... in [-1, 1]; prints paths.
make_inputs() {
    "$RNC" --graph-json "$2" >"$1/g.json" &&
    $PY - "$1" <<'EOF'
import json, sys, numpy as np
d = sys.argv[1]
g = json.load(open(d + "/g.json"))
rng = np.random.default_rng(7)
shape = {n["id"]: n["shape"] for n in g["nodes"]}
for i, k in enumerate(g["inputs"]):
    p = "%s/in%d.npy" % (d, i)
    np.save(p, rng.uniform(-1, 1, shape[k]).astype(np.float32))
    print(p)
EOF
}

# out_shapes DIR: the output shapes the model promises, as [1, ...].
out_shapes() {
    $PY -c 'import json,sys; g=json.load(open(sys.argv[1]+"/g.json")); s={n["id"]:n["shape"] for n in g["nodes"]}
for k in g["outputs"]: print([1]+s[k])' "$1"
}

npy_shapes() {
    $PY -c 'import sys, numpy as np
for p in sys.argv[1:]: print(list(np.load(p).shape))' "$@"
}

# run_net NAME X.rn: build, weights, run, shapes, threads, --repeat.
run_net() {
    local n=$1 src=$2 d=$T/$1 i
    "$CC_RUN" -O1 -std=c11 $SANFLAGS -I"$d" "$d/$n.c" $CFLAGS_RT $LIBS_RT \
        -o "$d/$n" 2>"$d/cc.err" || { bad "$n: build"; cat "$d/cc.err" >&2; return; }
    check "$n: --init-weights" "$RNC" --init-weights "$d/w.safetensors" --seed 1 --random "$src" || return
    mapfile -t ins < <(make_inputs "$d" "$src")
    local nout; nout=$(out_shapes "$d" | wc -l)
    outs=() outs2=()
    for ((i = 0; i < nout; i++)); do outs+=("$d/out$i.npy"); outs2+=("$d/t2_out$i.npy"); done
    check "$n: runs" "$d/$n" "$d/w.safetensors" "${ins[@]}" "${outs[@]}" || return
    npy_shapes "${outs[@]}" >"$d/got_shapes"
    out_shapes "$d" >"$d/want_shapes"
    same_file "$n: output shapes" "$d/want_shapes" "$d/got_shapes"
    check "$n: 2 threads, --repeat" "$d/$n" --threads 2 --repeat 3 "$d/w.safetensors" "${ins[@]}" "${outs2[@]}"
    cp "$T/err" "$d/repeat.err"
    check "$n: --repeat prints median and min" grep -q "median .* ms, min .* ms" "$d/repeat.err"
    for ((i = 0; i < nout; i++)); do
        same_file "$n: output $i same bits with 2 threads" "${outs[$i]}" "${outs2[$i]}"
    done
}

CC_RUN=gcc
for n in small_residual tiny merge grouped flat; do
    src=
    for f in "${nets[@]}"; do [ "$(basename "$f" .rn)" = $n ] && src=$f; done
    [ -n "$src" ] && [ -s "$T/$n/$n.c" ] && run_net $n "$src"
done

# ---- bad weights, inputs and usage (on `flat`: 2 inputs, 1 output)
d=$T/flat
if [ -x "$d/flat" ]; then
    # damage WHAT: a copy of the weights with one tensor changed.
    damage() {
        $PY - "$d/w.safetensors" "$d/bad_$1.safetensors" "$1" <<'EOF'
import json, struct, sys, numpy as np
src, dst, what = sys.argv[1:]
b = open(src, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); data = b[8 + n:]
h.pop("__metadata__", None)
t = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], "<f4").reshape(v["shape"])
     for k, v in h.items()}
dt = {k: "F32" for k in t}
if what == "shape": t["dense.kernel"] = t["dense.kernel"].reshape(-1)[:20 * 33].reshape(33, 20)
if what == "missing": del t["dense.bias"]
if what == "extra": t["dense.extra"] = np.zeros(3, "<f4")
if what == "f16": t["dense.bias"] = t["dense.bias"].astype("<f2"); dt["dense.bias"] = "F16"
hdr, blobs, off = {}, [], 0
for k in sorted(t):
    raw = np.ascontiguousarray(t[k]).tobytes()
    hdr[k] = {"dtype": dt.get(k, "F32"), "shape": list(t[k].shape), "data_offsets": [off, off + len(raw)]}
    blobs.append(raw); off += len(raw)
j = json.dumps(hdr).encode(); j += b" " * (-len(j) % 8)
open(dst, "wb").write(struct.pack("<Q", len(j)) + j + b"".join(blobs))
EOF
    }
    # refused WHAT FILE EXPECTED-STATUS WORD ARGS...: fails with the status,
    # names WORD on stderr, writes no output.
    refused() {
        local what=$1 status=$2 word=$3; shift 3
        rm -f "$d/never.npy"
        "$@" >/dev/null 2>"$d/err"
        local rc=$?
        if [ $rc -eq "$status" ] && grep -q -- "$word" "$d/err" && [ ! -e "$d/never.npy" ]; then ok
        else bad "$what: status $rc (want $status), stderr: $(head -c 300 "$d/err")"; fi
    }
    for what in shape missing extra f16; do
        damage $what
    done
    refused "wrong shape" 1 "dense.kernel" "$d/flat" "$d/bad_shape.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    refused "missing tensor" 1 "dense.bias" "$d/flat" "$d/bad_missing.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    refused "extra tensor" 1 "dense.extra" "$d/flat" "$d/bad_extra.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    refused "F16 tensor" 1 "dense.bias" "$d/flat" "$d/bad_f16.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    head -c 100 "$d/w.safetensors" >"$d/trunc.safetensors"
    refused "truncated weights" 1 "trunc.safetensors" "$d/flat" "$d/trunc.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    $PY -c 'import numpy as np; np.save("'"$d"'/wrong.npy", np.zeros((4, 4, 3), np.float32)); np.save("'"$d"'/flat1.npy", np.zeros((1, 20), np.float32)); np.save("'"$d"'/two.npy", np.zeros((2, 20), np.float32))'
    refused "input of the wrong shape" 1 "wrong.npy: input 1 must have shape \[4, 4, 2\] or \[1, 4, 4, 2\]" \
        "$d/flat" "$d/w.safetensors" "$d/in0.npy" "$d/wrong.npy" "$d/never.npy"
    refused "batch of 2" 1 "two.npy" "$d/flat" "$d/w.safetensors" "$d/two.npy" "$d/in1.npy" "$d/never.npy"
    refused "missing input file" 1 "nothere.npy" "$d/flat" "$d/w.safetensors" "$d/nothere.npy" "$d/in1.npy" "$d/never.npy"
    refused "too few files" 2 "usage" "$d/flat" "$d/w.safetensors" "$d/in0.npy" "$d/never.npy"
    refused "bad --threads" 2 "usage" "$d/flat" --threads 0 "$d/w.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    refused "unknown flag" 2 "usage" "$d/flat" --fast "$d/w.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/never.npy"
    check "[1, N] input accepted" "$d/flat" "$d/w.safetensors" "$d/flat1.npy" "$d/in1.npy" "$d/ok1.npy"
    check "RNC_THREADS=2" env RNC_THREADS=2 "$d/flat" "$d/w.safetensors" "$d/in0.npy" "$d/in1.npy" "$d/env.npy"
    same_file "RNC_THREADS=2 same bits" "$d/out0.npy" "$d/env.npy"
fi

# ---- the API: two instances running at once on two threads give the same
# bits as one instance alone.
d=$T/small_residual
if [ -s "$d/w.safetensors" ]; then
    cat >"$d/two.c" <<'EOF'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "small_residual.h"
#include "rnrt.h"
typedef struct { small_residual *m; const float *in; float out[small_residual_OUTPUT0_SIZE]; } Job;
static void *work(void *p) {
    Job *j = p;
    for (int r = 0; r < 20; r++) small_residual_run(j->m, j->in, j->out);
    return NULL;
}
int main(int argc, char **argv) {
    char err[512];
    rn_array x;
    if (rn_npy_read(argv[2], &x, err, sizeof err)) return 3;
    if (small_residual_load("/nonexistent.safetensors", err, sizeof err) || !err[0]) return 4;
    Job a = {small_residual_load(argv[1], err, sizeof err), x.data, {0}};
    Job b = {small_residual_load(argv[1], err, sizeof err), x.data, {0}};
    if (!a.m || !b.m) { fprintf(stderr, "%s\n", err); return 5; }
    if (small_residual_set_threads(b.m, 2)) return 6;
    float ref[small_residual_OUTPUT0_SIZE];
    small_residual_run(a.m, x.data, ref);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, work, &a);
    pthread_create(&t2, NULL, work, &b);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    int same = !memcmp(a.out, ref, sizeof ref) && !memcmp(b.out, ref, sizeof ref);
    small_residual_free(a.m);
    small_residual_free(b.m);
    rn_array_free(&x);
    return same ? 0 : 1;
}
EOF
    sed '/^int main(/,$d' "$d/small_residual.c" >"$d/lib.c" # the model without main()
    if gcc -O1 -std=c11 $SANFLAGS -I"$d" "$d/lib.c" "$d/two.c" $CFLAGS_RT $LIBS_RT -o "$d/two" 2>"$d/cc.err"; then
        check "two instances on two threads agree" "$d/two" "$d/w.safetensors" "$d/in0.npy"
    else
        bad "build the two-instance test"; cat "$d/cc.err" >&2
    fi
fi

finish
