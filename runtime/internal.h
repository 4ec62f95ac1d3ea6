/* internal.h: what the runtime's own files share (not part of the API in
 * rnrt.h): the error helper, and the kernels' functions for the choices
 * of conv.c, depthwise.c and elementwise.c.
 *
 * The kernels (direct.c, winograd.c, depthwise.c, elementwise.c, on the
 * headers in runtime/kernel/) are built once as they are: plain C, or
 * NEON on aarch64. On x86-64 the Makefile builds them twice more: with
 * -mavx2 -mfma and RN_ISA_AVX2 defined, into *_avx2.o, and with
 * -mavx512f -mavx2 -mfma and RN_ISA_AVX512 defined, into *_avx512.o.
 * RN_ISA(f) names the copy being built (f_base, f_avx2 or f_avx512;
 * RN_ISA_BASE_COPY in the first), and the runtime calls the best copy
 * the CPU can run (rn_isa_level, RN_ISA_COPIES; kernels.c's tap kernel
 * and profile.c's FMA loop too, with target attributes). A standalone
 * model has the one copy it is compiled for. RN_NO_SIMD (rn_simd.h)
 * builds plain C only, for tests of that path. */
#ifndef RN_INTERNAL_H
#define RN_INTERNAL_H

#include <stddef.h>

#include "rnrt.h"

/* Formats a message into the caller's err buffer (ignored when NULL). */
void rn_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#if defined(RN_ISA_AVX512)
#define RN_ISA(name) name##_avx512
#elif defined(RN_ISA_AVX2)
#define RN_ISA(name) name##_avx2
#else
#define RN_ISA(name) name##_base
#define RN_ISA_BASE_COPY 1
#endif
/* A standalone model (RN_STANDALONE, compiler/emit_standalone.c) has no
 * copy for another instruction set and asks the CPU nothing (that needs
 * libgcc): its AVX2 code is there only when compiled for AVX2 + FMA. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(RN_NO_SIMD) && \
    (!defined(RN_STANDALONE) || (defined(__AVX2__) && defined(__FMA__)))
#define RN_DISPATCH_AVX2 1
#endif
/* The library's copies for other instruction sets (*_avx2.o, *_avx512.o)
 * to pick from; a standalone model (RN_STANDALONE) has the one it is
 * compiled for. */
#if defined(RN_DISPATCH_AVX2) && !defined(RN_STANDALONE)
#define RN_ISA_COPIES 1
#endif

/* The copy of the kernels to run: the best this CPU has (kernels.c). A
 * test may ask for a lower one (the *_isa functions below). */
enum { RN_LEVEL_BASE = 0, RN_LEVEL_AVX2 = 1, RN_LEVEL_AVX512 = 2 };
int rn_isa_level(void) __attribute__((unused)); /* unused: a standalone model */

/* direct.c: direct convolution (kernel/rn_direct.h), any rn_conv. */
rn_i64 rn_direct_packed_floats(const rn_conv *c);
void rn_direct_pack(const rn_conv *c, const float *kernel, int ldk,
                    const float *scale, float *packed);
int rn_direct_tiles(const rn_conv *c);
rn_i64 rn_direct_scratch_floats(const rn_conv *c);
#define RN_DIRECT_RUN(name)                                                 \
    void name(const rn_conv *c, const float *pre_s, const float *pre_t,     \
              const float *in, const float *packed, const float *bias,      \
              const float *residual, float *out, int t0, int t1,            \
              float *scratch)
RN_DIRECT_RUN(rn_direct_run_base);
RN_DIRECT_RUN(rn_direct_run_avx2);
RN_DIRECT_RUN(rn_direct_run_avx512);

/* winograd.c: Winograd F(m x m, 3x3), m = 2 or 4 (kernel/rn_wino.h), for
 * a c that rn_wino_eligible accepts. */
int rn_wino_eligible(const rn_conv *c, int m);
double rn_wino_products(const rn_conv *c, int m); /* per channel pair */
rn_i64 rn_wino_packed_floats(const rn_conv *c, int m);
void rn_wino_pack(const rn_conv *c, int m, const float *kernel, int ldk,
                  const float *scale, float *packed);
int rn_wino_tiles(const rn_conv *c, int m);
rn_i64 rn_wino_scratch_floats(const rn_conv *c, int m);
#define RN_WINO_RUN(name)                                                   \
    void name(const rn_conv *c, int m, const float *in, const float *packed,\
              const float *bias, const float *residual, float *out, int t0, \
              int t1, float *scratch)
RN_WINO_RUN(rn_wino_run_base);
RN_WINO_RUN(rn_wino_run_avx2);
RN_WINO_RUN(rn_wino_run_avx512);

/* group.c: grouped convolution of few channels a group
 * (kernel/rn_group.h), for a c that rn_group_eligible accepts. */
int rn_group_eligible(const rn_conv *c);
rn_i64 rn_group_packed_floats(const rn_conv *c);
void rn_group_pack(const rn_conv *c, const float *kernel, int ldk,
                   const float *scale, float *packed);
int rn_group_tiles(const rn_conv *c);
#define RN_GROUP_RUN(name)                                                  \
    void name(const rn_conv *c, const float *in, const float *packed,       \
              const float *bias, const float *residual, float *out, int t0, \
              int t1)
RN_GROUP_RUN(rn_group_run_base);
RN_GROUP_RUN(rn_group_run_avx2);
RN_GROUP_RUN(rn_group_run_avx512);

/* depthwise.c: rn_dw_run's copies. */
#define RN_DW_RUN(name)                                                     \
    void name(const rn_dw *d, const float *in, const float *w,              \
              const float *bias, float *out, int y0, int y1)
RN_DW_RUN(rn_dw_run_base);
RN_DW_RUN(rn_dw_run_avx2);
RN_DW_RUN(rn_dw_run_avx512);

/* elementwise.c: the copies of rn_elem.h's loops. */
#define RN_EW_ACT(name) void name(int act, const float *in, float *out, rn_i64 n)
#define RN_EW_HSIG(name)                                                    \
    void name(const float *in, float *out, rn_i64 n, float alpha, float beta)
#define RN_EW_SCALE_SHIFT(name)                                             \
    void name(const float *in, float *out, rn_i64 npix, int c,              \
              const float *scale, const float *shift, int act)
#define RN_EW_BINARY(name)                                                  \
    void name(int op, const float *a, int as, const float *b, int bs,       \
              float *out, rn_i64 n)
#define RN_EW_CHANNEL_OP(name)                                              \
    void name(int op, const float *x, const float *v, int v_first,          \
              float *out, rn_i64 npix, int c)
#define RN_EW_POOL(name)                                                    \
    void name(int is_max, const float *in, float *out, rn_i64 npix, int c)
#define RN_EW_WINDOW(name)                                                  \
    void name(const rn_window *d, const float *in, float *out, int y0, int y1)
#define RN_EW_GEMV(name)                                                    \
    void name(int k, int n, const float *x, const float *w, rn_i64 ldw,     \
              float *y)
#define RN_EW_DECLARE(suffix)                                               \
    RN_EW_ACT(rn_ew_act_run_##suffix);                                      \
    RN_EW_HSIG(rn_ew_hard_sigmoid_run_##suffix);                            \
    RN_EW_SCALE_SHIFT(rn_ew_scale_shift_run_##suffix);                      \
    RN_EW_BINARY(rn_ew_binary_run_##suffix);                                \
    RN_EW_CHANNEL_OP(rn_ew_channel_op_run_##suffix);                        \
    RN_EW_POOL(rn_ew_global_pool_run_##suffix);                             \
    RN_EW_WINDOW(rn_ew_pool_run_##suffix);                                  \
    RN_EW_GEMV(rn_ew_gemv_run_##suffix)
RN_EW_DECLARE(base);
RN_EW_DECLARE(avx2);
RN_EW_DECLARE(avx512);
/* y[o] += sum_i x[i] w[i * ldw + o], o < n, i < k (rn_ew_gemv), on the
 * best copy; and kernels.c's rn_k_act for the activations without a
 * vector form. */
void rn_k_gemv(int k, int n, const float *x, const float *w, rn_i64 ldw,
               float *y);
void rn_k_act_other(int act, const float *in, float *out, rn_i64 npix, int c);

/* Test hooks (tests/unit/conv_check.h): a conv and a depthwise conv run
 * on the copy of that level, or on the best below it this CPU has. */
void rn_conv_run_isa(int level, const rn_conv *c, const float *pre_s,
                     const float *pre_t, const float *in, const float *packed,
                     const float *bias, const float *residual, float *out,
                     int t0, int t1, float *scratch);
void rn_dw_run_isa(int level, const rn_dw *d, const float *in, const float *w,
                   const float *bias, float *out, int y0, int y1);

#endif
