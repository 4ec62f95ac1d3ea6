#!/bin/bash
# passes.sh: the fused code as a library (compiler/passes/, emit_c.c): the
# model.c of small_residual, resnet34, ops_tour and tests/numerics/fusion.rn
# and conv_ops.rn (a separable conv's scratch in its arena slot) without
# --main builds warning-free (gcc and clang -Werror); the summary's
# activation arena is the one the code allocates; resnet34's code holds no
# batchnorm, add or activation pass (all in the conv epilogues);
# mobilenet_v1's zeropads are folded into its depthwise convs' padding;
# and a run allocates nothing (malloc/calloc wrapped), at 1 and 2 threads.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 2
WFLAGS=(-std=c11 -Wall -Wextra -pedantic -Werror)

# A driver that loads a model, runs it once, then counts allocations
# during a second run; MODEL names it. Buffers are large enough for these
# models (at most 1 Mi floats in or out).
cat >noalloc.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define F(x) CAT(MODEL, x)
static int counting, count;
void *__real_malloc(size_t n);
void *__real_calloc(size_t a, size_t b);
void *__wrap_malloc(size_t n) { count += counting; return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { count += counting; return __real_calloc(a, b); }
int main(int argc, char **argv) {
    enum { BIG = 1 << 20 };
    const float *in[F(_NUM_INPUTS)];
    float *out[F(_NUM_OUTPUTS)];
    char err[512];
    int i, t;
    MODEL *m = F(_load)(argv[1], err, sizeof err);
    if (argc != 2 || !m) return fprintf(stderr, "load: %s\n", err), 2;
    for (i = 0; i < F(_NUM_INPUTS); i++) in[i] = calloc(BIG, sizeof(float));
    for (i = 0; i < F(_NUM_OUTPUTS); i++) out[i] = calloc(BIG, sizeof(float));
    for (t = 1; t <= 2; t++) {
        if (F(_set_threads)(m, t) != 0) return 2;
        F(_run_v)(m, in, out);
        counting = 1;
        F(_run_v)(m, in, out);
        counting = 0;
        if (count) return fprintf(stderr, "%d allocations in a run at %d threads\n", count, t), 1;
    }
    F(_free)(m);
    for (i = 0; i < F(_NUM_INPUTS); i++) free((void *)in[i]);
    for (i = 0; i < F(_NUM_OUTPUTS); i++) free(out[i]);
    return 0;
}
C

for src in examples/small_residual.rn examples/resnet34.rn tests/numerics/fusion.rn \
           examples/ops_tour.rn tests/numerics/conv_ops.rn; do
    M=$(basename "$src" .rn)
    check "$M: rnc -o (no --main)" "$RNC" "$ROOT/$src" -o "$M.c"
    for cc in gcc clang; do
        command -v $cc >/dev/null || continue
        check "$M: $cc -Werror without main()" $cc "${WFLAGS[@]}" -c $("$RNC" --cflags) "$M.c" -o "$M.$cc.o"
    done
    floats=$(sed -n "s/^#define ${M}_ARENA_FLOATS \([0-9]*\)$/\1/p" "$M.h")
    bytes=$("$RNC" --summary "$ROOT/$src" | sed -n 's/^Activation arena: \([0-9,]*\) bytes.*/\1/p' | tr -d ,)
    if [ -n "$floats" ] && [ "$bytes" = $((floats * 4)) ]; then ok; else
        bad "$M: summary arena ($bytes bytes) is not the code's ($floats floats)"; fi
done

# resnet34: 36 convs on conv.c, 5 of them (512 channels at 7x7) with a
# second algorithm on more threads; every batchnorm, add and relu fused.
n=$(grep -c 'rn_conv_run(&resnet34_convs\[' resnet34.c)
[ "$n" = 41 ] && ok || bad "resnet34: $n rn_conv_run calls, want 36 + 5"
n=$(grep -c 'if (m->nthreads > 1) /\* direct convolution on more threads' resnet34.c)
[ "$n" = 5 ] && ok || bad "resnet34: $n convs by the thread count, want 5"
for k in 'rn_k_scale_shift(' 'rn_k_add(' 'rn_k_act(1,'; do
    if grep -qF "$k" resnet34.c; then bad "resnet34: $k left in the code"; else ok; fi
done
grep -qF 'rn_k_act(5,' resnet34.c && ok || bad "resnet34: the softmax is gone"

# mobilenet_v1: its 4 zeropads are read by depthwise convs alone, which
# pad instead: no copy is left, and the padding moved into the rn_dw.
check "mobilenet_v1: rnc -o" "$RNC" "$ROOT/examples/mobilenet_v1.rn" -o mobilenet_v1.c
n=$(grep -c 'zeropad, folded into the next layer' mobilenet_v1.c)
[ "$n" = 4 ] && ok || bad "mobilenet_v1: $n zeropads folded, want 4"
grep -q 'static void L[0-9]*_zero_padding2d' mobilenet_v1.c &&
    bad "mobilenet_v1: a zeropad has code" || ok

for src in examples/small_residual.rn tests/numerics/fusion.rn \
           examples/ops_tour.rn tests/numerics/conv_ops.rn; do
    M=$(basename "$src" .rn)
    check "$M: weights" "$RNC" --init-weights "$M.safetensors" --random --seed 3 "$ROOT/$src"
    check "$M: build the allocation counter" cc -O1 $SANFLAGS -std=c11 -DMODEL=$M \
        -include "$M.h" noalloc.c "$M.c" $("$RNC" --cflags) \
        -Wl,--wrap=malloc -Wl,--wrap=calloc $("$RNC" --libs) -o "noalloc_$M"
    check "$M: no allocation during a run (1 and 2 threads)" ./"noalloc_$M" "$M.safetensors"
done
finish
