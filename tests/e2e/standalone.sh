#!/bin/bash
# standalone.sh: `rnc M.rn -o M.c --standalone` (docs/standalone.md).
#
# 1. Every case of tests/golden/MANIFEST as a standalone --main program,
#    built with -std=c11 -Wall -Wextra -pedantic -Werror and nothing but
#    -lm -lpthread, against the goldens of tools/reference.py (npycmp's
#    tolerance), on three targets: x86-64 baseline (clang -march=x86-64:
#    the plain C path), this machine (gcc -march=native: AVX2 + FMA where
#    it has them; sanitized in the SAN=1 pass) and aarch64 (NEON, gcc for
#    aarch64, run under qemu-aarch64; the cases of A64_CASES, one of each
#    kernel and two networks). The baseline and aarch64 builds are skipped in the SAN=1 pass
#    (the plain pass ran them), and so are the ResNets (minutes under the
#    sanitizers; numerics.sh runs them sanitized on the same kernels);
#    aarch64 where its tools are missing. The SAN=1 pass builds "native"
#    for the x86-64 baseline (the plain C kernels): the vector kernels
#    under the sanitizers are the unit tests' (every ISA level), and their
#    sanitized copies, pasted whole into each case, took 20-60 s a case to
#    compile.
# 2. What a standalone object may need: `nm -u` of a --main object lists
#    nothing outside libc, libm and libpthread (their dynamic symbols); a
#    static-memory object with built-in weights calls no allocator and no
#    thread function, nor does a model with no layer worth splitting call
#    pthreads; two models link into one program.
# 3. --embed-weights: bit for bit the numbers of the file-loading build
#    (a model with depthwise, deconv and batchnorm folds, and one whose
#    weights go to M_weights.c); the program takes no weights argument;
#    bad weights are refused naming the tensor, and nothing is written.
# 4. --static-memory: the arena is a static array of the summary's size;
#    one instance at a time; one thread; the same numbers.
# 5. --trace and --profile in a standalone --main program; the flags'
#    usage errors.
# STANDALONE_JOBS (2) cases build at once.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/numerics_case.sh"
G=$ROOT/tests/golden
JOBS=${STANDALONE_JOBS:-2}
MARCH=-march=native
[ "${SAN:-0}" = 1 ] && MARCH=-march=x86-64
# aarch64 (qemu) runs the cases of each kernel and a whole network: the
# rest is plain C shared with x86-64's builds (cross.sh checks the NEON
# kernels on random shapes)
A64_CASES=${STANDALONE_A64_CASES:-"conv_padding conv_groups depthwise activations fusion2 conv_ops dense_chain mobilenet_v1 ops_tour resnet50"}
STRICT="-std=c11 -Wall -Wextra -pedantic -Werror"
QEMU_LD=/usr/aarch64-linux-gnu
need_npycmp

targets="native"
if [ "${SAN:-0}" != 1 ]; then
    command -v clang >/dev/null && targets="base $targets" ||
        echo "standalone.sh: clang missing, the x86-64 baseline build skipped"
    if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null &&
        [ -d "$QEMU_LD" ]; then
        targets="$targets a64"
    else
        echo "standalone.sh: aarch64 skipped: aarch64-linux-gnu-gcc, qemu-aarch64 or $QEMU_LD missing"
    fi
else
    echo "standalone.sh: the baseline and aarch64 builds are the plain pass's"
fi

# build_run TARGET DIR ARGS...: builds DIR/m.c for TARGET into DIR/m.TARGET
# and runs it with ARGS.
build_run() {
    local t=$1 d=$2; shift 2
    case $t in
    base) clang $STRICT -O1 -march=x86-64 "$d/m.c" -lm -lpthread -o "$d/m.$t" &&
          timeout 300 "$d/m.$t" "$@" ;;
    native) gcc $STRICT -O1 $MARCH $SANFLAGS "$d/m.c" -lm -lpthread -o "$d/m.$t" &&
            timeout 300 "$d/m.$t" "$@" ;;
    a64) aarch64-linux-gnu-gcc $STRICT -O1 "$d/m.c" -lm -lpthread -o "$d/m.$t" &&
         timeout 600 qemu-aarch64 -L "$QEMU_LD" "$d/m.$t" "$@" ;;
    esac
}

# one NAME MODEL SEED INPUT: "pass|fail ..." lines on stdout.
one() {
    local name=$1 model=$2 seed=$3 input=$4 d=$T/$1 t i ins wants outs
    mkdir -p "$d"
    exec 2>"$T/$name.log"
    case_source "$ROOT" "$model" "$input" "$d/model.rn"
    "$RNC" --init-weights "$d/w.safetensors" --random --seed "$seed" "$d/model.rn" &&
        "$RNC" "$d/model.rn" -o "$d/m.c" --standalone --main ||
        { echo "fail $name: rnc"; return; }
    mapfile -t ins < <(case_files "$G" "$name" in)
    mapfile -t wants < <(case_files "$G" "$name" out)
    for t in $targets; do
        [ "$t" = a64 ] && [[ " $A64_CASES " != *" $name "* ]] && continue
        [ -n "$SANFLAGS" ] && [[ $name == resnet* ]] && continue
        outs=()
        for ((i = 0; i < ${#wants[@]}; i++)); do outs+=("$d/$t.out$i.npy"); done
        if ! build_run "$t" "$d" "$d/w.safetensors" "${ins[@]}" "${outs[@]}" >/dev/null; then
            echo "fail $name ($t): did not build or run"
            continue
        fi
        for ((i = 0; i < ${#wants[@]}; i++)); do
            if "$NPYCMP" "${outs[$i]}" "${wants[$i]}" >"$d/cmp.$t" 2>&1; then
                echo "pass $name ($t) output $i"
            else
                echo "fail $name ($t) output $i: $(cat "$d/cmp.$t")"
            fi
        done
    done
}
export -f one build_run case_source case_files
export RNC ROOT T G NPYCMP STRICT SANFLAGS QEMU_LD targets MARCH A64_CASES

# 1. the golden cases
# the sanitizer pass: a case of each kernel, the ops' mix and small_residual
# (the later parts build on its folder); numerics.sh runs every case
# sanitized through the runtime-linked build
cases=${STANDALONE_CASES:-}
[ "${SAN:-0}" = 1 ] && cases=${STANDALONE_CASES:-conv_groups depthwise fusion2 dense_chain ops_tour mobilenet_v1 small_residual}
# shellcheck disable=SC2086 # the names are words
manifest_cases "$G/MANIFEST" $cases |
    xargs -P "$JOBS" -L 1 bash -c 'one "$0" "$1" "$2" "$3"' >"$T/results"
while read -r verdict what; do
    if [ "$verdict" = pass ]; then ok; else
        bad "$what"
        n=${what%% *}
        sed 's/^/    /' "$T/$n.log" 2>/dev/null | head -20 >&2
    fi
done <"$T/results"
[ -s "$T/results" ] || bad "no golden case ran"

# 2. what a standalone object needs
cd "$T" || exit 1
S=$T/small_residual
check "a --main object: nothing but libc, libm and libpthread" bash -c '
    gcc -std=c11 -O1 -c "$1/m.c" -o "$1/m.o" || exit 1
    libs=$(gcc -print-file-name=libc.so.6; gcc -print-file-name=libm.so.6)
    for l in $libs /lib/*/libpthread.so.0 /lib/*/libc.so.6 /lib/*/libm.so.6; do
        [ -f "$l" ] && nm -D --defined-only "$l"; done | awk "{print \$NF}" |
        sed "s/@.*//" | sort -u >allowed
    nm -u "$1/m.o" | awk "{print \$NF}" | sort -u >needed
    [ -s needed ] && [ "$(wc -l <allowed)" -gt 1000 ] || exit 1
    extra=$(comm -23 needed allowed)
    [ -z "$extra" ] || { echo "outside the C library: $extra"; exit 1; }' _ "$S"
printf 'model other\ninput x[6, 6, 3]\noutput dense(flatten(conv2d(x, 4, 3)), 2)\n' >other.rn
cat >two.c <<'EOF'
#include <stdio.h>
#include "sr.h"
#include "other.h"
int main(void) {
    char err[256];
    small_residual *a = small_residual_load("sr.safetensors", err, sizeof err);
    other *b = other_load("other.safetensors", err, sizeof err);
    if (!a || !b) return printf("%s\n", err), 1;
    small_residual_free(a);
    other_free(b);
    return 0;
}
EOF
check "two standalone models in one program" bash -c '
    "$1" other.rn -o other.c --standalone && "$1" --init-weights other.safetensors other.rn &&
    "$1" "$2/model.rn" -o sr.c --standalone && cp "$2/w.safetensors" sr.safetensors &&
    gcc $3 -O1 -I. two.c sr.c other.c -lm -lpthread -o two && ./two' _ \
    "$RNC" "$S" "$STRICT"
check "a model with no layer worth splitting: no thread pool, no pthreads" bash -c \
    'gcc -std=c11 -O1 -c other.c -o other.o && ! nm -u other.o | grep -q pthread_'
# without --main and without a dense layer, rn_k_have_avx2's one caller is
# rn_isa_level: no warning that it is unused, for every target
printf 'model nodense\ninput x[6, 6, 8]\noutput global_avgpool(depthwise_conv2d(x, 3))\n' >nodense.rn
check "a model without a dense layer, no --main: no warning on any target" bash -c '
    "$1" nodense.rn -o nodense.c --standalone || exit 1
    for m in -march=x86-64 "-mavx2 -mfma" $2; do
        gcc $3 -O1 $m -c nodense.c -o nodense.o || exit 1; done' _ "$RNC" "$MARCH" "$STRICT"

# 3. built-in weights: ops_tour (depthwise and separable, deconv, layer
# norm) in one file; small_residual's packed weights (over 4 MiB) apart
for n in ops_tour small_residual; do
    d=$T/$n
    [ -f "$d/m.c" ] || continue
    check "$n: --embed-weights" "$RNC" "$d/model.rn" -o "$d/e.c" --standalone --main \
        --embed-weights "$d/w.safetensors"
    mapfile -t ins < <(case_files "$G" "$n" in)
    extra=()
    [ -f "$d/e_weights.c" ] && extra=("$d/e_weights.c")
    check "$n: built in, built" gcc $STRICT -O1 $MARCH $SANFLAGS "$d/e.c" "${extra[@]}" \
        -lm -lpthread -o "$d/e"
    check "$n: built in, no weights argument" "$d/e" "${ins[@]}" "$d/e.out0.npy"
    check "$n: built in, bit for bit the file-loading build's numbers" \
        cmp "$d/e.out0.npy" "$d/native.out0.npy"
    check "$n: built in, a weights path refused" bash -c \
        '! "$1" "$2" "$3" "$4/x.npy" 2>/dev/null' _ "$d/e" "$d/w.safetensors" "${ins[0]}" "$d"
done
check "small_residual: its weights in small_residual's e_weights.c" test -s "$S/e_weights.c"
check "ops_tour: its weights in e.c" test ! -e "$T/ops_tour/e_weights.c"
printf 'input x[4, 4, 2]\noutput conv2d(x, 3, 3)\n' >bad.rn
"$RNC" --init-weights badw.safetensors bad.rn
printf 'input x[4, 4, 2]\noutput conv2d(x, 4, 3)\n' >bad.rn
echo keep >bad.c
check "bad built-in weights: exit 1, the tensor named, nothing written" bash -c '
    "$1" bad.rn -o bad.c --standalone --embed-weights badw.safetensors 2>err; [ $? = 1 ] &&
    grep -q "conv2d.kernel" err && [ "$(cat bad.c)" = keep ] && [ ! -e bad.h ]' _ "$RNC"
check "--embed-weights without --standalone: exit 2" bash -c \
    '"$1" bad.rn -o x.c --embed-weights badw.safetensors 2>/dev/null; [ $? = 2 ] && [ ! -e x.c ]' \
    _ "$RNC"
check "--static-memory with --run: exit 2" bash -c \
    '"$1" --run bad.rn --static-memory >/dev/null 2>&1; [ $? = 2 ]' _ "$RNC"

# 4. static memory, weights built in: no allocation at all
cat >static.c <<'EOF'
#include <stdio.h>
#include "s.h"
static float in[small_residual_INPUT0_SIZE], out[small_residual_OUTPUT0_SIZE];
int main(int argc, char **argv) {
    char err[256];
    FILE *f = fopen(argv[1], "rb"); /* the golden input: its data after 128 bytes */
    small_residual *m = small_residual_load(NULL, err, sizeof err), *m2;
    if (argc != 2 || !f || fseek(f, 128, SEEK_SET) || !m ||
        fread(in, sizeof in, 1, f) != 1)
        return 1;
    m2 = small_residual_load(NULL, err, sizeof err);
    if (m2 || small_residual_set_threads(m, 2) == 0 || small_residual_set_threads(m, 1))
        return 2; /* one instance, one thread */
    small_residual_run(m, in, out);
    small_residual_free(m);
    if (!(m = small_residual_load(NULL, err, sizeof err))) return 3;
    printf("%.9g\n", out[0]);
    return 0;
}
EOF
check "static memory: emitted" "$RNC" "$S/model.rn" -o s.c --standalone \
    --embed-weights "$S/w.safetensors" --static-memory
check "static memory: built" gcc $STRICT -O1 -c s.c -o s.o
check "static memory: no allocator, no threads" bash -c \
    '! nm -u s.o | grep -E " (malloc|calloc|realloc|free|aligned_alloc|pthread_[a-z_]*)$"'
arena=$("$RNC" --summary "$S/model.rn" | sed -n 's/^Activation arena: \([0-9,]*\) bytes.*/\1/p' | tr -d ,)
check "static memory: the arena is the summary's $arena bytes" bash -c \
    '[ "$(nm -S s.o | awk "/ small_residual_arena_mem\$/ { print \$2 }" | tr a-f A-F)" = \
      "$(printf "%016X" "$1")" ]' _ "$arena"
check "static memory: one instance, one thread, runs" bash -c \
    'gcc $1 -O1 -I. static.c s.c s_weights.c -lm -o static && ./static "$2" >static.out' \
    _ "$STRICT" "$(case_files "$G" small_residual in)"
want=$(/usr/bin/python3 -c 'import numpy as np, sys; print("%.9g" % np.load(sys.argv[1]).flat[0])' \
    "$S/native.out0.npy" 2>/dev/null)
[ -n "$want" ] && check "static memory: the same numbers" test "$(cat static.out)" = "$want"

# 5. trace and profile
check "a standalone program traces its layers" bash -c '
    "$1/m.native" --trace tr "$1/w.safetensors" "$2" o.npy && test -s tr/trace.json &&
    test -s tr/image.npy' _ "$S" "$(case_files "$G" small_residual in)"
check "a standalone program profiles its layers" bash -c '
    "$1/m.native" --profile --repeat 3 "$1/w.safetensors" "$2" o.npy >prof &&
    grep -q "Total (sum of the layers)" prof' _ "$S" "$(case_files "$G" small_residual in)"
cd "$ROOT" || exit 2
finish
