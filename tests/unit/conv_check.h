/* conv_check.h: the convolution kernels (runtime/conv.c: direct and
 * Winograd; runtime/depthwise.c) against naive float64 loops written from
 * the definitions, on random shapes with every epilogue (bias, residual,
 * in place or not, batchnorm scale, each activation). Shared by the CUnit
 * suite (test_conv.c, this machine's paths) and by kernel_check
 * (tests/tools/kernel_check.c: other targets under qemu, and the plain C
 * path), which have no CUnit. Each check returns the number of wrong
 * values and prints the first few. */
#ifndef CONV_CHECK_H
#define CONV_CHECK_H

#include "rnrt.h"

typedef void ConvRunFn(const rn_conv *, const float *, const float *,
                       const float *, const float *, float *, int, int,
                       float *);
typedef void DwRunFn(const rn_dw *, const float *, const float *,
                     const float *, float *, int, int);
/* rn_conv_run_pre's arguments: scale and shift of the prologue first. */
typedef void ConvPreRunFn(const rn_conv *, const float *, const float *,
                          const float *, const float *, const float *,
                          const float *, float *, int, int, float *);

/* The paths without the AVX2 copy (conv.c, depthwise.c; not in rnrt.h):
 * plain C on x86-64, NEON on aarch64. */
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch);
void rn_dw_run_portable(const rn_dw *d, const float *in, const float *w,
                        const float *bias, float *out, int y0, int y1);

/* `cases` random convolutions (any kernel, stride, dilation, padding;
 * every third with at most 7 input channels), the algorithm left to
 * choose. */
int conv_check_random(ConvRunFn *run, unsigned long long seed, int cases);
/* Random pointwise convolutions (1x1, stride 1, no padding: AVX-512's
 * wide kernel): 1..576 pixels (any count of 12-pixel blocks and a ragged
 * rest), input depths 1..400 and 1000..2100, 1..200 output channels (odd
 * counts of 16-channel blocks, ragged blocks), gaps between pixels, every
 * activation, residual in place or not; returns the wrong floats. */
int conv_check_pointwise(ConvRunFn *run, unsigned long long seed, int cases);
/* Shapes that reach the unusual paths (partial sums, long channel runs,
 * the im2col stem, a 1x1 projection, channel splits). */
int conv_check_edges(ConvRunFn *run);
/* Convolutions of 1..7 input channels (the stem's row path), `cases` of
 * them at random from seed; returns the number of wrong floats. */
int conv_check_stem(ConvRunFn *run, unsigned long long seed, int cases);
/* Grouped convolutions (rn_conv.groups: 2-9 groups of 1-20 channels in
 * and out, half of them 3x3 at stride 1 or 2, Winograd forced on some)
 * against the grouped definition. */
int conv_check_grouped(ConvRunFn *run, unsigned long long seed, int cases);
/* Grouped convolutions on their own kernel (RN_CONV_GROUPED, forced or
 * chosen): 2-9 groups of 1, 2, 4, 8 or 16 channels in and out (channels
 * off a block of 16 too), mostly 3x3 at stride 1 or 2 with any padding
 * and rows of 1 to 30 pixels, else any kernel, stride and dilation. */
int conv_check_group_kernel(ConvRunFn *run, unsigned long long seed, int cases);
/* Convolutions with a prologue (rn_conv.pre: per-channel scale and shift,
 * then an activation), 1x1 and random kernels, grouped or not, with and
 * without scratch. */
int conv_check_prologue(ConvPreRunFn *run, unsigned long long seed, int cases);
/* 3x3 stride-1 convolutions, Winograd F(2x2) and F(4x4) forced (and every
 * fifth left to choose), some without scratch. */
int conv_check_winograd(ConvRunFn *run, unsigned long long seed, int cases);
/* Depthwise convolutions, multipliers 1 to 3, run in three pieces of rows. */
int conv_check_dw(DwRunFn *run, unsigned long long seed, int cases);

#endif
