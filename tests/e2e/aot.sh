#!/bin/bash
# aot.sh: ahead-of-time compilation end to end. For every example and small
# test net: `rnc X.rn -o x.c --main` writes x.c and x.h, which compile with
# gcc and clang under -Werror and with tcc. Small models are built against
# librnrt.a and run: exit status, output shapes, threads giving the same
# bits, two instances at once, --repeat timings; damaged weights and inputs
# are refused naming the tensor or file, and leave no output file.
# (Numerical agreement with PyTorch is tests/e2e/numerics.sh's job.)
# Needs no Python: inputs and checks go through the runtime, in C.
. "$(dirname "$0")/lib.sh"
STRICT="-std=c11 -Wall -Wextra -pedantic -Werror"
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
# flat_net UNITS BIAS EXTRA: the `flat` net, or a variant whose weights
# differ from it in one place (for the damaged-weights checks).
flat_net() {
    cat <<EOF
model flat
input v[20]
input img[4, 4, 2]
x = dense(v, $1, activation=sigmoid, bias=$2)
x = dropout(batchnorm(x), 0.5)
y = flatten(conv2d(img, 3, 2, name="my_conv"))
output dense(concat(x, y), 5, activation=softmax, bias=false)
$3
EOF
}
flat_net 33 true "" >"$T/nets/flat.rn"
nets=("$ROOT"/examples/*.rn "$ROOT"/tests/numerics/*.rn "$T"/nets/*.rn)

# must DESCRIPTION COMMAND...: check, and fail (for `|| return`) if it did.
must() {
    local before=$fail
    check "$@"
    [ "$fail" -eq "$before" ]
}

# build_only NAME X.rn: emit, then compile with every compiler (no link).
build_only() {
    local n=$1 src=$2 d=$T/$1
    mkdir -p "$d"
    must "$n: rnc -o --main" "$RNC" "$src" -o "$d/$n.c" --main || return
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

# io_helper DIR NAME: a C program on NAME.h's size macros (checking them
# too): `io in DIR` writes seeded inputs DIR/in0.npy... in [-1, 1] and
# prints their paths; `io check OUT.npy...` checks that the outputs are
# [1, ...] arrays of the declared shapes, all finite.
io_helper() {
    local d=$1 n=$2 h=$1/$2.h what count i dims ranks
    local ni no
    ni=$(sed -n "s/^#define ${n}_NUM_INPUTS //p" "$h")
    no=$(sed -n "s/^#define ${n}_NUM_OUTPUTS //p" "$h")
    {
        printf '#include <stdio.h>\n#include <string.h>\n'
        printf '#include "%s.h"\n#include "rnrt.h"\n' "$n"
        printf 'enum { NI = %s, NO = %s };\n' "$ni" "$no"
        for what in INPUT OUTPUT; do
            count=$ni
            [ $what = OUTPUT ] && count=$no
            dims="" ranks=""
            for ((i = 0; i < count; i++)); do
                if grep -q "^#define ${n}_${what}${i}_H " "$h"; then
                    dims="$dims{${n}_${what}${i}_H, ${n}_${what}${i}_W, ${n}_${what}${i}_C}, "
                    ranks="${ranks}3, "
                else
                    dims="$dims{${n}_${what}${i}_N}, "
                    ranks="${ranks}1, "
                fi
            done
            printf 'static const int %s_rank[] = {%s};\n' $what "$ranks"
            printf 'static const rn_i64 %s_dims[][3] = {%s};\n' $what "$dims"
        done
        cat <<'EOF'
static float x[1 << 16];
int main(int argc, char **argv) {
    char err[512], path[4096];
    int i, j;
    if (argc == 3 && !strcmp(argv[1], "in")) {
        rn_rng r;
        rn_rng_seed(&r, 7);
        for (i = 0; i < NI; i++) {
            rn_i64 n = 1, k;
            for (j = 0; j < INPUT_rank[i]; j++) n *= INPUT_dims[i][j];
            if (n > (rn_i64)(sizeof x / sizeof x[0])) return 3;
            for (k = 0; k < n; k++) x[k] = 2 * rn_rng_uniform(&r) - 1;
            snprintf(path, sizeof path, "%s/in%d.npy", argv[2], i);
            if (rn_npy_write(path, INPUT_rank[i], INPUT_dims[i], x, err, sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            printf("%s\n", path);
        }
        return 0;
    }
    if (argc == 2 + NO && !strcmp(argv[1], "check")) {
        for (i = 0; i < NO; i++) {
            rn_array a;
            rn_i64 k;
            int ok;
            if (rn_npy_read(argv[2 + i], &a, err, sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            ok = a.rank == OUTPUT_rank[i] + 1 && a.dims[0] == 1;
            for (j = 0; ok && j < OUTPUT_rank[i]; j++) ok = a.dims[j + 1] == OUTPUT_dims[i][j];
            for (k = 0; ok && k < a.count; k++) /* not NaN, not infinite */
                ok = a.data[k] == a.data[k] && a.data[k] < 3e38f && a.data[k] > -3e38f;
            rn_array_free(&a);
            if (!ok) {
                fprintf(stderr, "%s: wrong shape or not finite\n", argv[2 + i]);
                return 1;
            }
        }
        return 0;
    }
    return 2;
}
EOF
    } >"$d/io.c"
    gcc $STRICT -O1 $SANFLAGS -I"$d" $CFLAGS_RT "$d/io.c" $LIBS_RT -o "$d/io"
}

# run_net NAME X.rn: build, weights, run, shapes, threads, --repeat.
run_net() {
    local n=$1 src=$2 d=$T/$1 i nout
    must "$n: build and link" gcc -O1 -std=c11 $SANFLAGS -I"$d" "$d/$n.c" \
        $CFLAGS_RT $LIBS_RT -o "$d/$n" || return
    must "$n: --init-weights" "$RNC" --init-weights "$d/w.safetensors" --seed 1 --random "$src" || return
    must "$n: io helper on $n.h's macros" io_helper "$d" "$n" || return
    mapfile -t ins < <("$d/io" in "$d")
    nout=$(sed -n "s/^#define ${n}_NUM_OUTPUTS //p" "$d/$n.h")
    outs=() outs2=()
    for ((i = 0; i < nout; i++)); do outs+=("$d/out$i.npy"); outs2+=("$d/t2_out$i.npy"); done
    must "$n: runs" "$d/$n" "$d/w.safetensors" "${ins[@]}" "${outs[@]}" || return
    check "$n: outputs [1, ...] as declared, finite" "$d/io" check "${outs[@]}"
    check "$n: 2 threads, --repeat" "$d/$n" --threads 2 --repeat 3 "$d/w.safetensors" "${ins[@]}" "${outs2[@]}"
    cp "$T/err" "$d/repeat.err"
    check "$n: --repeat prints median and min" grep -q "median .* ms, min .* ms" "$d/repeat.err"
    for ((i = 0; i < nout; i++)); do
        same_file "$n: output $i same bits with 2 threads" "${outs[$i]}" "${outs2[$i]}"
    done
}

for n in small_residual tiny merge grouped flat; do
    for f in "${nets[@]}"; do
        [ "$(basename "$f" .rn)" = $n ] && [ -s "$T/$n/$n.c" ] && run_net $n "$f"
    done
done

# ---- bad weights, inputs and usage (on `flat`: 2 inputs, 1 output)

# npy FILE SHAPE COUNT: a float32 .npy of COUNT zeros, SHAPE as numpy
# writes it ("(4, 4, 3)"); the header is padded to 64 bytes.
npy() {
    local dict="{'descr': '<f4', 'fortran_order': False, 'shape': $2, }"
    local pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
    local hlen=$(( ${#dict} + pad + 1 ))
    {
        printf '\223NUMPY\001\000'
        printf "\\$(printf %03o $((hlen % 256)))\\$(printf %03o $((hlen / 256)))"
        printf '%s%*s\n' "$dict" "$pad" ""
        head -c $(( $3 * 4 )) /dev/zero
    } >"$1"
}

# refused WHAT STATUS WORD COMMAND...: fails with STATUS, says WORD on
# stderr, and writes no never.npy.
refused() {
    local what=$1 status=$2 word=$3 rc
    shift 3
    rm -f "$d/never.npy"
    "$@" >/dev/null 2>"$d/err"
    rc=$?
    if [ $rc -eq "$status" ] && grep -q -- "$word" "$d/err" && [ ! -e "$d/never.npy" ]; then ok
    else bad "$what: status $rc (want $status), stderr: $(head -c 300 "$d/err")"; fi
}

d=$T/flat
if [ -x "$d/flat" ] && [ -s "$d/in1.npy" ]; then
    # Weights of variants of the net: one tensor mis-shaped, missing, extra.
    flat_net 34 true "" >"$d/v_shape.rn"
    flat_net 33 false "" >"$d/v_missing.rn"
    flat_net 33 true 'output dense(v, 2, name="surplus")' >"$d/v_extra.rn"
    for v in shape missing extra; do
        "$RNC" --init-weights "$d/bad_$v.safetensors" --seed 2 "$d/v_$v.rn" 2>"$d/err" ||
            bad "weights of variant $v: $(cat "$d/err")"
    done
    # dense.kernel (the first tensor read) in F16, correctly shaped.
    hdr='{"dense.kernel":{"dtype":"F16","shape":[20,33],"data_offsets":[0,1320]}}'
    while [ $(( ${#hdr} % 8 )) -ne 0 ]; do hdr="$hdr "; done
    { printf "\\$(printf %03o ${#hdr})\\000\\000\\000\\000\\000\\000\\000%s" "$hdr"
      head -c 1320 /dev/zero; } >"$d/bad_f16.safetensors"
    head -c 100 "$d/w.safetensors" >"$d/trunc.safetensors"
    ins=("$d/in0.npy" "$d/in1.npy")
    refused "wrong shape" 1 "dense.kernel" "$d/flat" "$d/bad_shape.safetensors" "${ins[@]}" "$d/never.npy"
    refused "missing tensor" 1 "dense.bias" "$d/flat" "$d/bad_missing.safetensors" "${ins[@]}" "$d/never.npy"
    refused "extra tensor" 1 "surplus\." "$d/flat" "$d/bad_extra.safetensors" "${ins[@]}" "$d/never.npy"
    refused "F16 tensor" 1 "dense.kernel" "$d/flat" "$d/bad_f16.safetensors" "${ins[@]}" "$d/never.npy"
    refused "truncated weights" 1 "trunc.safetensors" "$d/flat" "$d/trunc.safetensors" "${ins[@]}" "$d/never.npy"
    refused "missing weights" 1 "nothere.safetensors" "$d/flat" "$d/nothere.safetensors" "${ins[@]}" "$d/never.npy"
    npy "$d/wrong.npy" "(4, 4, 3)" 48
    npy "$d/flat1.npy" "(1, 20)" 20
    npy "$d/two.npy" "(2, 20)" 40
    refused "input of the wrong shape" 1 "wrong.npy: an array of shape \[4, 4, 3\] does not fit input 'img': expected \[4, 4, 2\] or \[1, 4, 4, 2\]\$" \
        "$d/flat" "$d/w.safetensors" "$d/in0.npy" "$d/wrong.npy" "$d/never.npy"
    # PyTorch's layout of img: the message says how to transpose (as --run's)
    npy "$d/nchw.npy" "(1, 2, 4, 4)" 32
    refused "an NCHW input" 1 "nchw.npy: an array of shape \[1, 2, 4, 4\] does not fit input 'img': expected \[4, 4, 2\] or \[1, 4, 4, 2\] (this one is NCHW, as PyTorch's: rnc takes NHWC, x.transpose(0, 2, 3, 1))" \
        "$d/flat" "$d/w.safetensors" "$d/in0.npy" "$d/nchw.npy" "$d/never.npy"
    refused "batch of 2" 1 "two.npy" "$d/flat" "$d/w.safetensors" "$d/two.npy" "$d/in1.npy" "$d/never.npy"
    refused "missing input file" 1 "nothere.npy" "$d/flat" "$d/w.safetensors" "$d/nothere.npy" "$d/in1.npy" "$d/never.npy"
    refused "too few files" 2 "usage" "$d/flat" "$d/w.safetensors" "$d/in0.npy" "$d/never.npy"
    refused "bad --threads" 2 "usage" "$d/flat" --threads 0 "$d/w.safetensors" "${ins[@]}" "$d/never.npy"
    refused "unknown flag" 2 "usage" "$d/flat" --fast "$d/w.safetensors" "${ins[@]}" "$d/never.npy"
    check "[1, N] input accepted" "$d/flat" "$d/w.safetensors" "$d/flat1.npy" "$d/in1.npy" "$d/ok1.npy"
    check "RNC_THREADS=2" env RNC_THREADS=2 "$d/flat" "$d/w.safetensors" "${ins[@]}" "$d/env.npy"
    same_file "RNC_THREADS=2 same bits" "$d/out0.npy" "$d/env.npy"
fi

# ---- the API: two instances running at once on two threads give the same
# bits as one instance alone.
d=$T/small_residual
if [ -s "$d/w.safetensors" ] && [ -s "$d/in0.npy" ]; then
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
    char err[512] = "";
    rn_array x;
    if (argc != 3 || rn_npy_read(argv[2], &x, err, sizeof err)) return 3;
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
    "$RNC" "$ROOT/examples/small_residual.rn" -o "$d/lib.c" # no main()
    if gcc -O1 -std=c11 $SANFLAGS -I"$d" "$d/lib.c" "$d/two.c" $CFLAGS_RT $LIBS_RT -o "$d/two" 2>"$d/cc.err"; then
        check "two instances on two threads agree" "$d/two" "$d/w.safetensors" "$d/in0.npy"
    else
        bad "build the two-instance test"; cat "$d/cc.err" >&2
    fi
fi

# A file named after a name the generated C uses (m.rn, no `model` line):
# the model is m_model, and its C builds warning-free.
mkdir -p "$T/stem"
printf 'input x[4]\noutput dense(x, 2, activation=relu)\n' >"$T/stem/m.rn"
if "$RNC" "$T/stem/m.rn" -o "$T/stem/m.c" --main &&
    grep -q '^typedef struct m_model m_model;' "$T/stem/m.h" &&
    gcc $STRICT $SANFLAGS "$T/stem/m.c" $CFLAGS_RT $LIBS_RT -o "$T/stem/m" \
        2>"$T/stem/cc.err"; then
    ok; else bad "m.rn: its default name m_model"; cat "$T/stem/cc.err" >&2; fi

finish
