/* conv.c: 2-D convolution, rnrt.h's rn_conv_* functions. It only chooses:
 * per convolution the algorithm, direct (direct.c) or Winograd F(2x2) or
 * F(4x4) (winograd.c), from its shapes at load; per run the instruction
 * set, AVX2 + FMA when the CPU has it (internal.h). The algorithms sit on
 * one micro-kernel (kernel/rn_micro.h) and know nothing of each other.
 *
 * The choice: Winograd for 3x3 convolutions of stride and dilation 1 with
 * at least 16 channels in and out where its fewer products pay for its
 * transforms; F(4x4) where it does enough fewer products than F(2x2) and
 * its transformed weights stay small enough to stream; else F(2x2); else
 * direct. A test may force one (rn_conv.algo). No state outside the
 * arguments. */
#include "internal.h"

enum {
    MIN_CHANNELS = 16,     /* fewer: the transforms cost more than saved */
    U_MAX_BYTES = 8 << 20, /* bigger U: streaming it costs more than saved */
};

/* Winograd where it does this many times fewer products than direct
 * convolution (F(2x2)) or than F(2x2) (F(4x4)): below, its transforms
 * cost more than its fewer products save. */
static const double F2_FACTOR = 1.6, F4_FACTOR = 1.3;

/* Whether variant m pays on c: U small enough to stream, and enough
 * fewer products than `than` to cover its transforms. */
static int pays(const rn_conv *c, int m, double than, double factor) {
    return rn_wino_eligible(c, m) && rn_wino_products(c, m) * factor <= than &&
           (double)rn_wino_packed_floats(c, m) * sizeof(float) <= U_MAX_BYTES;
}

/* c's Winograd variant (2 or 4), or 0 for direct convolution. */
static int wino_m(const rn_conv *c) {
    if (c->algo == RN_CONV_WINOGRAD) return rn_wino_eligible(c, 2) ? 2 : 0;
    if (c->algo == RN_CONV_WINOGRAD4) return rn_wino_eligible(c, 4) ? 4 : 0;
    if (c->algo != RN_CONV_AUTO || c->cin < MIN_CHANNELS || c->cout < MIN_CHANNELS)
        return 0;
    double direct = 9.0 * c->oh * c->ow;
    if (!pays(c, 2, direct, F2_FACTOR)) return 0;
    return pays(c, 4, rn_wino_products(c, 2), F4_FACTOR) ? 4 : 2;
}

int rn_conv_algo(const rn_conv *c) {
    int m = wino_m(c);
    return m == 4 ? RN_CONV_WINOGRAD4 : m == 2 ? RN_CONV_WINOGRAD : RN_CONV_DIRECT;
}

rn_i64 rn_conv_packed_floats(const rn_conv *c) {
    int m = wino_m(c);
    return m ? rn_wino_packed_floats(c, m) : rn_direct_packed_floats(c);
}

void rn_conv_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed) {
    int m = wino_m(c);
    if (m)
        rn_wino_pack(c, m, kernel, ldk, scale, packed);
    else
        rn_direct_pack(c, kernel, ldk, scale, packed);
}

int rn_conv_tiles(const rn_conv *c) {
    int m = wino_m(c);
    return m ? rn_wino_tiles(c, m) : rn_direct_tiles(c);
}

rn_i64 rn_conv_scratch_floats(const rn_conv *c) {
    int m = wino_m(c);
    return m ? rn_wino_scratch_floats(c, m) : 0;
}

static void run(const rn_conv *c, const float *in, const float *packed,
                const float *bias, const float *residual, float *out, int t0,
                int t1, float *scratch, int avx2) {
    int m = wino_m(c);
#ifdef RN_DISPATCH_AVX2
    if (avx2 && rn_k_have_avx2()) {
        if (m)
            rn_wino_run_avx2(c, m, in, packed, bias, residual, out, t0, t1, scratch);
        else
            rn_direct_run_avx2(c, in, packed, bias, residual, out, t0, t1);
        return;
    }
#else
    (void)avx2;
#endif
    if (m)
        rn_wino_run_base(c, m, in, packed, bias, residual, out, t0, t1, scratch);
    else
        rn_direct_run_base(c, in, packed, bias, residual, out, t0, t1);
}

/* Without the AVX2 copy, for tests (not in rnrt.h). */
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch);
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch) {
    run(c, in, packed, bias, residual, out, t0, t1, scratch, 0);
}

void rn_conv_run(const rn_conv *c, const float *in, const float *packed,
                 const float *bias, const float *residual, float *out,
                 int t0, int t1, float *scratch) {
    run(c, in, packed, bias, residual, out, t0, t1, scratch, 1);
}
