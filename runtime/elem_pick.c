/* elem_pick.c: rnrt.h's elementwise entry points, each on the best copy
 * of its kernel (kernel/rn_elem.h) this CPU runs: rn_k_act for the
 * activations rn_simd.h has on vectors (the others stay in kernels.c),
 * rn_k_hard_sigmoid, rn_k_scale_shift, rn_k_merge, rn_k_add,
 * rn_k_global_pool, the pooling windows rn_k_pool, and
 * the one-pixel product of rn_k_conv_tap (a dense layer). Built once; the
 * copies are elementwise.c's. No state. */
#include "internal.h"
#include "kernel/rn_elem.h"

/* Kernel f of rn_elem.h on the best copy this CPU has (f_run_avx512,
 * f_run_avx2, f_run_base of elementwise.c); without copies (another
 * architecture, or a standalone model) f itself, compiled here. */
#ifdef RN_ISA_COPIES
#define PICK(f, ...)                                                        \
    do {                                                                    \
        int level_ = rn_isa_level();                                        \
        if (level_ >= RN_LEVEL_AVX512)                                      \
            f##_run_avx512(__VA_ARGS__);                                    \
        else if (level_ >= RN_LEVEL_AVX2)                                   \
            f##_run_avx2(__VA_ARGS__);                                      \
        else                                                                \
            f##_run_base(__VA_ARGS__);                                      \
    } while (0)
#else
#define PICK(f, ...) f(__VA_ARGS__)
#endif

void rn_k_act(int act, const float *in, float *out, rn_i64 npix, int c) {
    switch (act) {
    case RN_ACT_RELU:
    case RN_ACT_RELU6:
    case RN_ACT_SIGMOID:
    case RN_ACT_SWISH:
    case RN_ACT_HARD_SWISH:
        PICK(rn_ew_act, act, in, out, npix * c);
        break;
    default: rn_k_act_other(act, in, out, npix, c); break;
    }
}

void rn_k_hard_sigmoid(const float *in, float *out, rn_i64 n, float alpha,
                       float beta) {
    PICK(rn_ew_hard_sigmoid, in, out, n, alpha, beta);
}

void rn_k_scale_shift(const float *in, float *out, rn_i64 npix, int c,
                      const float *scale, const float *shift) {
    PICK(rn_ew_scale_shift, in, out, npix, c, scale, shift, RN_ACT_NONE);
}

void rn_k_add(const float *a, const float *b, float *out, rn_i64 n) {
    PICK(rn_ew_binary, RN_MERGE_ADD, a, 0, b, 0, out, n);
}

void rn_k_global_pool(int is_max, const float *in, float *out, rn_i64 npix,
                      int c) {
    PICK(rn_ew_global_pool, is_max, in, out, npix, c);
}

void rn_k_merge(int op, const float *a, int ah, int aw, int ac,
                const float *b, int bh, int bw, int bc, float *out, int h,
                int w, int c) {
    rn_i64 npix = (rn_i64)h * w;
    int a_all = ah == h && aw == w && ac == c, b_all = bh == h && bw == w && bc == c;
    if (a_all && b_all) { /* no broadcast: one long row */
        PICK(rn_ew_binary, op, a, 0, b, 0, out, npix * c);
        return;
    }
    if (c > 1 && ((a_all && bh == 1 && bw == 1 && bc == c) ||
                  (b_all && ah == 1 && aw == 1 && ac == c))) {
        /* an image against one pixel of channels (squeeze-excite) */
        int v_first = b_all;
        PICK(rn_ew_channel_op, op, v_first ? b : a, v_first ? a : b, v_first,
             out, npix, c);
        return;
    }
    for (int y = 0; y < h; y++) /* pixel by pixel, each side maybe one value */
        for (int x = 0; x < w; x++) {
            const float *pa = a + ((rn_i64)(ah > 1 ? y : 0) * aw + (aw > 1 ? x : 0)) * ac;
            const float *pb = b + ((rn_i64)(bh > 1 ? y : 0) * bw + (bw > 1 ? x : 0)) * bc;
            PICK(rn_ew_binary, op, pa, ac == 1 && c > 1, pb, bc == 1 && c > 1,
                 out + ((rn_i64)y * w + x) * c, c);
        }
}

void rn_k_pool(const rn_window *d, const float *in, float *out, int y0, int y1) {
    PICK(rn_ew_pool, d, in, out, y0, y1);
}

void rn_k_gemv(int k, int n, const float *x, const float *w, rn_i64 ldw,
               float *y) {
    PICK(rn_ew_gemv, k, n, x, w, ldw, y);
}
