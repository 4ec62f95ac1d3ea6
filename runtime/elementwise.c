/* elementwise.c: the elementwise kernels (kernel/rn_elem.h) for the
 * runtime library, on the best copy this CPU runs (internal.h: built three
 * times on x86-64): rnrt.h's rn_k_act for the activations rn_simd.h has
 * on vectors (the others stay in kernels.c), rn_k_hard_sigmoid,
 * rn_k_scale_shift, rn_k_merge, rn_k_add, rn_k_global_pool, the pooling
 * taps rn_k_max_tap and rn_k_sum_tap, and the
 * one-pixel product of rn_k_conv_tap (a dense layer).
 *
 * Each copy exports its own entry points (RN_ISA names them); the base
 * copy also holds the rnrt.h functions, which pick a copy per call. */
#include "internal.h"
#include "kernel/rn_elem.h"

RN_EW_ACT(RN_ISA(rn_ew_act_run)) { rn_ew_act(act, in, out, n); }

RN_EW_HSIG(RN_ISA(rn_ew_hard_sigmoid_run)) {
    rn_ew_hard_sigmoid(in, out, n, alpha, beta);
}

RN_EW_SCALE_SHIFT(RN_ISA(rn_ew_scale_shift_run)) {
    rn_ew_scale_shift(in, out, npix, c, scale, shift, act);
}

RN_EW_BINARY(RN_ISA(rn_ew_binary_run)) { rn_ew_binary(op, a, as, b, bs, out, n); }

RN_EW_CHANNEL_OP(RN_ISA(rn_ew_channel_op_run)) {
    rn_ew_channel_op(op, x, v, v_first, out, npix, c);
}

RN_EW_POOL(RN_ISA(rn_ew_global_pool_run)) { rn_ew_global_pool(is_max, in, out, npix, c); }

RN_EW_TAP(RN_ISA(rn_ew_pool_tap_run)) { rn_ew_pool_tap(is_max, npix, c, in, ldi, out, ldo); }

RN_EW_GEMV(RN_ISA(rn_ew_gemv_run)) { rn_ew_gemv(k, n, x, w, ldw, y); }

#ifdef RN_ISA_BASE_COPY
/* f's copy of the best level this CPU has. */
#ifdef RN_DISPATCH_AVX2
#define PICK(f, ...)                                                        \
    do {                                                                    \
        int level_ = rn_isa_level();                                        \
        if (level_ >= RN_LEVEL_AVX512)                                      \
            f##_avx512(__VA_ARGS__);                                        \
        else if (level_ >= RN_LEVEL_AVX2)                                   \
            f##_avx2(__VA_ARGS__);                                          \
        else                                                                \
            f##_base(__VA_ARGS__);                                          \
    } while (0)
#else
#define PICK(f, ...) f##_base(__VA_ARGS__)
#endif

void rn_k_act(int act, const float *in, float *out, rn_i64 npix, int c) {
    switch (act) {
    case RN_ACT_RELU:
    case RN_ACT_RELU6:
    case RN_ACT_SIGMOID:
    case RN_ACT_SWISH:
    case RN_ACT_HARD_SWISH:
        PICK(rn_ew_act_run, act, in, out, npix * c);
        break;
    default: rn_k_act_other(act, in, out, npix, c); break;
    }
}

void rn_k_hard_sigmoid(const float *in, float *out, rn_i64 n, float alpha,
                       float beta) {
    PICK(rn_ew_hard_sigmoid_run, in, out, n, alpha, beta);
}

void rn_k_scale_shift(const float *in, float *out, rn_i64 npix, int c,
                      const float *scale, const float *shift) {
    PICK(rn_ew_scale_shift_run, in, out, npix, c, scale, shift, RN_ACT_NONE);
}

void rn_k_add(const float *a, const float *b, float *out, rn_i64 n) {
    PICK(rn_ew_binary_run, RN_MERGE_ADD, a, 0, b, 0, out, n);
}

void rn_k_global_pool(int is_max, const float *in, float *out, rn_i64 npix,
                      int c) {
    PICK(rn_ew_global_pool_run, is_max, in, out, npix, c);
}

void rn_k_merge(int op, const float *a, int ah, int aw, int ac,
                const float *b, int bh, int bw, int bc, float *out, int h,
                int w, int c) {
    rn_i64 npix = (rn_i64)h * w;
    int a_all = ah == h && aw == w && ac == c, b_all = bh == h && bw == w && bc == c;
    if (a_all && b_all) { /* no broadcast: one long row */
        PICK(rn_ew_binary_run, op, a, 0, b, 0, out, npix * c);
        return;
    }
    if (c > 1 && ((a_all && bh == 1 && bw == 1 && bc == c) ||
                  (b_all && ah == 1 && aw == 1 && ac == c))) {
        /* an image against one pixel of channels (squeeze-excite) */
        int v_first = b_all;
        PICK(rn_ew_channel_op_run, op, v_first ? b : a, v_first ? a : b, v_first,
             out, npix, c);
        return;
    }
    for (int y = 0; y < h; y++) /* pixel by pixel, each side maybe one value */
        for (int x = 0; x < w; x++) {
            const float *pa = a + ((rn_i64)(ah > 1 ? y : 0) * aw + (aw > 1 ? x : 0)) * ac;
            const float *pb = b + ((rn_i64)(bh > 1 ? y : 0) * bw + (bw > 1 ? x : 0)) * bc;
            PICK(rn_ew_binary_run, op, pa, ac == 1 && c > 1, pb, bc == 1 && c > 1,
                 out + ((rn_i64)y * w + x) * c, c);
        }
}

void rn_k_max_tap(int npix, int c, const float *in, int ldi, float *out,
                  int ldo) {
    PICK(rn_ew_pool_tap_run, 1, npix, c, in, ldi, out, ldo);
}

void rn_k_sum_tap(int npix, int c, const float *in, int ldi, float *out,
                  int ldo) {
    PICK(rn_ew_pool_tap_run, 0, npix, c, in, ldi, out, ldo);
}

void rn_k_gemv(int k, int n, const float *x, const float *w, rn_i64 ldw,
               float *y) {
    PICK(rn_ew_gemv_run, k, n, x, w, ldw, y);
}
#endif
