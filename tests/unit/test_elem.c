/* test_elem.c: the elementwise kernels (runtime/elementwise.c on
 * kernel/rn_elem.h) against float64 definitions (elem_check.c), through
 * every copy this CPU runs (AVX-512, AVX2, plain), and rn_k_merge's
 * broadcasting. */
#include "elem_check.h"
#include "internal.h"
#include "unit.h"

static void test_levels(void) {
    for (int l = 0; l <= rn_isa_level(); l++) CU_ASSERT_EQUAL(elem_check(l, 11 + l, 300), 0);
}

static void test_merge(void) { CU_ASSERT_EQUAL(elem_check_merge(21, 400), 0); }

void register_elem_tests(void) {
    CU_pSuite s = unit_suite("elementwise");
    CU_add_test(s, "every kernel, every level", test_levels);
    CU_add_test(s, "rn_k_merge broadcasting", test_merge);
}
