/* conv_kernel.h: the convolution microkernel of conv.c, shared with the
 * Winograd convolution of winograd.c, and what the convolutions
 * (conv.c, winograd.c, depthwise.c) share: the x86 switch and the fused
 * activations (runtime-internal, not in rnrt.h).
 *
 * A kernel computes R <= MR output pixels x NB output channels as a sum
 * over segments: each segment is a run of n input values per pixel (one
 * pointer per pixel) against n rows of NB packed weights. */
#ifndef RN_CONV_KERNEL_H
#define RN_CONV_KERNEL_H

#include "rnrt.h"

/* x86 with GCC or clang: AVX2+FMA functions beside the portable ones,
 * chosen at run time. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define RN_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#endif

/* relu or relu6 (RN_ACT_*) of an epilogue, on a float and on 8 lanes. */
static inline float rn_act1(float v, int act) {
    if (act == RN_ACT_RELU) return v > 0 ? v : 0;
    if (act == RN_ACT_RELU6) return v > 0 ? (v < 6 ? v : 6) : 0;
    return v;
}

#ifdef RN_X86
static inline __attribute__((always_inline)) AVX2 __m256 rn_act8(__m256 v, int act) {
    if (act == RN_ACT_RELU) return _mm256_max_ps(v, _mm256_setzero_ps());
    if (act == RN_ACT_RELU6)
        return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()),
                             _mm256_set1_ps(6.0f));
    return v;
}
#endif

enum {
    NB = 16, /* output channels per packed block */
    MR = 6,  /* output pixels per kernel call */
    MAX_ITEMS = 32,       /* work items: >= 16 per thread at 2 threads */
    ITEM_FLOPS = 1 << 20, /* smallest work item worth a task */
};

/* One tap's run of input channels, for every pixel of the block. */
typedef struct Seg {
    const float *x[MR]; /* the pixel's input channels, or zeros */
    rn_i64 woff;        /* its weights' offset inside a channel block */
    int n;              /* input channels */
} Seg;

/* Where and how the block's results go. */
typedef struct Epi {
    const float *bias; /* at the block's first channel, or NULL */
    const float *res;  /* pixel 0's residual at that channel, or NULL */
    float *out;        /* pixel 0's output at that channel */
    int ldo;
    int nvalid; /* channels of the block that exist (< NB: ragged) */
    int act;
} Epi;

/* A kernel: R pixels x NB channels over segments s[0, ns) of weights wb.
 * first: start from zero, else from part; last: apply the epilogue and
 * store, else leave the sums in part. */
typedef void Kernel(int R, const Seg *s, int ns, const float *wb, float *part,
                    int first, int last, const Epi *e);

/* The AVX2+FMA kernel when the CPU has it (and avx2 is not 0), else the
 * portable one; *is_avx2 says which. */
Kernel *rn_conv_kernel(int avx2, int *is_avx2);

/* winograd.c: F(2x2, 3x3) for 3x3 convolutions of stride and dilation 1.
 * rn_wino_chosen says whether c runs this way (c->algo, else the shapes
 * decide); the other functions are rn_conv_*'s for such a c. */
int rn_wino_chosen(const rn_conv *c);
rn_i64 rn_wino_packed_floats(const rn_conv *c);
void rn_wino_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed);
int rn_wino_tiles(const rn_conv *c);
rn_i64 rn_wino_scratch_floats(const rn_conv *c);
void rn_wino_run(const rn_conv *c, const float *in, const float *packed,
                 const float *bias, const float *residual, float *out, int t0,
                 int t1, float *scratch, int avx2);

#endif
