/* kernel_check.c: the kernels' checks (tests/unit/conv_check.c and
 * elem_check.c) without CUnit, for builds where the unit suite cannot run: aarch64
 * (NEON) under qemu-user, and the plain C path (RN_NO_SIMD). It runs
 * rn_conv_run and rn_dw_run as this build has them: direct, Winograd
 * F(2x2) and F(4x4), depthwise, every epilogue, and the elementwise
 * kernels, against float64 definitions. Used by tests/e2e/cross.sh.
 *
 *   kernel_check [percent]   runs that percent of the unit suite's cases
 *                            (default 100; qemu is slow)
 *
 * Prints one line per check and exits 1 when any value is wrong. */
#include <stdio.h>
#include <stdlib.h>

#include "conv_check.h"
#include "elem_check.h"
#include "internal.h" /* RN_DISPATCH_AVX2 */
#include "kernel/rn_simd.h"

static int scaled(int n, int percent) {
    int k = n * percent / 100;
    return k > 0 ? k : 1;
}

int main(int argc, char **argv) {
    int pct = argc > 1 ? atoi(argv[1]) : 100;
    if (argc > 2 || pct < 1 || pct > 1000) {
        fprintf(stderr, "usage: kernel_check [percent of the cases, 1-1000]\n");
        return 2;
    }
    /* the lanes of the build, or what the runtime picks */
#if defined(RN_SIMD_AVX512)
    const char *lanes = "AVX-512";
#elif defined(RN_SIMD_AVX2)
    const char *lanes = "AVX2 + FMA";
#elif defined(RN_SIMD_NEON)
    const char *lanes = "NEON";
#else
    const char *lanes = "plain C";
#endif
    int vl = RN_VL;
#ifdef RN_DISPATCH_AVX2
    if (rn_isa_level() >= RN_LEVEL_AVX512)
        lanes = "AVX-512 at run time", vl = 16;
    else if (rn_isa_level() >= RN_LEVEL_AVX2)
        lanes = "AVX2 + FMA at run time", vl = 8;
#endif
    struct {
        const char *name;
        int bad, cases;
    } r[9];
    r[0].name = "random convolutions", r[0].cases = scaled(300, pct);
    r[0].bad = conv_check_random(rn_conv_run, 1, r[0].cases);
    r[1].name = "edge shapes", r[1].cases = 7;
    r[1].bad = conv_check_edges(rn_conv_run);
    r[2].name = "Winograd F(2x2), F(4x4)", r[2].cases = scaled(300, pct);
    r[2].bad = conv_check_winograd(rn_conv_run, 4, r[2].cases);
    r[3].name = "depthwise", r[3].cases = scaled(400, pct);
    r[3].bad = conv_check_dw(rn_dw_run, 5, r[3].cases);
    r[4].name = "elementwise", r[4].cases = scaled(300, pct);
    r[4].bad = elem_check(RN_LEVEL_AVX512, 6, r[4].cases);
    r[5].name = "merges, broadcasting", r[5].cases = scaled(400, pct);
    r[5].bad = elem_check_merge(7, r[5].cases);
    r[6].name = "grouped", r[6].cases = scaled(200, pct);
    r[6].bad = conv_check_grouped(rn_conv_run, 8, r[6].cases);
    r[7].name = "prologue", r[7].cases = scaled(200, pct);
    r[7].bad = conv_check_prologue(rn_conv_run_pre, 9, r[7].cases);
    r[8].name = "grouped kernel", r[8].cases = scaled(300, pct);
    r[8].bad = conv_check_group_kernel(rn_conv_run, 10, r[8].cases);
    int bad = 0;
    for (int i = 0; i < 9; i++) {
        printf("kernel_check (%s, %d lanes): %-24s %4d cases, %d wrong values\n",
               lanes, vl, r[i].name, r[i].cases, r[i].bad);
        bad += r[i].bad;
    }
    return bad ? 1 : 0;
}
