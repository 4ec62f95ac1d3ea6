/* test_conv.c: the convolutions (runtime/conv.c, direct.c, winograd.c,
 * depthwise.c) against naive float64 loops (conv_check.c) on random and
 * edge shapes, through the AVX2 path (when the CPU has it) and the path
 * without it; then the algorithm's choice, the weight packing and the
 * work split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_check.h"
#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

/* The epilogue's activation codes are the compiler's Act values. */
_Static_assert((int)RN_ACT_NONE == (int)ACT_NONE && (int)RN_ACT_RELU == (int)ACT_RELU &&
                   (int)RN_ACT_RELU6 == (int)ACT_RELU6 &&
                   (int)RN_ACT_SWISH == (int)ACT_SILU &&
                   (int)RN_ACT_HARD_SWISH == (int)ACT_HARD_SWISH,
               "rnrt.h's RN_ACT_* differ from rnc.h's Act");

static void test_random_avx2(void) {
    if (!rn_k_have_avx2()) return; /* rn_conv_run is the portable path */
    CU_ASSERT_EQUAL(conv_check_random(rn_conv_run, 1, 300), 0);
}

static void test_random_portable(void) {
    CU_ASSERT_EQUAL(conv_check_random(rn_conv_run_portable, 2, 300), 0);
}

static void test_edges(void) {
    CU_ASSERT_EQUAL(conv_check_edges(rn_conv_run_portable), 0);
    if (rn_k_have_avx2()) CU_ASSERT_EQUAL(conv_check_edges(rn_conv_run), 0);
}

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) forced on random 3x3 stride-1
 * shapes: odd and even sizes (ragged last tiles), any padding, channel
 * counts off the vector width and the 16-channel block, gaps between
 * pixels, and work items cut at random; both paths. Also left to choose:
 * each agrees with the definition. */
static void test_winograd(void) {
    CU_ASSERT_EQUAL(conv_check_winograd(rn_conv_run_portable, 4, 300), 0);
    if (rn_k_have_avx2()) CU_ASSERT_EQUAL(conv_check_winograd(rn_conv_run, 4, 300), 0);
}

static void test_depthwise(void) {
    CU_ASSERT_EQUAL(conv_check_dw(rn_dw_run_portable, 5, 400), 0);
    CU_ASSERT_EQUAL(conv_check_dw(rn_dw_run, 6, 400), 0); /* AVX2 where the CPU has it */
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
    CU_add_test(s, "random shapes, AVX2 path", test_random_avx2);
    CU_add_test(s, "random shapes, portable path", test_random_portable);
    CU_add_test(s, "edge shapes, both paths", test_edges);
    CU_add_test(s, "Winograd, both paths", test_winograd);
    CU_add_test(s, "Winograd chosen where it applies", test_winograd_choice);
    CU_add_test(s, "depthwise, both paths", test_depthwise);
    CU_add_test(s, "weight packing", test_pack);
    CU_add_test(s, "work items", test_tiles);
}
