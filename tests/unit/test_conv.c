/* test_conv.c: the convolutions (runtime/conv.c, direct.c, winograd.c,
 * depthwise.c) against naive float64 loops (conv_check.c) on random and
 * edge shapes, through every copy of the kernels the CPU runs (AVX-512,
 * AVX2, plain); then the algorithm's choice, the weight packing and the
 * work split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_check.h"
#include "internal.h" /* the levels and their test hooks */
#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

/* The epilogue's activation codes are the compiler's Act values. */
_Static_assert((int)RN_ACT_NONE == (int)ACT_NONE && (int)RN_ACT_RELU == (int)ACT_RELU &&
                   (int)RN_ACT_RELU6 == (int)ACT_RELU6 &&
                   (int)RN_ACT_SIGMOID == (int)ACT_SIGMOID &&
                   (int)RN_ACT_SWISH == (int)ACT_SILU &&
                   (int)RN_ACT_HARD_SWISH == (int)ACT_HARD_SWISH,
               "rnrt.h's RN_ACT_* differ from rnc.h's Act");

/* Each level of the kernels this CPU runs (internal.h): AVX-512, AVX2 +
 * FMA and the plain path (all three on a CPU with AVX-512). */
static void conv_avx2(const rn_conv *c, const float *in, const float *packed,
                      const float *bias, const float *res, float *out, int t0,
                      int t1, float *scratch) {
    rn_conv_run_isa(RN_LEVEL_AVX2, c, NULL, NULL, in, packed, bias, res, out, t0, t1,
                    scratch);
}

static void conv_avx512(const rn_conv *c, const float *in, const float *packed,
                        const float *bias, const float *res, float *out, int t0,
                        int t1, float *scratch) {
    rn_conv_run_isa(RN_LEVEL_AVX512, c, NULL, NULL, in, packed, bias, res, out, t0,
                    t1, scratch);
}

/* With a prologue, each level. */
#define PRE_LEVEL(name, level)                                              \
    static void name(const rn_conv *c, const float *ps, const float *pt,    \
                     const float *in, const float *packed, const float *bias,\
                     const float *res, float *out, int t0, int t1,          \
                     float *scratch) {                                      \
        rn_conv_run_isa(level, c, ps, pt, in, packed, bias, res, out, t0, t1, \
                        scratch);                                           \
    }
PRE_LEVEL(pre_base, RN_LEVEL_BASE)
PRE_LEVEL(pre_avx2, RN_LEVEL_AVX2)
PRE_LEVEL(pre_avx512, RN_LEVEL_AVX512)
static ConvPreRunFn *const PRE_LEVELS[] = {pre_base, pre_avx2, pre_avx512};

static void dw_avx2(const rn_dw *d, const float *in, const float *w,
                    const float *bias, float *out, int y0, int y1) {
    rn_dw_run_isa(RN_LEVEL_AVX2, d, in, w, bias, out, y0, y1);
}

static void dw_avx512(const rn_dw *d, const float *in, const float *w,
                      const float *bias, float *out, int y0, int y1) {
    rn_dw_run_isa(RN_LEVEL_AVX512, d, in, w, bias, out, y0, y1);
}

static ConvRunFn *const CONV_LEVELS[] = {rn_conv_run_portable, conv_avx2, conv_avx512};
static DwRunFn *const DW_LEVELS[] = {rn_dw_run_portable, dw_avx2, dw_avx512};

static void test_random(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_random(CONV_LEVELS[l], 1 + l, 300), 0);
}

static void test_pointwise(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_pointwise(CONV_LEVELS[l], 40 + l, 150), 0);
}

static void test_edges(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_edges(CONV_LEVELS[l]), 0);
}

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) forced on random 3x3 stride-1
 * shapes: odd and even sizes (ragged last tiles), any padding, channel
 * counts off the vector width and the 16-channel block, gaps between
 * pixels, and work items cut at random; every level. Also left to choose:
 * each agrees with the definition. */
/* Few input channels: the stem's row chunks at every level. */
static void test_stem(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_stem(CONV_LEVELS[l], 20 + l, 300), 0);
}

static void test_winograd(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_winograd(CONV_LEVELS[l], 4 + l, 300), 0);
}

static void test_prologue(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_prologue(PRE_LEVELS[l], 30 + l, 200), 0);
}

static void test_grouped(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_grouped(CONV_LEVELS[l], 10 + l, 200), 0);
}

static void test_group_kernel(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_group_kernel(CONV_LEVELS[l], 40 + l, 300), 0);
}

static void test_depthwise(void) {
    for (int l = 0; l <= rn_isa_level(); l++)
        CU_ASSERT_EQUAL(conv_check_dw(DW_LEVELS[l], 7 + l, 400), 0);
}

/* The choice: Winograd F(4x4) for ResNet's early 3x3 layers, F(2x2) where
 * F(4x4)'s weights grow too big, never where it cannot apply; the packed
 * size follows the choice. */
static void test_winograd_choice(void) {
    rn_conv c = {0};
    c.ih = c.iw = c.oh = c.ow = 56, c.cin = c.ldi = c.cout = c.ldo = 64;
    c.kh = c.kw = 3, c.sh = c.sw = c.dh = c.dw = 1, c.pad_t = c.pad_l = 1;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 36 * 64 * 16); /* F(4x4) */
    c.algo = RN_CONV_WINOGRAD;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 16 * 64 * 16);
    c.algo = RN_CONV_DIRECT;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16);
    c.algo = RN_CONV_WINOGRAD, c.sh = 2, c.oh = 28;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16); /* stride 2 */
    c.algo = RN_CONV_WINOGRAD4;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16);
    c.sh = 1, c.oh = 56, c.dw = 2, c.ow = 54;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16); /* dilated */
    c.dw = 1, c.ow = 56, c.algo = RN_CONV_AUTO, c.cin = c.ldi = 3;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 3 * 16); /* RGB input */
    c.cin = c.ldi = 500, c.algo = RN_CONV_WINOGRAD4; /* V too big for F(4x4) */
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 500 * 16);
    /* ResNet-34 at 14x14: F(4x4)'s U of 256x256 passes 8 MiB, F(2x2)'s not */
    c.ih = c.iw = c.oh = c.ow = 14, c.cin = c.ldi = c.cout = c.ldo = 256;
    c.algo = RN_CONV_AUTO;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 16 * 16 * 256 * 16);
}

/* Packing: blocks of 16 channels, zero-padded, scaled per channel. */
static void test_pack(void) {
    rn_conv c = {0};
    c.kh = 1, c.kw = 2, c.cin = 2, c.cout = 17;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 2 * 16 * 4);
    float kern[4 * 20], scale[17], packed[2 * 16 * 4];
    for (int i = 0; i < 80; i++) kern[i] = (float)i;
    for (int i = 0; i < 17; i++) scale[i] = (float)(i + 1);
    rn_conv_pack(&c, kern + 1, 20, scale, packed);
    /* block 0, tap (0, 1), ci 1, channel 5: kern[(1*2+1)*20 + 1 + 5] * 6 */
    CU_ASSERT_EQUAL(packed[(0 * 4 + 3) * 16 + 5], 66.0f * 6);
    /* block 1 holds channel 16 then zeros */
    CU_ASSERT_EQUAL(packed[(1 * 4 + 2) * 16 + 0], 57.0f * 17);
    CU_ASSERT_EQUAL(packed[(1 * 4 + 2) * 16 + 1], 0.0f);
}

/* ResNet-34's shapes give two threads enough balanced items. */
static void test_tiles(void) {
    static const int sh[][4] = {{56, 64, 64, 1}, {28, 128, 128, 1},
                                {14, 256, 256, 1}, {7, 512, 512, 1},
                                {7, 256, 512, 2}, {112, 3, 64, 2}};
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        rn_conv c = {0};
        int s = sh[i][3], k = sh[i][1] == 3 ? 7 : 3;
        c.oh = c.ow = sh[i][0], c.ih = c.iw = sh[i][0] * s;
        c.cin = c.ldi = sh[i][1], c.cout = c.ldo = sh[i][2];
        c.kh = c.kw = k, c.sh = c.sw = s, c.dh = c.dw = 1, c.pad_t = c.pad_l = k / 2;
        int t = rn_conv_tiles(&c);
        CU_ASSERT(t >= 16 && t <= 64);
    }
    rn_conv tiny = {0};
    tiny.ih = tiny.iw = tiny.oh = tiny.ow = 1, tiny.cin = tiny.cout = 1;
    tiny.ldi = tiny.ldo = 1, tiny.kh = tiny.kw = tiny.sh = tiny.sw = 1;
    tiny.dh = tiny.dw = 1;
    CU_ASSERT_EQUAL(rn_conv_tiles(&tiny), 1);
}

void register_conv_tests(void) {
    CU_pSuite s = unit_suite("conv");
    CU_add_test(s, "random shapes, every level", test_random);
    CU_add_test(s, "edge shapes, every level", test_edges);
    CU_add_test(s, "few input channels (stem rows), every level", test_stem);
    CU_add_test(s, "pointwise, every level", test_pointwise);
    CU_add_test(s, "Winograd, every level", test_winograd);
    CU_add_test(s, "Winograd chosen where it applies", test_winograd_choice);
    CU_add_test(s, "grouped, every level", test_grouped);
    CU_add_test(s, "grouped kernel (1-16 channels a group), every level", test_group_kernel);
    CU_add_test(s, "prologue (batch norm, activation), every level", test_prologue);
    CU_add_test(s, "depthwise, every level", test_depthwise);
    CU_add_test(s, "weight packing", test_pack);
    CU_add_test(s, "work items", test_tiles);
}
