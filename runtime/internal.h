/* internal.h: what the runtime's own files share (not part of the API in
 * rnrt.h): the error helper, and the convolution kernels' functions for
 * conv.c's choice.
 *
 * The kernels (direct.c, winograd.c, depthwise.c, on the headers in
 * runtime/kernel/) are built once as they are: plain C, or NEON on
 * aarch64. On x86-64 the Makefile builds them again with -mavx2 -mfma and
 * RN_ISA_AVX2 defined, into *_avx2.o: RN_ISA(f) names the copy being
 * built (f_base or f_avx2), and conv.c and depthwise.c call the _avx2
 * copy when the CPU has AVX2 and FMA (RN_DISPATCH_AVX2; kernels.c's tap
 * kernel and profile.c's FMA loop too, with target attributes). RN_NO_SIMD
 * (rn_simd.h) builds plain C only, for tests of that path. */
#ifndef RN_INTERNAL_H
#define RN_INTERNAL_H

#include <stddef.h>

#include "rnrt.h"

/* Formats a message into the caller's err buffer (ignored when NULL). */
void rn_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef RN_ISA_AVX2
#define RN_ISA(name) name##_avx2
#else
#define RN_ISA(name) name##_base
#endif
/* A standalone model (RN_STANDALONE, compiler/emit_standalone.c) has no
 * copy for another instruction set and asks the CPU nothing (that needs
 * libgcc): its AVX2 code is there only when compiled for AVX2 + FMA. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(RN_NO_SIMD) && \
    (!defined(RN_STANDALONE) || (defined(__AVX2__) && defined(__FMA__)))
#define RN_DISPATCH_AVX2 1
#endif

/* direct.c: direct convolution (kernel/rn_direct.h), any rn_conv. */
rn_i64 rn_direct_packed_floats(const rn_conv *c);
void rn_direct_pack(const rn_conv *c, const float *kernel, int ldk,
                    const float *scale, float *packed);
int rn_direct_tiles(const rn_conv *c);
#define RN_DIRECT_RUN(name)                                                 \
    void name(const rn_conv *c, const float *in, const float *packed,       \
              const float *bias, const float *residual, float *out, int t0, \
              int t1)
RN_DIRECT_RUN(rn_direct_run_base);
RN_DIRECT_RUN(rn_direct_run_avx2);

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

/* depthwise.c: rn_dw_run's two copies. */
#define RN_DW_RUN(name)                                                     \
    void name(const rn_dw *d, const float *in, const float *w,              \
              const float *bias, float *out, int y0, int y1)
RN_DW_RUN(rn_dw_run_base);
RN_DW_RUN(rn_dw_run_avx2);

#endif
